using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;
using Ujumbe.ServiceDefaults;

namespace Ujumbe.Shared.Compat.SmsPop;

/// <summary>SMSPop's error body: <c>{"success": false, "message": …}</c>, with Laravel's <c>errors</c> on a validation failure.</summary>
public sealed record SmsPopError(
    bool Success, string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IDictionary<string, string[]>? Errors = null);

/// <summary>
/// SMSPop (seed 003, docs/dialects/smspop.md): <c>/compat/smspop</c> + <c>/api/campaigns</c>, the API key as a Bearer
/// token, errors as <c>{success: false, message}</c> with the seed's messages.
/// </summary>
public sealed class SmsPopDialect : Dialect
{
    // The seed's own words.
    public const string InsufficientCredits = "Insufficient credits. Please purchase more SMS credits";
    public const string InvalidSenderId = "Invalid sender ID";
    public const string InactiveAccount = "Your account is inactive. Please contact support.";
    public const string ValidationFailed = "Validation failed";

    public static SmsPopDialect Instance { get; } = new();

    private SmsPopDialect()
    {
    }

    public override string Name => "smspop";

    public override PathString Root { get; } = "/compat/smspop";

    public override PathString Base { get; } = "/compat/smspop/api";

    public override IReadOnlyList<string> CredentialHeaders { get; } = [];

    public override string CredentialHint => "Send the API token as Authorization: Bearer <token>.";

    public override DialectCredential ReadCredential(IHeaderDictionary headers) => ReadBearer(headers);

    public override RatePolicy PolicyOf(string method, PathString path) =>
        HttpMethods.IsPost(method) && (path.Equals(Base + "/campaigns", StringComparison.OrdinalIgnoreCase)
                                       || path.Equals(Base + "/campaigns/", StringComparison.OrdinalIgnoreCase))
            ? RatePolicy.Send
            : RatePolicy.None;

    public override DialectError Error(int status, string code, string? detail, IDictionary<string, string[]>? errors) => code switch
    {
        // Laravel's words for a missing or bad token; the seed gives 401 no body of its own.
        ErrorCodes.InvalidCredentials or ErrorCodes.KeyExpired or ErrorCodes.KeyRevoked => Message(401, "Unauthenticated."),
        ErrorCodes.InsufficientBalance => Message(402, InsufficientCredits),
        ErrorCodes.SenderIdNotApproved => Message(422, InvalidSenderId),
        ErrorCodes.AccountSuspended => Message(403, InactiveAccount),
        ErrorCodes.ValidationFailed or ErrorCodes.InvalidPhone or ErrorCodes.MessageTooLong when errors is { Count: > 0 } =>
            new(422, new SmsPopError(false, ValidationFailed, errors)),
        ErrorCodes.NotFound => Message(404, "Not found."),
        ErrorCodes.MethodNotAllowed => Message(405, "Method not allowed."),
        ErrorCodes.RateLimitExceeded => Message(429, "Too Many Attempts."),
        ErrorCodes.InternalError => Message(500, "Server Error"),
        _ => Message(status, detail ?? "The request failed."),
    };

    public static DialectError Message(int status, string message) => new(status, new SmsPopError(false, message));
}
