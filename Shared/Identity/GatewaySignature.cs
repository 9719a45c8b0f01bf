using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Ujumbe.Shared.Identity;

public sealed class GatewaySigningOptions
{
    public const string Section = "GatewaySigning";

    /// <summary>Base64 HMAC key shared by the gateway and the Api; at least 32 bytes.</summary>
    public string Key { get; set; } = "";

    /// <summary>During a key rotation the Api also accepts signatures made with this one.</summary>
    public string? PreviousKey { get; set; }

    /// <summary>How old (or how far in the future) a signature's timestamp may be.</summary>
    public int MaxAgeSeconds { get; set; } = 30;
}

public enum SignatureCheck
{
    Valid,
    Missing,
    Malformed,
    Stale,
    BadSignature,
}

/// <summary>
/// The gateway's proof to the Api that a request passed through it, and who it is from.
/// <para>
/// <c>X-Ujumbe-Identity</c> carries the identity and a timestamp as <c>key=value</c> pairs;
/// <c>X-Ujumbe-Signature</c> is <c>v1=</c> and the base64url HMAC-SHA256 of
/// <c>"v1\n{METHOD}\n{path and query}\n{identity}"</c>. Binding method and path means a captured
/// header cannot be moved to another request; the timestamp bounds replays of the same one.
/// </para>
/// </summary>
public sealed class GatewaySignature
{
    public const string IdentityHeader = "X-Ujumbe-Identity";
    public const string SignatureHeader = "X-Ujumbe-Signature";

    /// <summary>The gateway refuses a request that carries any header with this prefix (only it may set them).</summary>
    public const string HeaderPrefix = "X-Ujumbe-";

    private const string Version = "v1";
    private readonly byte[] _key;
    private readonly byte[]? _previousKey;
    private readonly TimeSpan _maxAge;
    private readonly TimeProvider _time;

    public GatewaySignature(IOptions<GatewaySigningOptions> options, TimeProvider time)
    {
        var value = options.Value;
        _key = SigningKeys.Decode(value.Key, "GatewaySigning:Key");
        _previousKey = string.IsNullOrWhiteSpace(value.PreviousKey) ? null : SigningKeys.Decode(value.PreviousKey, "GatewaySigning:PreviousKey");
        _maxAge = TimeSpan.FromSeconds(value.MaxAgeSeconds);
        _time = time;
    }

    public (string Identity, string Signature) Sign(string method, string pathAndQuery, CallerIdentity caller)
    {
        var identity = FormatIdentity(caller, _time.GetUtcNow().ToUnixTimeSeconds());
        return (identity, Version + "=" + Base64Url(Mac(_key, method, pathAndQuery, identity)));
    }

    public SignatureCheck Verify(string method, string pathAndQuery, string? identityHeader, string? signatureHeader,
        out CallerIdentity? caller)
    {
        caller = null;
        if (string.IsNullOrEmpty(identityHeader) || string.IsNullOrEmpty(signatureHeader))
        {
            return SignatureCheck.Missing;
        }
        if (!signatureHeader.StartsWith(Version + "=", StringComparison.Ordinal)
            || !TryDecodeBase64Url(signatureHeader.AsSpan(Version.Length + 1), out var presented)
            || !TryParseIdentity(identityHeader, out var parsed, out var timestamp))
        {
            return SignatureCheck.Malformed;
        }

        var valid = CryptographicOperations.FixedTimeEquals(presented, Mac(_key, method, pathAndQuery, identityHeader))
            || (_previousKey is not null
                && CryptographicOperations.FixedTimeEquals(presented, Mac(_previousKey, method, pathAndQuery, identityHeader)));
        if (!valid)
        {
            return SignatureCheck.BadSignature;
        }
        var age = _time.GetUtcNow() - DateTimeOffset.FromUnixTimeSeconds(timestamp);
        if (age.Duration() > _maxAge)
        {
            return SignatureCheck.Stale;
        }
        caller = parsed;
        return SignatureCheck.Valid;
    }

