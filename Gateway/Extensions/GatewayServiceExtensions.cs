using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Ujumbe.Gateway.Authentication;
using Ujumbe.Gateway.Proxy;
using Ujumbe.Gateway.RateLimiting;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Compat;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Payments;
using Ujumbe.Shared.Providers;
using Ujumbe.Shared.Redis;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace Ujumbe.Gateway.Extensions;

public static class GatewayServiceExtensions
{
    public static IHostApplicationBuilder AddGatewayServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        var apiUri = configuration.GetRequiredServiceUri("api");

        services.AddOptions<GatewayOptions>().Bind(configuration.GetSection(GatewayOptions.Section));
        // The public edge: small, explicit limits on what a request may be (the body limit, 1 MiB, is everyone's).
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(kestrel =>
        {
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;          // → 414
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024; // → 431
            kestrel.Limits.MaxRequestHeaderCount = 100;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(15);
        });
        services.AddOptions<GatewaySigningOptions>().Bind(configuration.GetSection(GatewaySigningOptions.Section));
        services.AddSingleton<GatewaySignature>();
        services.AddOptions<PortalTokenOptions>().Bind(configuration.GetSection(PortalTokenOptions.Section));
        services.AddSingleton<PortalTokens>();
        services.AddSingleton<PortalPasswords>();

        services.AddHttpClient<KeyDirectory>(http =>
        {
            http.BaseAddress = apiUri;
            http.Timeout = TimeSpan.FromSeconds(5);
        });
        services.AddHttpClient(KeyUsageRecorder.ClientName, http =>
        {
            http.BaseAddress = apiUri;
            http.Timeout = TimeSpan.FromSeconds(10);
        });
        services.AddSingleton<KeyUsageRecorder>();
        services.AddHostedService(provider => provider.GetRequiredService<KeyUsageRecorder>());

        builder.AddRedis(HealthStatus.Unhealthy);
        services.AddOptions<RedisNamingOptions>().Bind(configuration.GetSection(RedisNamingOptions.Section));
        services.AddSingleton<CredentialCache>();
        services.AddHostedService(provider => provider.GetRequiredService<CredentialCache>());
        services.AddOptions<RateLimitDefaults>().Bind(configuration.GetSection(RateLimitDefaults.Section));
        services.AddSingleton<RateLimiter>();
        services.AddSingleton<Admission>();
        services.AddDialectErrors();

        var upstreamTimeout = configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>()?.UpstreamTimeout
            ?? new GatewayOptions().UpstreamTimeout;
        services.AddReverseProxy()
            .LoadFromMemory(Routes(), [Cluster(apiUri, upstreamTimeout)])
            .AddTransforms(IdentityForwarding.Apply)
            .AddServiceDiscoveryDestinationResolver();

        services.AddHealthChecks()
            .AddCheck<ApiHealthCheck>("api");
        return builder;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        // Fail at start, not on the first request, if a signing key is missing or too short.
        app.Services.GetRequiredService<GatewaySignature>();
        app.Services.GetRequiredService<PortalTokens>();

