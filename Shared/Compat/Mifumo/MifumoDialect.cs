using Microsoft.AspNetCore.Http;
using Ujumbe.ServiceDefaults;

namespace Ujumbe.Shared.Compat.Mifumo;

/// <summary>Mifumo's envelope, on every answer: <c>{success, message, data, error_code, details}</c>.</summary>
public sealed record MifumoEnvelope(bool Success, string Message, object? Data, string? ErrorCode, object? Details);

/// <summary>
/// Mifumo (seeds 000 and 001, docs/dialects/mifumo.md): <c>/compat/mifumo</c> + the seed's paths (the integration API
/// <c>/api/integration/v1/…</c> and the JWT login <c>/api/auth/login/</c>), the API key — or the login's access
/// token — as <c>Authorization: Bearer</c>, every answer in the envelope.
/// </summary>
public sealed class MifumoDialect : Dialect
{
    public static MifumoDialect Instance { get; } = new();

    private MifumoDialect()
    {
    }

    public override string Name => "mifumo";

    public override PathString Root { get; } = "/compat/mifumo";

    /// <summary>The seed's base URL is the host: its paths (<c>/api/integration/v1/…</c>, <c>/api/auth/…</c>) all follow it.</summary>
    public override PathString Base { get; } = "/compat/mifumo";

    /// <summary>The integration API (seed 000's <c>/api/integration</c> + <c>/v1/…</c>; seed 001's "External SMS API").</summary>
    public PathString Integration { get; } = "/compat/mifumo/api/integration/v1";

    /// <summary>Seed 001's JWT login, as the seed writes it.</summary>
    public PathString Login { get; } = "/compat/mifumo/api/auth/login/";

    /// <summary>Authorization is stripped for every request anyway; nothing of Mifumo's own.</summary>
    public override IReadOnlyList<string> CredentialHeaders { get; } = [];

    public override string CredentialHint => "Send the API key as Authorization: Bearer YOUR_API_KEY.";

    /// <summary>Seed 001: "API Key (recommended) or JWT Bearer Token" — the access token of <see cref="Login"/>.</summary>
    public override bool AcceptsPortalTokens => true;

    public override IReadOnlyList<DialectPublicRoute> PublicRoutes => [new("POST", Login.Value!)];

    /// <summary><c>Authorization: Bearer YOUR_API_KEY</c>, once; the key is an Ujumbe secret (<c>sk_…</c>) or a portal token.</summary>
    public override DialectCredential ReadCredential(IHeaderDictionary headers) => ReadBearer(headers);

    public override RatePolicy PolicyOf(string method, PathString path)
    {
        if (HttpMethods.IsPost(method) && (path.Equals(Integration + "/sms/send/", StringComparison.OrdinalIgnoreCase)
                                           || path.Equals(Integration + "/sms/send", StringComparison.OrdinalIgnoreCase)))
        {
            return RatePolicy.Send;
        }
        return path.StartsWithSegments(Integration + "/contacts", StringComparison.OrdinalIgnoreCase) ? RatePolicy.Contacts : RatePolicy.None;
    }

    public override DialectError Error(int status, string code, string? detail, IDictionary<string, string[]>? errors)
    {
        // The seed's four codes with its own descriptions; every other /v1 code as it is (same style, stable).
        var (errorCode, message) = code switch
        {
            ErrorCodes.InvalidCredentials or ErrorCodes.KeyExpired or ErrorCodes.KeyRevoked => (ErrorCodes.InvalidCredentials, "Invalid API key"),
            ErrorCodes.InvalidPhone => (code, "Invalid phone format"),
            ErrorCodes.InsufficientBalance => (code, "Low account balance"),
            ErrorCodes.RateLimitExceeded => (code, "Too many requests"),
            ErrorCodes.NotFound => (code, "Not found"),
            ErrorCodes.MethodNotAllowed => (code, "Method not allowed"),
            ErrorCodes.ValidationFailed => (code, "Invalid parameters"),
            ErrorCodes.InternalError => (code, "Internal server error"),
            _ => (code, detail ?? "The request failed"),
        };
        object? details = errors is { Count: > 0 } ? errors : detail;
        return new(status, new MifumoEnvelope(false, message, null, errorCode, details));
    }

    public static MifumoEnvelope Success(string message, object? data) => new(true, message, data, null, null);
}
