using System.Diagnostics;
using System.Net.Http.Json;
using Npgsql;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>Connection settings of the local stack's real servers (scripts/stack.sh).</summary>
public sealed record StackSettings(string Postgres, string Redis, string RabbitMq, Uri RabbitMqManagement);

/// <summary>
/// The one stack of real servers every test uses. scripts/test.sh starts it and exports its
/// settings; a test run started some other way (an IDE) starts it here and leaves it running.
/// </summary>
public static class TestStack
{
    private static readonly Lazy<StackSettings> Loaded = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    public static StackSettings Settings => Loaded.Value;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static StackSettings Load()
    {
        var values = new Dictionary<string, string>();
        foreach (var name in new[] { "ConnectionStrings__postgres", "ConnectionStrings__redis", "ConnectionStrings__rabbitmq", "UJUMBE_RABBITMQ_MANAGEMENT" })
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                values[name] = value;
            }
        }
        if (values.Count < 4)
        {
            values = StartStackAndReadEnv();
        }
        // Services under test get their settings only from each test's host; a stack-wide value left
        // in the environment would silently point them all at the shared database.
        foreach (var name in new[] { "ConnectionStrings__postgres", "ConnectionStrings__redis", "ConnectionStrings__rabbitmq", "GatewaySigning__Key" })
        {
            Environment.SetEnvironmentVariable(name, null);
        }
        return new StackSettings(values["ConnectionStrings__postgres"], values["ConnectionStrings__redis"], values["ConnectionStrings__rabbitmq"],
            new Uri(values["UJUMBE_RABBITMQ_MANAGEMENT"]));
    }

    private static Dictionary<string, string> StartStackAndReadEnv()
    {
        var script = Path.Combine(RepositoryRoot, "scripts", "stack.sh");
        using var start = Process.Start(new ProcessStartInfo("bash", [script, "start"]) { RedirectStandardError = true })!;
        var errors = start.StandardError.ReadToEnd();
        start.WaitForExit();
        if (start.ExitCode != 0)
        {
            throw new InvalidOperationException("scripts/stack.sh start failed:\n" + errors);
        }
        var stackDir = Environment.GetEnvironmentVariable("UJUMBE_STACK_DIR") ?? Path.Combine(RepositoryRoot, ".stack");
        var values = new Dictionary<string, string>();
        foreach (var line in File.ReadAllLines(Path.Combine(stackDir, "env")))
        {
            // export Name='value'
            var text = line.StartsWith("export ", StringComparison.Ordinal) ? line[7..] : line;
            var equals = text.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                values[text[..equals]] = text[(equals + 1)..].Trim('\'');
            }
        }
        return values;
    }

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Aspire.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("Cannot find the repository root (Aspire.sln) above " + AppContext.BaseDirectory);
    }

    /// <summary>A fresh, empty database on the stack's PostgreSQL; dropped on dispose.</summary>
    public static async Task<TestDatabase> CreateDatabaseAsync()
    {
        var name = "test_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = new NpgsqlConnection(AdminConnectionString()))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"create database {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        var connectionString = new NpgsqlConnectionStringBuilder(Settings.Postgres) { Database = name }.ConnectionString;
        return new TestDatabase(name, connectionString);
    }

    /// <summary>Applies the Api's migrations to a database, for tests that run a Worker without an Api.</summary>
    public static async Task MigrateAsync(string connectionString)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await new Ujumbe.Api.Data.MigrationRunner(dataSource, Microsoft.Extensions.Logging.Abstractions.NullLogger<Ujumbe.Api.Data.MigrationRunner>.Instance)
            .ApplyAsync(Ujumbe.Api.Data.MigrationRunner.Embedded, CancellationToken.None);
    }

    /// <summary>A Worker's settings without an Api beside it: its database and broker, a fresh webhook key, loopback receivers, fast polling.</summary>
    public static Dictionary<string, string?> StandaloneWorkerSettings(string postgres, string rabbitmq) => new()
    {
        ["ConnectionStrings:postgres"] = postgres,
        ["ConnectionStrings:rabbitmq"] = rabbitmq,
        ["Webhooks:SecretKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
        ["Webhooks:AllowPrivateNetworks"] = "true",
        ["Webhooks:Delivery:PollInterval"] = "00:00:00.050",
    };

    /// <summary>A loopback port nothing listens on right now, for a server a test starts itself.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A fresh RabbitMQ virtual host on the stack's broker (through its management API), so each
    /// test's Api and Worker have queues of their own; deleted on dispose.
    /// </summary>
    public static async Task<TestVirtualHost> CreateVirtualHostAsync()
    {
        var name = "test-" + Guid.NewGuid().ToString("N")[..12];
        var amqp = new Uri(Settings.RabbitMq);
        var user = Uri.UnescapeDataString(amqp.UserInfo.Split(':')[0]);
        var password = Uri.UnescapeDataString(amqp.UserInfo.Split(':')[1]);
        var management = new HttpClient { BaseAddress = Settings.RabbitMqManagement };
        management.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}")));
        (await management.PutAsync($"/api/vhosts/{name}", null)).EnsureSuccessStatusCode();
        (await management.PutAsync($"/api/permissions/{name}/{Uri.EscapeDataString(user)}",
            System.Net.Http.Json.JsonContent.Create(new { configure = ".*", write = ".*", read = ".*" }))).EnsureSuccessStatusCode();
        var connectionString = new UriBuilder(amqp) { Path = "/" + name }.Uri.ToString();
        return new TestVirtualHost(name, connectionString, management);
    }

    internal static string AdminConnectionString() =>
        new NpgsqlConnectionStringBuilder(Settings.Postgres) { Database = "postgres", Pooling = false }.ConnectionString;
}

public sealed class TestDatabase(string name, string connectionString) : IAsyncDisposable
{
    public string Name { get; } = name;
    public string ConnectionString { get; } = connectionString;

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    public async Task<T?> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        var value = await command.ExecuteScalarAsync();
        return value is null or DBNull ? default : (T)value;
    }

    public async Task<int> ExecuteAsync(string sql, params object[] parameters)
    {
        await using var connection = await OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }
        return await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(TestStack.AdminConnectionString());
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"drop database if exists {Name} with (force)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}

public sealed class TestVirtualHost(string name, string connectionString, HttpClient management) : IAsyncDisposable
{
    public string Name { get; } = name;
    public string ConnectionString { get; } = connectionString;

    public async ValueTask DisposeAsync()
    {
        await management.DeleteAsync($"/api/vhosts/{Name}");
        management.Dispose();
    }
}
