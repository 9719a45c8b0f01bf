using Npgsql;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Api.Compat;

/// <summary>
/// Which batches requests are waiting on (<see cref="ProviderAnswers"/>), woken when the Worker notifies that a provider
/// answered for them. Also remembers the last few thousand batches notified while nobody watched them yet: a send's
/// request starts watching just after its commit, and an answer notified in between must not be missed.
/// </summary>
public sealed class ProviderAnswerSignals
{
    private const int Remembered = 16_384;

    private readonly Lock _gate = new();
    private readonly Dictionary<Guid, Signal> _watched = [];
    private readonly HashSet<Guid> _answered = [];
    private readonly Queue<Guid> _answeredOrder = new(Remembered);
    private volatile bool _listening;

    /// <summary>Whether notifications are being heard now; if not, waiting requests poll.</summary>
    public bool Listening => _listening;

    public ProviderAnswerWatch Watch(Guid batchId)
    {
        lock (_gate)
        {
            if (!_watched.TryGetValue(batchId, out var signal))
            {
                signal = new Signal();
                _watched.Add(batchId, signal);
            }
            signal.Watchers++;
            return new ProviderAnswerWatch(this, batchId, signal, _answered.Remove(batchId));
        }
    }

    /// <summary>A notification's batches: wakes their watchers, or remembers them for a watch that is about to begin.</summary>
    public void Answered(string payload)
    {
        lock (_gate)
        {
            ProviderAnswerNotifications.Read(payload, id =>
            {
                if (_watched.TryGetValue(id, out var signal))
                {
                    signal.Wake();
                    return;
                }
                if (_answeredOrder.Count == Remembered)
                {
                    _answered.Remove(_answeredOrder.Dequeue());
                }
                _answered.Add(id);
                _answeredOrder.Enqueue(id);
            });
        }
    }

    /// <summary>
    /// Starts or stops listening. Either way every waiting request reads its batch again now: what was notified while
    /// nobody listened is lost, and a request that was waiting for a notification must start polling.
    /// </summary>
    public void SetListening(bool listening)
    {
        _listening = listening;
        lock (_gate)
        {
            foreach (var signal in _watched.Values)
            {
                signal.Wake();
            }
        }
    }

    internal void Unwatch(Guid batchId, Signal signal)
    {
        lock (_gate)
        {
            if (--signal.Watchers == 0)
            {
                _watched.Remove(batchId);
            }
        }
    }

    internal sealed class Signal
    {
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Watchers;

        public Task Changed => Volatile.Read(ref _changed).Task;

        /// <summary>Completes what watchers have taken so far; they take a new one before they read again.</summary>
        public void Wake() =>
            Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }
}

/// <summary>One request's watch on a batch; disposing it ends the watch.</summary>
public sealed class ProviderAnswerWatch : IDisposable
{
    private readonly ProviderAnswerSignals _signals;
    private readonly Guid _batchId;
    private readonly ProviderAnswerSignals.Signal _signal;
    private bool _disposed;

    internal ProviderAnswerWatch(ProviderAnswerSignals signals, Guid batchId, ProviderAnswerSignals.Signal signal, bool answeredBeforeWatch)
    {
        _signals = signals;
        _batchId = batchId;
        _signal = signal;
        AnsweredBeforeWatch = answeredBeforeWatch;
    }

    /// <summary>The batch was notified before this watch began.</summary>
    public bool AnsweredBeforeWatch { get; }

    /// <summary>Completes at the batch's next notification (or when listening starts or stops).</summary>
    public Task Changed => _signal.Changed;

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _signals.Unwatch(_batchId, _signal);
        }
    }
}

/// <summary>
/// Holds the Api's one <c>LISTEN</c> connection on <see cref="ProviderAnswerNotifications.Channel"/> (decision 0031) and
/// hands what it hears to <see cref="ProviderAnswerSignals"/>. A connection of its own, outside the pool: it never
/// goes back to be used for anything else while still listening. Lost (PostgreSQL restarted, the backend
/// terminated, the network), it connects again after 100 ms, doubling to 10 s while it keeps failing; meanwhile
/// waiting requests poll.
/// </summary>
public sealed partial class ProviderAnswerListener(
    ProviderAnswerSignals signals, IConfiguration configuration, TimeProvider time, ILogger<ProviderAnswerListener> logger)
    : BackgroundService
{
    /// <summary>How the connection shows in <c>pg_stat_activity</c>.</summary>
    public const string ApplicationName = "ujumbe-api-provider-answers";

    private static readonly TimeSpan FirstRetry = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LongestRetry = TimeSpan.FromSeconds(10);

    /// <summary>After this long without a notification the connection is checked with a query (a dead peer sends nothing).</summary>
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(configuration.GetRequiredConnectionString("postgres"))
        {
            Pooling = false,
            ApplicationName = ApplicationName,
        }.ConnectionString;
        var retry = FirstRetry;
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, notification) => signals.Answered(notification.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = new NpgsqlCommand("listen " + ProviderAnswerNotifications.Channel, connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                signals.SetListening(true);
                if (failures > 0)
                {
                    LogListeningAgain(logger, failures);
                }
                retry = FirstRetry;
                failures = 0;
                while (true)
                {
                    if (!await connection.WaitAsync(IdleCheck, stoppingToken))
                    {
                        await using var check = new NpgsqlCommand("select 1", connection);
                        await check.ExecuteScalarAsync(stoppingToken);
                    }
                }
            }
            catch (Exception error) when (!stoppingToken.IsCancellationRequested)
            {
                signals.SetListening(false);
                failures++;
                LogListenFailed(logger, error, failures, retry);
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            try
            {
                await Task.Delay(retry, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            retry = retry * 2 < LongestRetry ? retry * 2 : LongestRetry;
        }
        signals.SetListening(false);
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Listening for provider answers failed ({Failures} in a row); waiting requests poll meanwhile, retrying in {Retry}")]
    private static partial void LogListenFailed(ILogger logger, Exception error, int failures, TimeSpan retry);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for provider answers again after {Failures} failure(s)")]
    private static partial void LogListeningAgain(ILogger logger, int failures);
}
