using Npgsql;

namespace Ujumbe.Worker.Usage;

/// <summary>
/// Folds the usage deltas the message triggers append into the per-slot counts (<c>fold_usage_deltas</c>,
/// migration 0009), every second. Readers add the deltas not folded yet, so the figures are exact either
/// way; folding keeps what they add small. Several Workers may run it at once.
/// </summary>
public sealed partial class UsageFolder(NpgsqlDataSource database, TimeProvider time, ILogger<UsageFolder> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await FoldAsync(stoppingToken);
            }
            catch (Exception error) when (error is NpgsqlException or TimeoutException)
            {
                LogFoldFailed(logger, error);
            }
        }
    }

    /// <summary>Folds every delta committed so far; returns how many.</summary>
    public async Task<int> FoldAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select fold_usage_deltas()");
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Folding usage deltas failed; will try again")]
    private static partial void LogFoldFailed(ILogger logger, Exception error);
}
