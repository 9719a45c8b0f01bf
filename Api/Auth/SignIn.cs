using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Ujumbe.Api.Data;
using Ujumbe.Api.Validation;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Auth;

public sealed class PortalSignInOptions
{
    public const string Section = "SignIn";

    /// <summary>Failed attempts on one email address (a user's or not) before it is locked.</summary>
    public int UserFailuresBeforeLock { get; set; } = 5;

    /// <summary>Failed attempts from one client address (any users) within <see cref="AddressWindow"/> before it is locked.</summary>
    public int AddressFailuresBeforeLock { get; set; } = 20;

    public TimeSpan AddressWindow { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan LockDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>A failed attempt is answered after this, doubled for each earlier failure on the email (at most 8 doublings).</summary>
    public TimeSpan SlowdownStep { get; set; } = TimeSpan.FromMilliseconds(250);
}

public enum SignInResult
{
    SignedIn,
    InvalidCredentials,
    Locked,
    AccountSuspended,
}

public sealed record SignInOutcome(SignInResult Result, string? Token = null, TimeSpan RetryAfter = default);

/// <summary>
/// Portal sign-in. Passwords are stored as ASP.NET Core Identity hashes (PBKDF2-HMAC-SHA512, salted).
/// An unknown email and a wrong password answer alike: a hash is always verified, and failures are
/// counted per email address whether or not a user has it, so the slowdown (each failure doubles the
/// wait before the answer) and the lock that follow are the same for both. Failures from one address
/// across emails lock the address. See decision 0013.
/// </summary>
public sealed class SignIn(
    UjumbeDb db, NpgsqlDataSource database, PortalTokens tokens, IPasswordHasher<User> hasher, IOptions<PortalSignInOptions> options, TimeProvider time)
{
    // Verified against when the email is unknown, so timing does not tell which emails exist.
    private static readonly string DummyHash = new PasswordHasher<User>().HashPassword(null!, Guid.NewGuid().ToString());

    private readonly PortalSignInOptions _options = options.Value;

    public async Task<SignInOutcome> SignInAsync(string email, string password, string? clientIp, CancellationToken cancellationToken)
    {
        if (!InputText.IsAcceptable(email) || !InputText.IsAcceptable(password))
        {
            // No user has such an email, and PostgreSQL refuses NUL at Bind: with Npgsql's automatic preparation that
            // left the statement half-prepared on its pooled connection, failing the next sign-in there (decision 0014).
            return new SignInOutcome(SignInResult.InvalidCredentials);
        }
        var now = time.UtcNow();
        var normalized = Normalize(email);
        if (await LockedUntilAsync(normalized, clientIp, now, cancellationToken) is { } until)
        {
            return new SignInOutcome(SignInResult.Locked, RetryAfter: until - now);
        }

        var user = await FindUserAsync(normalized, cancellationToken);
        var verified = user?.PasswordHash is { } hash
            && hasher.VerifyHashedPassword(user, hash, password) != PasswordVerificationResult.Failed;
        if (user?.PasswordHash is null)
        {
            hasher.VerifyHashedPassword(null!, DummyHash, password);
        }

        if (!verified)
        {
            var (failures, lockedUntil) = await RecordFailureAsync(normalized, clientIp, now, cancellationToken);
            await Task.Delay(Slowdown(failures), time, cancellationToken);
            return lockedUntil > now
                ? new SignInOutcome(SignInResult.Locked, RetryAfter: lockedUntil.Value - now)
                : new SignInOutcome(SignInResult.InvalidCredentials);
        }

        var account = await db.Accounts.IgnoreQueryFilters().AsNoTracking().FirstAsync(a => a.Id == user!.AccountId, cancellationToken);
        if (account.Status != AccountStatus.Active)
        {
            return new SignInOutcome(SignInResult.AccountSuspended);
        }
        await ForgetFailuresAsync(email, cancellationToken);
        return new SignInOutcome(SignInResult.SignedIn, tokens.Issue(new PortalUser(user!.Id, user.AccountId, RoleOf(user, account.IsPartner))));
    }

    /// <summary>
    /// What the gateway needs to check a password itself (a dialect's username/password, decision 0026): whether
    /// the email or the address is locked, else the user and its hash. The same locks as <see cref="SignInAsync"/>.
    /// </summary>
    public async Task<SignInHolder> LookupAsync(string email, string? clientIp, CancellationToken cancellationToken)
    {
        var nobody = new SignInHolder(null, null, null, null, null);
        if (!InputText.IsAcceptable(email))
        {
            return nobody;
        }
        var now = time.UtcNow();
        var normalized = Normalize(email);
        if (await LockedUntilAsync(normalized, clientIp, now, cancellationToken) is { } until)
        {
            return nobody with { LockedForSeconds = (until - now).TotalSeconds };
        }
        var user = await FindUserAsync(normalized, cancellationToken);
        if (user?.PasswordHash is null)
        {
            return nobody;
        }
        var isPartner = await db.Accounts.IgnoreQueryFilters().Where(a => a.Id == user.AccountId).Select(a => a.IsPartner).FirstAsync(cancellationToken);
        return new SignInHolder(null, user.Id, user.AccountId, RoleOf(user, isPartner), user.PasswordHash);
    }

    /// <summary>A wrong password the gateway found: counted exactly as <see cref="SignInAsync"/> counts one; the gateway waits the slowdown.</summary>
    public async Task<SignInFailure> FailAsync(string email, string? clientIp, CancellationToken cancellationToken)
    {
        if (!InputText.IsAcceptable(email))
        {
            return new SignInFailure(Slowdown(1).TotalSeconds, null);
        }
        var now = time.UtcNow();
        var (failures, lockedUntil) = await RecordFailureAsync(Normalize(email), clientIp, now, cancellationToken);
        return new SignInFailure(Slowdown(failures).TotalSeconds, lockedUntil > now ? (lockedUntil.Value - now).TotalSeconds : null);
    }

    /// <summary>A right password forgets the email's earlier failures.</summary>
    public async Task ForgetFailuresAsync(string email, CancellationToken cancellationToken)
    {
        if (InputText.IsAcceptable(email))
        {
            var normalized = Normalize(email);
            await db.Database.ExecuteSqlAsync($"delete from sign_in_failures where email = {normalized}", cancellationToken);
        }
    }

#pragma warning disable CA1308 // emails are compared lower-cased (users_email_key is on lower(email))
    private static string Normalize(string email) => email.Trim().ToLowerInvariant();
#pragma warning restore CA1308

#pragma warning disable CA1304, CA1311, CA1862 // translated to lower(email) = $1, which the unique index users_email_key serves
    private Task<User?> FindUserAsync(string normalized, CancellationToken cancellationToken) =>
        db.Users.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(u => u.Email.ToLower() == normalized, cancellationToken);
#pragma warning restore CA1304, CA1311, CA1862

    /// <summary>The owner of a partner account manages its tenants from the portal too; the tenants API still checks on every call that the account is (still) a partner.</summary>
    private static string RoleOf(User user, bool isPartner) => user.Role == Roles.Owner && isPartner ? Roles.Partner : user.Role;

    /// <summary>Each failure doubles the wait before the answer (at most 8 doublings).</summary>
    private TimeSpan Slowdown(int failures) => _options.SlowdownStep * Math.Pow(2, Math.Min(failures - 1, 8));

    /// <summary>When the email's or the address's lock ends, if either is locked now.</summary>
    private async Task<DateTime?> LockedUntilAsync(string email, string? clientIp, DateTime now, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            select max(locked_until) from (
                select locked_until from sign_in_failures where email = $1 and locked_until > $3
                union all
                select locked_until from login_failures where client_ip = $2 and locked_until > $3) locks
            """);
        command.Parameters.Add(new() { Value = email });
        command.Parameters.Add(new() { Value = (object?)clientIp ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = now });
        return await command.ExecuteScalarAsync(cancellationToken) as DateTime?;
    }

    /// <summary>
    /// Counts one failure for the email and for the address, and locks either at its threshold; returns the
    /// email's failures so far (counting this one) and its lock. One round trip, and each count is a single
    /// atomic update, so concurrent failures are all counted.
    /// </summary>
    private async Task<(int Failures, DateTime? LockedUntil)> RecordFailureAsync(
        string email, string? clientIp, DateTime now, CancellationToken cancellationToken)
    {
        await using var batch = database.CreateBatch();
        var byEmail = new NpgsqlBatchCommand("""
            insert into sign_in_failures as f (email, failures, last_failure_at, locked_until)
            values ($1, 1, $2, case when $3 <= 1 then $2 + $4 end)
            on conflict (email) do update
               set failures = case when f.failures + 1 >= $3 then 0 else f.failures + 1 end,
                   last_failure_at = $2,
                   locked_until = case when f.failures + 1 >= $3 then $2 + $4 else f.locked_until end
            returning case when locked_until = $2 + $4 then $3 else failures end, locked_until
            """);
        byEmail.Parameters.Add(new() { Value = email });
        byEmail.Parameters.Add(new() { Value = now });
        byEmail.Parameters.Add(new() { Value = _options.UserFailuresBeforeLock });
        byEmail.Parameters.Add(new() { Value = _options.LockDuration });
        batch.BatchCommands.Add(byEmail);

        if (clientIp is not null)
        {
            // Start a new window if the old one is over, count, and lock at the threshold.
            var byAddress = new NpgsqlBatchCommand("""
                insert into login_failures as f (client_ip, failures, window_start) values ($1, 1, $2)
                on conflict (client_ip) do update
                   set failures = case when f.window_start < $2 - $3 then 1 else f.failures + 1 end,
                       window_start = case when f.window_start < $2 - $3 then $2 else f.window_start end,
                       locked_until = case when f.window_start >= $2 - $3 and f.failures + 1 >= $4 then $2 + $5 else f.locked_until end
                """);
            byAddress.Parameters.Add(new() { Value = clientIp });
            byAddress.Parameters.Add(new() { Value = now });
            byAddress.Parameters.Add(new() { Value = _options.AddressWindow });
            byAddress.Parameters.Add(new() { Value = _options.AddressFailuresBeforeLock });
            byAddress.Parameters.Add(new() { Value = _options.LockDuration });
            batch.BatchCommands.Add(byAddress);
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var result = (reader.GetInt32(0), reader.IsDBNull(1) ? (DateTime?)null : reader.GetDateTime(1));
        while (await reader.NextResultAsync(cancellationToken))
        {
            // Let the remaining statements finish before the connection goes back to the pool.
        }
        return result;
    }
}
