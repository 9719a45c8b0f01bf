using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Ujumbe.ServiceDefaults;

namespace Microsoft.Extensions.Hosting;

/// <summary>What every Ujumbe service has: telemetry, health endpoints, problem+json errors, one JSON convention.</summary>
public static class ServiceDefaultsExtensions
{
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        // Npgsql, given the host's loggers by the Aspire integration, logs every statement it runs at
        // Information: thousands of lines a second on the send path. Its spans carry the statements;
        // its warnings and errors still reach the log.
        builder.Logging.AddFilter("Npgsql.Command", LogLevel.Warning);

        // Other services are named (http://api, http://gateway) and found through configuration
        // (services__api__http__0, injected by the AppHost); calls to them retry transient failures.
        builder.Services.AddServiceDiscovery();
        // Clients of the outside world opt out (OutsideClients).
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);

        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = Problems.Customize);
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();
        builder.Services.AddSingleton<Microsoft.AspNetCore.Diagnostics.IDeveloperPageExceptionFilter, NoDeveloperExceptionPage>();
        // Binding failures (malformed JSON, wrong types) surface as exceptions so they get a
        // field-level problem+json answer instead of a bare 400.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.ConfigureHttpJsonOptions(options => JsonDefaults.Apply(options.SerializerOptions));

        builder.Services.Configure<KestrelServerOptions>(options =>
        {
            options.AddServerHeader = false;
            options.Limits.MaxRequestBodySize = ServiceDefaultsLimits.MaxRequestBodyBytes;
        });
        builder.Services.AddSingleton<IStartupFilter, ServiceDefaultsStartupFilter>();
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    /// <summary>
    /// <c>/alive</c>: the process is up. <c>/health</c>: it and every dependency answer.
    /// Both are mapped in every environment: orchestrators probe production too. A service the internet
    /// reaches (<paramref name="publicFacing"/>) says how each check is, never why it fails.
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app, bool publicFacing = false)
    {
        var writer = publicFacing ? HealthResponse.WritePublicAsync : (Func<HttpContext, HealthReport, Task>)HealthResponse.WriteAsync;
        app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = writer })
            .AllowAnonymous()
            .DisableHttpMetrics();
        app.MapHealthChecks("/alive", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("live"),
            ResponseWriter = writer,
        })
            .AllowAnonymous()
            .DisableHttpMetrics();
        return app;
    }

    /// <summary>Every service's pipeline starts with problem+json for errors.</summary>
    private sealed class ServiceDefaultsStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.UseExceptionHandler();
            app.UseStatusCodePages();
            next(app);
        };
    }
}
