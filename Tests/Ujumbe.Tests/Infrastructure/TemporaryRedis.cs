using System.Diagnostics;
using System.Text;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>
/// A throwaway redis-server of a test's own (a child process on a free port, no persistence), for tests that
/// stop, restart, pause or reconfigure Redis without disturbing the shared stack. Stopped by its pid.
/// </summary>
public sealed class TemporaryRedis : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string[] _extraArguments;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private TemporaryRedis(string directory, int port, string? password, string[] extraArguments)
    {
        _directory = directory;
        Port = port;
        Password = password;
        _extraArguments = extraArguments;
    }

    public int Port { get; }

    public string? Password { get; }

    /// <summary>In the format Aspire injects: <c>127.0.0.1:port[,password=…]</c>.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}" + (Password is null ? "" : ",password=" + Password);

    public bool IsRunning => _process is { HasExited: false };

    /// <param name="password">Sets requirepass.</param>
    /// <param name="extraArguments">More redis-server options, e.g. "--maxclients", "5".</param>
    public static async Task<TemporaryRedis> StartAsync(string? password = null, params string[] extraArguments)
    {
        var directory = Path.Combine(Path.GetTempPath(), "ujumbe-redis-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var server = new TemporaryRedis(directory, TestStack.FreeLoopbackPort(), password, extraArguments);
        await server.StartServerAsync();
        return server;
    }

    /// <summary>Starts the server (again, on the same port) and waits until it accepts connections.</summary>
    public async Task StartServerAsync()
    {
        if (IsRunning)
        {
            throw new InvalidOperationException("The temporary redis-server is already running.");
        }
        List<string> arguments =
        [
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", _directory, "--logfile", "", "--daemonize", "no",
        ];
        if (Password is not null)
        {
            arguments.AddRange(["--requirepass", Password]);
        }
        arguments.AddRange(_extraArguments);
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process
        {
            StartInfo = new ProcessStartInfo("redis-server", arguments)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            },
            EnableRaisingEvents = true,
        };
        process.OutputDataReceived += (_, line) =>
        {
            if (line.Data is null)
            {
                return;
            }
            lock (_output)
            {
                _output.AppendLine(line.Data);
            }
            if (line.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.ErrorDataReceived += (_, line) =>
        {
            lock (_output)
            {
                _output.AppendLine(line.Data);
            }
        };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("redis-server exited:\n" + Output));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        await ready.Task.WaitAsync(TimeSpan.FromSeconds(15));
    }

    /// <summary>Kills the server (SIGKILL, by pid): clients see their connections reset, as in a crash.</summary>
    public async Task StopServerAsync()
    {
        if (_process is not { } process)
        {
            return;
        }
        _process = null;
        if (!process.HasExited)
        {
            process.Kill();
        }
        await process.WaitForExitAsync();
        process.Dispose();
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopServerAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
