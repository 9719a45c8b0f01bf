using Npgsql;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Worker.Housekeeping;

/// <summary>
/// Deletes idempotency keys past their window. The send path already treats an expired key as free,
/// but each row keeps its whole stored answer (up to about a megabyte for a 10,000-number send), so
/// without this the table only grows. Small deletes, so it never holds many locks or a long transaction;
/// several Workers may run it at once (a row deleted twice is simply not found).
/// </summary>
public sealed partial class IdempotencyKeySweeper(NpgsqlDataSource database, TimeProvider time, ILogger<IdempotencyKeySweeper> logger)
    : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);
    private const int RowsPerDelete = 5_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception error) when (error is NpgsqlException or TimeoutException)
            {
                LogSweepFailed(logger, error);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Deletes every expired key; returns how many.</summary>
    public async Task<long> SweepAsync(CancellationToken cancellationToken)
    {
        var expiredBefore = time.GetUtcNow().UtcDateTime - IdempotencyKeys.Window;
        long deleted = 0;
        while (true)
        {
            await using var command = database.CreateCommand("""
                delete from idempotency_keys where ctid = any(array(
                    select ctid from idempotency_keys where created_at < $1 limit $2))
                """);
            command.Parameters.Add(new() { Value = expiredBefore });
            command.Parameters.Add(new() { Value = RowsPerDelete });
            var rows = await command.ExecuteNonQueryAsync(cancellationToken);
            deleted += rows;
            if (rows < RowsPerDelete)
            {
                return deleted;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting expired idempotency keys failed; will try again")]
    private static partial void LogSweepFailed(ILogger logger, Exception error);
}
