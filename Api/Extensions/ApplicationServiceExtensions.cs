using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity;
using Npgsql;
using Ujumbe.Api.Auth;
using Ujumbe.Api.Compat;
using Ujumbe.Api.Compat.Classic;
using Ujumbe.Api.Compat.Mifumo;
using Ujumbe.Api.Compat.SmsPop;
using Ujumbe.Api.Compat.Wasambazie;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.ApiKeys;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Contacts;
using Ujumbe.Api.Content;
using Ujumbe.Api.Messages;
using Ujumbe.Api.Phones;
using Ujumbe.Api.Seeding;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Compat;
using Ujumbe.Shared.Health;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Shared.Messaging;
using Ujumbe.Shared.Payments;
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

        builder.AddPostgres("ujumbe-api", maxAutoPrepare: 64);
        // The DbContext runs on the same data source (one pool); the integration adds its telemetry. Its own
        // retrying execution strategy stays off: the Api begins transactions itself, which that strategy refuses.
        // The options are built once (they depend on nothing of a request): built per scope, EF Core rebuilt them
        // and looked up its internal service provider by them on every request, 14-20 % of the Api's CPU for a
        // GET /v1/balance (docs/benchmarks.md, 2026-12-03). The context itself stays scoped (it holds the caller).
        services.AddDbContext<UjumbeDb>((provider, options) => options.UseNpgsql(provider.GetRequiredService<NpgsqlDataSource>()),
            optionsLifetime: ServiceLifetime.Singleton);
        builder.EnrichNpgsqlDbContext<UjumbeDb>(settings =>
        {
            settings.DisableRetry = true;
            settings.DisableHealthChecks = true; // the data source's "postgres" check probes the same database
        });
        services.AddScoped<Caller>();
        services.AddSingleton<MigrationRunner>();
        services.AddScoped<ApiKeyService>();
        services.AddScoped<AccountService>();
        services.AddScoped<DemoSeeder>();
        services.AddSingleton<AccountSettingsCache>();

        // The Api only tells gateways about credential changes through Redis; without it they catch up
        // when their caches expire, so the Api keeps serving: degraded, not down.
        builder.AddRedis(HealthStatus.Degraded);
        services.AddOptions<RedisNamingOptions>().Bind(configuration.GetSection(RedisNamingOptions.Section));
        services.AddHttpContextAccessor(); // CredentialChanges names each change on the response that made it
        services.AddSingleton<CredentialChanges>();

        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section));
        services.AddSingleton<WebhookSecrets>();

        builder.AddMessaging("ujumbe-api");
        // The message lifecycle (Shared/Lifecycle, decision 0032): every change of messages and batches, in the
        // Api and the Worker alike, goes through it.
        services.AddSingleton<MessageLifecycle>();

        services.AddOptions<SendPipelineOptions>().Bind(configuration.GetSection(SendPipelineOptions.Section));
        services.AddSingleton<SendWriter>();
        services.AddSingleton<SendPipeline>();
        services.AddSingleton<MessageSender>();
        services.AddSingleton<ContactImporter>();
        services.AddSingleton<ContentPolicyProvider>();
        services.AddHostedService(provider => provider.GetRequiredService<SendPipeline>());
        services.AddHostedService<PhoneNumbersWarmUp>();

        services.AddOptions<PaymentOptions>().Bind(configuration.GetSection(PaymentOptions.Section));
        services.AddMobileMoneySimulator(configuration);

        services.AddOptions<GatewaySigningOptions>().Bind(configuration.GetSection(GatewaySigningOptions.Section));
        services.AddOptions<RateLimitDefaults>().Bind(configuration.GetSection(RateLimitDefaults.Section));
        services.AddSingleton<GatewaySignature>();
        services.AddOptions<PortalTokenOptions>().Bind(configuration.GetSection(PortalTokenOptions.Section));
        services.AddSingleton<PortalTokens>();
        services.AddOptions<PortalSignInOptions>().Bind(configuration.GetSection(PortalSignInOptions.Section));
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();
        services.AddScoped<SignIn>();
        services.AddScoped<Invitations>();
        services.AddAuthentication(GatewayAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, GatewayAuthenticationHandler>(
                GatewayAuthenticationHandler.SchemeName, null);
        CallerPolicies.Add(services.AddAuthorizationBuilder());

        services.AddUjumbeOpenApi(configuration);
        services.AddDialectErrors();
        services.AddDialectOpenApi(WasambazieApi.Document);
        services.AddDialectOpenApi(MifumoApi.Document);
        services.AddDialectOpenApi(SmsPopApi.Document);
        services.AddDialectOpenApi(ClassicApi.Document);
        services.AddOptions<CompatOptions>().Bind(configuration.GetSection(CompatOptions.Section));
        services.AddSingleton<ProviderAnswerSignals>();
        services.AddSingleton<ProviderAnswers>();
        services.AddHostedService<ProviderAnswerListener>();
        return builder;
    }

    /// <summary>Brings the schema up to date before the Api serves anything, then seeds local demo data if asked.</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        var runner = app.Services.GetRequiredService<MigrationRunner>();
        IReadOnlyList<int> applied;
        try
        {
            applied = await runner.ApplyAsync(MigrationRunner.Embedded, app.Lifetime.ApplicationStopping);
        }
        catch (NpgsqlException error) when (error is not PostgresException || ((PostgresException)error).SqlState.StartsWith("28", StringComparison.Ordinal))
        {
            // Unreachable, or refusing our credentials: rather than a half-started Api that accepts sends it
            // cannot keep, the start fails here, saying which setting names that server.
            var target = new NpgsqlConnectionStringBuilder(app.Services.GetRequiredService<NpgsqlDataSource>().ConnectionString);
            throw new InvalidOperationException(
                $"PostgreSQL at {target.Host}:{target.Port} (ConnectionStrings__postgres) cannot be used at start: {error.Message}", error);
        }
        ApiTelemetry.MigrationsApplied.Add(applied.Count);
        await DemoSeeder.RunIfConfiguredAsync(app.Services, app.Lifetime.ApplicationStopping);
        // Fail at start, not on the first request, if a signing key is missing or too short.
        app.Services.GetRequiredService<GatewaySignature>();
        app.Services.GetRequiredService<PortalTokens>();
        app.Services.GetRequiredService<WebhookSecrets>();
    }
}
