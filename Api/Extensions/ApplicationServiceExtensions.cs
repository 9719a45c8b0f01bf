using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Npgsql;
using Ujumbe.Api.Auth;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.ApiKeys;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Contacts;
using Ujumbe.Api.Content;
using Ujumbe.Api.Messages;
using Ujumbe.Api.Seeding;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Health;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Messaging;
using Ujumbe.Shared.Redis;
using Ujumbe.Shared.Webhooks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ujumbe.Api.Extensions;

public static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        var dataSourceBuilder = new NpgsqlDataSourceBuilder(configuration.GetRequiredConnectionString("postgres")) { Name = "ujumbe-api" };
        // The send path runs the same few statements all day: let Npgsql prepare them once per connection.
        if (dataSourceBuilder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            dataSourceBuilder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        }
        // Visible in pg_stat_activity; and no session reset on every return to the pool (we never change session state).
        dataSourceBuilder.ConnectionStringBuilder.ApplicationName ??= "ujumbe-api";
        dataSourceBuilder.ConnectionStringBuilder.NoResetOnClose = true;
        var dataSource = dataSourceBuilder.Build();
        services.AddSingleton(dataSource);
        services.AddDbContext<UjumbeDb>(options => options.UseNpgsql(dataSource));
        services.AddScoped<Caller>();
        services.AddSingleton<MigrationRunner>();
        services.AddScoped<ApiKeyService>();
        services.AddScoped<AccountService>();
        services.AddScoped<DemoSeeder>();
        services.AddSingleton<AccountSettingsCache>();

        services.AddRedisClient(configuration.GetRequiredConnectionString("redis"));
        services.AddOptions<RedisNamingOptions>().Bind(configuration.GetSection(RedisNamingOptions.Section));
        services.AddHttpContextAccessor(); // CredentialChanges names each change on the response that made it
        services.AddSingleton<CredentialChanges>();

        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section));
        services.AddSingleton<WebhookSecrets>();

        var rabbitConnectionString = configuration.GetRequiredConnectionString("rabbitmq");
        services.AddSingleton(provider => new RabbitMqConnection(
            rabbitConnectionString, "ujumbe-api", provider.GetRequiredService<ILogger<RabbitMqConnection>>()));
        services.AddSingleton<ConfirmingPublisher>();
        services.AddSingleton<TopologyInitializer>();
        services.AddHostedService(provider => provider.GetRequiredService<TopologyInitializer>());
        services.AddSingleton<OutboxRelay>();
        services.AddHostedService(provider => provider.GetRequiredService<OutboxRelay>());

        services.AddOptions<SendPipelineOptions>().Bind(configuration.GetSection(SendPipelineOptions.Section));
        services.AddSingleton<SendWriter>();
        services.AddSingleton<SendPipeline>();
        services.AddSingleton<ContactImporter>();
        services.AddSingleton<ContentPolicyProvider>();
        services.AddHostedService(provider => provider.GetRequiredService<SendPipeline>());

        services.AddOptions<GatewaySigningOptions>().Bind(configuration.GetSection(GatewaySigningOptions.Section));
        services.AddOptions<RateLimitDefaults>().Bind(configuration.GetSection(RateLimitDefaults.Section));
        services.AddSingleton<GatewaySignature>();
        services.AddOptions<PortalTokenOptions>().Bind(configuration.GetSection(PortalTokenOptions.Section));
        services.AddSingleton<PortalTokens>();
        services.AddOptions<PortalSignInOptions>().Bind(configuration.GetSection(PortalSignInOptions.Section));
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.AddScoped<SignIn>();
        services.AddAuthentication(GatewayAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, GatewayAuthenticationHandler>(
                GatewayAuthenticationHandler.SchemeName, null);
        CallerPolicies.Add(services.AddAuthorizationBuilder());

        services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres")
            .AddCheck<RabbitMqHealthCheck>("rabbitmq")
            // The Api only tells gateways about credential changes through Redis; without it they catch up
            // when their caches expire, so the Api keeps serving: degraded, not down.
            .AddCheck<RedisHealthCheck>("redis", HealthStatus.Degraded);
        services.AddUjumbeOpenApi(configuration);
        return builder;
    }

    /// <summary>Brings the schema up to date before the Api serves anything, then seeds local demo data if asked.</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        var runner = app.Services.GetRequiredService<MigrationRunner>();
        var applied = await runner.ApplyAsync(MigrationRunner.Embedded, app.Lifetime.ApplicationStopping);
        ApiTelemetry.MigrationsApplied.Add(applied.Count);
        await DemoSeeder.RunIfConfiguredAsync(app.Services, app.Lifetime.ApplicationStopping);
        // Fail at start, not on the first request, if a signing key is missing or too short.
        app.Services.GetRequiredService<GatewaySignature>();
        app.Services.GetRequiredService<PortalTokens>();
        app.Services.GetRequiredService<WebhookSecrets>();
    }
}
