using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ujumbe.AppHost.Extensions;

public static class ServerExtensions
{
    /// <summary>
    /// PostgreSQL (database <c>ujumbe</c>), Redis and RabbitMQ, named as the services' connection strings
    /// (<c>ConnectionStrings__postgres</c>, <c>__redis</c>, <c>__rabbitmq</c>).
    /// </summary>
    public static Servers AddServers(this IDistributedApplicationBuilder builder, AppHostSettings settings) =>
        settings.Servers == ServerMode.Containers ? builder.AddContainerServers(settings) : builder.AddExecutableServers(settings);

    private static Servers AddContainerServers(this IDistributedApplicationBuilder builder, AppHostSettings settings)
    {
        var publishing = builder.ExecutionContext.IsPublishMode;
        // Running locally the passwords are stored with the other local secrets; published, each server
        // resource generates its own password parameter for the deployment.
        var secrets = publishing ? null : new LocalSecrets(settings.DataDirectory);
        IResourceBuilder<ParameterResource>? Password(string name) =>
            secrets is null ? null : builder.AddParameter(name, secrets.Default(name, LocalSecrets.NewPassword), secret: true);

        var postgres = builder.AddPostgres("postgres-server", password: Password("postgres-password"))
            .AddDatabase("postgres", databaseName: "ujumbe");
        var redis = builder.AddRedis("redis", password: Password("redis-password"));
        // Never guest (it only logs in from loopback, and is the first name anyone tries): the project's user,
        // and published, a user and password the deployment supplies as secrets (azd asks for them).
        var rabbitUser = publishing
            ? builder.AddParameter("rabbitmq-user", secret: true)
            : builder.AddParameter("rabbitmq-user", RabbitMqServerResource.UserName);
        var rabbitPassword = publishing ? builder.AddParameter("rabbitmq-password", secret: true) : Password("rabbitmq-password");
        var rabbitMq = builder.AddRabbitMQ("rabbitmq", userName: rabbitUser, password: rabbitPassword);
        if (publishing)
        {
            // Its queues are the only copy of work in flight: they outlive a restart of the container app.
            rabbitMq.WithDataVolume("rabbitmq-data");
        }
        return new Servers(Widen(postgres), Widen(redis), Widen(rabbitMq));
    }

    private static IResourceBuilder<IResourceWithConnectionString> Widen<T>(IResourceBuilder<T> resource)
        where T : IResourceWithConnectionString => (IResourceBuilder<IResourceWithConnectionString>)resource;

    private static Servers AddExecutableServers(this IDistributedApplicationBuilder builder, AppHostSettings settings)
    {
        var secrets = new LocalSecrets(settings.DataDirectory);
        Directory.CreateDirectory(settings.DataDirectory);
        var postgres = builder.AddPostgresExecutable(settings, secrets);
        var redis = builder.AddRedisExecutable(settings, secrets);
        var rabbitMq = builder.AddRabbitMqExecutable(settings, secrets);
        return new Servers(Widen(postgres), Widen(redis), Widen(rabbitMq));
    }

