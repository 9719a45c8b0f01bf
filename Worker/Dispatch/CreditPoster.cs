using Npgsql;

namespace Ujumbe.Worker.Dispatch;

/// <summary>
/// Posts the credit moves that status changes left in <c>pending_credits</c> (captures for messages
/// providers accepted, releases for ones never sent) to the ledger and the balances, every 200 ms.
/// Batching them keeps the Worker off the accounts' balance rows, which the send path needs.
/// Several Workers may run it at once: each pending row is consumed by exactly one of them.
/// </summary>
public sealed class CreditPoster(NpgsqlDataSource database, TimeProvider time, ILogger<CreditPoster> logger)
    : PeriodicDatabaseJob(time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(200);

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => PostAsync(cancellationToken);

    /// <summary>Posts everything pending; returns the number of ledger entries written.</summary>
    public async Task<int> PostAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select post_pending_credits($1)");
        command.Parameters.Add(new() { Value = Time.GetUtcNow().UtcDateTime });
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
