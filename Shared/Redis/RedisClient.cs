using System.Buffers;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ujumbe.Shared.Redis;

/// <summary>
/// Ujumbe's own Redis client (RESP2 over TCP): one multiplexed, pipelined command connection shared by every
/// caller, plus a subscriber connection opened on the first subscription. Both reconnect by themselves.
/// Create one per process and share it (register as a singleton); see docs/decisions/0009-redis-client.md.
/// </summary>
public sealed class RedisClient : IRedis
{
    private readonly RedisConnector _commands;
    private readonly RedisSubscriptions _subscriptions;
    private int _disposed;

    /// <summary>
    /// Starts connecting in the background and returns at once; never throws for an unreachable server
    /// (commands issued before the first attempt has finished wait for it, later ones fail fast while
    /// disconnected). Use <see cref="ConnectAsync(RedisOptions, ILogger{RedisClient}?, CancellationToken)"/>
    /// to wait for the first connection.
    /// </summary>
    public RedisClient(RedisOptions options, ILogger<RedisClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        ILogger log = logger ?? (ILogger)NullLogger.Instance;
        _commands = new RedisConnector(options, RedisConnectionRole.Commands, onMessage: null, onConnected: null, RaiseStateChanged, log);
        _subscriptions = new RedisSubscriptions(options, RaiseStateChanged, log);
        _commands.Start();
    }

    /// <inheritdoc cref="RedisClient(RedisOptions, ILogger{RedisClient}?)"/>
    public RedisClient(string connectionString, ILogger<RedisClient>? logger = null)
        : this(RedisOptions.Parse(connectionString), logger)
    {
    }