        app.MapDefaultEndpoints(publicFacing: true);
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<ProxyProblems>();
            proxy.UseMiddleware<GatewayAuthenticationMiddleware>();
        });
        app.MapFallback(() => Problems.NotFound("No such endpoint. The API lives under /v1."));
        return app;
    }

    /// <summary>Only the public surface is routed; /internal and everything else never reach the Api.</summary>
    private static RouteConfig[] Routes() =>
    [
        new() { RouteId = "v1", ClusterId = "api", Match = new() { Path = "/v1/{**rest}" }, Order = 100 },
        // Each compatibility dialect (decision 0026): authenticated and limited like /v1, in its own credential form.
        .. Dialects.All.Select(dialect => new RouteConfig
        {
            RouteId = "compat-" + dialect.Name,
            ClusterId = "api",
            Match = new() { Path = dialect.Base + "/{**rest}" },
            Order = 100,
        }),
        // A dialect's own sign-in (Mifumo's /api/auth/login/) and the pages its seed shows answered without
        // credentials (the classic API's Swagger page): public like /v1/auth/login.
        .. Dialects.All.SelectMany(dialect => dialect.PublicRoutes.Select((route, i) => new RouteConfig
        {
            RouteId = $"compat-{dialect.Name}-public-{i}",
            ClusterId = "api",
            Order = 1,
            Match = new() { Path = route.Path, Methods = [route.Method] },
            Metadata = new Dictionary<string, string> { [GatewayAuthenticationMiddleware.AnonymousMetadata] = "true" },
        })),
        new()
        {
            RouteId = "login",
            ClusterId = "api",
            Order = 1,
            Match = new() { Path = "/v1/auth/login", Methods = ["POST"] },
            Metadata = new Dictionary<string, string> { [GatewayAuthenticationMiddleware.AnonymousMetadata] = "true" },
        },
        .. Dialects.All.Select(dialect => new RouteConfig
        {
            RouteId = "openapi-compat-" + dialect.Name,
            ClusterId = "api",
            Match = new() { Path = $"/openapi/compat-{dialect.Name}.json", Methods = ["GET"] },
            Metadata = new Dictionary<string, string> { [GatewayAuthenticationMiddleware.AnonymousMetadata] = "true" },
        }),
        new()
        {
            RouteId = "accept-invitation",
            ClusterId = "api",
            Order = 1,
            Match = new() { Path = "/v1/auth/invitations/accept", Methods = ["POST"] },
            Metadata = new Dictionary<string, string> { [GatewayAuthenticationMiddleware.AnonymousMetadata] = "true" },
        },
        new()
        {
            // The mobile-money aggregator's callbacks: no API key, the aggregator's own signature (checked by the Api).
            RouteId = "payment-callbacks",
            ClusterId = "api",
            Order = 1,
            Match = new() { Path = MobileMoneyCallbacks.Path, Methods = ["POST"] },
            Metadata = new Dictionary<string, string> { [GatewayAuthenticationMiddleware.AnonymousMetadata] = "true" },
        },
        new()
        {
            // Providers' delivery reports (Kannel's dlr-url, aggregators' callbacks): no API key, the provider's
            // callback token (checked by the Api).
            RouteId = "provider-callbacks",
            ClusterId = "api",
            Order = 1,
            Match = new() { Path = ProviderCallbacks.PathPrefix + "{id}/dlr", Methods = ["GET", "POST"] },
            Metadata = new Dictionary<string, string> { [GatewayAuthenticationMiddleware.AnonymousMetadata] = "true" },
        },
        new()
        {
            RouteId = "openapi",
            ClusterId = "api",
            Match = new() { Path = "/openapi/v1.json", Methods = ["GET"] },
            Metadata = new Dictionary<string, string> { [GatewayAuthenticationMiddleware.AnonymousMetadata] = "true" },
        },
    ];

    private static ClusterConfig Cluster(Uri apiUri, TimeSpan timeout) => new()
    {
        ClusterId = "api",
        Destinations = new Dictionary<string, DestinationConfig> { ["api"] = new() { Address = apiUri.ToString() } },
        HttpRequest = new ForwarderRequestConfig { ActivityTimeout = timeout },
    };
}

/// <summary>The gateway is useless without the Api: it is healthy only while the Api is alive.</summary>
public sealed class ApiHealthCheck(IHttpClientFactory clients) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            using var response = await clients.CreateClient(KeyUsageRecorder.ClientName).GetAsync("/alive", timeout.Token);
            return response.IsSuccessStatusCode
                ? HealthCheckResult.Healthy()
                : new HealthCheckResult(context.Registration.FailureStatus, $"The Api answers /alive with {(int)response.StatusCode}.");
        }
        catch (Exception error) when (error is HttpRequestException or OperationCanceledException or Polly.ExecutionRejectedException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The Api is unreachable: " + error.Message);
        }
    }
}
