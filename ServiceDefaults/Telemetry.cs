using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Ujumbe.ServiceDefaults;

/// <summary>
/// OpenTelemetry without the hosting package: the tracer and meter providers are built here,
/// owned by the container (so disposing it flushes them) and started with the host.
/// </summary>
public static class Telemetry
{
    /// <summary>Sources and meters the platform's libraries emit natively.</summary>
    public static readonly string[] LibrarySources =
    [
        "Microsoft.AspNetCore",
        "System.Net.Http",
        "Npgsql",
        "RabbitMQ.Client.Publisher",
        "RabbitMQ.Client.Subscriber",
        "Yarp.ReverseProxy",
    ];

    public static readonly string[] LibraryMeters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "Microsoft.AspNetCore.RateLimiting",
        "System.Net.Http",
        "System.Runtime",
        "Npgsql",
        "RabbitMQ.Client",
    ];

    /// <summary>The project's own sources and meters are all named <c>Ujumbe.*</c> (e.g. Ujumbe.Api).</summary>
    public const string ProjectPrefix = "Ujumbe.*";

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var configuration = builder.Configuration;
        var serviceName = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : builder.Environment.ApplicationName;
        var otlpEndpoint = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var exportOtlp = !string.IsNullOrWhiteSpace(otlpEndpoint);

        void ConfigureResource(ResourceBuilder resource) => resource.AddService(
            serviceName,
            serviceVersion: typeof(Telemetry).Assembly.GetName().Version?.ToString(),
            serviceInstanceId: $"{Environment.MachineName}-{Environment.ProcessId}");

        // Read from IConfiguration (not only the environment) so tests and appsettings can set them too.
        Action<OtlpExporterOptions> ConfigureExporter(string signal) => options =>
        {
            var httpProtobuf = configuration["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf";
            options.Protocol = httpProtobuf ? OtlpExportProtocol.HttpProtobuf : OtlpExportProtocol.Grpc;
            // An endpoint set in code is used as given; over HTTP the spec's per-signal path is ours to add.
            options.Endpoint = httpProtobuf
                ? new Uri(otlpEndpoint!.TrimEnd('/') + "/v1/" + signal)
                : new Uri(otlpEndpoint!);
            if (configuration["OTEL_EXPORTER_OTLP_HEADERS"] is { Length: > 0 } headers)
            {
                options.Headers = headers;
            }
        };

        if (exportOtlp)
        {
            builder.Logging.AddOpenTelemetry(logging =>
            {
                var resource = ResourceBuilder.CreateDefault();
                ConfigureResource(resource);
                logging.SetResourceBuilder(resource);
                logging.IncludeFormattedMessage = true;
                logging.IncludeScopes = true;
                logging.AddOtlpExporter(ConfigureExporter("logs"));
            });
        }

        // Providers are built even without an exporter: activities then exist, so trace ids appear in
        // problem answers and logs, and trace context still flows across HTTP and RabbitMQ. With nowhere
        // to send spans they are only propagated, not recorded (no tags, events or timing gathered for
        // nobody on every request); another listener (a test, dotnet-trace) can still ask for everything.
        builder.Services.AddSingleton(_ =>
        {
            var tracing = Sdk.CreateTracerProviderBuilder()
                .ConfigureResource(ConfigureResource)
                .AddSource(LibrarySources)
                .AddSource(ProjectPrefix);
            if (exportOtlp)
            {
                tracing.AddOtlpExporter(ConfigureExporter("traces"));
            }
            else
            {
                tracing.SetSampler(new AlwaysOffSampler());
            }
            return tracing.Build();
        });
        builder.Services.AddSingleton(_ =>
        {
            var metrics = Sdk.CreateMeterProviderBuilder()
                .ConfigureResource(ConfigureResource)
                .AddMeter(LibraryMeters)
                .AddMeter(ProjectPrefix);
            if (exportOtlp)
            {
                metrics.AddOtlpExporter(ConfigureExporter("metrics"));
            }
            return metrics.Build();
        });
        builder.Services.AddHostedService<TelemetryStarter>();
        return builder;
    }

    /// <summary>Resolving the providers at start makes them listen from the first request on.</summary>
    private sealed class TelemetryStarter(TracerProvider tracing, MeterProvider metrics) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GC.KeepAlive(tracing);
            GC.KeepAlive(metrics);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

/// <summary>
/// ASP.NET Core's own server span carries no tags without the instrumentation package; this adds the
/// semantic-convention ones (method, route, status) so traces can be searched and grouped.
/// </summary>
public sealed class ServerSpanTagsMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        finally
        {
            var activity = context.Features.Get<IHttpActivityFeature>()?.Activity;
            if (activity is { IsAllDataRequested: true })
            {
                var request = context.Request;
                var status = context.Response.StatusCode;
                activity.SetTag("http.request.method", request.Method);
                activity.SetTag("url.scheme", request.Scheme);
                activity.SetTag("url.path", request.Path.Value);
                activity.SetTag("http.response.status_code", status);
                if (context.GetEndpoint() is RouteEndpoint { RoutePattern.RawText: { } route })
                {
                    activity.SetTag("http.route", route);
                    activity.DisplayName = $"{request.Method} {route}";
                }
                if (status >= 500)
                {
                    activity.SetTag("error.type", status.ToString(System.Globalization.CultureInfo.InvariantCulture));
                    activity.SetStatus(ActivityStatusCode.Error);
                }
            }
        }
    }
}
