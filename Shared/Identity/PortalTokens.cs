using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ujumbe.Shared.Identity;

public sealed class PortalTokenOptions
{
    public const string Section = "PortalTokens";

    /// <summary>Base64 HMAC key shared by the Api (which issues tokens) and the gateway (which checks them); ≥ 32 bytes.</summary>
    public string SigningKey { get; set; } = "";

    public TimeSpan Lifetime { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>A signed-in portal user, as a token says.</summary>
public sealed record PortalUser(Guid UserId, Guid AccountId, string Role);

/// <summary>
/// Short-lived portal tokens: JWTs signed with HMAC-SHA256 (issuer and audience "ujumbe"), carrying
/// the user, the account and the role. The dashboard sends them as <c>Authorization: Bearer</c>;
/// the gateway verifies them like API keys and forwards the same signed identity.
/// </summary>
public sealed class PortalTokens
{
    public const string Issuer = "ujumbe";
    private readonly SymmetricSecurityKey _key;
    private readonly PortalTokenOptions _options;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly TokenValidationParameters _validation;
    private readonly SigningCredentials _signing;

    public PortalTokens(IOptions<PortalTokenOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        _key = new SymmetricSecurityKey(SigningKeys.Decode(_options.SigningKey, "PortalTokens:SigningKey"));
        _signing = new SigningCredentials(_key, SecurityAlgorithms.HmacSha256);
        _validation = new TokenValidationParameters
        {
            ValidIssuer = Issuer,
            ValidAudience = Issuer,
            IssuerSigningKey = _key,
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            ClockSkew = TimeSpan.FromSeconds(30),
            // Our clock, not the machine's, so tests can move time.
            LifetimeValidator = (notBefore, expires, _, parameters) =>
            {
                var now = _time.GetUtcNow().UtcDateTime;
                return expires is { } until && until > now - parameters.ClockSkew && (notBefore is null || notBefore <= now + parameters.ClockSkew);
            },
        };
    }

    public TimeSpan Lifetime => _options.Lifetime;

    public string Issue(PortalUser user)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Issuer,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + _options.Lifetime,
            SigningCredentials = _signing,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = user.UserId.ToString("N"),
                ["acct"] = user.AccountId.ToString("N"),
                ["role"] = user.Role,
                ["jti"] = Guid.NewGuid().ToString("N"),
            },
        });
    }

    /// <summary>Whether <paramref name="token"/> is shaped like one of ours (three dot-separated parts); cheap, no crypto.</summary>
    public static bool LooksLikeToken(string token) => token.AsSpan().Count('.') == 2 && token.StartsWith("ey", StringComparison.Ordinal);

    public async Task<PortalUser?> ValidateAsync(string token)
    {
        var result = await _handler.ValidateTokenAsync(token, _validation);
        if (!result.IsValid
            || !Guid.TryParseExact(result.Claims.TryGetValue("sub", out var sub) ? sub as string : null, "N", out var userId)
            || !Guid.TryParseExact(result.Claims.TryGetValue("acct", out var acct) ? acct as string : null, "N", out var accountId)
            || result.Claims.TryGetValue("role", out var role) is false || role is not string roleName
            || !Roles.IsKnown(roleName))
        {
            return null;
        }
        return new PortalUser(userId, accountId, roleName);
    }
}

/// <summary>Portal roles and what each may do, in API scopes.</summary>
public static class Roles
{
    public const string Owner = "owner";
    public const string Member = "member";
    public const string Partner = "partner";
    public const string Operator = "operator";

    public static bool IsKnown(string role) => role is Owner or Member or Partner or Operator;

    public static Scopes ScopesOf(string role) => role switch
    {
        Owner => ScopeNames.DefaultForKey,
        Member => Scopes.Messages | Scopes.Contacts | Scopes.Campaigns,
        Partner => ScopeNames.DefaultForKey | Scopes.Partner,
        Operator => ScopeNames.DefaultForKey | Scopes.Admin,
        _ => Scopes.None,
    };
}
