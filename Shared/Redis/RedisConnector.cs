using Microsoft.Extensions.Logging;

namespace Ujumbe.Shared.Redis;

/// <summary>
/// Keeps one connection of a role up: connects in the background, and when the connection breaks connects
/// again with backoff (<see cref="RedisOptions.ReconnectMinDelay"/> doubling to
/// <see cref="RedisOptions.ReconnectMaxDelay"/>, with jitter so replicas do not retry in step) until the
/// server is back or the connector is disposed. Nothing waits in between: while there is no connection,
/// <see cref="Current"/> is null and callers fail fast.
/// </summary>
internal sealed partial class RedisConnector : IAsyncDisposable
{
    private readonly RedisOptions _options;
    private readonly RedisConnectionRole _role;
    private readonly Action<RedisMessage>? _onMessage;
    private readonly Func<RedisConnection, CancellationToken, Task>? _onConnected;
    private readonly Action<RedisConnectionStateChangedEventArgs> _stateChanged;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _firstAttempt = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile RedisConnection? _current;
    private volatile Exception? _lastError;
    private Task _loop = Task.CompletedTask;

    /// <param name="onConnected">Runs on each new connection before it is published (e.g. to renew subscriptions); throwing drops it.</param>
    public RedisConnector(RedisOptions options, RedisConnectionRole role, Action<RedisMessage>? onMessage,
        Func<RedisConnection, CancellationToken, Task>? onConnected, Action<RedisConnectionStateChangedEventArgs> stateChanged, ILogger logger)
    {
        _options = options;
        _role = role;
        _onMessage = onMessage;
        _onConnected = onConnected;
        _stateChanged = stateChanged;
        _logger = logger;
    }

    /// <summary>The open connection, or null while (re)connecting.</summary>
    public RedisConnection? Current => _current is { IsOpen: true } connection ? connection : null;

    /// <summary>Why the last attempt failed or the last connection closed.</summary>
    public Exception? LastError => _lastError;

    /// <summary>Completes when the first attempt has succeeded or failed.</summary>
    public Task FirstAttempt => _firstAttempt.Task;

    public void Start()
    {
        using (ExecutionContext.SuppressFlow()) // a background loop must not keep its creator's context
        {
            _loop = Task.Run(RunAsync);
        }
    }

    /// <summary>The exception for a command issued while there is no connection.</summary>
    public RedisConnectionException NotConnected()
    {
        var last = _lastError;
        return new RedisConnectionException(
            $"Not connected to Redis at {_options.Endpoint} (reconnecting in the background){(last is null ? "." : ": " + last.Message)}", last);
    }

    private async Task RunAsync()
    {
        var delay = _options.ReconnectMinDelay;
        var failures = 0;
        var stopping = _stopping.Token;
        while (!stopping.IsCancellationRequested)
        {
            RedisConnection? connection = null;
            try
            {
                connection = await RedisConnection.ConnectAsync(_options, _onMessage, stopping);
                if (_onConnected is not null)
                {
                    await _onConnected(connection, stopping);
                }
                _current = connection;
                _lastError = null;
                _firstAttempt.TrySetResult();
                LogConnected(_logger, _role, _options.Endpoint, failures);
                Raise(new RedisConnectionStateChangedEventArgs(_role, true, _options.Endpoint, null));
                failures = 0;
                delay = _options.ReconnectMinDelay;

                Exception reason;
                using (stopping.UnsafeRegister(static state => ((RedisConnection)state!).Fail(Disposed()), connection))
                {
                    reason = await connection.Completion;
                }
                _current = null;
                _lastError = reason;
                if (stopping.IsCancellationRequested)
                {
                    break;
                }
                LogDisconnected(_logger, _role, _options.Endpoint, reason.Message);
                Raise(new RedisConnectionStateChangedEventArgs(_role, false, _options.Endpoint, reason));
                continue; // try again at once: a restarted server is usually back already
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                if (connection is not null)
                {
                    connection.Fail(Disposed());
                    await connection.Completion;
                }
                break;
            }
            catch (Exception error)
            {
                if (connection is not null)
                {
                    connection.Fail(error);
                    await connection.Completion;
                }
                _lastError = error;
                _firstAttempt.TrySetResult();
                if (failures++ == 0)
                {
                    LogConnectFailed(_logger, _role, _options.Endpoint, error.Message);
                }
            }
            try
            {
                await Task.Delay(Jitter(delay), stopping);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.ReconnectMaxDelay.Ticks));
        }
        _firstAttempt.TrySetResult();
    }

    private void Raise(RedisConnectionStateChangedEventArgs change)
    {
        try
        {
            _stateChanged(change);
        }
        catch (Exception error)
        {
            LogHandlerFailed(_logger, error);
        }
    }

#pragma warning disable CA5394 // jitter, not security
    private static TimeSpan Jitter(TimeSpan delay) => delay * (0.8 + Random.Shared.NextDouble() * 0.4);
#pragma warning restore CA5394

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested)
        {
            return;
        }
        await _stopping.CancelAsync(); // fails the current connection too (registration in RunAsync)
        await _loop;
        _stopping.Dispose();
    }

    private static ObjectDisposedException Disposed() => new(nameof(RedisClient), "The Redis client was disposed.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Redis {Role} connection to {Endpoint} is up (after {Failures} failed attempts)")]
    private static partial void LogConnected(ILogger logger, RedisConnectionRole role, string endpoint, int failures);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis {Role} connection to {Endpoint} went down: {Reason}; reconnecting")]
    private static partial void LogDisconnected(ILogger logger, RedisConnectionRole role, string endpoint, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot connect the Redis {Role} connection to {Endpoint}: {Reason}; retrying with backoff")]
    private static partial void LogConnectFailed(ILogger logger, RedisConnectionRole role, string endpoint, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "A Redis connection state handler threw")]
    private static partial void LogHandlerFailed(ILogger logger, Exception error);
}
