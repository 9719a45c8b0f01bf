using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using Ujumbe.Shared.Providers;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Worker.Providers;

/// <summary>One route: destinations starting with <see cref="Prefix"/> (optionally of one account) go to these providers, in order.</summary>
public sealed record ProviderRoute(Guid Id, string Prefix, Guid? AccountId, IReadOnlyList<Guid> ProviderIds);

/// <summary>Providers and routes as last read, with the runtime (circuit, throughput cap) of each provider.</summary>
public sealed class ProviderSnapshot(IReadOnlyDictionary<Guid, UpstreamProvider> providers, IReadOnlyList<ProviderRoute> routes, UpstreamProvider builtInSimulator)
{
    public IReadOnlyDictionary<Guid, UpstreamProvider> Providers { get; } = providers;

    /// <summary>Account routes first, then the longest prefix first: the first match wins.</summary>
    public IReadOnlyList<ProviderRoute> Routes { get; } = routes
        .OrderByDescending(r => r.AccountId is not null).ThenByDescending(r => r.Prefix.Length).ToList();

    /// <summary>Where messages go that no route matches (and all messages while there are no routes): the simulator.</summary>
    public UpstreamProvider Default { get; } = builtInSimulator;

    public UpstreamProvider? ByName(string name) =>
        name == Default.Name ? Default : Providers.Values.FirstOrDefault(p => p.Name == name);

    public ProviderRoute? Match(string recipient, Guid accountId)
    {
        var digits = recipient.TrimStart('+');
        return Routes.FirstOrDefault(r => (r.AccountId is null || r.AccountId == accountId) && digits.StartsWith(r.Prefix, StringComparison.Ordinal));
    }
}

/// <summary>
/// Reads providers and routes from the database (at most every <see cref="ProvidersOptions.RefreshInterval"/>), so
/// an operator's change applies within a second without a restart. A provider whose row did not change keeps its
/// runtime, and with it its circuit state and throughput cap.
/// </summary>
public sealed class ProviderCatalog(
    NpgsqlDataSource database, SimulatorProvider simulator, WebhookSecrets secrets, IHttpClientFactory clients,
    IOptions<ProvidersOptions> options, TimeProvider time, ILogger<ProviderCatalog> logger) : IDisposable
{
    public const string HttpClientName = "providers";
    public const string BuiltInSimulator = "simulator";

    private readonly ProvidersOptions _options = options.Value;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private ProviderSnapshot? _snapshot;
    private long _readAt;
    private UpstreamProvider? _simulator;

    public async Task<ProviderSnapshot> CurrentAsync(CancellationToken cancellationToken)
    {
        if (_snapshot is { } fresh && time.GetElapsedTime(Interlocked.Read(ref _readAt)) < _options.RefreshInterval)
        {
            return fresh;
        }
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            if (_snapshot is { } current && time.GetElapsedTime(Interlocked.Read(ref _readAt)) < _options.RefreshInterval)
            {
                return current;
            }
            try
            {
                _snapshot = await ReadAsync(cancellationToken);
            }
            catch (Exception error) when (error is NpgsqlException or JsonException && _snapshot is not null)
            {
                ProviderLog.RefreshFailed(logger, error);
            }
            Interlocked.Exchange(ref _readAt, time.GetTimestamp());
            return _snapshot!;
        }
        finally
        {
            _refresh.Release();
        }
    }

    private async Task<ProviderSnapshot> ReadAsync(CancellationToken cancellationToken)
    {
        _simulator ??= new UpstreamProvider(Guid.Empty, BuiltInSimulator, DateTime.MinValue, enabled: true, maxPerSecond: null,
            TimeSpan.FromSeconds(30), submitter: null, simulator, _options, logger);
        var previous = _snapshot?.Providers ?? new Dictionary<Guid, UpstreamProvider>();
        var providers = new Dictionary<Guid, UpstreamProvider>();
        var routes = new List<ProviderRoute>();
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using (var read = new NpgsqlCommand(
            "select id, name, kind, settings::text, secrets, callback_token, max_per_second, enabled, updated_at from providers", connection))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var id = reader.GetGuid(0);
                var version = reader.GetDateTime(8);
                if (previous.TryGetValue(id, out var same) && same.Version == version)
                {
                    providers[id] = same;
                    continue;
                }
                providers[id] = Build(id, reader.GetString(1), reader.GetString(2), reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4), reader.GetFieldValue<byte[]>(5),
                    reader.IsDBNull(6) ? null : reader.GetInt32(6), reader.GetBoolean(7), version);
            }
        }
        await using (var read = new NpgsqlCommand("select id, prefix, account_id, provider_ids from routes", connection))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                routes.Add(new ProviderRoute(reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetGuid(2),
                    reader.GetFieldValue<Guid[]>(3)));
            }
        }
        foreach (var (id, gone) in previous)
        {
            if (!providers.TryGetValue(id, out var kept) || !ReferenceEquals(kept, gone))
            {
                gone.Dispose();
            }
        }
        return new ProviderSnapshot(providers, routes, _simulator);
    }

    private UpstreamProvider Build(Guid id, string name, string kind, string settingsJson, byte[]? sealedSecrets, byte[] sealedToken,
        int? maxPerSecond, bool enabled, DateTime version)
    {
        var secretValues = sealedSecrets is null
            ? new Dictionary<string, string>()
            : JsonSerializer.Deserialize<Dictionary<string, string>>(secrets.Decrypt(sealedSecrets)) ?? [];
        var token = secrets.Decrypt(sealedToken);
        var http = clients.CreateClient(HttpClientName);
        switch (kind)
        {
            case ProviderKinds.Kannel:
            {
                var settings = JsonSerializer.Deserialize<KannelSettings>(settingsJson, ProviderJson.Options)!;
                var submitter = new KannelSubmitter(id, settings, secretValues.GetValueOrDefault("password"),
                    settings.CallbackBaseUrl ?? _options.CallbackBaseUrl ?? "", token, http);
                return new UpstreamProvider(id, name, version, enabled, maxPerSecond, TimeSpan.FromSeconds(settings.TimeoutSeconds),
                    submitter, null, _options, logger);
            }
            case ProviderKinds.Http:
            {
                var settings = JsonSerializer.Deserialize<HttpProviderSettings>(settingsJson, ProviderJson.Options)!;
                var submitter = new HttpSubmitter(id, settings, secretValues.GetValueOrDefault("auth_header_value"),
                    _options.CallbackBaseUrl ?? "", token, http);
                return new UpstreamProvider(id, name, version, enabled, maxPerSecond, TimeSpan.FromSeconds(settings.TimeoutSeconds),
                    submitter, null, _options, logger);
            }
            default:
                return new UpstreamProvider(id, name, version, enabled, maxPerSecond, TimeSpan.FromSeconds(30), null, simulator, _options, logger);
        }
    }

    public void Dispose()
    {
        foreach (var provider in _snapshot?.Providers.Values ?? [])
        {
            provider.Dispose();
        }
        _simulator?.Dispose();
        _refresh.Dispose();
    }
}
