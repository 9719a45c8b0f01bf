using Npgsql;

namespace Ujumbe.Worker.Dispatch;

/// <summary>
/// Posts the credit moves that status changes left in <c>pending_credits</c> (captures for messages
/// providers accepted, releases for ones never sent) to the ledger and the balances, every 200 ms.
/// Batching them keeps the Worker off the accounts' balance rows, which the send path needs.
/// Several Workers may run it at once: each pending row is consumed by exactly one of them.
/// </summary>
public sealed partial class CreditPoster(NpgsqlDataSource database, TimeProvider time, ILogger<CreditPoster> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await PostAsync(stoppingToken);
            }
            catch (Exception error) when (error is NpgsqlException or TimeoutException)
            {
                LogPostFailed(logger, error);
            }
        }
    }

    /// <summary>Posts everything pending; returns the number of ledger entries written.</summary>
    public async Task<int> PostAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select post_pending_credits($1)");
        command.Parameters.Add(new() { Value = time.GetUtcNow().UtcDateTime });
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Posting pending credits failed; will try again")]
    private static partial void LogPostFailed(ILogger logger, Exception error);
}
