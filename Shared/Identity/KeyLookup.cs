namespace Ujumbe.Shared.Identity;

/// <summary>
/// An API key as the Api tells the gateway about it (<c>GET /internal/keys/{public_key}</c>):
/// enough to authenticate a request, never the secret itself, only its hash. <c>AccountStatus</c> is the
/// effective one: a tenant of a suspended partner is suspended too. <c>PartnerId</c>: the partner owning
/// the account, if it is a tenant (a change to the partner drops the tenant's cached keys as well).
/// </summary>
public sealed record KeyLookup(
    Guid KeyId, Guid AccountId, string PublicKey, byte[] SecretHash, string[] Scopes,
    DateTime? ExpiresAt, DateTime? RevokedAt, string AccountStatus, RateLimitOverrides? RateLimits = null,
    Guid? PartnerId = null);

/// <summary>An account's own rate limits (null fields: the platform defaults).</summary>
public sealed record RateLimitOverrides(int? MessagesPerMinute, int? ContactsPerHour, int? RequestsPerHour);

/// <summary>
/// An account as the gateway needs it (<c>GET /internal/accounts/{id}</c>): effective status as for
/// <see cref="KeyLookup"/>, and the partner owning it if it is a tenant (what <c>X-Tenant-Id</c> is checked against).
/// </summary>
public sealed record AccountLookup(Guid AccountId, string Status, RateLimitOverrides? RateLimits = null, Guid? PartnerId = null);

/// <summary>
/// A portal user's password check, asked by the gateway for a dialect whose callers present an email and password
/// (decision 0026): <c>POST /internal/sign-in/lookup</c>, <c>/failures</c> and <c>/successes</c>. The password never
/// leaves the gateway; the Api keeps the users and the failure counts, exactly those of <c>/v1/auth/login</c>.
/// </summary>
public sealed record SignInAttempt(string Email, string? ClientIp);

/// <summary>
/// Locked (seconds left), or the user to check the password against: its id, account, role as a signed-in user has
/// it, and password hash. No user (or none with a password): all null, and the gateway checks against a dummy hash.
/// </summary>
public sealed record SignInHolder(double? LockedForSeconds, Guid? UserId, Guid? AccountId, string? Role, string? PasswordHash);

/// <summary>A failure counted: how long to wait before answering (the slowdown), and the lock it caused, if any.</summary>
public sealed record SignInFailure(double WaitSeconds, double? LockedForSeconds);
