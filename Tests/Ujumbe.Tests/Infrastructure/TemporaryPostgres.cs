using System.Diagnostics;
using Npgsql;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL server of a test's own (initdb + pg_ctl from the Debian packages), for
/// tests that must stop a dependency without disturbing the shared stack.
/// </summary>
public sealed class TemporaryPostgres : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _bin;

    private TemporaryPostgres(string directory, string bin, int port, string password)
    {
        _directory = directory;
        _bin = bin;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = "postgres",
            Password = password,
            Database = "ujumbe",
            Timeout = 3,
        }.ConnectionString;
    }

    public string ConnectionString { get; }

    public static async Task<TemporaryPostgres> StartAsync()
    {
        var bin = Directory.GetDirectories("/usr/lib/postgresql").OrderBy(d => d.Length).ThenBy(d => d, StringComparer.Ordinal).Last() + "/bin";
        var directory = Path.Combine(Path.GetTempPath(), "ujumbe-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var password = Guid.NewGuid().ToString("N");
        await File.WriteAllTextAsync(Path.Combine(directory, "pw"), password);
        if (Environment.IsPrivilegedProcess)
        {
            await RunAsync("chown", "-R", "postgres:postgres", directory);
        }
        var server = new TemporaryPostgres(directory, bin, TestStack.FreeLoopbackPort(), password);
        await server.PostgresAsync("initdb", "-D", directory + "/data", "-U", "postgres", "--auth-host=scram-sha-256",
            "--pwfile=" + directory + "/pw", "-E", "UTF8", "--locale=C.UTF-8");
        await server.StartServerAsync();
        return server;
    }

    public Task StartServerAsync()
    {
        var port = new NpgsqlConnectionStringBuilder(ConnectionString).Port;
        return PostgresAsync("pg_ctl", "-D", _directory + "/data", "-l", _directory + "/log", "-w", "-o",
            $"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' -c fsync=off", "start");
    }

    public Task StopServerAsync() => PostgresAsync("pg_ctl", "-D", _directory + "/data", "-m", "immediate", "-w", "stop");

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await StopServerAsync();
        }
        catch (InvalidOperationException)
        {
            // already stopped
        }
        Directory.Delete(_directory, recursive: true);
    }

    private Task PostgresAsync(string tool, params string[] arguments) =>
        Environment.IsPrivilegedProcess
            ? RunAsync("runuser", ["-u", "postgres", "--", $"{_bin}/{tool}", .. arguments])
            : RunAsync($"{_bin}/{tool}", arguments);

    private static async Task RunAsync(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed: {await output}{await errors}");
        }
    }
}
