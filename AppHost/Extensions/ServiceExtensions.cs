using Microsoft.Extensions.DependencyInjection;

namespace Ujumbe.AppHost.Extensions;

public static class ServiceExtensions
{
    /// <summary>
    /// The four services and who talks to whom. The gateway and the web dashboard are the only external
    /// endpoints; the api and the worker are reachable only inside the app.
    /// </summary>
    public static void AddUjumbeServices(this IDistributedApplicationBuilder builder, Servers servers, AppHostSettings settings)
    {
        var local = !builder.ExecutionContext.IsPublishMode;
        // Keys, never in source: generated and kept with the local data when running; parameters the
        // deployment must supply (azd asks for them) when publishing.
        var secrets = local ? new LocalSecrets(settings.DataDirectory) : null;
        IResourceBuilder<ParameterResource> Key(string name) => secrets is null
            ? builder.AddParameter(name, secret: true)
            : builder.AddParameter(name, secrets.Default(name, LocalSecrets.NewKey), secret: true);
        var gatewaySigningKey = Key("gateway-signing-key");
        var portalTokenKey = Key("portal-token-signing-key");
        var webhookSecretKey = Key("webhook-secret-key");
        // The mobile-money simulator signs its callbacks with it (its own scheme, decision 0025).
        var mobileMoneyCallbackSecret = Key("mobile-money-callback-secret");

        var api = builder.AddProject<Projects.Api>("api")
            .WithPort(settings.ApiPort)
            .Uses(servers.Postgres).Uses(servers.Redis).Uses(servers.RabbitMq)
            .WithEnvironment("GatewaySigning__Key", gatewaySigningKey)
            .WithEnvironment("PortalTokens__SigningKey", portalTokenKey)
            .WithEnvironment("Webhooks__SecretKey", webhookSecretKey)
            .WithEnvironment("MobileMoneySimulator__CallbackSecret", mobileMoneyCallbackSecret)
            .WithReplicas(settings.Replicas)
            .WithHttpHealthCheck("/health");

        var worker = builder.AddProject<Projects.Worker>("worker")
            .WithPort(settings.WorkerPort)
            .Uses(servers.Postgres).Uses(servers.RabbitMq)
            .WithEnvironment("Webhooks__SecretKey", webhookSecretKey)
            .WaitFor(api) // the Api owns the schema: it migrates before the Worker reads it
            .WithReplicas(settings.Replicas)
            .WithHttpHealthCheck("/health");

        var gateway = builder.AddProject<Projects.Gateway>("gateway")
            .WithPort(settings.GatewayPort)
            .Uses(servers.Redis)
            .WithReference(api).WaitFor(api)
            .WithEnvironment("GatewaySigning__Key", gatewaySigningKey)
            .WithEnvironment("PortalTokens__SigningKey", portalTokenKey)
            .WithReplicas(settings.Replicas)
            .WithExternalHttpEndpoints()
            .WithHttpHealthCheck("/health");

        builder.AddProject<Projects.Web>("web")
            .WithPort(settings.WebPort)
            .WithReference(gateway).WaitFor(gateway)
            .WithExternalHttpEndpoints()
            .WithHttpHealthCheck("/health");

        if (local)
        {
            // Demo data and its keys for scripts/run.sh to print; never in a deployment.
            api.WithEnvironment("Seed__KeysFile", Path.Combine(settings.DataDirectory, "demo-keys.json"));
            // Webhook receivers are usually on this machine too (link-local and metadata addresses stay refused).
            api.WithEnvironment("Webhooks__AllowPrivateNetworks", "true");
            worker.WithEnvironment("Webhooks__AllowPrivateNetworks", "true");
            // The simulated aggregator calls back where a real one would: the public gateway.
            api.WithEnvironment("MobileMoneySimulator__CallbackBaseUrl", gateway.GetEndpoint("http"));
            // Kannel's and aggregators' delivery reports come back the same way (decision 0030); a deployment
            // sets its public address, or each provider's callback_base_url.
            worker.WithEnvironment("Providers__CallbackBaseUrl", gateway.GetEndpoint("http"));
            builder.Services.AddHostedService<Supervisor>();
            builder.Services.AddSingleton(settings);
            builder.Services.AddHostedService<RunSummary>();
        }
    }

    private static IResourceBuilder<ProjectResource> Uses(
        this IResourceBuilder<ProjectResource> service, IResourceBuilder<IResourceWithConnectionString> server) =>
        service.WithReference(server).WaitFor(server);

    /// <summary>A fixed port for the service's http endpoint (UJUMBE_API_PORT, …); else the launch profile's.</summary>
    private static IResourceBuilder<ProjectResource> WithPort(this IResourceBuilder<ProjectResource> service, int? port) =>
        port is null ? service : service.WithEndpoint("http", endpoint => endpoint.Port = port);
}
