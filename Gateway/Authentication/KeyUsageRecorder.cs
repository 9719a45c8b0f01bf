using System.Collections.Concurrent;
using System.Net.Http.Json;
using Microsoft.Extensions.Options;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Gateway.Authentication;

/// <summary>
/// Coalesces <c>last_used_at</c>: a request only notes its key in memory; a background flush
/// sends the latest use of each key to the Api in one call per interval (and once more at
/// shutdown). A busy key costs one database write per interval, not one per request.
/// </summary>
public sealed partial class KeyUsageRecorder(
    IHttpClientFactory clients, GatewaySignature signature, IOptions<GatewayOptions> options, ILogger<KeyUsageRecorder> logger)
    : BackgroundService
{
    public const string ClientName = "api-internal";
    private readonly ConcurrentDictionary<Guid, DateTime> _pending = new();

    public void Record(Guid keyId, DateTime usedAt) =>
        _pending.AddOrUpdate(keyId, usedAt, (_, previous) => usedAt > previous ? usedAt : previous);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.KeyUsageFlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping: the final flush happens in StopAsync
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (ObjectDisposedException error)
        {
            // The host is already tearing down its HTTP clients (seen when a test host is disposed): the last
            // uses are lost, as in a crash, rather than failing the stop.
            LogFlushFailed(logger, error, _pending.Count);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.IsEmpty)
        {
            return;
        }
        // Take each entry only if unchanged since read: a use recorded meanwhile stays for the next flush.
        var batch = new List<KeyValuePair<Guid, DateTime>>();
        foreach (var pair in _pending)
        {
            if (_pending.TryRemove(pair))
            {
                batch.Add(pair);
            }
        }
        var uses = batch.Select(pair => new { key_id = pair.Key, last_used_at = pair.Value }).ToArray();
        try
        {
            using var request = ServiceRequest.Create(signature, HttpMethod.Post, "/internal/keys/usage",
                JsonContent.Create(new { uses }, options: JsonDefaults.Options));
            using var response = await clients.CreateClient(ClientName).SendAsync(request, cancellationToken);
            response.EnsureSuccessStatusCode();
        }
        catch (Exception error) when (error is HttpRequestException or OperationCanceledException or Polly.ExecutionRejectedException)
        {
            // Put them back (keeping the newest time) so the next flush tries again.
            foreach (var (key, usedAt) in batch)
            {
                Record(key, usedAt);
            }
            LogFlushFailed(logger, error, batch.Count);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report the use of {Count} API keys; will retry")]
    private static partial void LogFlushFailed(ILogger logger, Exception error, int count);
}
