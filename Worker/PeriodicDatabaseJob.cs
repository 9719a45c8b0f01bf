using Npgsql;

namespace Ujumbe.Worker;

/// <summary>
/// A Worker job that runs every <see cref="Interval"/> against PostgreSQL. A database that is down or too slow
/// fails one run, which is logged; the job runs again at the next tick and the Worker stays up. Each job's
/// SQL is written so that several Workers may run it at once.
/// </summary>
public abstract partial class PeriodicDatabaseJob(TimeProvider time, ILogger logger) : BackgroundService
{
    protected TimeProvider Time { get; } = time;

    protected ILogger Logger { get; } = logger;

    protected abstract TimeSpan Interval { get; }

    /// <summary>Whether the first run is at start rather than one interval later (for jobs with long intervals).</summary>
    protected virtual bool RunsAtStart => false;

    /// <summary>One run: everything that is due now.</summary>
    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, Time);
        if (RunsAtStart)
        {
            await RunLoggingDatabaseErrorsAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await RunLoggingDatabaseErrorsAsync(stoppingToken);
        }
    }

    private async Task RunLoggingDatabaseErrorsAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RunOnceAsync(stoppingToken);
        }
        catch (Exception error) when (error is NpgsqlException or TimeoutException)
        {
            LogRunFailed(Logger, error, GetType().Name, Interval);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Job} failed; it runs again in {Interval}")]
    private static partial void LogRunFailed(ILogger logger, Exception error, string job, TimeSpan interval);
}
