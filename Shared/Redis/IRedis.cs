namespace Ujumbe.Shared.Redis;

/// <summary>
/// What Ujumbe's services need from Redis, kept narrow so the implementation can change (today our own
/// <see cref="RedisClient"/>; StackExchange.Redis once the package feed carries it, see
/// docs/decisions/0009-redis-client.md). Thread-safe: one instance per process, shared by all callers.
/// </summary>
/// <remarks>
/// Failures are exceptions deriving from <see cref="RedisException"/>: <see cref="RedisServerException"/>
/// (the server answered with an error; the connection is fine), <see cref="RedisConnectionException"/>
/// (no connection: fails at once while disconnected, never queues), <see cref="RedisTimeoutException"/>
/// (no reply within the command timeout). Each returned <see cref="ValueTask"/> must be awaited exactly once.
/// </remarks>
public interface IRedis : IAsyncDisposable
{
    /// <summary>The command connection is up (the subscriber connection reports through <see cref="ConnectionStateChanged"/>).</summary>
    bool IsConnected { get; }

    /// <summary>
    /// Raised when a connection comes up or goes down, on a background thread; handlers must be quick and
    /// must not throw (exceptions are logged and swallowed).
    /// </summary>
    event EventHandler<RedisConnectionStateChangedEventArgs>? ConnectionStateChanged;

    /// <summary>PING; returns the round-trip time.</summary>
    ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken = default);

    /// <summary>GET: the value's bytes, or null if the key does not exist.</summary>
    ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>GET, decoded as UTF-8; null if the key does not exist.</summary>
    ValueTask<string?> GetStringAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>SET, with PX when <paramref name="expiry"/> is given (rounded up to whole milliseconds).</summary>
    ValueTask SetAsync(string key, RedisArgument value, TimeSpan? expiry = null, CancellationToken cancellationToken = default);

    /// <summary>DEL; returns how many of the keys existed.</summary>
    ValueTask<long> DeleteAsync(ReadOnlySpan<string> keys, CancellationToken cancellationToken = default);

    /// <summary>Runs a Lua script by EVALSHA, loading it by EVAL when the server does not know it (NOSCRIPT).</summary>
    ValueTask<RedisValue> EvalAsync(RedisScript script, ReadOnlySpan<string> keys, ReadOnlySpan<RedisArgument> arguments = default,
        CancellationToken cancellationToken = default);

    /// <summary>PUBLISH; returns how many subscribers (across all clients) received the message.</summary>
    ValueTask<long> PublishAsync(string channel, RedisArgument message, CancellationToken cancellationToken = default);

    /// <summary>
    /// Calls <paramref name="handler"/> for every message published on <paramref name="channel"/> until the
    /// returned handle is disposed. The subscription survives reconnects (it is renewed on every new
    /// connection). When this returns while connected, the server has confirmed it; while disconnected it is
    /// registered and takes effect on reconnect. Handlers run one at a time, in order, on a background
    /// thread; an exception from one is logged and does not stop delivery.
    /// </summary>
    ValueTask<IAsyncDisposable> SubscribeAsync(string channel, Action<RedisMessage> handler, CancellationToken cancellationToken = default);

    /// <summary>
    /// Any other command, e.g. <c>ExecuteAsync("INCR", [key])</c>. Not for blocking commands (BLPOP, …) or
    /// (P)SUBSCRIBE/MONITOR: the connection is shared, and they would hold it for everyone.
    /// </summary>
    ValueTask<RedisValue> ExecuteAsync(string command, ReadOnlySpan<RedisArgument> arguments = default, CancellationToken cancellationToken = default);
}
