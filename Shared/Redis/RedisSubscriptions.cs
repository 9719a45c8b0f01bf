using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Ujumbe.Shared.Redis;

/// <summary>
/// The subscriber side: its own connection (a RESP2 connection in subscriber mode cannot run other
/// commands), opened on the first subscription. Channels are subscribed one per SUBSCRIBE so each
/// confirmation answers exactly one pending command; every registered channel is subscribed again on each
/// new connection before it is published. Messages go through a bounded queue to one dispatcher task, so
/// a slow handler slows reading (and eventually Redis drops the connection, which then recovers) instead
/// of growing memory without bound.
/// </summary>
internal sealed partial class RedisSubscriptions : IAsyncDisposable
{
    private readonly RedisOptions _options;
    private readonly ILogger _logger;
    private readonly Action<RedisConnectionStateChangedEventArgs> _stateChanged;
    private readonly Channel<RedisMessage> _inbox = Channel.CreateBounded<RedisMessage>(new BoundedChannelOptions(10_000)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });
    private readonly SemaphoreSlim _gate = new(1, 1); // orders SUBSCRIBE/UNSUBSCRIBE against renewals on reconnect
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Subscription[]> _handlers = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private RedisConnector? _connector;
    private RedisConnection? _active; // the connection the registered channels are subscribed on (under _gate)
    private Task _dispatcher = Task.CompletedTask;
    private bool _disposed;

    public RedisSubscriptions(RedisOptions options, Action<RedisConnectionStateChangedEventArgs> stateChanged, ILogger logger)
    {
        _options = options;
        _stateChanged = stateChanged;
        _logger = logger;
    }

    public bool IsConnected => _connector?.Current is not null;

    public async ValueTask<IAsyncDisposable> SubscribeAsync(string channel, Action<RedisMessage> handler, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        ArgumentNullException.ThrowIfNull(handler);
        var connector = EnsureStarted();
        if (!connector.FirstAttempt.IsCompleted)
        {
            try
            {
                await connector.FirstAttempt.WaitAsync(_options.ConnectTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                // still connecting: register now, the connection subscribes it when it comes up
            }
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var subscription = new Subscription(this, channel, handler);
            var first = Add(subscription);
            if (first && _active is { IsOpen: true } connection)
            {
                try
                {
                    // Not cancellable: once sent it takes effect, and the registration must match the server.
                    await connection.ExecuteAsync("SUBSCRIBE", [channel], CancellationToken.None);
                }
                catch (RedisServerException)
                {
                    Remove(subscription);
                    throw;
                }
                catch (RedisException)
                {
                    // Connection lost or slow: the registration stands and the next connection subscribes it.
                }
            }
            return subscription;
        }
        finally
        {
            _gate.Release();
        }
    }

    private RedisConnector EnsureStarted()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connector is null)
            {
                _connector = new RedisConnector(_options, RedisConnectionRole.Subscriptions, Enqueue, RenewAsync, _stateChanged, _logger);
                using (ExecutionContext.SuppressFlow()) // handlers must not run in the first subscriber's context
                {
                    _dispatcher = Task.Run(DispatchAsync);
                }
                _connector.Start();
            }
            return _connector;
        }
    }

    /// <summary>On the subscriber connection's reader thread; blocks it while the queue is full (back-pressure).</summary>
    private void Enqueue(RedisMessage message)
    {
        if (!_inbox.Writer.TryWrite(message))
        {
            _inbox.Writer.WriteAsync(message, _stopping.Token).AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>On each new connection, before it is published: subscribe every registered channel.</summary>
    private async Task RenewAsync(RedisConnection connection, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            _active = connection;
            string[] channels;
            lock (_lock)
            {
                channels = [.. _handlers.Keys];
            }
            var replies = new Task<RedisValue>[channels.Length];
            for (var i = 0; i < channels.Length; i++)
            {
                replies[i] = connection.ExecuteAsync("SUBSCRIBE", [channels[i]], cancellationToken).AsTask();
            }
            await Task.WhenAll(replies);
        }
        catch
        {
            _active = null;
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task DispatchAsync()
    {
        try
        {
            await foreach (var message in _inbox.Reader.ReadAllAsync(_stopping.Token))
            {
                Subscription[]? handlers;
                lock (_lock)
                {
                    _handlers.TryGetValue(message.Channel, out handlers);
                }
                foreach (var subscription in handlers ?? [])
                {
                    if (subscription.IsActive)
                    {
                        try
                        {
                            subscription.Handler(message);
                        }
                        catch (Exception error)
                        {
                            LogHandlerFailed(_logger, message.Channel, error);
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // disposed
        }
    }

    /// <summary>Registers a handler; true if it is the channel's first.</summary>
    private bool Add(Subscription subscription)
    {
        lock (_lock)
        {
            if (_handlers.TryGetValue(subscription.Channel, out var existing))
            {
                _handlers[subscription.Channel] = [.. existing, subscription];
                return false;
            }
            _handlers[subscription.Channel] = [subscription];
            return true;
        }
    }

    /// <summary>Unregisters a handler; true if it was the channel's last.</summary>
    private bool Remove(Subscription subscription)
    {
        lock (_lock)
        {
            if (!_handlers.TryGetValue(subscription.Channel, out var existing))
            {
                return false;
            }
            var remaining = Array.FindAll(existing, other => !ReferenceEquals(other, subscription));
            if (remaining.Length > 0)
            {
                _handlers[subscription.Channel] = remaining;
                return false;
            }
            _handlers.Remove(subscription.Channel);
            return true;
        }
    }

    private async ValueTask UnsubscribeAsync(Subscription subscription)
    {
        await _gate.WaitAsync();
        try
        {
            if (Remove(subscription) && !_disposed && _active is { IsOpen: true } connection)
            {
                try
                {
                    await connection.ExecuteAsync("UNSUBSCRIBE", [subscription.Channel], CancellationToken.None);
                }
                catch (RedisException)
                {
                    // A lost connection drops its subscriptions anyway; the next one will not renew this channel.
                }
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        RedisConnector? connector;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            connector = _connector;
        }
        await _stopping.CancelAsync();
        if (connector is not null)
        {
            await connector.DisposeAsync();
        }
        _inbox.Writer.TryComplete();
        await _dispatcher;
        _stopping.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A handler of Redis channel {Channel} threw")]
    private static partial void LogHandlerFailed(ILogger logger, string channel, Exception error);

    private sealed class Subscription(RedisSubscriptions owner, string channel, Action<RedisMessage> handler) : IAsyncDisposable
    {
        private int _disposed;

        public string Channel { get; } = channel;

        public Action<RedisMessage> Handler { get; } = handler;

        public bool IsActive => Volatile.Read(ref _disposed) == 0;

        public ValueTask DisposeAsync() =>
            Interlocked.Exchange(ref _disposed, 1) == 0 ? owner.UnsubscribeAsync(this) : ValueTask.CompletedTask;
    }
}
