namespace Ujumbe.Shared.Identity;

/// <summary>
/// An API key as the Api tells the gateway about it (<c>GET /internal/keys/{public_key}</c>):
/// enough to authenticate a request, never the secret itself, only its hash.
/// </summary>
public sealed record KeyLookup(
    Guid KeyId, Guid AccountId, string PublicKey, byte[] SecretHash, string[] Scopes,
    DateTime? ExpiresAt, DateTime? RevokedAt, string AccountStatus, RateLimitOverrides? RateLimits = null);

/// <summary>An account's own rate limits (null fields: the platform defaults).</summary>
public sealed record RateLimitOverrides(int? MessagesPerMinute, int? ContactsPerHour, int? RequestsPerHour);

/// <summary>An account as the gateway needs it (<c>GET /internal/accounts/{id}</c>).</summary>
public sealed record AccountLookup(Guid AccountId, string Status, RateLimitOverrides? RateLimits = null);
