using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Hosting;

namespace Ujumbe.AppHost.Extensions;

/// <summary>
/// Stops the daemon epmd that RabbitMQ starts by itself when ours is gone first (at shutdown): only an epmd
/// started for this broker, known by the node name and epmd port in its environment, never anyone else's.
/// </summary>
public sealed class StrayEpmdReaper(IHostApplicationLifetime lifetime, int port, string nodeName) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // After every resource is stopped, so the broker can no longer start another.
        lifetime.ApplicationStopped.Register(() => Reap(port, nodeName));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public static void Reap(int port, string nodeName)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        var wanted = new[] { "RABBITMQ_NODENAME=" + nodeName, "ERL_EPMD_PORT=" + port.ToString(CultureInfo.InvariantCulture) };
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out var pid))
            {
                continue;
            }
            try
            {
                if (File.ReadAllText(Path.Combine(folder, "comm")).Trim() != "epmd")
                {
                    continue;
                }
                var environment = File.ReadAllText(Path.Combine(folder, "environ")).Split('\0');
                if (wanted.All(environment.Contains))
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill();
                    process.WaitForExit(TimeSpan.FromSeconds(5));
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }
    }
}
