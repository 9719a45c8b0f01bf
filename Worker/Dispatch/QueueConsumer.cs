using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Worker.Dispatch;

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
/// </summary>
public abstract partial class QueueConsumer(
    string queue, ushort prefetch, ushort concurrency, RabbitMqConnection rabbit, TopologyInitializer topology,
    ConfirmingPublisher publisher, ILogger logger) : BackgroundService
{
    protected abstract Task<Handled> HandleAsync(ReadOnlyMemory<byte> body, int attempt, CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await topology.Declared.WaitAsync(stoppingToken);
        var connection = await rabbit.GetAsync(stoppingToken);
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(false, false, consumerDispatchConcurrency: concurrency), stoppingToken);
        await channel.BasicQosAsync(0, prefetch, global: false, stoppingToken);
        var consumer = new AsyncEventingBasicConsumer(channel);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            var attempt = Attempt(delivery.BasicProperties);
            var parent = TraceHeaders.Extract(delivery.BasicProperties);
            using var activity = WorkerTelemetry.Source.StartActivity($"{queue} process", ActivityKind.Consumer, parent);
            activity?.SetTag("messaging.destination.name", queue);
            activity?.SetTag("ujumbe.attempt", attempt);
            Handled handled;
            try
            {
                handled = await HandleAsync(delivery.Body, attempt, stoppingToken);
            }
            catch (Exception error) when (!stoppingToken.IsCancellationRequested)
            {
                LogHandlerFailed(logger, error, queue, attempt);
                activity?.SetStatus(ActivityStatusCode.Error, error.Message);
                handled = Handled.Retry;
            }
            catch (OperationCanceledException)
            {
                // Shutting down mid-way: leave it unacknowledged; the broker redelivers it.
                return;
            }
            if (handled == Handled.Retry)
            {
                await RetryAsync(delivery.Body.ToArray(), attempt, activity?.Id, CancellationToken.None);
            }
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, CancellationToken.None);
        };
        await channel.BasicConsumeAsync(queue, autoAck: false, consumer, stoppingToken);
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
        await channel.CloseAsync(CancellationToken.None);
        await channel.DisposeAsync();
    }

    /// <summary>Puts a body (or what is left of it) on its way to another try, or to the dead letters.</summary>
    protected async Task RetryAsync(byte[] body, int attempt, string? traceParent, CancellationToken cancellationToken)
    {
        var next = attempt + 1;
        var headers = new Dictionary<string, object?> { [Topology.AttemptHeader] = next };
        if (!IsLastAttempt(attempt))
        {
            WorkerTelemetry.Retried.Add(1, new KeyValuePair<string, object?>("queue", queue));
            await publisher.PublishAsync([new OutgoingMessage("", Topology.RetryQueue(queue, next), body, traceParent, headers)], cancellationToken);
        }
        else
        {
            WorkerTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("queue", queue));
            LogDeadLettered(logger, queue, attempt);
            await publisher.PublishAsync([new OutgoingMessage("", Topology.DeadLetterQueue(queue), body, traceParent, headers)], cancellationToken);
        }
    }

    /// <summary>Whether a failure on this attempt goes to the dead letters rather than to another retry.</summary>
    protected static bool IsLastAttempt(int attempt) => attempt >= Topology.RetryDelays.Length;

    private static int Attempt(IReadOnlyBasicProperties properties) =>
        properties.Headers?.TryGetValue(Topology.AttemptHeader, out var value) == true && value is int attempt ? attempt : 0;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handling a delivery from {Queue} failed (attempt {Attempt}); it will be retried")]
    private static partial void LogHandlerFailed(ILogger logger, Exception error, string queue, int attempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "A delivery from {Queue} failed {Attempt} times and was moved to the dead-letter queue")]
    private static partial void LogDeadLettered(ILogger logger, string queue, int attempt);
}
