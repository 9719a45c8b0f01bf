using Npgsql;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Health;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Worker.Extensions;

public static class WorkerServiceExtensions
{
    /// <summary>The Worker's dependencies: RabbitMQ for work, PostgreSQL for state.</summary>
    public static IHostApplicationBuilder AddWorkerServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        services.AddSingleton(new NpgsqlDataSourceBuilder(configuration.GetRequiredConnectionString("postgres"))
        {
            Name = "ujumbe-worker",
        }.Build());
        var rabbitConnectionString = configuration.GetRequiredConnectionString("rabbitmq");
        services.AddSingleton(provider => new RabbitMqConnection(
            rabbitConnectionString, "ujumbe-worker", provider.GetRequiredService<ILogger<RabbitMqConnection>>()));

        services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>("postgres")
            .AddCheck<RabbitMqHealthCheck>("rabbitmq");
        return builder;
    }
}
