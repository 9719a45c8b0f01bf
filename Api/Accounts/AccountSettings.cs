using System.Collections.Concurrent;
using Npgsql;

namespace Ujumbe.Api.Accounts;

/// <summary>What a send needs to know about its account before it is queued.</summary>
public sealed record AccountSettings(string DefaultCountry, int MaxSegments);

/// <summary>
/// Account settings for the send path, cached briefly in process: every send needs them, they
/// change rarely (nothing in the API changes them after the account is created today), and a
/// database read per request would cost more than the send's own write. A change made in the
/// database reaches every instance within <see cref="Lifetime"/>.
/// </summary>
public sealed class AccountSettingsCache(NpgsqlDataSource database, TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);
    private readonly ConcurrentDictionary<Guid, (AccountSettings Settings, DateTimeOffset Expires)> _cache = new();

    public async ValueTask<AccountSettings?> GetAsync(Guid accountId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_cache.TryGetValue(accountId, out var cached) && cached.Expires > now)
        {
            return cached.Settings;
        }
        await using var command = database.CreateCommand("select default_country, max_segments from accounts where id = $1");
        command.Parameters.Add(new() { Value = accountId });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        var settings = new AccountSettings(reader.GetString(0), reader.GetInt32(1));
        _cache[accountId] = (settings, now + Lifetime);
        return settings;
    }

    /// <summary>Drops this instance's copy after a change made through it (other instances see it within <see cref="Lifetime"/>).</summary>
    public void Forget(Guid accountId) => _cache.TryRemove(accountId, out _);

    /// <summary>The country that numbers without a country code belong to, for the caller's account.</summary>
    public async ValueTask<string> DefaultCountryAsync(Guid accountId, CancellationToken cancellationToken) =>
        (await GetAsync(accountId, cancellationToken))?.DefaultCountry ?? Countries.Default;
}
