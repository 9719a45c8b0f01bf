using System.Diagnostics;
using System.Net.Sockets;

namespace Ujumbe.AppHost.Extensions;

/// <summary>Where the Debian packages put the servers (scripts/run.sh installs them when missing).</summary>
public static class DebianPackages
{
    public const string RabbitMqServer = "/usr/lib/rabbitmq/bin/rabbitmq-server";

    /// <summary>The newest installed PostgreSQL's bin folder, e.g. /usr/lib/postgresql/15/bin.</summary>
    public static string PostgresBin()
    {
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Where(dir => File.Exists(Path.Combine(dir, "bin", "initdb")))
                .OrderBy(dir => int.TryParse(Path.GetFileName(dir), out var major) ? major : 0)
                .ToList()
            : [];
        return versions.Count > 0
            ? Path.Combine(versions[^1], "bin")
            : throw new InvalidOperationException(
                "PostgreSQL is not installed: run scripts/run.sh (it installs the Debian packages), or apt-get install postgresql.");
    }
}

public static class Ports
{
    /// <summary>Refuses, naming the setting, to start a server on a port something else already listens on.</summary>
    public static void EnsureFree(int port, string setting)
    {
        using var client = new TcpClient();
        try
        {
            client.Connect("127.0.0.1", port);
        }
        catch (SocketException)
        {
            return;
        }
        throw new InvalidOperationException($"Port {port} is already in use on 127.0.0.1; stop what holds it or set {setting}.");
    }
}

public static class Files
{
    /// <summary>Writes a file only its owner can read (it holds a password).</summary>
    public static async Task WritePrivateAsync(string path, string text, CancellationToken cancellationToken)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        await using var stream = new FileStream(path, options);
        await using var writer = new StreamWriter(stream);
        await writer.WriteAsync(text.AsMemory(), cancellationToken);
        await writer.WriteLineAsync();
    }
}

public static class Run
{
    public static bool Succeeds(string command, string[] args)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(command, args) { RedirectStandardOutput = true, RedirectStandardError = true });
            process?.WaitForExit();
            return process is { ExitCode: 0 };
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Runs a setup command to its end; a failure throws with its output, which the dashboard shows.</summary>
    public static async Task CheckedAsync(string command, string[] args, CancellationToken cancellationToken, string? standardInput = null)
    {
        using var process = Process.Start(new ProcessStartInfo(command, args)
        {
            RedirectStandardInput = standardInput is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        }) ?? throw new InvalidOperationException($"{command} did not start");
        if (standardInput is not null)
        {
            await process.StandardInput.WriteAsync(standardInput);
            process.StandardInput.Close();
        }
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{command} {string.Join(' ', args)} failed ({process.ExitCode}): {await error}{await output}");
        }
    }
}
