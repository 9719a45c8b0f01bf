using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Ujumbe.Api.Data;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Auth;

public sealed class PortalSignInOptions
{
    public const string Section = "SignIn";

    /// <summary>Failed attempts on one user before it is locked.</summary>
    public int UserFailuresBeforeLock { get; set; } = 5;

    /// <summary>Failed attempts from one client address (any users) within <see cref="AddressWindow"/> before it is locked.</summary>
    public int AddressFailuresBeforeLock { get; set; } = 20;

    public TimeSpan AddressWindow { get; set; } = TimeSpan.FromMinutes(15);

    public TimeSpan LockDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Each failed attempt on a user makes the next answer this much slower (doubling, at most 8 steps).</summary>
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
/// An unknown email and a wrong password answer alike (and take as long: a hash is always verified).
/// Failures slow the next answers for that user, then lock the user; failures from one address
/// across users lock the address.
/// </summary>
public sealed class SignIn(
    UjumbeDb db, NpgsqlDataSource database, PortalTokens tokens, IPasswordHasher<User> hasher, IOptions<PortalSignInOptions> options, TimeProvider time)
{
    // Verified against when the email is unknown, so timing does not tell which emails exist.
    private static readonly string DummyHash = new PasswordHasher<User>().HashPassword(null!, Guid.NewGuid().ToString());
    private readonly PortalSignInOptions _options = options.Value;

    public async Task<SignInOutcome> SignInAsync(string email, string password, string? clientIp, CancellationToken cancellationToken)
    {
        var now = time.UtcNow();
        if (clientIp is not null && await AddressLockedUntilAsync(clientIp, now, cancellationToken) is { } addressUntil)
        {
            return new SignInOutcome(SignInResult.Locked, RetryAfter: addressUntil - now);
        }

        var normalized = email.Trim().ToLowerInvariant();
#pragma warning disable CA1304, CA1311, CA1862 // translated to lower(email) = $1, which the unique index users_email_key serves
        var user = await db.Users.IgnoreQueryFilters().FirstOrDefaultAsync(u => u.Email.ToLower() == normalized, cancellationToken);
#pragma warning restore CA1304, CA1311, CA1862
        if (user?.LockedUntil > now)
        {
            return new SignInOutcome(SignInResult.Locked, RetryAfter: user.LockedUntil.Value - now);
        }

        var verified = user?.PasswordHash is { } hash
            && hasher.VerifyHashedPassword(user, hash, password) != PasswordVerificationResult.Failed;
        if (user?.PasswordHash is null)
        {
            hasher.VerifyHashedPassword(null!, DummyHash, password);
        }

        if (!verified)
        {
            TimeSpan delay = TimeSpan.Zero;
            if (user is not null)
            {
                user.FailedLogins++;
                delay = _options.SlowdownStep * Math.Pow(2, Math.Min(user.FailedLogins - 1, 8));
                if (user.FailedLogins >= _options.UserFailuresBeforeLock)
                {
                    user.LockedUntil = now + _options.LockDuration;
                    user.FailedLogins = 0;
                }
                await db.SaveChangesAsync(cancellationToken);
            }
            if (clientIp is not null)
            {
                await RecordAddressFailureAsync(clientIp, now, cancellationToken);
            }
            await Task.Delay(delay, time, cancellationToken);
            return user?.LockedUntil > now
                ? new SignInOutcome(SignInResult.Locked, RetryAfter: user.LockedUntil.Value - now)
                : new SignInOutcome(SignInResult.InvalidCredentials);
        }

        var account = await db.Accounts.IgnoreQueryFilters().AsNoTracking().FirstAsync(a => a.Id == user!.AccountId, cancellationToken);
        if (account.Status != AccountStatus.Active)
        {
            return new SignInOutcome(SignInResult.AccountSuspended);
        }
        if (user!.FailedLogins != 0 || user.LockedUntil is not null)
        {
            user.FailedLogins = 0;
            user.LockedUntil = null;
            await db.SaveChangesAsync(cancellationToken);
        }
        return new SignInOutcome(SignInResult.SignedIn, tokens.Issue(new PortalUser(user.Id, user.AccountId, user.Role)));
    }

    private async Task<DateTime?> AddressLockedUntilAsync(string clientIp, DateTime now, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select locked_until from login_failures where client_ip = $1 and locked_until > $2");
        command.Parameters.Add(new() { Value = clientIp });
        command.Parameters.Add(new() { Value = now });
        return await command.ExecuteScalarAsync(cancellationToken) as DateTime?;
    }

    private async Task RecordAddressFailureAsync(string clientIp, DateTime now, CancellationToken cancellationToken)
    {
        // One statement: start a new window if the old one is over, count, and lock at the threshold.
        await using var command = database.CreateCommand("""
            insert into login_failures as f (client_ip, failures, window_start) values ($1, 1, $2)
            on conflict (client_ip) do update
               set failures = case when f.window_start < $2 - $3 then 1 else f.failures + 1 end,
                   window_start = case when f.window_start < $2 - $3 then $2 else f.window_start end,
                   locked_until = case when f.window_start >= $2 - $3 and f.failures + 1 >= $4 then $2 + $5 else f.locked_until end
            """);
        command.Parameters.Add(new() { Value = clientIp });
        command.Parameters.Add(new() { Value = now });
        command.Parameters.Add(new() { Value = _options.AddressWindow });
        command.Parameters.Add(new() { Value = _options.AddressFailuresBeforeLock });
        command.Parameters.Add(new() { Value = _options.LockDuration });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
