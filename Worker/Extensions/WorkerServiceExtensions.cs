using Npgsql;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Health;
using Ujumbe.Shared.Messaging;
using Ujumbe.Worker.Dispatch;
using Ujumbe.Worker.Providers;
using Ujumbe.Worker.Scheduling;

namespace Ujumbe.Worker.Extensions;

public static class WorkerServiceExtensions
{
    /// <summary>Dispatch, delivery reports and scheduled releases; RabbitMQ for work, PostgreSQL for state.</summary>
    public static IHostApplicationBuilder AddWorkerServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        var dataSourceBuilder = new NpgsqlDataSourceBuilder(configuration.GetRequiredConnectionString("postgres")) { Name = "ujumbe-worker" };
        if (dataSourceBuilder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            dataSourceBuilder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        }
        // Visible in pg_stat_activity; and no session reset on every return to the pool (we never change session state).
        dataSourceBuilder.ConnectionStringBuilder.ApplicationName ??= "ujumbe-worker";
        dataSourceBuilder.ConnectionStringBuilder.NoResetOnClose = true;
        services.AddSingleton(dataSourceBuilder.Build());
        var rabbitConnectionString = configuration.GetRequiredConnectionString("rabbitmq");
        services.AddSingleton(provider => new RabbitMqConnection(
            rabbitConnectionString, "ujumbe-worker", provider.GetRequiredService<ILogger<RabbitMqConnection>>()));
        services.AddSingleton<ConfirmingPublisher>();
        services.AddSingleton<TopologyInitializer>();
        services.AddHostedService(provider => provider.GetRequiredService<TopologyInitializer>());
        services.AddSingleton<OutboxRelay>();
        services.AddHostedService(provider => provider.GetRequiredService<OutboxRelay>());

        services.AddOptions<SimulatorOptions>().Bind(configuration.GetSection(SimulatorOptions.Section));
        services.AddSingleton<SimulatorProvider>();
        services.AddSingleton<ISmsProvider>(provider => provider.GetRequiredService<SimulatorProvider>());
        services.AddSingleton<MessageTransitions>();
        services.AddOptions<DispatchOptions>().Bind(configuration.GetSection(DispatchOptions.Section));
        services.AddHostedService<DispatchConsumer>();
        services.AddHostedService<DeliveryReportConsumer>();
        services.AddHostedService<ScheduledReleaser>();
        services.AddHostedService<CreditPoster>();

        services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres")
            .AddCheck<RabbitMqHealthCheck>("rabbitmq");
        return builder;
    }
}
