using Microsoft.Extensions.Configuration;

namespace Ujumbe.AppHost.Extensions;

/// <summary>How the servers run: from the Debian packages (executables) or as containers.</summary>
public enum ServerMode
{
    Executables,
    Containers,
}

/// <summary>
/// The AppHost's own settings. They use the names scripts/stack.sh and scripts/run.sh always had
/// (<c>UJUMBE_PG_PORT</c>, …), read from the environment or the command line (<c>UJUMBE_PG_PORT=47501</c>).
/// </summary>
public sealed record AppHostSettings(
    ServerMode Servers,
    string DataDirectory,
    int PostgresPort,
    int RedisPort,
    int RabbitMqPort,
    int RabbitMqDistributionPort,
    int EpmdPort,
    int? GatewayPort,
    int? ApiPort,
    int? WorkerPort,
    int? WebPort,
    int Replicas)
{
    public static AppHostSettings From(IDistributedApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var root = Path.GetFullPath(Path.Combine(builder.AppHostDirectory, ".."));
        var pgPort = Port(configuration, "UJUMBE_PG_PORT") ?? 54329;
        var rabbitPort = Port(configuration, "UJUMBE_RABBITMQ_PORT") ?? 56729;
        return new AppHostSettings(
            Servers: ChooseServerMode(builder),
            DataDirectory: Path.GetFullPath(configuration["UJUMBE_DATA_DIR"] is { Length: > 0 } dir
                ? dir
                : Path.Combine(root, ".stack", "apphost")),
            PostgresPort: pgPort,
            RedisPort: Port(configuration, "UJUMBE_REDIS_PORT") ?? 63799,
            RabbitMqPort: rabbitPort,
            // Derived from the broker's port when not set, so two AppHosts (or an AppHost beside
            // scripts/stack.sh) with different broker ports never share an Erlang port or an epmd.
            RabbitMqDistributionPort: Port(configuration, "UJUMBE_RABBITMQ_DIST_PORT") ?? DerivedPort(rabbitPort, 25000),
            EpmdPort: Port(configuration, "UJUMBE_EPMD_PORT") ?? DerivedPort(rabbitPort, 43000),
            GatewayPort: Port(configuration, "UJUMBE_GATEWAY_PORT"),
            ApiPort: Port(configuration, "UJUMBE_API_PORT"),
            WorkerPort: Port(configuration, "UJUMBE_WORKER_PORT"),
            WebPort: Port(configuration, "UJUMBE_WEB_PORT"),
            Replicas: int.TryParse(configuration["UJUMBE_REPLICAS"], out var replicas) && replicas > 0 ? replicas : 1);
    }

    /// <summary>A port in [block, block + 1000) that follows <paramref name="port"/>: 56729 → 25729.</summary>
    private static int DerivedPort(int port, int block) => block + port % 1000;

    private static int? Port(ConfigurationManager configuration, string key)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        return int.TryParse(value, out var port) && port is > 0 and < 65536
            ? port
            : throw new InvalidOperationException($"{key} must be a TCP port (1-65535), not '{value}'.");
    }

    /// <summary>
    /// Publishing always describes containers (azd cannot deploy executables). Running uses containers when a
    /// container engine answers, else the servers from the Debian packages; <c>UJUMBE_SERVERS</c> forces either.
    /// </summary>
    private static ServerMode ChooseServerMode(IDistributedApplicationBuilder builder)
    {
        if (builder.ExecutionContext.IsPublishMode)
        {
            return ServerMode.Containers;
        }
        return builder.Configuration["UJUMBE_SERVERS"]?.Trim().ToLowerInvariant() switch
        {
            null or "" or "auto" => ContainerEngine.Answers(builder.Configuration["ASPIRE_CONTAINER_RUNTIME"]) ? ServerMode.Containers : ServerMode.Executables,
            "executables" => ServerMode.Executables,
            "containers" => ServerMode.Containers,
            var other => throw new InvalidOperationException($"UJUMBE_SERVERS must be auto, executables or containers, not '{other}'."),
        };
    }
}