    /// <summary>
    /// A server executable on its fixed 127.0.0.1 port (not proxied: the port is the server's own), healthy
    /// when <paramref name="check"/> signs in; local runs only, never in the manifest.
    /// </summary>
    private static IResourceBuilder<T> AddServer<T>(this IDistributedApplicationBuilder builder, T resource, int port, IHealthCheck check, string icon)
        where T : ExecutableResource
    {
        var healthKey = resource.Name + "_ready";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthKey, _ => check, failureStatus: null, tags: null));
        return builder.AddResource(resource)
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", isProxied: false)
            .WithHealthCheck(healthKey)
            .WithIconName(icon)
            .ExcludeFromManifest();
    }

    // ------------------------------------------------------------------ PostgreSQL
    private static IResourceBuilder<PostgresServerResource> AddPostgresExecutable(
        this IDistributedApplicationBuilder builder, AppHostSettings settings, LocalSecrets secrets)
    {
        var password = builder.AddParameter("postgres-password", secrets.Default("postgres-password", LocalSecrets.NewPassword), secret: true);
        var bin = DebianPackages.PostgresBin();
        var folder = PostgresFolder(settings.DataDirectory);
        var data = Path.Combine(folder, "data");
        // PostgreSQL refuses to run as root: as root it runs as the 'postgres' user the package created.
        var asPostgres = Environment.UserName == "root" ? new[] { "-u", "postgres", "--" } : [];
        var command = asPostgres.Length > 0 ? "runuser" : Path.Combine(bin, "postgres");
        string[] serverArgs =
        [
            .. asPostgres.Length > 0 ? [.. asPostgres, Path.Combine(bin, "postgres")] : Array.Empty<string>(),
            "-D", data, "-p", settings.PostgresPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=400",
        ];
        var resource = new PostgresServerResource("postgres", command, folder, password.Resource);
        string? connectionString = null;
        var postgres = builder.AddServer(resource, settings.PostgresPort, new ServerHealthChecks.Postgres(() => connectionString), "Database")
            .WithArgs(serverArgs);
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(resource, async (_, cancellationToken) =>
        {
            var secret = await password.Resource.GetValueAsync(cancellationToken) ?? "";
            // The health check asks the database the services use, so 'healthy' means they can connect.
            connectionString = $"Host=127.0.0.1;Port={settings.PostgresPort};Username=postgres;Password={secret};Database=ujumbe;Timeout=3;Pooling=false";
            Ports.EnsureFree(settings.PostgresPort, "UJUMBE_PG_PORT");
            await InitializePostgresAsync(bin, folder, data, asPostgres, secret, cancellationToken);
        });
        return postgres;
    }

    /// <summary>
    /// The data folder. As root the server runs as 'postgres', which must be able to reach it; from a
    /// checkout it cannot traverse (under /root, say) the data goes to /var/tmp instead.
    /// </summary>
    private static string PostgresFolder(string dataDirectory)
    {
        var folder = Path.Combine(dataDirectory, "postgres");
        if (Environment.UserName != "root" || Run.Succeeds("runuser", ["-u", "postgres", "--", "test", "-x", dataDirectory]))
        {
            return folder;
        }
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(dataDirectory)))[..12];
        return $"/var/tmp/ujumbe-{hash}-postgres";
    }

    /// <summary>First run only: initdb and <c>create database ujumbe</c>, into a side folder renamed when both worked.</summary>
    private static async Task InitializePostgresAsync(
        string bin, string folder, string data, string[] asPostgres, string password, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var owner = asPostgres.Length > 0;
        if (owner)
        {
            await Run.CheckedAsync("chown", ["postgres:postgres", folder], cancellationToken);
        }
        if (File.Exists(Path.Combine(data, "PG_VERSION")))
        {
            return;
        }
        var initializing = data + ".init";
        var passwordFile = Path.Combine(folder, "pwfile");
        if (Directory.Exists(initializing))
        {
            Directory.Delete(initializing, recursive: true);
        }
        await Files.WritePrivateAsync(passwordFile, password, cancellationToken);
        try
        {
            if (owner)
            {
                await Run.CheckedAsync("chown", ["postgres:postgres", passwordFile], cancellationToken);
            }
            (string Command, string[] Args) Postgres(string program, params string[] args) =>
                owner ? ("runuser", [.. asPostgres, Path.Combine(bin, program), .. args]) : (Path.Combine(bin, program), args);
            var initdb = Postgres("initdb", "-D", initializing, "-U", "postgres", "--auth-host=scram-sha-256", "--auth-local=peer",
                $"--pwfile={passwordFile}", "-E", "UTF8", "--locale=C.UTF-8");
            await Run.CheckedAsync(initdb.Command, initdb.Args, cancellationToken);
            // Single-user mode creates the database before the server ever listens: no window without it.
            var single = Postgres("postgres", "--single", "-D", initializing, "postgres");
            await Run.CheckedAsync(single.Command, single.Args, cancellationToken, standardInput: "CREATE DATABASE ujumbe;\n");
            Directory.Move(initializing, data);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    // ------------------------------------------------------------------ Redis
    private static IResourceBuilder<RedisServerResource> AddRedisExecutable(
        this IDistributedApplicationBuilder builder, AppHostSettings settings, LocalSecrets secrets)
    {
        var password = builder.AddParameter("redis-password", secrets.Default("redis-password", LocalSecrets.NewPassword), secret: true);
        var folder = Path.Combine(settings.DataDirectory, "redis");
        var config = Path.Combine(folder, "redis.conf");
        var resource = new RedisServerResource("redis", "redis-server", folder, password.Resource);
        string? redisPassword = null;
        var redis = builder.AddServer(resource, settings.RedisPort, new ServerHealthChecks.Redis(settings.RedisPort, () => redisPassword), "Memory")
            .WithArgs(config);
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(resource, async (_, cancellationToken) =>
        {
            var secret = await password.Resource.GetValueAsync(cancellationToken) ?? "";
            redisPassword = secret;
            Ports.EnsureFree(settings.RedisPort, "UJUMBE_REDIS_PORT");
            Directory.CreateDirectory(folder);
            // The password goes in a file of mode 600, not on a command line every process can read.
            // Rate-limit counters and caches only: nothing worth persisting.
            await Files.WritePrivateAsync(config, $"""
                port {settings.RedisPort}
                bind 127.0.0.1
                requirepass {secret}
                save ""
                appendonly no
                daemonize no
                dir {folder}
                """, cancellationToken);
        });
        return redis;
    }

    // ------------------------------------------------------------------ RabbitMQ
    private static IResourceBuilder<RabbitMqServerResource> AddRabbitMqExecutable(
        this IDistributedApplicationBuilder builder, AppHostSettings settings, LocalSecrets secrets)
    {
        var password = builder.AddParameter("rabbitmq-password", secrets.Default("rabbitmq-password", LocalSecrets.NewPassword), secret: true);
        var folder = Path.Combine(settings.DataDirectory, "rabbitmq");
        var epmdPort = settings.EpmdPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Our own epmd, on our own port, as a resource of its own: started by the broker it would be a
        // daemon that outlives the AppHost and that a second stack could stop.
        var epmdReady = "rabbitmq-epmd_ready";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(epmdReady, _ => new ServerHealthChecks.Listening(settings.EpmdPort), failureStatus: null, tags: null));
        var epmd = builder.AddExecutable("rabbitmq-epmd", "epmd", folder, "-port", epmdPort, "-address", "127.0.0.1")
            .WithEnvironment("ERL_EPMD_PORT", epmdPort)
            .WithHealthCheck(epmdReady) // the broker waits until it listens, not only until it runs
            .WithIconName("PlugConnected")
            .ExcludeFromManifest();
        var nodeName = NodeName(settings.RabbitMqPort);
        // The broker restarts an epmd it finds gone (its epmd monitor), so when ours stops first at shutdown
        // a daemon epmd of the broker's own is left holding the port: stop those, before and after a run.
        builder.Services.AddHostedService(provider => new StrayEpmdReaper(
            provider.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>(), settings.EpmdPort, nodeName));
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(epmd.Resource, (_, _) =>
        {
            StrayEpmdReaper.Reap(settings.EpmdPort, nodeName);
            Ports.EnsureFree(settings.EpmdPort, "UJUMBE_EPMD_PORT");
            Directory.CreateDirectory(folder);
            return Task.CompletedTask;
        });

        var resource = new RabbitMqServerResource("rabbitmq", DebianPackages.RabbitMqServer, folder, password.Resource);
        string? uri = null;
        var rabbitMq = builder.AddServer(resource, settings.RabbitMqPort, new ServerHealthChecks.RabbitMq(() => uri), "Mail")
            .WithEnvironment("HOME", Path.Combine(folder, "home")) // its Erlang cookie lives here
            .WithEnvironment("RABBITMQ_NODENAME", nodeName)
            .WithEnvironment("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .WithEnvironment("RABBITMQ_NODE_PORT", settings.RabbitMqPort.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("RABBITMQ_DIST_PORT", settings.RabbitMqDistributionPort.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .WithEnvironment("ERL_EPMD_PORT", epmdPort)
            .WithEnvironment("ERL_EPMD_ADDRESS", "127.0.0.1")
            .WithEnvironment("RABBITMQ_MNESIA_BASE", Path.Combine(folder, "mnesia"))
            .WithEnvironment("RABBITMQ_LOG_BASE", Path.Combine(folder, "log"))
            .WithEnvironment("RABBITMQ_CONFIG_FILE", Path.Combine(folder, "rabbitmq"))
            .WithEnvironment("RABBITMQ_ENABLED_PLUGINS_FILE", Path.Combine(folder, "enabled_plugins"))
            .WithEnvironment("RABBITMQ_CONF_ENV_FILE", Path.Combine(folder, "rabbitmq-env.conf"))
            .WithEnvironment("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}")
            .WaitFor(epmd);
        builder.Eventing.Subscribe<BeforeResourceStartedEvent>(resource, async (_, cancellationToken) =>
        {
            var secret = await password.Resource.GetValueAsync(cancellationToken) ?? "";
            uri = $"amqp://{RabbitMqServerResource.UserName}:{secret}@127.0.0.1:{settings.RabbitMqPort}/";
            Ports.EnsureFree(settings.RabbitMqPort, "UJUMBE_RABBITMQ_PORT");
            Ports.EnsureFree(settings.RabbitMqDistributionPort, "UJUMBE_RABBITMQ_DIST_PORT");
            Directory.CreateDirectory(Path.Combine(folder, "home"));
            Directory.CreateDirectory(Path.Combine(folder, "mnesia"));
            Directory.CreateDirectory(Path.Combine(folder, "log"));
            await File.WriteAllTextAsync(Path.Combine(folder, "rabbitmq-env.conf"), "", cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(folder, "enabled_plugins"), "[].\n", cancellationToken);
            // default_user creates the project's user on the first boot (and guest is never created).
            await Files.WritePrivateAsync(Path.Combine(folder, "rabbitmq.conf"), $"""
                listeners.tcp.1 = 127.0.0.1:{settings.RabbitMqPort}
                default_user = {RabbitMqServerResource.UserName}
                default_pass = {secret}
                default_user_tags.administrator = true
                default_permissions.configure = .*
                default_permissions.read = .*
                default_permissions.write = .*
                """, cancellationToken);
        });
        return rabbitMq;
    }

    /// <summary>One node name per broker port, so brokers of two stacks never take each other for one node.</summary>
    private static string NodeName(int port) => "ujumbe-" + port.ToString(System.Globalization.CultureInfo.InvariantCulture) + "@localhost";
}
