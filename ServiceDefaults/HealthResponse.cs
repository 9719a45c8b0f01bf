using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ujumbe.ServiceDefaults;

/// <summary>Health as JSON: the overall status and each check's, so an operator sees which dependency is down.</summary>
public static class HealthResponse
{
    /// <summary>With each check's description (why it fails), for services only the internal network reaches.</summary>
    public static Task WriteAsync(HttpContext context, HealthReport report) => WriteAsync(context, report, describe: true);

    /// <summary>
    /// Statuses only, for a service the internet reaches: descriptions carry exception messages that
    /// name internal hosts and ports. Why a check fails is still logged by the health check service.
    /// </summary>
    public static Task WritePublicAsync(HttpContext context, HealthReport report) => WriteAsync(context, report, describe: false);

    private static Task WriteAsync(HttpContext context, HealthReport report, bool describe)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        var body = new
        {
            status = report.Status.ToString(),
            duration_ms = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.ToDictionary(
                entry => entry.Key,
                entry => describe
                    ? (object)new
                    {
                        status = entry.Value.Status.ToString(),
                        description = entry.Value.Description ?? entry.Value.Exception?.Message,
                        duration_ms = Math.Round(entry.Value.Duration.TotalMilliseconds, 1),
                    }
                    : new
                    {
                        status = entry.Value.Status.ToString(),
                        duration_ms = Math.Round(entry.Value.Duration.TotalMilliseconds, 1),
                    }),
        };
        return JsonSerializer.SerializeAsync(context.Response.Body, body, JsonDefaults.Options, context.RequestAborted);
    }
}
