using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Ujumbe.Shared.Identity;
using StackExchange.Redis;
using Ujumbe.Shared.Redis;

namespace Ujumbe.Gateway.Authentication;

/// <summary>
/// Keys and accounts as the Api last described them, kept in this process so authenticating a request
/// costs no network round trip. Changes made through the Api (revoke, regenerate, suspend, new limits)
/// are published on Redis and drop the affected entries on every replica at once. While the
/// subscription is down, entries live only <see cref="GatewayOptions.DegradedCacheLifetime"/> (changes
/// cannot reach us), and when it comes back the whole cache is dropped (we may have missed some).
/// Expired entries are swept periodically and "no such key" is not remembered past
/// <see cref="GatewayOptions.CacheCapacity"/>, so made-up keys cannot grow it without bound.
/// </summary>
public sealed partial class CredentialCache(
    KeyDirectory directory, IConnectionMultiplexer redis, IOptions<GatewayOptions> options, IOptions<RedisNamingOptions> naming,
    TimeProvider time, ILogger<CredentialCache> logger) : IHostedService
{
    private readonly ConcurrentDictionary<string, Entry<KeyLookup>> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, Entry<AccountLookup>> _accounts = new();
    // Lookups of keys under way (Asked false: its starter's address may not ask, so nothing was asked).
    private readonly ConcurrentDictionary<string, Task<(bool Asked, KeyLookup? Key)>> _keyLookups = new(StringComparer.Ordinal);
    private readonly GatewayOptions _options = options.Value;
    // Whether changes are arriving (the subscription is up); when not, entries are short-lived.
    private volatile bool _listening;
    private long _changesApplied;
    private readonly RedisChannel _channel = RedisChannel.Literal(naming.Value.Prefix + CredentialChangeMessages.Channel);
    private ITimer? _sweeper;

    private sealed record Entry<T>(T? Value, DateTimeOffset Expires) where T : class;

    /// <summary>Entries held, live or expired.</summary>
    public int Count => _keys.Count + _accounts.Count;

    /// <summary>Whether this replica holds a live answer for the key (null: there is no such key), so no lookup is needed.</summary>
    public bool TryGetKey(string publicKey, out KeyLookup? key) => TryGet(_keys, publicKey, out key);

    private bool TryGet<TId, T>(ConcurrentDictionary<TId, Entry<T>> cache, TId id, out T? value) where TId : notnull where T : class
    {
        var live = cache.TryGetValue(id, out var cached) && cached.Expires > time.GetUtcNow();
        value = live ? cached!.Value : null;
        return live;
    }

    public ValueTask<KeyLookup?> FindKeyAsync(string publicKey, CancellationToken cancellationToken) =>
        FindAsync(_keys, publicKey, directory.FindAsync, cancellationToken);

    /// <summary>
    /// Finds a key this replica does not hold, asking the Api once at a time per key: callers arriving while
    /// a lookup is under way wait for it. Only the caller that starts a lookup passes <paramref name="admit"/>
    /// (its address pays for asking; on false it has answered the request itself and gets Refused); if it
    /// is refused, the waiting callers try on their own account. <paramref name="settle"/> runs for the
    /// starting caller once it was admitted: the Api answered (true) or could not be asked (false). The Api
    /// is asked without the starter's cancellation, so its hanging up does not fail the waiting callers (the
    /// directory's own timeout bounds it).
    /// </summary>
    public async ValueTask<(bool Refused, KeyLookup? Key)> FindUncachedKeyAsync(
        string publicKey, Func<ValueTask<bool>> admit, Func<KeyLookup?, bool, ValueTask> settle, CancellationToken cancellationToken)
    {
        while (true)
        {
            var mine = new TaskCompletionSource<(bool Asked, KeyLookup? Key)>(TaskCreationOptions.RunContinuationsAsynchronously);
            var lookup = _keyLookups.GetOrAdd(publicKey, mine.Task);
            if (lookup != mine.Task)
            {
                var (asked, key) = await lookup.WaitAsync(cancellationToken);
                if (asked)
                {
                    return (false, key);
                }
                continue;
            }
            var admitted = false;
            (bool Asked, KeyLookup? Key) result = (false, null);
            try
            {
                admitted = await admit();
                if (admitted)
                {
                    result = (true, await FindKeyAsync(publicKey, CancellationToken.None));
                }
            }
            finally
            {
                // Out of the table before the answer, so nobody joins a finished lookup. If nothing was asked
                // (refused, the lookup failed, or the starter hung up), the waiting callers try on their own.
                _keyLookups.TryRemove(KeyValuePair.Create(publicKey, mine.Task));
                mine.SetResult(result);
                if (admitted)
                {
                    await settle(result.Key, result.Asked);
                }
            }
            return admitted ? (false, result.Key) : (true, null);
        }
    }

    public ValueTask<AccountLookup?> FindAccountAsync(Guid accountId, CancellationToken cancellationToken) =>
        FindAsync(_accounts, accountId, directory.FindAccountAsync, cancellationToken);

    private async ValueTask<T?> FindAsync<TId, T>(
        ConcurrentDictionary<TId, Entry<T>> cache, TId id, Func<TId, CancellationToken, Task<T?>> fetch, CancellationToken cancellationToken)
        where TId : notnull where T : class
    {
        if (TryGet(cache, id, out var cached))
        {
            return cached;
        }
        var now = time.GetUtcNow();
        var changesBefore = Volatile.Read(ref _changesApplied);
        var value = await fetch(id, cancellationToken);
        if (value is null && cache.Count >= _options.CacheCapacity)
        {
            return value; // asking again costs the asker (see Admission), not our memory
        }
        var entry = new Entry<T>(value, now + Lifetime(value is null));
        cache[id] = entry;
        // A change applied while we were asking may be newer than our answer; its removal may already have
        // run, so take our entry back out rather than keep a stale answer for the whole lifetime.
        if (Volatile.Read(ref _changesApplied) != changesBefore)
        {
            cache.TryRemove(KeyValuePair.Create(id, entry));
        }
        return value;
    }

    private TimeSpan Lifetime(bool missing) =>
        !_listening ? _options.DegradedCacheLifetime : missing ? _options.MissingCacheLifetime : _options.CacheLifetime;

    /// <summary>Applies one published change.</summary>
    public void Apply(string change)
    {
        Interlocked.Increment(ref _changesApplied);
        if (change.StartsWith(CredentialChangeMessages.KeyPrefix, StringComparison.Ordinal))
        {
            var publicKey = change[CredentialChangeMessages.KeyPrefix.Length..];
            _keys.TryRemove(publicKey, out _);
            // A lookup under way may have been answered before the change: later requests must not join it.
            _keyLookups.TryRemove(publicKey, out _);
        }
        else if (change.StartsWith(CredentialChangeMessages.AccountPrefix, StringComparison.Ordinal)
                 && Guid.TryParseExact(change.AsSpan(CredentialChangeMessages.AccountPrefix.Length), "N", out var accountId))
        {
            _accounts.TryRemove(accountId, out _);
            _keyLookups.Clear(); // which keys are the account's is not known until they are answered
            // A partner's change reaches its tenants too (their effective status follows the partner's).
            foreach (var (id, entry) in _accounts)
            {
                if (entry.Value?.PartnerId == accountId)
                {
                    _accounts.TryRemove(id, out _);
                }
            }
            foreach (var (publicKey, entry) in _keys)
            {
                if (entry.Value?.AccountId == accountId || entry.Value?.PartnerId == accountId)
                {
                    _keys.TryRemove(publicKey, out _);
                }
            }
        }
    }

    public void Clear()
    {
        Interlocked.Increment(ref _changesApplied);
        _keyLookups.Clear();
        _keys.Clear();
        _accounts.Clear();
    }

    private void Sweep()
    {
        var now = time.GetUtcNow();
        foreach (var (publicKey, entry) in _keys)
        {
            if (entry.Expires <= now)
            {
                _keys.TryRemove(KeyValuePair.Create(publicKey, entry));
            }
        }
        foreach (var (accountId, entry) in _accounts)
        {
            if (entry.Expires <= now)
            {
                _accounts.TryRemove(KeyValuePair.Create(accountId, entry));
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _sweeper = time.CreateTimer(_ => Sweep(), null, _options.MissingCacheLifetime, _options.MissingCacheLifetime);
        redis.ConnectionFailed += OnConnectionFailed;
        redis.ConnectionRestored += OnConnectionRestored;
        try
        {
            // The client keeps the subscription and subscribes again after every reconnect.
            await redis.GetSubscriber().SubscribeAsync(_channel, OnChange);
        }
        catch (Exception error) when (RedisRegistration.IsRedisFailure(error))
        {
            LogSubscribeFailed(logger, error);
        }
        _listening = redis.GetSubscriber().IsConnected(_channel);
    }

    private void OnChange(RedisChannel channel, StackExchange.Redis.RedisValue message)
    {
        if (message.HasValue)
        {
            Apply(message.ToString());
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs failure)
    {
        // Either connection may carry the subscription (RESP3 multiplexes both onto one).
        if (_listening)
        {
            _listening = false;
            LogNotListening(logger);
        }
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs restored)
    {
        if (!redis.GetSubscriber().IsConnected(_channel))
        {
            return; // the connection that carries the subscription is not back yet
        }
        // Whatever changed while we were not listening is unknown: forget everything.
        Clear();
        _listening = true;
        LogListening(logger);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionFailed -= OnConnectionFailed;
        redis.ConnectionRestored -= OnConnectionRestored;
        if (_sweeper is not null)
        {
            await _sweeper.DisposeAsync();
        }
        try
        {
            await redis.GetSubscriber().UnsubscribeAsync(_channel, OnChange);
        }
        catch (Exception error) when (RedisRegistration.IsRedisFailure(error))
        {
            // Stopping anyway: the connection goes with the process.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not subscribe to credential changes at start (Redis unreachable); subscribing when it answers")]
    private static partial void LogSubscribeFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for credential changes; cache cleared")]
    private static partial void LogListening(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not receiving credential changes (Redis unreachable); caching credentials only briefly")]
    private static partial void LogNotListening(ILogger logger);
}
