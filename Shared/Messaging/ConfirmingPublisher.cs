using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Options;
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
/// about one confirm round trip, not one per message. A publish never takes longer than
/// <see cref="MessagingOptions.PublishTimeout"/>: callers hold database transactions around it
/// (outbox rows, claimed messages), and a confirm lost in a broker restart would otherwise keep
/// them, and every publisher queued behind the channel, waiting for good.
/// </summary>
public sealed class ConfirmingPublisher(RabbitMqConnection rabbit, IOptions<MessagingOptions> options) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly TimeSpan _timeout = options.Value.PublishTimeout;
    private IChannel? _channel;

    public async Task PublishAsync(IReadOnlyList<OutgoingMessage> messages, CancellationToken cancellationToken)
    {
        if (messages.Count == 0)
        {
            return;
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        await EnterAsync(timeout, cancellationToken);
        try
        {
            var channel = await ChannelAsync(timeout.Token);
            var pending = new List<Task>(messages.Count);
            foreach (var message in messages)
            {
                pending.Add(PublishOneAsync(channel, message, timeout.Token).AsTask());
            }
            try
            {
                await Task.WhenAll(pending);
            }
            catch (Exception) when (pending.Any(p => p.IsCanceled) && timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw TimedOut("confirm every message");
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                throw new AggregateException("The broker did not confirm every message.",
                    pending.Where(p => p.IsFaulted).SelectMany(p => p.Exception!.InnerExceptions));
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Discard();
            throw TimedOut("take the messages");
        }
        catch
        {
            Discard();
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Waits for the channel, within the publish's own time limit.</summary>
    private async Task EnterAsync(CancellationTokenSource timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _gate.WaitAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw TimedOut("free the publishing channel");
        }
    }

    private TimeoutException TimedOut(string what) =>
        new($"RabbitMQ did not {what} within {_timeout.TotalSeconds:0.#} s.");

    /// <summary>
    /// Drops the channel after a failed or stalled publish: its unconfirmed messages are lost to it, and a
    /// channel the client recovered after a restart may never confirm them. The next publish opens a new one.
    /// Closing it talks to the broker, so it is not waited for.
    /// </summary>
    private void Discard()
    {
        if (_channel is not { } channel)
        {
            return;
        }
        _channel = null;
        _ = Task.Run(async () =>
        {
            try
            {
                await channel.AbortAsync();
                await channel.DisposeAsync();
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                // it is gone either way
            }
        }, CancellationToken.None);
    }

    /// <summary>Runs a declaration (a queue of the caller's own) on the publishing channel.</summary>
    public async Task DeclareAsync(Func<IChannel, Task> declare, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        await EnterAsync(timeout, cancellationToken);
        try
        {
            await declare(await ChannelAsync(timeout.Token));
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Discard();
            throw TimedOut("declare");
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
        Discard();
        var connection = await rabbit.GetAsync(cancellationToken);
        _channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        return _channel;
    }

    public ValueTask DisposeAsync()
    {
        // Not waited for: a broker that is down must not hold up the process's stop.
        Discard();
        return ValueTask.CompletedTask;
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
