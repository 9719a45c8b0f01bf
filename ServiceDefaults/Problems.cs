using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Net.Http.Headers;

namespace Ujumbe.ServiceDefaults;

/// <summary>The stable, machine-readable error codes of the public API (API.md "Errors").</summary>
public static class ErrorCodes
{
    public const string ValidationFailed = "VALIDATION_FAILED";
    public const string InvalidPhone = "INVALID_PHONE";
    public const string MessageTooLong = "MESSAGE_TOO_LONG";
    public const string InvalidCredentials = "INVALID_CREDENTIALS";
    public const string KeyExpired = "KEY_EXPIRED";
    public const string KeyRevoked = "KEY_REVOKED";
    public const string InsufficientBalance = "INSUFFICIENT_BALANCE";
    public const string Forbidden = "FORBIDDEN";
    public const string AccountSuspended = "ACCOUNT_SUSPENDED";
    public const string SenderIdNotApproved = "SENDER_ID_NOT_APPROVED";
    public const string ContentRejected = "CONTENT_REJECTED";
    public const string AllRecipientsOptedOut = "ALL_RECIPIENTS_OPTED_OUT";
    public const string NotFound = "NOT_FOUND";
    public const string MethodNotAllowed = "METHOD_NOT_ALLOWED";
    public const string Conflict = "CONFLICT";
    public const string AlreadyReplayed = "ALREADY_REPLAYED";
    public const string PayloadTooLarge = "PAYLOAD_TOO_LARGE";
    public const string UnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
    public const string IdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED";
    public const string RateLimitExceeded = "RATE_LIMIT_EXCEEDED";
    public const string InternalError = "INTERNAL_ERROR";
    public const string ProviderUnavailable = "PROVIDER_UNAVAILABLE";
    /// <summary>A message's <c>error_code</c> when its number opted out after the send was accepted (it is canceled).</summary>
    public const string OptedOut = "OPTED_OUT";
    public const string ServiceUnavailable = "SERVICE_UNAVAILABLE";
    public const string UpstreamTimeout = "UPSTREAM_TIMEOUT";

    /// <summary>The code an error gets when whoever produced it did not name one.</summary>
    public static string ForStatus(int status) => status switch
    {
        400 => ValidationFailed,
        401 => InvalidCredentials,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        409 => Conflict,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        422 => IdempotencyKeyReused,
        429 => RateLimitExceeded,
        502 or 503 => ServiceUnavailable,
        504 => UpstreamTimeout,
        _ => InternalError,
    };
}

/// <summary>RFC 9457 problem+json answers with a stable <c>code</c> and the request's <c>trace_id</c>.</summary>
public static class Problems
{
    public const string TypeBase = "https://docs.ujumbe.africa/errors/";

    /// <summary>How long a client should wait after a 503: a restarting database or service is usually back within seconds.</summary>
    public const string RetryAfterSeconds = "5";

    public static ProblemHttpResult Create(
        int status, string code, string title, string? detail = null,
        IDictionary<string, string[]>? errors = null, IEnumerable<KeyValuePair<string, object?>>? extensions = null)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        problem.Extensions["code"] = code;
        if (errors is not null)
        {
            problem.Extensions["errors"] = errors;
        }
        foreach (var (key, value) in extensions ?? [])
        {
            problem.Extensions[key] = value;
        }
        return TypedResults.Problem(problem);
    }

    public static ProblemHttpResult Validation(IDictionary<string, string[]> errors, string? detail = null) =>
        Create(400, ErrorCodes.ValidationFailed, "The request is not valid.",
            detail ?? "One or more fields are invalid; see errors.", errors);

    public static ProblemHttpResult Validation(string field, string message) =>
        Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static ProblemHttpResult NotFound(string? detail = null) =>
        Create(404, ErrorCodes.NotFound, "Not found.", detail ?? "No such resource.");

    public static ProblemHttpResult Forbidden(string detail, string code = ErrorCodes.Forbidden) =>
        Create(403, code, "Forbidden.", detail);

    public static ProblemHttpResult Conflict(string detail) =>
        Create(409, ErrorCodes.Conflict, "Conflict.", detail);

    public static ProblemHttpResult Unauthorized(string code, string detail) =>
        Create(401, code, "Unauthorized.", detail);

    /// <summary>Fills what every problem carries, however it was produced (endpoint, status page, exception).</summary>
    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        problem.Status = status;
        if (problem.Extensions.TryGetValue("code", out var existing) is false || existing is not string)
        {
            problem.Extensions["code"] = ErrorCodes.ForStatus(status);
        }
        var code = (string)problem.Extensions["code"]!;
        problem.Type = TypeBase + code.ToLowerInvariant().Replace('_', '-');
        problem.Title ??= DefaultTitle(status);
        if (status == StatusCodes.Status503ServiceUnavailable && !context.HttpContext.Response.Headers.ContainsKey(HeaderNames.RetryAfter))
        {
            // Every 503 says when to come back, whoever produced it (exception handler, gateway, proxy).
            context.HttpContext.Response.Headers.RetryAfter = RetryAfterSeconds;
        }
        problem.Extensions.Remove("traceId");
        problem.Extensions["trace_id"] = Activity.Current?.TraceId.ToHexString() ?? context.HttpContext.TraceIdentifier;
    }

    private static string DefaultTitle(int status) => status switch
    {
        404 => "Not found.",
        405 => "Method not allowed.",
        _ => "The request failed.",
    };
}
