using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ujumbe.ServiceDefaults;

/// <summary>OpenTelemetry as the Aspire template wires it, with the project's own sources and one cost rule (below).</summary>
public static class Telemetry
{
    /// <summary>Sources the platform's libraries emit natively (the Aspire integrations add their own too).</summary>
    public static readonly string[] LibrarySources =
    [
        "Npgsql",
        "Yarp.ReverseProxy",
    ];

    public static readonly string[] LibraryMeters =
    [
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.RateLimiting",
        "Npgsql",
    ];

    /// <summary>The project's own sources and meters are all named <c>Ujumbe.*</c> (e.g. Ujumbe.Api).</summary>
    public const string ProjectPrefix = "Ujumbe.*";

    /// <summary>Whether OTEL_EXPORTER_OTLP_ENDPOINT names somewhere to send telemetry (the Aspire dashboard, a collector).</summary>
    public static bool ExportsOtlp(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var configuration = builder.Configuration;
        var serviceName = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : builder.Environment.ApplicationName;
        var exportOtlp = ExportsOtlp(configuration);

        if (exportOtlp)
        {
            // Logs go through OpenTelemetry only when they go somewhere: otherwise every log line would
            // also be turned into a log record for nobody.
            builder.Logging.AddOpenTelemetry(logging =>
            {
                logging.IncludeFormattedMessage = true;
                logging.IncludeScopes = true;
            });
        }

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                serviceName,
                serviceVersion: typeof(Telemetry).Assembly.GetName().Version?.ToString(),
                serviceInstanceId: $"{Environment.MachineName}-{Environment.ProcessId}"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(LibraryMeters)
                .AddMeter(ProjectPrefix))
            .WithTracing(tracing =>
            {
                tracing
                    .AddSource(LibrarySources)
                    .AddSource(ProjectPrefix)
                    // Probes every few seconds from the orchestrator are not worth a span each.
                    .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsHealthProbe(context.Request.Path));
                if (exportOtlp)
                {
                    tracing.AddHttpClientInstrumentation();
                }
                else
                {
                    // With nowhere to send spans they are only propagated, not recorded: activities still
                    // exist, so trace ids appear in problem answers and logs and trace context flows across
                    // HTTP and RabbitMQ, but no tags, events or timings are gathered for nobody on every
                    // request. Another listener (a test, dotnet-trace) can still ask for everything.
                    // The HttpClient instrumentation is left out then: with nothing sampled it makes outgoing
                    // calls (the gateway's forwards) start a new trace instead of carrying the caller's.
                    tracing.SetSampler(new AlwaysOffSampler());
                }
            });

        if (exportOtlp)
        {
            // Endpoint, protocol and headers come from the standard OTEL_EXPORTER_OTLP_* settings.
            telemetry.UseOtlpExporter();
        }
        return builder;
    }

    private static bool IsHealthProbe(PathString path) =>
        path.StartsWithSegments("/health", StringComparison.Ordinal) || path.StartsWithSegments("/alive", StringComparison.Ordinal);
}
