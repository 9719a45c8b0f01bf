using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Yarp.ReverseProxy.Forwarder;

namespace Ujumbe.Gateway.Proxy;

/// <summary>
/// Gives proxy failures the same problem+json shape as every other error: an oversized body is
/// refused before anything is forwarded; an unreachable or slow Api becomes 503 or 504.
/// </summary>
public sealed class ProxyProblems(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var sizeLimit = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (ServiceDefaultsLimits.IsUpload(context.Request) && sizeLimit is { IsReadOnly: false })
        {
            sizeLimit.MaxRequestBodySize = ServiceDefaultsLimits.MaxUploadBodyBytes;
        }
        var limit = sizeLimit?.MaxRequestBodySize ?? ServiceDefaultsLimits.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            await TooLarge(context.Request).ExecuteAsync(context);
            return;
        }

        if (FindNonAsciiHeader(context.Request.Headers) is { } header)
        {
            await Problems.Create(400, ErrorCodes.ValidationFailed, "The request is not valid.",
                $"The {header} header contains characters that are not ASCII.",
                new Dictionary<string, string[]> { [header] = ["must be ASCII"] }).ExecuteAsync(context);
            return;
        }

        if (FindInternalHeader(context.Request.Headers) is { } internalHeader)
        {
            // Only the gateway speaks in X-Ujumbe-* headers. A client sending one is refused outright
            // rather than quietly stripped, so a misbuilt integration learns at once (issue 4).
            await Problems.Create(400, ErrorCodes.ValidationFailed, "The request is not valid.",
                $"The {internalHeader} header is set by the gateway, never by clients; remove it.",
                new Dictionary<string, string[]> { [internalHeader] = ["must not be sent"] }).ExecuteAsync(context);
            return;
        }

        await next(context);

        if (context.GetForwarderErrorFeature() is not { } failure || context.Response.HasStarted)
        {
            return;
        }
        var problem = failure.Error switch
        {
            ForwarderError.RequestBodyClient when Is413(failure.Exception) => TooLarge(context.Request),
            ForwarderError.RequestTimedOut => Problems.Create(504, ErrorCodes.UpstreamTimeout, "Upstream timeout.",
                "The service did not answer in time; the request may or may not have been applied. Retry with the same Idempotency-Key."),
            ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled => null,
            ForwarderError.RequestBodyClient => Problems.Create(400, ErrorCodes.ValidationFailed, "The request is not valid.",
                "The request body could not be read."),
            _ => Problems.Create(503, ErrorCodes.ServiceUnavailable, "Service unavailable.", "The service is unavailable; retry shortly."),
        };
        if (problem is not null)
        {
            await problem.ExecuteAsync(context);
        }
    }

    private static string? FindInternalHeader(IHeaderDictionary headers) =>
        headers.Keys.FirstOrDefault(name => name.StartsWith(GatewaySignature.HeaderPrefix, StringComparison.OrdinalIgnoreCase));

    /// <summary>HTTP header values are ASCII; anything else cannot be forwarded faithfully, so it is refused here.</summary>
    private static string? FindNonAsciiHeader(IHeaderDictionary headers)
    {
        foreach (var (name, values) in headers)
        {
            foreach (var value in values)
            {
                if (value is not null && !System.Text.Ascii.IsValid(value))
                {
                    return name;
                }
            }
        }
        return null;
    }

    private static bool Is413(Exception? error) =>
        error is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
        || error?.InnerException is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge };

    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult TooLarge(HttpRequest request) =>
        Problems.Create(413, ErrorCodes.PayloadTooLarge, "The request body is too large.", ServiceDefaultsLimits.TooLargeDetail(request));
}
