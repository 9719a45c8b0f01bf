using Ujumbe.Shared.Lifecycle;

namespace Ujumbe.Worker.Scheduling;

/// <summary>
/// Releases scheduled batches when their time comes (<see cref="MessageLifecycle.ReleaseDueAsync"/>: their
/// messages move from scheduled to queued with their dispatch chunks, in one transaction). Polls every 250 ms,
/// so a message leaves within about half a second of its scheduled time. Several Workers share the work.
/// </summary>
public sealed class ScheduledReleaser(MessageLifecycle lifecycle, TimeProvider time, ILogger<ScheduledReleaser> logger)
    : PeriodicDatabaseJob(time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(250);

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        while (await ReleaseDueAsync(cancellationToken) > 0)
        {
            // more may be due
        }
    }

    /// <summary>Releases up to a handful of due batches; returns how many.</summary>
    public async Task<int> ReleaseDueAsync(CancellationToken cancellationToken)
    {
        var (batches, messages) = await lifecycle.ReleaseDueAsync(cancellationToken);
        if (batches > 0)
        {
            WorkerTelemetry.ScheduledReleased.Add(messages);
        }
        return batches;
    }
}
