using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Gateway.Authentication;

public enum PasswordResult
{
    Verified,
    Invalid,
    Locked,
}

public sealed record PasswordCheck(PasswordResult Result, PortalUser? User = null, TimeSpan RetryAfter = default);

/// <summary>
/// Checks a portal user's email and password for a dialect whose callers present them on every request (the classic
/// API, decision 0026), here in the gateway, so the password never reaches the Api. Everything else is
/// <c>/v1/auth/login</c>'s, kept by the Api: its locks (per email and per address), its failure counts and the
/// slowdown each failure earns, its users. The hash is checked in constant time (PBKDF2, as the Api hashes);
/// an unknown email is checked against a dummy hash, so the answer takes as long. A password found right is
/// remembered for <see cref="GatewayOptions.PasswordCacheLifetime"/> under a keyed hash of the pair (never the
/// password), so a client sending it with every request costs one PBKDF2 a minute, not one per request.
/// </summary>
public sealed class PortalPasswords(KeyDirectory directory, IOptions<GatewayOptions> options, TimeProvider time)
{
    private static readonly PasswordHasher<object> Hasher = new();
    // Checked against when the email has no user (or no password), so timing does not tell which emails exist.
    private static readonly string DummyHash = Hasher.HashPassword(null!, Guid.NewGuid().ToString());

    private readonly GatewayOptions _options = options.Value;
    private readonly byte[] _memoKey = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, (PortalUser User, DateTimeOffset Expires)> _verified = new(StringComparer.Ordinal);

    /// <summary>Whether the pair was found right within the last <see cref="GatewayOptions.PasswordCacheLifetime"/>.</summary>
    public bool TryGetVerified(string email, string password, out PortalUser? user)
    {
        var known = _verified.TryGetValue(Memo(email, password), out var entry) && entry.Expires > time.GetUtcNow();
        user = known ? entry.User : null;
        return known;
    }

    public async ValueTask<PasswordCheck> CheckAsync(string email, string password, string? clientIp, CancellationToken cancellationToken)
    {
        var attempt = new SignInAttempt(email, clientIp);
        var holder = await directory.LookupSignInAsync(attempt, cancellationToken);
        if (holder.LockedForSeconds is { } locked)
        {
            return new PasswordCheck(PasswordResult.Locked, RetryAfter: TimeSpan.FromSeconds(locked));
        }
        var verified = holder.PasswordHash is { } hash
            && Hasher.VerifyHashedPassword(null!, hash, password) != PasswordVerificationResult.Failed;
        if (holder.PasswordHash is null)
        {
            Hasher.VerifyHashedPassword(null!, DummyHash, password);
        }
        if (!verified || holder is not { UserId: { } userId, AccountId: { } accountId, Role: { } role })
        {
            var failure = await directory.RecordSignInFailureAsync(attempt, cancellationToken);
            await Task.Delay(TimeSpan.FromSeconds(failure.WaitSeconds), time, cancellationToken);
            return failure.LockedForSeconds is { } lockedNow
                ? new PasswordCheck(PasswordResult.Locked, RetryAfter: TimeSpan.FromSeconds(lockedNow))
                : new PasswordCheck(PasswordResult.Invalid);
        }
        await directory.RecordSignInSuccessAsync(attempt, cancellationToken);
        var user = new PortalUser(userId, accountId, role);
        if (_verified.Count >= _options.CacheCapacity)
        {
            _verified.Clear(); // a bound, not a policy: the next request of each user checks its password again
        }
        _verified[Memo(email, password)] = (user, time.GetUtcNow() + _options.PasswordCacheLifetime);
        return new PasswordCheck(PasswordResult.Verified, user);
    }

    /// <summary>A keyed hash of the pair (emails compared without case, as sign-in does); the key never leaves this process.</summary>
    private string Memo(string email, string password)
    {
#pragma warning disable CA1308 // emails are compared lower-cased, as the Api does
        var pair = email.Trim().ToLowerInvariant() + "\n" + password;
#pragma warning restore CA1308
        return Convert.ToBase64String(HMACSHA256.HashData(_memoKey, Encoding.UTF8.GetBytes(pair)));
    }
}
