using System.Diagnostics;
using System.Text;
using RabbitMQ.Client;

namespace Ujumbe.Shared.Messaging;

/// <summary>A message to publish: persistent, JSON, optionally continuing a trace.</summary>
public sealed record OutgoingMessage(
    string Exchange, string RoutingKey, ReadOnlyMemory<byte> Body, string? TraceParent = null,
    IReadOnlyDictionary<string, object?>? Headers = null);

/// <summary>
/// Publishes with publisher confirms: <see cref="PublishAsync"/> returns only when the broker has
/// taken responsibility for every message (persisted to disk for durable queues), and throws if
/// any was refused or unroutable. Messages of one call are in flight together, so a batch costs
/// about one confirm round trip, not one per message.
/// </summary>
public sealed class ConfirmingPublisher(RabbitMqConnection rabbit) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IChannel? _channel;

    public async Task PublishAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var channel = await ChannelAsync(cancellationToken);
            var pending = new List<Task>(messages.Count);
            foreach (var message in messages)
            {
                pending.Add(PublishOneAsync(channel, message, cancellationToken).AsTask());
            }
            List<Exception>? failures = null;
            foreach (var publish in pending)
            {
                try
                {
                    await publish;
                }
                catch (Exception error) when (error is not OperationCanceledException)
                {
                    (failures ??= []).Add(error);
                }
            }
            if (failures is not null)
            {
                if (!channel.IsOpen)
                {
                    _channel = null;
                }
                throw new AggregateException("The broker did not confirm every message.", failures);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs a declaration (a queue of the caller's own) on the publishing channel.</summary>
    public async Task DeclareAsync(Func<IChannel, Task> declare, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await declare(await ChannelAsync(cancellationToken));
        }
        finally
        {
            _gate.Release();
        }
    }

    private static ValueTask PublishOneAsync(IChannel channel, OutgoingMessage message, CancellationToken cancellationToken)
    {
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = "application/json",
            Headers = new Dictionary<string, object?>(),
        };
        if (message.Headers is not null)
        {
            foreach (var (key, value) in message.Headers)
            {
                properties.Headers[key] = value;
            }
        }
        // Continue the trace of whatever caused this message (an HTTP request, usually).
        // (Remote: it was stored by another process, or another transaction of this one.)
        using var activity = message.TraceParent is not null && ActivityContext.TryParse(message.TraceParent, null, isRemote: true, out var parent)
            ? MessagingTelemetry.Source.StartActivity($"{message.RoutingKey} publish", ActivityKind.Producer, parent)
            : null;
        // Never the ambient activity: on the relay's loop it belongs to no request, and naming it here
        // would hand the message to a trace of its own.
        var context = activity?.Id ?? message.TraceParent;
        if (context is not null)
        {
            properties.Headers[TraceHeaders.TraceParent] = Encoding.ASCII.GetBytes(context);
        }
        return channel.BasicPublishAsync(message.Exchange, message.RoutingKey, mandatory: true, properties, message.Body, cancellationToken);
    }

    private async ValueTask<IChannel> ChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true } open)
        {
            return open;
        }
        if (_channel is not null)
        {
            await _channel.DisposeAsync();
        }
        var connection = await rabbit.GetAsync(cancellationToken);
        _channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        return _channel;
    }

    public async ValueTask DisposeAsync()
    {
        if (_channel is not null)
        {
            await _channel.DisposeAsync();
        }
        _gate.Dispose();
    }
}

public static class TraceHeaders
{
    public const string TraceParent = "traceparent";

    /// <summary>The W3C trace context a message carries, if any.</summary>
    public static ActivityContext Extract(IReadOnlyBasicProperties properties)
    {
        if (properties.Headers?.TryGetValue(TraceParent, out var value) == true
            && value is byte[] bytes
            && ActivityContext.TryParse(Encoding.ASCII.GetString(bytes), null, isRemote: true, out var context))
        {
            return context;
        }
        return default;
    }
}

/// <summary>Spans for work handed between services through RabbitMQ.</summary>
public static class MessagingTelemetry
{
    public const string Name = "Ujumbe.Messaging";
    public static readonly ActivitySource Source = new(Name);
}
