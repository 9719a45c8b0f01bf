using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Ujumbe.Shared.Messaging;

/// <summary>
/// Moves committed outbox rows to RabbitMQ: take a batch of rows (<c>FOR UPDATE SKIP LOCKED</c>,
/// so relays in several processes share the work), publish them with confirms, delete them, commit.
/// A crash between publish and commit publishes those rows again, which consumers tolerate
/// (they are idempotent); a row is never lost. Woken at once by <see cref="Notify"/> after a local
/// commit, and every second anyway for rows written elsewhere.
/// </summary>
public sealed partial class OutboxRelay(NpgsqlDataSource database, ConfirmingPublisher publisher, ILogger<OutboxRelay> logger)
    : BackgroundService
{
    private const int BatchSize = 256;
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(1);
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    /// <summary>Rows were just committed: publish them now rather than at the next poll.</summary>
    public void Notify() => _wake.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await RelayBatchAsync(stoppingToken) == BatchSize)
                {
                    // more may be waiting
                }
                failures = 0;
            }
            catch (Exception error) when (error is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                failures++;
                LogRelayFailed(logger, error, failures);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * Math.Pow(2, Math.Min(failures, 6)))), stoppingToken);
                continue;
            }
            using var idle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            idle.CancelAfter(IdlePoll);
            try
            {
                await _wake.Reader.ReadAsync(idle.Token);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
            {
                // poll
            }
        }
    }

    /// <summary>Publishes one batch; returns how many rows it moved.</summary>
    public async Task<int> RelayBatchAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var ids = new List<long>(BatchSize);
        var messages = new List<OutgoingMessage>(BatchSize);
        await using (var select = new NpgsqlCommand(
            "select id, routing_key, payload, trace_parent from outbox order by id limit $1 for update skip locked", connection, transaction))
        {
            select.Parameters.Add(new() { Value = BatchSize });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetInt64(0));
                messages.Add(new OutgoingMessage(Topology.Exchange, reader.GetString(1), reader.GetFieldValue<byte[]>(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3)));
            }
        }
        if (ids.Count == 0)
        {
            return 0;
        }
        await publisher.PublishAsync(messages, cancellationToken);
        await using (var delete = new NpgsqlCommand("delete from outbox where id = any($1)", connection, transaction))
        {
            delete.Parameters.Add(new() { Value = ids.ToArray() });
            await delete.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return ids.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay failed ({Failures} in a row); retrying")]
    private static partial void LogRelayFailed(ILogger logger, Exception error, int failures);
}

/// <summary>Declares the RabbitMQ topology at start, retrying until the broker answers (or the service stops).</summary>
public sealed partial class TopologyInitializer(RabbitMqConnection rabbit, ILogger<TopologyInitializer> logger) : BackgroundService
{
    private readonly TaskCompletionSource _declared = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the exchange and queues exist.</summary>
    public Task Declared => _declared.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                var connection = await rabbit.GetAsync(stoppingToken);
                await using var channel = await connection.CreateChannelAsync(cancellationToken: stoppingToken);
                await Topology.DeclareAsync(channel, stoppingToken);
                _declared.TrySetResult();
                return;
            }
            catch (Exception error) when (error is not OutOfMemoryException && !stoppingToken.IsCancellationRequested)
            {
                LogDeclareFailed(logger, attempt, error.Message);
            }
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 200 * attempt)), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                // stopping
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Declaring the RabbitMQ topology failed (attempt {Attempt}: {Reason}); retrying")]
    private static partial void LogDeclareFailed(ILogger logger, int attempt, string reason);
}
