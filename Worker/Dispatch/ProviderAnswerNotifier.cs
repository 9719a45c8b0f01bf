using System.Threading.Channels;
using Npgsql;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Worker.Dispatch;

/// <summary>
/// Tells the Api, by PostgreSQL <c>NOTIFY</c> on <see cref="ProviderAnswerNotifications.Channel"/>, which batches had
/// messages answered by a provider (or otherwise moved out of waiting for one), once those moves are committed, so a
/// dialect request waiting for the provider's answer is woken at once (decision 0031).
/// <para>
/// Not inside the status transaction: PostgreSQL serialises every committing transaction that notified, on one
/// cluster-wide lock held through its WAL flush, so the dispatch commits would queue behind each other's disk
/// writes. Here the ids of every commit since the last flush go out in one small transaction of their own
/// (a group: whatever arrived while the previous one ran) with <c>synchronous_commit</c> off, which holds that lock
/// for microseconds. A notification lost with a crash costs a waiting request only its safety poll.
/// </para>
/// </summary>
public sealed partial class ProviderAnswerNotifier(NpgsqlDataSource database, ILogger<ProviderAnswerNotifier> logger) : BackgroundService
{
    private readonly Lock _gate = new();
    private HashSet<Guid> _pending = [];
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>These batches' status moves are committed: notify them with the next group.</summary>
    public void Answered(IEnumerable<Guid> batchIds)
    {
        lock (_gate)
        {
            _pending.UnionWith(batchIds);
            if (_pending.Count == 0)
            {
                return;
            }
        }
        _wake.Writer.TryWrite(true);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (await _wake.Reader.WaitToReadAsync(stoppingToken))
        {
            _wake.Reader.TryRead(out _);
            HashSet<Guid> group;
            lock (_gate)
            {
                group = _pending;
                _pending = [];
            }
            if (group.Count == 0)
            {
                continue;
            }
            try
            {
                await NotifyAsync(group, stoppingToken);
            }
            catch (Exception error) when (error is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The waiting requests read their batch again at their safety poll; nothing else depends on this.
                LogNotifyFailed(logger, error, group.Count);
            }
        }
    }

    private async Task NotifyAsync(HashSet<Guid> batchIds, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction);
        // Local to this transaction, which writes nothing but the notifications.
        batch.BatchCommands.Add(new NpgsqlBatchCommand("select set_config('synchronous_commit', 'off', true)"));
        var notify = new NpgsqlBatchCommand("select pg_notify($1, p) from unnest($2::text[]) as p");
        notify.Parameters.Add(new() { Value = ProviderAnswerNotifications.Channel });
        notify.Parameters.Add(new() { Value = ProviderAnswerNotifications.Payloads(batchIds).ToArray() });
        batch.BatchCommands.Add(notify);
        await batch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Notifying {Count} answered batch(es) failed; their waiting requests read them at their next poll")]
    private static partial void LogNotifyFailed(ILogger logger, Exception error, int count);
}
