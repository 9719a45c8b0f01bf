using Microsoft.EntityFrameworkCore;
using Ujumbe.Api.Data;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.ApiKeys;

/// <summary>A key together with its secret: exists only in the answer to a create or regenerate.</summary>
public sealed record IssuedKey(ApiKey Key, string Secret);

public enum KeyChange
{
    Done,
    NotFound,
    Revoked,
    Expired,
}

/// <summary>Creating, revoking and regenerating API keys. Reads go through the tenant filter.</summary>
public sealed class ApiKeyService(UjumbeDb db, CredentialChanges changes, TimeProvider time)
{
    /// <summary>Adds a new key to <paramref name="accountId"/>; saved by the caller's <c>SaveChanges</c>.</summary>
    public IssuedKey Add(Guid accountId, string name, Scopes scopes, int? expiresInDays)
    {
        var now = time.UtcNow();
        var publicKey = ApiKeySecret.NewPublicKey();
        var secret = ApiKeySecret.NewSecret(publicKey);
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(now),
            AccountId = accountId,
            Name = name,
            PublicKey = publicKey,
            SecretHash = ApiKeySecret.Hash(secret),
            Scopes = ScopeNames.ToNames(scopes),
            ExpiresAt = expiresInDays is { } days ? now.AddDays(days) : null,
            CreatedAt = now,
        };
        db.ApiKeys.Add(key);
        ApiTelemetry.KeysIssued.Add(1);
        return new IssuedKey(key, secret);
    }

    public async Task<IssuedKey> CreateAsync(Guid accountId, string name, Scopes scopes, int? expiresInDays, CancellationToken cancellationToken)
    {
        var issued = Add(accountId, name, scopes, expiresInDays);
        await db.SaveChangesAsync(cancellationToken);
        await changes.KeyChangedAsync(issued.Key.PublicKey); // a gateway may remember it as unknown
        return issued;
    }

    public async Task<(KeyChange Outcome, ApiKey? Key)> RevokeAsync(Guid keyId, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId, cancellationToken);
        if (key is null)
        {
            return (KeyChange.NotFound, null);
        }
        if (key.RevokedAt is null)
        {
            key.RevokedAt = time.UtcNow();
            await db.SaveChangesAsync(cancellationToken);
            await changes.KeyChangedAsync(key.PublicKey);
            ApiTelemetry.KeysRevoked.Add(1);
        }
        return (KeyChange.Done, key);
    }

    /// <summary>
    /// A new secret for the same key (same id, public key and scopes); the old secret stops working
    /// at once. Without <paramref name="expiresInDays"/> the key keeps its expiry, so an expired
    /// key needs a new one given explicitly.
    /// </summary>
    public async Task<(KeyChange Outcome, IssuedKey? Issued)> RegenerateAsync(Guid keyId, int? expiresInDays, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId, cancellationToken);
        if (key is null)
        {
            return (KeyChange.NotFound, null);
        }
        if (key.RevokedAt is not null)
        {
            return (KeyChange.Revoked, null);
        }
        var now = time.UtcNow();
        if (expiresInDays is { } days)
        {
            key.ExpiresAt = now.AddDays(days);
        }
        else if (key.ExpiresAt <= now)
        {
            return (KeyChange.Expired, null);
        }
        var secret = ApiKeySecret.NewSecret(key.PublicKey);
        key.SecretHash = ApiKeySecret.Hash(secret);
        await db.SaveChangesAsync(cancellationToken);
        await changes.KeyChangedAsync(key.PublicKey);
        ApiTelemetry.KeysIssued.Add(1);
        return (KeyChange.Done, new IssuedKey(key, secret));
    }

    public static string Status(ApiKey key, DateTime now) =>
        key.RevokedAt is not null ? "revoked" : key.ExpiresAt <= now ? "expired" : "active";
}
