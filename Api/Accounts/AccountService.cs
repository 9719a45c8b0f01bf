using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ujumbe.Api.ApiKeys;
using Ujumbe.Api.Data;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Accounts;

public sealed record NewAccount(Account Account, User Owner, IssuedKey FirstKey);

public sealed class EmailTakenException(string email) : Exception($"A user with email {email} already exists.");

/// <summary>Opening accounts and changing their standing. Used by operators, so it crosses tenants on purpose.</summary>
public sealed class AccountService(UjumbeDb db, ApiKeyService keys, CredentialChanges changes, TimeProvider time)
{
    /// <summary>
    /// The account, its owner, its (empty) balance and a first API key, all in one transaction:
    /// an account is never left without a way in or without a balance row.
    /// </summary>
    public async Task<NewAccount> CreateAsync(
        string name, string ownerEmail, string defaultCountry, CancellationToken cancellationToken,
        bool isOperator = false, bool isPartner = false, Guid? id = null)
    {
        var (account, owner) = Stage(name, ownerEmail, defaultCountry, AccountTimeZones.Default, parent: null, isOperator ? "operator" : "owner", id);
        account.IsOperator = isOperator;
        account.IsPartner = isPartner;
        var scopes = ScopeNames.DefaultForKey | (isOperator ? Scopes.Admin : Scopes.None) | (isPartner ? Scopes.Partner : Scopes.None);
        var firstKey = keys.Add(account.Id, isOperator ? "Operator key" : "First key", scopes, expiresInDays: null);
        await SaveAsync(ownerEmail, cancellationToken);
        ApiTelemetry.AccountsOpened.Add(1);
        return new NewAccount(account, owner, firstKey);
    }

    /// <summary>
    /// A partner's tenant: a full account of its own (balance, owner) whose parent is the partner. It gets no
    /// key: the partner acts for it with X-Tenant-Id, and issues it keys that way if it wants to.
    /// </summary>
    public async Task<(Account Account, User Owner)> CreateTenantAsync(
        Guid partnerId, string name, string ownerEmail, string defaultCountry, string timeZone, CancellationToken cancellationToken)
    {
        var staged = Stage(name, ownerEmail, defaultCountry, timeZone, partnerId, "owner", id: null);
        await SaveAsync(ownerEmail, cancellationToken);
        ApiTelemetry.AccountsOpened.Add(1);
        return staged;
    }

    private (Account Account, User Owner) Stage(
        string name, string ownerEmail, string defaultCountry, string timeZone, Guid? parent, string role, Guid? id)
    {
        var now = time.UtcNow();
        var account = new Account
        {
            Id = id ?? Guid.CreateVersion7(now),
            Name = name,
            DefaultCountry = defaultCountry,
            TimeZone = timeZone,
            ParentAccountId = parent,
            CreatedAt = now,
        };
        var owner = new User
        {
            Id = Guid.CreateVersion7(now),
            AccountId = account.Id,
            Email = ownerEmail,
            Role = role,
            CreatedAt = now,
        };
        db.Accounts.Add(account);
        db.Users.Add(owner);
        db.Balances.Add(new Balance { AccountId = account.Id });
        return (account, owner);
    }

    private async Task SaveAsync(string ownerEmail, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException error) when (error.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "users_email_key" })
        {
            db.ChangeTracker.Clear();
            throw new EmailTakenException(ownerEmail);
        }
    }

    public async Task<Account?> SetStatusAsync(Guid accountId, AccountStatus status, CancellationToken cancellationToken)
    {
        var account = await db.Accounts.IgnoreQueryFilters().FirstOrDefaultAsync(a => a.Id == accountId, cancellationToken);
        if (account is null)
        {
            return null;
        }
        if (account.Status != status)
        {
            account.Status = status;
            await db.SaveChangesAsync(cancellationToken);
            await changes.AccountChangedAsync(accountId);
        }
        return account;
    }
}
