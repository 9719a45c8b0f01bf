using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.ApiKeys;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Seeding;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Health;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Extensions;

public static class ApplicationServiceExtensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        var dataSource = new NpgsqlDataSourceBuilder(configuration.GetRequiredConnectionString("postgres"))
        {
            Name = "ujumbe-api",
        }.Build();
        services.AddSingleton(dataSource);
        services.AddDbContext<UjumbeDb>(options => options.UseNpgsql(dataSource));
        services.AddScoped<Caller>();
        services.AddSingleton<MigrationRunner>();
        services.AddScoped<ApiKeyService>();
        services.AddScoped<AccountService>();
        services.AddScoped<DemoSeeder>();

        services.AddOptions<GatewaySigningOptions>().Bind(configuration.GetSection(GatewaySigningOptions.Section));
        services.AddOptions<RateLimitDefaults>().Bind(configuration.GetSection(RateLimitDefaults.Section));
        services.AddSingleton<GatewaySignature>();
        services.AddAuthentication(GatewayAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, GatewayAuthenticationHandler>(
                GatewayAuthenticationHandler.SchemeName, null);
        CallerPolicies.Add(services.AddAuthorizationBuilder());

        services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres");
        services.AddOpenApi();
        return builder;
    }

    /// <summary>Brings the schema up to date before the Api serves anything, then seeds local demo data if asked.</summary>
    public static async Task PrepareDatabaseAsync(this WebApplication app)
    {
        var runner = app.Services.GetRequiredService<MigrationRunner>();
        var applied = await runner.ApplyAsync(MigrationRunner.Embedded, app.Lifetime.ApplicationStopping);
        ApiTelemetry.MigrationsApplied.Add(applied.Count);
        await DemoSeeder.RunIfConfiguredAsync(app.Services, app.Lifetime.ApplicationStopping);
        // Fail at start, not on the first request, if the signing key is missing or too short.
        app.Services.GetRequiredService<GatewaySignature>();
    }
}