    /// <summary>
    /// Creates a client and waits for its first connection attempt. If that fails: throws
    /// <see cref="RedisConnectionException"/> when <see cref="RedisOptions.AbortConnect"/> is true, otherwise
    /// returns the client, which keeps reconnecting in the background.
    /// </summary>
    public static async Task<RedisClient> ConnectAsync(RedisOptions options, ILogger<RedisClient>? logger = null, CancellationToken cancellationToken = default)
    {
        var client = new RedisClient(options, logger);
        try
        {
            await client._commands.FirstAttempt.WaitAsync(cancellationToken);
            if (!client.IsConnected && options.AbortConnect)
            {
                var cause = client._commands.LastError;
                throw new RedisConnectionException(cause?.Message ?? $"Could not connect to Redis at {options.Endpoint}.", cause);
            }
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc cref="ConnectAsync(RedisOptions, ILogger{RedisClient}?, CancellationToken)"/>
    public static Task<RedisClient> ConnectAsync(string connectionString, ILogger<RedisClient>? logger = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(RedisOptions.Parse(connectionString), logger, cancellationToken);

    public RedisOptions Options { get; }

    public bool IsConnected => _commands.Current is not null;

    /// <summary>The subscriber connection is up (false until the first subscription opens it).</summary>
    public bool IsSubscriberConnected => _subscriptions.IsConnected;

    public event EventHandler<RedisConnectionStateChangedEventArgs>? ConnectionStateChanged;

    public ValueTask<RedisValue> ExecuteAsync(string command, ReadOnlySpan<RedisArgument> arguments = default, CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return ValueTask.FromException<RedisValue>(new ObjectDisposedException(nameof(RedisClient)));
        }
        if (_commands.Current is { } connection)
        {
            return connection.ExecuteAsync(command, arguments, cancellationToken);
        }
        if (!_commands.FirstAttempt.IsCompleted)
        {
            RespWriter.Validate(command, arguments);
            return ExecuteAfterFirstAttemptAsync(command, arguments.ToArray(), cancellationToken);
        }
        return ValueTask.FromException<RedisValue>(_commands.NotConnected());
    }

    /// <summary>Only right after construction: waits (at most the command timeout) for the first connection.</summary>
    private async ValueTask<RedisValue> ExecuteAfterFirstAttemptAsync(string command, RedisArgument[] arguments, CancellationToken cancellationToken)
    {
        try
        {
            await _commands.FirstAttempt.WaitAsync(Options.CommandTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new RedisTimeoutException($"Still connecting to Redis at {Options.Endpoint} after {(long)Options.CommandTimeout.TotalMilliseconds} ms.");
        }
        return _commands.Current is { } connection
            ? await connection.ExecuteAsync(command, arguments, cancellationToken)
            : throw _commands.NotConnected();
    }

    public ValueTask<TimeSpan> PingAsync(CancellationToken cancellationToken = default) =>
        MeasureAsync(Stopwatch.GetTimestamp(), ExecuteAsync("PING", [], cancellationToken));

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<TimeSpan> MeasureAsync(long started, ValueTask<RedisValue> reply)
    {
        await reply;
        return Stopwatch.GetElapsedTime(started);
    }

    public ValueTask<byte[]?> GetAsync(string key, CancellationToken cancellationToken = default) =>
        AsBytesAsync(ExecuteAsync("GET", [Key(key)], cancellationToken));

    public ValueTask<string?> GetStringAsync(string key, CancellationToken cancellationToken = default) =>
        AsStringAsync(ExecuteAsync("GET", [Key(key)], cancellationToken));

    public ValueTask SetAsync(string key, RedisArgument value, TimeSpan? expiry = null, CancellationToken cancellationToken = default)
    {
        if (expiry is not { } ttl)
        {
            return IgnoreAsync(ExecuteAsync("SET", [Key(key), value], cancellationToken));
        }
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero, nameof(expiry));
        var milliseconds = (long)Math.Ceiling(ttl.TotalMilliseconds);
        return IgnoreAsync(ExecuteAsync("SET", [Key(key), value, "PX", milliseconds], cancellationToken));
    }

    public ValueTask<long> DeleteAsync(ReadOnlySpan<string> keys, CancellationToken cancellationToken = default)
    {
        if (keys.IsEmpty)
        {
            return ValueTask.FromResult(0L);
        }
        var arguments = ArrayPool<RedisArgument>.Shared.Rent(keys.Length);
        try
        {
            for (var i = 0; i < keys.Length; i++)
            {
                arguments[i] = Key(keys[i]);
            }
            // The command is encoded before ExecuteAsync returns, so the array can go back at once.
            return AsInt64Async(ExecuteAsync("DEL", arguments.AsSpan(0, keys.Length), cancellationToken));
        }
        finally
        {
            ArrayPool<RedisArgument>.Shared.Return(arguments, clearArray: true);
        }
    }

    public ValueTask<RedisValue> EvalAsync(RedisScript script, ReadOnlySpan<string> keys, ReadOnlySpan<RedisArgument> arguments = default,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        // EVALSHA sha numkeys key… arg…; kept (pooled) for an EVAL retry after NOSCRIPT.
        var count = 2 + keys.Length + arguments.Length;
        var buffer = ArrayPool<RedisArgument>.Shared.Rent(count);
        buffer[0] = script.Sha1;
        buffer[1] = keys.Length;
        for (var i = 0; i < keys.Length; i++)
        {
            buffer[2 + i] = Key(keys[i]);
        }
        arguments.CopyTo(buffer.AsSpan(2 + keys.Length));
        return EvalCoreAsync(script, buffer, count, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<RedisValue> EvalCoreAsync(RedisScript script, RedisArgument[] buffer, int count, CancellationToken cancellationToken)
    {
        try
        {
            try
            {
                return await ExecuteAsync("EVALSHA", buffer.AsSpan(0, count), cancellationToken);
            }
            catch (RedisServerException error) when (error.ErrorCode == "NOSCRIPT")
            {
                buffer[0] = script.Source; // EVAL also caches it again under the same SHA1
                return await ExecuteAsync("EVAL", buffer.AsSpan(0, count), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<RedisArgument>.Shared.Return(buffer, clearArray: true);
        }
    }

    public ValueTask<long> PublishAsync(string channel, RedisArgument message, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(channel);
        return AsInt64Async(ExecuteAsync("PUBLISH", [channel, message], cancellationToken));
    }

    public ValueTask<IAsyncDisposable> SubscribeAsync(string channel, Action<RedisMessage> handler, CancellationToken cancellationToken = default) =>
        Volatile.Read(ref _disposed) != 0
            ? ValueTask.FromException<IAsyncDisposable>(new ObjectDisposedException(nameof(RedisClient)))
            : _subscriptions.SubscribeAsync(channel, handler, cancellationToken);

    /// <summary>Closes both connections; pending commands fail, later ones throw <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _subscriptions.DisposeAsync();
        await _commands.DisposeAsync();
    }

    private void RaiseStateChanged(RedisConnectionStateChangedEventArgs change) => ConnectionStateChanged?.Invoke(this, change);

    private static RedisArgument Key(string key) => key is null ? throw new ArgumentNullException(nameof(key)) : new RedisArgument(key);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<byte[]?> AsBytesAsync(ValueTask<RedisValue> reply) => (await reply).AsBytes();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<string?> AsStringAsync(ValueTask<RedisValue> reply) => (await reply).AsString();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<long> AsInt64Async(ValueTask<RedisValue> reply) => (await reply).AsInt64();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask IgnoreAsync(ValueTask<RedisValue> reply) => await reply;
}
