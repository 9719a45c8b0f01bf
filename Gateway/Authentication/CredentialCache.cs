using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Redis;

namespace Ujumbe.Gateway.Authentication;

/// <summary>
/// Keys and accounts as the Api last described them, kept in this process so authenticating a request
/// costs no network round trip. Changes made through the Api (revoke, regenerate, suspend, new limits)
/// are published on Redis and drop the affected entries on every replica at once. While the
/// subscription is down, entries live only <see cref="GatewayOptions.DegradedCacheLifetime"/> (changes
/// cannot reach us), and when it comes back the whole cache is dropped (we may have missed some).
/// </summary>
public sealed partial class CredentialCache(
    KeyDirectory directory, IRedis redis, IOptions<GatewayOptions> options, IOptions<RedisNamingOptions> naming,
    TimeProvider time, ILogger<CredentialCache> logger) : IHostedService
{
    private readonly ConcurrentDictionary<string, Entry<KeyLookup>> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, Entry<AccountLookup>> _accounts = new();
    private readonly GatewayOptions _options = options.Value;
    private volatile bool _listening;
    private long _changesApplied;
    private IAsyncDisposable? _subscription;

    private sealed record Entry<T>(T? Value, DateTimeOffset Expires) where T : class;

    /// <summary>Whether changes are arriving (the subscription is up); when not, entries are short-lived.</summary>
    public bool Listening => _listening;

    public ValueTask<KeyLookup?> FindKeyAsync(string publicKey, CancellationToken cancellationToken) =>
        FindAsync(_keys, publicKey, directory.FindAsync, cancellationToken);

    public ValueTask<AccountLookup?> FindAccountAsync(Guid accountId, CancellationToken cancellationToken) =>
        FindAsync(_accounts, accountId, directory.FindAccountAsync, cancellationToken);

    private async ValueTask<T?> FindAsync<TId, T>(
        ConcurrentDictionary<TId, Entry<T>> cache, TId id, Func<TId, CancellationToken, Task<T?>> fetch, CancellationToken cancellationToken)
        where TId : notnull where T : class
    {
        var now = time.GetUtcNow();
        if (cache.TryGetValue(id, out var cached) && cached.Expires > now)
        {
            return cached.Value;
        }
        var changesBefore = Volatile.Read(ref _changesApplied);
        var value = await fetch(id, cancellationToken);
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
            _keys.TryRemove(change[CredentialChangeMessages.KeyPrefix.Length..], out _);
        }
        else if (change.StartsWith(CredentialChangeMessages.AccountPrefix, StringComparison.Ordinal)
                 && Guid.TryParseExact(change.AsSpan(CredentialChangeMessages.AccountPrefix.Length), "N", out var accountId))
        {
            _accounts.TryRemove(accountId, out _);
            foreach (var (publicKey, entry) in _keys)
            {
                if (entry.Value?.AccountId == accountId)
                {
                    _keys.TryRemove(publicKey, out _);
                }
            }
        }
    }

    public void Clear()
    {
        Interlocked.Increment(ref _changesApplied);
        _keys.Clear();
        _accounts.Clear();
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionStateChanged += OnConnectionStateChanged;
        var channel = naming.Value.Prefix + CredentialChangeMessages.Channel;
        _subscription = await redis.SubscribeAsync(channel, message => Apply(message.Text), cancellationToken);
    }

    private void OnConnectionStateChanged(object? sender, RedisConnectionStateChangedEventArgs state)
    {
        if (state.Role != RedisConnectionRole.Subscriptions)
        {
            return;
        }
        if (state.IsConnected)
        {
            // Whatever changed while we were not listening is unknown: forget everything.
            Clear();
            _listening = true;
            LogListening(logger);
        }
        else
        {
            _listening = false;
            LogNotListening(logger);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        redis.ConnectionStateChanged -= OnConnectionStateChanged;
        if (_subscription is not null)
        {
            await _subscription.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for credential changes; cache cleared")]
    private static partial void LogListening(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not receiving credential changes (Redis unreachable); caching credentials only briefly")]
    private static partial void LogNotListening(ILogger logger);
}
