using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Shared.Compat.Wasambazie;

/// <summary>Wasambazie's <c>{"detail": "…"}</c> error body.</summary>
public sealed record WasambazieDetail(string Detail);

/// <summary>One field error of Wasambazie's 422 answer (FastAPI's shape).</summary>
public sealed record WasambazieFieldError(IReadOnlyList<string> Loc, string Msg, string Type);

/// <summary>Wasambazie's 422 body: <c>{"detail": [{loc, msg, type}]}</c>.</summary>
public sealed record WasambazieFieldErrors(IReadOnlyList<WasambazieFieldError> Detail);

/// <summary>
/// Wasambazie (seed 004, docs/dialects/wasambazie.md): <c>/compat/wasambazie/v1</c>, a key pair in
/// <c>X-API-PUBLIC-KEY</c>/<c>X-API-SECRET-KEY</c>, errors as <c>{"detail": …}</c>.
/// </summary>
public sealed class WasambazieDialect : Dialect
{
    public const string PublicKeyHeader = "X-API-PUBLIC-KEY";
    public const string SecretKeyHeader = "X-API-SECRET-KEY";

    // The seed's own words, exactly.
    public const string InvalidCredentials = "Invalid or missing API credentials";
    public const string InsufficientCredits = "Insufficient SMS credits";
    public const string SenderIdRequired = "Sender ID is required";
    public const string SenderIdNotApproved = "Sender ID not found or not approved";
    public const string ProviderRejected = "Provider rejected the message";
    public const string ReportNotReady = "Report not yet available — the batch is still being processed.";

    public static WasambazieDialect Instance { get; } = new();

    private WasambazieDialect()
    {
    }

    public override string Name => "wasambazie";

    public override PathString Root { get; } = "/compat/wasambazie";

    public override PathString Base { get; } = "/compat/wasambazie/v1";

    public override IReadOnlyList<string> CredentialHeaders { get; } = [PublicKeyHeader, SecretKeyHeader];

    public override string CredentialHint => $"Send the key pair as {PublicKeyHeader} and {SecretKeyHeader}.";

    /// <summary>
    /// Both headers, naming one key: the secret (which embeds its public part) must belong to the public key
    /// sent beside it. One without the other, either repeated, or a pair that does not match is invalid.
    /// </summary>
    public override DialectCredential ReadCredential(IHeaderDictionary headers)
    {
        var publicKey = headers[PublicKeyHeader];
        var secret = headers[SecretKeyHeader];
        if (publicKey.Count == 0 && secret.Count == 0)
        {
            return new(DialectCredentialKind.None, "");
        }
        if (publicKey.Count != 1 || secret.Count != 1)
        {
            return new(DialectCredentialKind.Invalid, $"Send {PublicKeyHeader} and {SecretKeyHeader}, each once.");
        }
        var presentedPublic = (publicKey.ToString() ?? "").Trim();
        var presentedSecret = (secret.ToString() ?? "").Trim();
        if (!ApiKeySecret.TryGetPublicKey(presentedSecret, out var ownPublic) || !SameKey(presentedPublic, ownPublic))
        {
            return new(DialectCredentialKind.Invalid, "The public and secret keys do not form a key pair.");
        }
        return new(DialectCredentialKind.Secret, presentedSecret);
    }

    /// <summary>Compared in constant time, like the secret itself, so timing says nothing about either.</summary>
    private static bool SameKey(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(presented), Encoding.ASCII.GetBytes(expected));

    public override RatePolicy PolicyOf(string method, PathString path) =>
        HttpMethods.IsPost(method) && (path.Equals(Base + "/sms/send", StringComparison.OrdinalIgnoreCase)
                                       || path.Equals(Base + "/sms/send/", StringComparison.OrdinalIgnoreCase))
            ? RatePolicy.Send
            : RatePolicy.None;

    public override DialectError Error(int status, string code, string? detail, IDictionary<string, string[]>? errors) => code switch
    {
        ErrorCodes.InvalidCredentials or ErrorCodes.KeyExpired or ErrorCodes.KeyRevoked => Detail(401, InvalidCredentials),
        ErrorCodes.InsufficientBalance => Detail(402, InsufficientCredits),
        ErrorCodes.SenderIdNotApproved => Detail(404, SenderIdNotApproved),
        ErrorCodes.InvalidPhone => Detail(400, "Invalid phone number: " + string.Join("; ", (errors ?? new Dictionary<string, string[]>()).Values.SelectMany(m => m))),
        // The seed's 422 is FastAPI's field list only; a send that reaches nobody is a bad request here.
        ErrorCodes.AllRecipientsOptedOut => Detail(400, detail ?? "Every recipient has opted out."),
        ErrorCodes.NotFound => Detail(404, "Not Found"),
        ErrorCodes.MethodNotAllowed => Detail(405, "Method Not Allowed"),
        ErrorCodes.InternalError => Detail(500, "Internal Server Error"),
        _ => Detail(status, Words(detail, errors)),
    };

    public static DialectError Detail(int status, string detail) => new(status, new WasambazieDetail(detail));

    /// <summary>A 422 naming each field of the body that is missing or of the wrong type.</summary>
    public static DialectError FieldErrors(IReadOnlyList<WasambazieFieldError> errors) => new(422, new WasambazieFieldErrors(errors));

    /// <summary>The seed's 400s are one sentence: the field errors, when there are any, say more than the summary.</summary>
    private static string Words(string? detail, IDictionary<string, string[]>? errors) =>
        errors is { Count: > 0 }
            ? string.Join("; ", errors.Select(e => $"{e.Key} {e.Value.FirstOrDefault()}"))
            : detail ?? "The request failed.";
}
