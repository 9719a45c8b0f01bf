using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Ujumbe.AppHost.Extensions;

/// <summary>
/// Restarts a service or server whose process ended with a failure (a crash, <c>kill -9</c>), with a growing
/// pause between attempts, so one process exiting never takes the others down. A process that exits
/// cleanly (code 0, e.g. stopped from the dashboard) stays stopped.
/// </summary>
public sealed partial class Supervisor(
    ResourceNotificationService notifications,
    ResourceCommandService commands,
    IHostApplicationLifetime lifetime,
    ILogger<Supervisor> logger) : BackgroundService
{
    private static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(30);
    private readonly Dictionary<string, (int Restarts, DateTime Last)> _history = [];
    private readonly HashSet<string> _pending = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var change in notifications.WatchAsync(stoppingToken))
        {
            var snapshot = change.Snapshot;
            if (snapshot.ResourceType is not ("Project" or "Executable")
                || !Ended(snapshot.State?.Text)
                || snapshot.ExitCode is null or 0
                || lifetime.ApplicationStopping.IsCancellationRequested
                || !_pending.Add(change.ResourceId))
            {
                continue;
            }
            _ = RestartAsync(change.ResourceId, snapshot.ExitCode.Value, stoppingToken);
        }
    }

    private static bool Ended(string? state) => state == KnownResourceStates.Exited || state == KnownResourceStates.Finished;

    private async Task RestartAsync(string resourceId, int exitCode, CancellationToken stoppingToken)
    {
        try
        {
            var (restarts, last) = _history.GetValueOrDefault(resourceId);
            // A process that ran a good while since its last restart starts the back-off afresh.
            if (DateTime.UtcNow - last > TimeSpan.FromMinutes(5))
            {
                restarts = 0;
            }
            var pause = TimeSpan.FromTicks(Math.Min(LongestPause.Ticks, FirstPause.Ticks << Math.Min(restarts, 10)));
            LogRestarting(logger, resourceId, exitCode, pause.TotalSeconds);
            await Task.Delay(pause, stoppingToken);
            _history[resourceId] = (restarts + 1, DateTime.UtcNow);
            var result = await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, stoppingToken);
            if (!result.Success)
            {
                LogRestartFailed(logger, resourceId, result.Message);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // the AppHost is stopping
        }
        finally
        {
            _pending.Remove(resourceId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Resource} exited with code {ExitCode}; starting it again in {Seconds} s")]
    private static partial void LogRestarting(ILogger logger, string resource, int exitCode, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Resource} could not be started again: {Reason}")]
    private static partial void LogRestartFailed(ILogger logger, string resource, string? reason);
}
