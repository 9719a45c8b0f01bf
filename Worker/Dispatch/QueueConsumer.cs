using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Worker.Dispatch;

/// <summary>One delivery as a handler sees it: its body, which try this is (0 = first) and when the first try failed.</summary>
public readonly record struct Delivery(ReadOnlyMemory<byte> Body, int Attempt, long? FirstFailedAt);

/// <summary>What a handler wants done with a delivery once it returns.</summary>
public enum Handled
{
    /// <summary>Done (or nothing to do): acknowledge.</summary>
    Done,

    /// <summary>Could not be done now: to the next retry queue, or the dead-letter queue after the last.</summary>
    Retry,
}

/// <summary>
/// A durable-queue consumer with manual acks and bounded prefetch. A delivery is acknowledged only
/// after its handler finished (its effects are committed); a failure goes to the queue's retry
/// queues with growing delays and finally to its dead-letter queue, never back to the head of the
/// queue in a hot loop. Handlers must be idempotent: RabbitMQ delivers at least once.
/// The client recovers the channel and the consumer after a broker restart; a channel the client
/// cannot recover (closed by the broker for an error while the connection lives) is replaced here.
/// No broker call waits unbounded, and handlers see the stopping token, so the Worker stops within its
/// shutdown timeout even with the broker gone. <see cref="ConsumerProgress"/> tells the health check
/// what is being handled and since when.
/// </summary>
public abstract partial class QueueConsumer(
    string queue, ushort prefetch, ushort concurrency, RabbitMqConnection rabbit, TopologyInitializer topology,
    ConfirmingPublisher publisher, ConsumerProgress progress, ILogger logger) : BackgroundService
{
    private static readonly TimeSpan BrokerCallTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan WatchInterval = TimeSpan.FromSeconds(1);

    /// <summary>Checks in a row that find the channel closed while the connection is open before it is replaced (recovery takes a moment).</summary>
    private const int ClosedChecksBeforeReplacing = 5;

    /// <summary>The longest failure reason carried to the dead letters (the whole error is in the log and the trace).</summary>
    private const int MaxReasonLength = 500;

    protected abstract Task<Handled> HandleAsync(Delivery delivery, CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        progress.Detached(queue);
        try
        {
            await topology.Declared.WaitAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                IChannel? channel = null;
                try
                {
                    var connection = await rabbit.GetAsync(stoppingToken);
                    channel = await connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: concurrency), stoppingToken);
                    await ConsumeAsync(channel, stoppingToken);
                    await WatchAsync(connection, channel, stoppingToken);
                    LogChannelReplaced(logger, queue);
                }
                catch (Exception error) when (!stoppingToken.IsCancellationRequested)
                {
                    LogConsumeFailed(logger, queue, error.Message);
                }
                finally
                {
                    progress.Detached(queue);
                    if (channel is not null)
                    {
                        await CloseQuietlyAsync(channel);
                    }
                }
                await Task.Delay(WatchInterval, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping: deliveries not yet acknowledged go back to the queue when the channel closes
        }
    }

    private async Task ConsumeAsync(IChannel channel, CancellationToken stoppingToken)
    {
        await channel.BasicQosAsync(0, prefetch, global: false, stoppingToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += (_, delivery) => ReceiveAsync(channel, delivery, stoppingToken);
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer, stoppingToken);
    }

    /// <summary>Returns when the channel is closed for good: closed while the connection is open, for longer than a recovery takes.</summary>
    private async Task WatchAsync(IConnection connection, IChannel channel, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(WatchInterval);
        var closedChecks = 0;
        do
        {
            if (channel.IsOpen)
            {
                progress.Attached(queue);
                closedChecks = 0;
                continue;
            }
            progress.Detached(queue);
            closedChecks = connection.IsOpen ? closedChecks + 1 : 0;
            if (closedChecks >= ClosedChecksBeforeReplacing)
            {
                return;
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task ReceiveAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken stoppingToken)
    {
        var handling = progress.Started(queue);
        try
        {
            var attempt = Attempt(delivery.BasicProperties);
            var received = new Delivery(delivery.Body, attempt, FirstFailedAt(delivery.BasicProperties));
            var parent = TraceHeaders.Extract(delivery.BasicProperties);
            using var activity = WorkerTelemetry.Source.StartActivity($"{queue} process", ActivityKind.Consumer, parent);
            activity?.SetTag("messaging.destination.name", queue);
            activity?.SetTag("ujumbe.attempt", attempt);
            Handled handled;
            string? reason = null;
            try
            {
                handled = await HandleAsync(received, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Shutting down mid-way: leave it unacknowledged; the broker redelivers it.
                return;
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                LogHandlerFailed(logger, error, queue, attempt);
                activity?.SetStatus(ActivityStatusCode.Error, error.Message);
                handled = Handled.Retry;
                reason = error.Message;
            }
            var requeue = false;
            if (handled == Handled.Retry)
            {
                try
                {
                    await RetryAsync(received, delivery.Body.ToArray(), reason ?? "The handler asked for another try.", activity?.Id, CancellationToken.None);
                }
                catch (Exception error) when (error is not OutOfMemoryException)
                {
                    // Not in a retry queue: it must not be acknowledged, nor sit unacknowledged on a live channel.
                    LogRetryFailed(logger, queue, error.Message);
                    requeue = true;
                }
            }
            using var timeout = new CancellationTokenSource(BrokerCallTimeout);
            try
            {
                if (requeue)
                {
                    await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, timeout.Token);
                }
                else
                {
                    await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, timeout.Token);
                }
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                // The broker is gone or stalls: unacknowledged, the delivery comes back (to this or another
                // Worker) once the channel is closed or recovered; handlers are idempotent.
                LogAckFailed(logger, queue, error.Message);
            }
        }
        finally
        {
            progress.Finished(handling);
        }
    }

    private static async Task CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            using var timeout = new CancellationTokenSource(BrokerCallTimeout);
            await channel.CloseAsync(timeout.Token);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            await channel.AbortAsync(CancellationToken.None);
        }
        finally
        {
            await channel.DisposeAsync();
        }
    }

    /// <summary>
    /// Puts a body (or what is left of it) on its way to another try, or to the dead letters, with why
    /// this try failed and when the first did: what an operator reads in the dead-letter view.
    /// </summary>
    protected async Task RetryAsync(Delivery failed, byte[] body, string reason, string? traceParent, CancellationToken cancellationToken)
    {
        var attempt = failed.Attempt;
        var next = attempt + 1;
        var headers = new Dictionary<string, object?>
        {
            [Topology.AttemptHeader] = next,
            [Topology.ErrorHeader] = reason.Length > MaxReasonLength ? reason[..MaxReasonLength] : reason,
            [Topology.FirstFailedHeader] = failed.FirstFailedAt ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        };
        if (!IsLastAttempt(attempt))
        {
            WorkerTelemetry.Retried.Add(1, new KeyValuePair<string, object?>("queue", queue));
            await publisher.PublishAsync([new OutgoingMessage("", Topology.RetryQueue(queue, next), body, traceParent, headers)], cancellationToken);
        }
        else
        {
            WorkerTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("queue", queue));
            LogDeadLettered(logger, queue, attempt);
            headers[Topology.DeadLetterIdHeader] = Guid.CreateVersion7().ToString("N");
            headers[Topology.DeadLetteredHeader] = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await publisher.PublishAsync([new OutgoingMessage("", Topology.DeadLetterQueue(queue), body, traceParent, headers)], cancellationToken);
        }
    }

    /// <summary>Whether a failure on this attempt goes to the dead letters rather than to another retry.</summary>
    protected static bool IsLastAttempt(int attempt) => attempt >= Topology.RetryDelays.Length;

    private static int Attempt(IReadOnlyBasicProperties properties) =>
        properties.Headers?.TryGetValue(Topology.AttemptHeader, out var value) == true && value is int attempt ? attempt : 0;

    private static long? FirstFailedAt(IReadOnlyBasicProperties properties) =>
        properties.Headers?.TryGetValue(Topology.FirstFailedHeader, out var value) == true && value is long at ? at : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handling a delivery from {Queue} failed (attempt {Attempt}); it will be retried")]
    private static partial void LogHandlerFailed(ILogger logger, Exception error, string queue, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Acknowledging or retrying a delivery from {Queue} failed ({Reason}); the broker delivers it again")]
    private static partial void LogAckFailed(ILogger logger, string queue, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A delivery from {Queue} could not be put on its retry queue ({Reason}); it goes back to the queue")]
    private static partial void LogRetryFailed(ILogger logger, string queue, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consuming {Queue} failed ({Reason}); trying again")]
    private static partial void LogConsumeFailed(ILogger logger, string queue, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The channel consuming {Queue} was closed and not recovered; opening a new one")]
    private static partial void LogChannelReplaced(ILogger logger, string queue);

    [LoggerMessage(Level = LogLevel.Error, Message = "A delivery from {Queue} failed {Attempt} times and was moved to the dead-letter queue")]
    private static partial void LogDeadLettered(ILogger logger, string queue, int attempt);
}
