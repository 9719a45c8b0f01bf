using System.Diagnostics;
using System.Globalization;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>
/// A throwaway RabbitMQ node of a test's own (the Debian package's rabbitmq-server, with its own node
/// name, ports, private epmd and data folder), for tests that stop and restart the broker without
/// disturbing the shared stack's. Its data survives a restart, as a real broker's does. Stopped through
/// rabbitmqctl with its own node name, and its epmd by its own port; never by process name.
/// </summary>
public sealed class TemporaryRabbitMq : IAsyncDisposable
{
    private const string Bin = "/usr/lib/rabbitmq/bin";
    private readonly string _directory;
    private readonly int _distributionPort;
    private readonly int _epmdPort;
    private Process? _server;

    private TemporaryRabbitMq(string directory, int port, int distributionPort, int epmdPort)
    {
        _directory = directory;
        Port = port;
        _distributionPort = distributionPort;
        _epmdPort = epmdPort;
        Node = $"ujumbe-test-{port}@localhost";
    }

    public int Port { get; }

    public string Node { get; }

    /// <summary>guest may log in from loopback, which is all a test needs.</summary>
    public string ConnectionString => $"amqp://guest:guest@127.0.0.1:{Port}/";

    public static async Task<TemporaryRabbitMq> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ujumbe-rabbitmq-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(Path.Combine(directory, "home"));
        Directory.CreateDirectory(Path.Combine(directory, "mnesia"));
        Directory.CreateDirectory(Path.Combine(directory, "log"));
        var broker = new TemporaryRabbitMq(directory, TestStack.FreeLoopbackPort(), TestStack.FreeLoopbackPort(), TestStack.FreeLoopbackPort());
        await File.WriteAllTextAsync(Path.Combine(directory, "rabbitmq.conf"),
            $"listeners.tcp.1 = 127.0.0.1:{broker.Port}\nloopback_users = none\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "enabled_plugins"), "[].\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "rabbitmq-env.conf"), "");
        try
        {
            await broker.StartServerAsync();
        }
        catch
        {
            await broker.DisposeAsync(); // nothing of a node that did not start is left running
            throw;
        }
        return broker;
    }

    /// <summary>Starts the node (again, with the same data) and waits until it accepts connections.</summary>
    public async Task StartServerAsync()
    {
        var start = new ProcessStartInfo($"{Bin}/rabbitmq-server")
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Environment(start);
        _server = Process.Start(start)!;
        // Drain its console so it never blocks on a full pipe.
        _ = _server.StandardOutput.ReadToEndAsync();
        _ = _server.StandardError.ReadToEndAsync();
        // The node registers with epmd a moment after the launch; until then await_startup fails at once.
        // Generous: on a loaded machine the node and each rabbitmqctl (an Erlang VM of its own) start slowly.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(180);
        while (true)
        {
            try
            {
                await ControlAsync(TimeSpan.FromSeconds(60), "await_startup", "--timeout", "55");
                return;
            }
            catch (InvalidOperationException) when (DateTime.UtcNow < deadline && !_server.HasExited)
            {
                await Task.Delay(500);
            }
        }
    }

    /// <summary>Stops the node (every connection is closed; queues and persistent messages are kept) and waits until it is gone.</summary>
    public async Task StopServerAsync()
    {
        await ControlAsync(TimeSpan.FromSeconds(60), "stop");
        if (_server is { } server)
        {
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await server.WaitForExitAsync(wait.Token);
            server.Dispose();
            _server = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_server is { HasExited: false })
            {
                await StopServerAsync();
            }
        }
        catch (Exception error) when (error is InvalidOperationException or OperationCanceledException)
        {
            _server?.Kill(entireProcessTree: true);
        }
        // The node's private epmd (its own port) outlives it.
        var kill = new ProcessStartInfo("epmd", ["-kill"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        Environment(kill);
        using (var epmd = Process.Start(kill)!)
        {
            await epmd.WaitForExitAsync();
        }
        Directory.Delete(_directory, recursive: true);
    }

    private void Environment(ProcessStartInfo start)
    {
        var env = start.Environment;
        env["HOME"] = Path.Combine(_directory, "home");
        env["RABBITMQ_NODENAME"] = Node;
        env["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        env["RABBITMQ_NODE_PORT"] = Port.ToString(CultureInfo.InvariantCulture);
        env["RABBITMQ_DIST_PORT"] = _distributionPort.ToString(CultureInfo.InvariantCulture);
        env["ERL_EPMD_PORT"] = _epmdPort.ToString(CultureInfo.InvariantCulture);
        env["ERL_EPMD_ADDRESS"] = "127.0.0.1";
        env["RABBITMQ_MNESIA_BASE"] = Path.Combine(_directory, "mnesia");
        env["RABBITMQ_LOG_BASE"] = Path.Combine(_directory, "log");
        env["RABBITMQ_PID_FILE"] = Path.Combine(_directory, "rabbitmq.pid");
        env["RABBITMQ_CONFIG_FILE"] = Path.Combine(_directory, "rabbitmq");
        env["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_directory, "enabled_plugins");
        env["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(_directory, "rabbitmq-env.conf");
        env["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
    }

    private async Task ControlAsync(TimeSpan within, params string[] arguments)
    {
        var start = new ProcessStartInfo($"{Bin}/rabbitmqctl", ["-n", Node, .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Environment(start);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} did not finish within {within.TotalSeconds} s");
        }
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} failed: {await output}{await errors}");
        }
    }
}