    public static string FormatIdentity(CallerIdentity caller, long unixSeconds)
    {
        var text = new StringBuilder(160);
        text.Append("t=").Append(unixSeconds.ToString(CultureInfo.InvariantCulture));
        if (caller.ClientIp is { Length: > 0 } ip)
        {
            text.Append(";ip=").Append(ip);
        }
        switch (caller.Kind)
        {
            case CallerKind.Anonymous:
                text.Append(";kind=anonymous");
                break;
            case CallerKind.Service:
                text.Append(";kind=service;svc=").Append(caller.Service);
                break;
            case CallerKind.Account:
                text.Append(";kind=account;acct=").Append(caller.AccountId.ToString("N"));
                text.Append(";scopes=").Append(ScopeNames.Format(caller.Scopes));
                if (caller.KeyId is { } key)
                {
                    text.Append(";key=").Append(key.ToString("N"));
                }
                if (caller.UserId is { } user)
                {
                    text.Append(";user=").Append(user.ToString("N"));
                }
                if (caller.Role is { } role)
                {
                    text.Append(";role=").Append(role);
                }
                if (caller.PartnerId is { } partner)
                {
                    text.Append(";partner=").Append(partner.ToString("N"));
                }
                break;
        }
        return text.ToString();
    }

    public static bool TryParseIdentity(string header, out CallerIdentity caller, out long timestamp)
    {
        caller = CallerIdentity.Anonymous;
        timestamp = 0;
        string? kind = null, service = null, role = null, ip = null;
        Guid account = default, key = default, user = default, partner = default;
        var scopes = Scopes.None;
        var span = header.AsSpan();
        foreach (var range in span.Split(';'))
        {
            var pair = span[range];
            var equals = pair.IndexOf('=');
            if (equals <= 0)
            {
                return false;
            }
            var name = pair[..equals];
            var value = pair[(equals + 1)..];
            switch (name)
            {
                case "t" when !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out timestamp):
                case "acct" when !Guid.TryParseExact(value, "N", out account):
                case "key" when !Guid.TryParseExact(value, "N", out key):
                case "user" when !Guid.TryParseExact(value, "N", out user):
                case "partner" when !Guid.TryParseExact(value, "N", out partner):
                    return false;
                case "kind":
                    kind = value.ToString();
                    break;
                case "svc":
                    service = value.ToString();
                    break;
                case "role":
                    role = value.ToString();
                    break;
                case "ip":
                    ip = value.ToString();
                    break;
                case "scopes":
                    scopes = ScopeNames.ParseList(value);
                    break;
                default:
                    break; // newer gateways may add fields; the signature already covers them
            }
        }
        if (timestamp <= 0)
        {
            return false;
        }
        switch (kind)
        {
            case "anonymous":
                caller = CallerIdentity.Anonymous with { ClientIp = ip };
                return true;
            case "service" when service is not null:
                caller = CallerIdentity.ForService(service);
                return true;
            case "account" when account != Guid.Empty:
                caller = new CallerIdentity(CallerKind.Account, account, scopes,
                    key == Guid.Empty ? null : key, user == Guid.Empty ? null : user, role, ClientIp: ip,
                    PartnerId: partner == Guid.Empty ? null : partner);
                return true;
            default:
                return false;
        }
    }

    private static byte[] Mac(byte[] key, string method, string pathAndQuery, string identity)
    {
        var message = $"{Version}\n{method}\n{pathAndQuery}\n{identity}";
        var bytes = Encoding.UTF8.GetBytes(message);
        return HMACSHA256.HashData(key, bytes);
    }

    private static string Base64Url(byte[] bytes) => System.Buffers.Text.Base64Url.EncodeToString(bytes);

    private static bool TryDecodeBase64Url(ReadOnlySpan<char> text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length is 0 or > 64 || !System.Buffers.Text.Base64Url.IsValid(text, out var length))
        {
            return false;
        }
        bytes = new byte[length];
        System.Buffers.Text.Base64Url.DecodeFromChars(text, bytes);
        return true;
    }
}
