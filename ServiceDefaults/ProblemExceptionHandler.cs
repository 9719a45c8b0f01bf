using System.Data.Common;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging;

namespace Ujumbe.ServiceDefaults;

/// <summary>
/// Turns every exception that escapes an endpoint into problem+json: bad request bodies get a
/// field-level 400 or a 413, anything unexpected a 500 without internals.
/// </summary>
public sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var context = httpContext;
        if (exception is OperationCanceledException && context.RequestAborted.IsCancellationRequested)
        {
            return true; // the client went away; there is nobody to answer
        }

        var problem = exception switch
        {
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => Problem(
                413, ErrorCodes.PayloadTooLarge, "The request body is too large.", ServiceDefaultsLimits.TooLargeDetail(context.Request)),
            BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } => Problem(
                415, ErrorCodes.UnsupportedMediaType, "Unsupported media type.", "Send the body as application/json."),
            BadHttpRequestException { InnerException: JsonException json } => Problem(
                400, ErrorCodes.ValidationFailed, "The request is not valid.", "The body is not valid JSON for this request.",
                JsonErrors(json)),
            BadHttpRequestException bad when bad.StatusCode == 400 => Problem(
                400, ErrorCodes.ValidationFailed, "The request is not valid.", "The request body is missing or is not valid JSON.",
                new Dictionary<string, string[]> { ["body"] = ["is required and must be a JSON object"] }),
            BadHttpRequestException bad => Problem(
                bad.StatusCode, ErrorCodes.ForStatus(bad.StatusCode), "The request is not valid.", null),
            _ when IsDependencyUnavailable(exception) => Problem(
                503, ErrorCodes.ServiceUnavailable, "Service unavailable.",
                "A dependency did not answer; nothing was applied. Retry shortly (with the same Idempotency-Key, if any)."),
            _ => null,
        };

        if (problem is null || problem.Status == 503)
        {
            LogUnhandled(logger, exception, context.Request.Method, context.Request.Path);
            problem ??= Problem(500, ErrorCodes.InternalError, "An unexpected error occurred.",
                "The error was logged; quote the trace_id when you report it.");
        }

        context.Response.StatusCode = problem.Status!.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    /// <summary>
    /// The database (or another dependency) could not be reached or is shutting down, anywhere in the chain:
    /// EF Core wraps the driver's exception (e.g. "likely due to a transient failure"), the driver wraps the socket's.
    /// </summary>
    public static bool IsDependencyUnavailable(Exception exception)
    {
        for (var error = exception; error is not null; error = error.InnerException)
        {
            if (error is TimeoutException or System.Net.Sockets.SocketException or DbException { IsTransient: true })
            {
                return true;
            }
            // Connection exceptions, insufficient resources, operator intervention (shutdown), system errors.
            if (error is DbException { SqlState: { Length: 5 } state } && state[..2] is "08" or "53" or "57" or "58")
            {
                return true;
            }
        }
        return false;
    }

    private static ProblemDetails Problem(int status, string code, string title, string? detail,
        IDictionary<string, string[]>? errors = null)
    {
        var problem = new ProblemDetails { Status = status, Title = title, Detail = detail };
        problem.Extensions["code"] = code;
        if (errors is not null)
        {
            problem.Extensions["errors"] = errors;
        }
        return problem;
    }

    private static Dictionary<string, string[]> JsonErrors(JsonException json)
    {
        // Path is like "$.expires_in_days" or "$.scopes[2]"; the field name is what a client can act on.
        var path = json.Path;
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return new() { ["body"] = ["is not valid JSON"] };
        }
        var field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return new() { [field] = ["has the wrong type or format"] };
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception on {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}

public static class ServiceDefaultsLimits
{
    public const long MaxRequestBodyBytes = 1024 * 1024;

    /// <summary>Contact imports: a 10 MB file plus room for a multipart envelope.</summary>
    public const long MaxUploadBodyBytes = (10 * 1024 * 1024) + (64 * 1024);

    /// <summary>The requests allowed <see cref="MaxUploadBodyBytes"/> instead of <see cref="MaxRequestBodyBytes"/>.</summary>
    public static bool IsUpload(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && request.Path.Equals("/v1/contacts/import", StringComparison.OrdinalIgnoreCase);

    /// <summary>What a 413 says: the limit of this request's route, not always the general one.</summary>
    public static string TooLargeDetail(HttpRequest request) =>
        $"The body must not exceed {(IsUpload(request) ? MaxUploadBodyBytes : MaxRequestBodyBytes) / 1024} KiB.";
}
