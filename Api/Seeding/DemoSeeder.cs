using System.Text.Json;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.ApiKeys;
using Ujumbe.Api.Billing;
using Ujumbe.Api.Data;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Seeding;

public sealed class SeedOptions
{
    public const string Section = "Seed";

    /// <summary>
    /// When set, the Api seeds the local demo data at start and writes the demo and operator
    /// secrets to this file (mode 600) for scripts/run.sh to print. Never set in production.
    /// </summary>
    public string? KeysFile { get; set; }
}

/// <summary>The seeded keys' secrets and the seeded users' passwords; kept only in the local, git-ignored keys file.</summary>
public sealed record SeededKeys(string DemoKey, string OperatorKey, string? DemoPassword = null, string? OperatorPassword = null)
{
    public const string DemoEmail = "demo@ujumbe.local";
    public const string OperatorEmail = "operator@ujumbe.local";
}

/// <summary>
/// Local demo data: the platform operator's account (a key with <c>admin</c>) and a demo account
/// with 1,000 credits and the approved sender ID <c>UJUMBE</c>. Idempotent: accounts have fixed
/// ids and are created once; a secret from an earlier run is reused while it still works.
/// </summary>
public sealed class DemoSeeder(
    UjumbeDb db, AccountService accounts, ApiKeyService keys, IPasswordHasher<User> hasher, TimeProvider time)
{
    public static readonly Guid OperatorAccountId = Guid.Parse("019a0000-0000-7000-8000-000000000001");
    public static readonly Guid DemoAccountId = Guid.Parse("019a0000-0000-7000-8000-000000000002");
    public const string DemoSenderId = "UJUMBE";
    public const long DemoCredits = 1000;

    public async Task<SeededKeys> SeedAsync(SeededKeys? previous, CancellationToken cancellationToken)
    {
        var operatorKey = await EnsureAccountAsync(
            OperatorAccountId, "Ujumbe Operations", SeededKeys.OperatorEmail, isOperator: true,
            previous?.OperatorKey, "Local operator key", ScopeNames.DefaultForKey | Scopes.Admin, cancellationToken);
        var demoKey = await EnsureAccountAsync(
            DemoAccountId, "Demo Company", SeededKeys.DemoEmail, isOperator: false,
            previous?.DemoKey, "Local demo key", ScopeNames.DefaultForKey, cancellationToken);
        var operatorPassword = await EnsurePasswordAsync(SeededKeys.OperatorEmail, previous?.OperatorPassword, cancellationToken);
        var demoPassword = await EnsurePasswordAsync(SeededKeys.DemoEmail, previous?.DemoPassword, cancellationToken);
        return new SeededKeys(demoKey, operatorKey, demoPassword, operatorPassword);
    }

    /// <summary>The seeded user's password: the earlier one while it still works, else a new random one.</summary>
    private async Task<string> EnsurePasswordAsync(string email, string? previous, CancellationToken cancellationToken)
    {
        var user = await db.Users.IgnoreQueryFilters().FirstAsync(u => u.Email == email, cancellationToken);
        if (previous is not null && user.PasswordHash is { } hash
            && hasher.VerifyHashedPassword(user, hash, previous) != PasswordVerificationResult.Failed)
        {
            return previous;
        }
        var password = System.Security.Cryptography.RandomNumberGenerator.GetString("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 16);
        user.PasswordHash = hasher.HashPassword(user, password);
        await db.SaveChangesAsync(cancellationToken);
        // A fresh password starts unlocked.
        await db.Database.ExecuteSqlAsync($"delete from sign_in_failures where email = {email.ToLowerInvariant()}", cancellationToken);
        return password;
    }

    private async Task<string> EnsureAccountAsync(
        Guid accountId, string name, string email, bool isOperator, string? previousSecret, string keyName, Scopes scopes,
        CancellationToken cancellationToken)
    {
        var exists = await db.Accounts.IgnoreQueryFilters().AnyAsync(a => a.Id == accountId, cancellationToken);
        if (!exists)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var created = await accounts.CreateAsync(name, email, Countries.Default, cancellationToken, isOperator: isOperator, id: accountId);
            if (!isOperator)
            {
                var now = time.UtcNow();
                db.SenderIds.Add(new SenderId
                {
                    Id = Guid.CreateVersion7(now),
                    AccountId = accountId,
                    Name = DemoSenderId,
                    Purpose = "Demo sender ID, approved at seed",
                    Status = SenderIdStatus.Approved,
                    CreatedAt = now,
                    DecidedAt = now,
                });
                await db.SaveChangesAsync(cancellationToken);
                await CreditLedger.PostAsync(
                    (NpgsqlConnection)db.Database.GetDbConnection(), (NpgsqlTransaction)transaction.GetDbTransaction(),
                    accountId, LedgerKind.Topup, DemoCredits, 0, "demo seed", now, cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
            return created.FirstKey.Secret;
        }

        if (previousSecret is not null && await StillWorksAsync(previousSecret, accountId, cancellationToken))
        {
            return previousSecret;
        }
        var issued = await keys.CreateAsync(accountId, keyName, scopes, expiresInDays: null, cancellationToken);
        return issued.Secret;
    }

    private async Task<bool> StillWorksAsync(string secret, Guid accountId, CancellationToken cancellationToken)
    {
        if (!ApiKeySecret.TryGetPublicKey(secret, out var publicKey))
        {
            return false;
        }
        var now = time.UtcNow();
        var key = await db.ApiKeys.IgnoreQueryFilters().AsNoTracking()
            .FirstOrDefaultAsync(k => k.PublicKey == publicKey && k.AccountId == accountId, cancellationToken);
        return key is { RevokedAt: null } && (key.ExpiresAt is null || key.ExpiresAt > now) && ApiKeySecret.Matches(secret, key.SecretHash);
    }

    /// <summary>Seeds when <see cref="SeedOptions.KeysFile"/> is set; reads and rewrites that file.</summary>
    public static async Task RunIfConfiguredAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var file = services.GetRequiredService<IConfiguration>().GetSection(SeedOptions.Section).Get<SeedOptions>()?.KeysFile;
        if (string.IsNullOrWhiteSpace(file))
        {
            return;
        }
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<UjumbeDb>();
        // Replicas of the Api start together (the AppHost's WithReplicas): one seeds while the others wait,
        // then find the accounts and the keys file it wrote.
        await db.Database.OpenConnectionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"select pg_advisory_lock({SeedLockId})", cancellationToken);
        try
        {
            await SeedAndWriteAsync(scope.ServiceProvider, file, cancellationToken);
        }
        finally
        {
            await db.Database.ExecuteSqlAsync($"select pg_advisory_unlock({SeedLockId})", CancellationToken.None);
            await db.Database.CloseConnectionAsync();
        }
    }

    private const long SeedLockId = 0x75_6a_75_6d_62_65_53; // "ujumbeS"

    private static async Task SeedAndWriteAsync(IServiceProvider services, string file, CancellationToken cancellationToken)
    {
        SeededKeys? previous = null;
        if (File.Exists(file))
        {
            try
            {
                previous = JsonSerializer.Deserialize<SeededKeys>(await File.ReadAllTextAsync(file, cancellationToken), JsonDefaults.Options);
            }
            catch (JsonException)
            {
                previous = null; // unreadable: issue fresh keys
            }
        }
        var seeded = await services.GetRequiredService<DemoSeeder>().SeedAsync(previous, cancellationToken);
        var temporary = file + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // secrets: owner only
        }
        await using (var stream = new FileStream(temporary, options))
        {
            await JsonSerializer.SerializeAsync(stream, seeded, JsonDefaults.Options, cancellationToken);
        }
        File.Move(temporary, file, overwrite: true);
    }
}
