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
        var now = time.UtcNow();
        var account = new Account
        {
            Id = id ?? Guid.CreateVersion7(now),
            Name = name,
            DefaultCountry = defaultCountry,
            IsOperator = isOperator,
            IsPartner = isPartner,
            CreatedAt = now,
        };
        var owner = new User
        {
            Id = Guid.CreateVersion7(now),
            AccountId = account.Id,
            Email = ownerEmail,
            Role = isOperator ? "operator" : "owner",
            CreatedAt = now,
        };
        db.Accounts.Add(account);
        db.Users.Add(owner);
        db.Balances.Add(new Balance { AccountId = account.Id });
        var scopes = ScopeNames.DefaultForKey | (isOperator ? Scopes.Admin : Scopes.None) | (isPartner ? Scopes.Partner : Scopes.None);
        var firstKey = keys.Add(account.Id, isOperator ? "Operator key" : "First key", scopes, expiresInDays: null);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException error) when (error.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation, ConstraintName: "users_email_key" })
        {
            db.ChangeTracker.Clear();
            throw new EmailTakenException(ownerEmail);
        }
        ApiTelemetry.AccountsOpened.Add(1);
        return new NewAccount(account, owner, firstKey);
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
