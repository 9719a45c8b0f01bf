using Npgsql;
using Polly.CircuitBreaker;

namespace Ujumbe.Worker.Providers;

/// <summary>
/// Writes what this Worker sees of each configured provider (circuit, submissions, failures, acceptances, final
/// delivery reports applied, latency) to
/// <c>provider_health</c> every few seconds, so the operators' endpoint (in the Api) can show it; the circuit
/// lives here, in the Worker that submits.
/// </summary>
public sealed partial class ProviderHealthReporter(
    ProviderCatalog catalog, ProviderReportCounts reportCounts, NpgsqlDataSource database, TimeProvider time, ILogger<ProviderHealthReporter> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private readonly string _worker = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await ReportAsync(stoppingToken);
            }
            catch (Exception error) when (error is NpgsqlException or TimeoutException)
            {
                LogReportFailed(logger, error.Message);
            }
        }
    }

    public async Task ReportAsync(CancellationToken cancellationToken)
    {
        var snapshot = await catalog.CurrentAsync(cancellationToken);
        var providers = snapshot.Providers.Values.ToList();
        if (providers.Count == 0)
        {
            return;
        }
        await using var command = database.CreateCommand("""
            insert into provider_health (provider_id, worker, circuit, submitted, failed, accepted, reports, latency_ms_avg, updated_at)
            select p.id, $2, p.circuit, p.submitted, p.failed, p.accepted, p.reports, p.latency, $7
              from unnest($1::uuid[], $3::text[], $4::bigint[], $5::bigint[], $6::float8[], $8::bigint[], $9::bigint[])
                   as p(id, circuit, submitted, failed, latency, accepted, reports)
            on conflict (provider_id, worker) do update
               set circuit = excluded.circuit, submitted = excluded.submitted, failed = excluded.failed, accepted = excluded.accepted,
                   reports = excluded.reports, latency_ms_avg = excluded.latency_ms_avg, updated_at = excluded.updated_at
            """);
        command.Parameters.Add(new() { Value = providers.Select(p => p.Id).ToArray() });
        command.Parameters.Add(new() { Value = _worker });
        command.Parameters.Add(new() { Value = providers.Select(p => Name(p.Circuit)).ToArray() });
        command.Parameters.Add(new() { Value = providers.Select(p => p.Submitted).ToArray() });
        command.Parameters.Add(new() { Value = providers.Select(p => p.Failed).ToArray() });
        command.Parameters.Add(new() { Value = providers.Select(p => p.AverageLatencyMilliseconds).ToArray() });
        command.Parameters.Add(new() { Value = time.GetUtcNow().UtcDateTime });
        command.Parameters.Add(new() { Value = providers.Select(p => p.Accepted).ToArray() });
        command.Parameters.Add(new() { Value = providers.Select(p => reportCounts.Of(p.Name)).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Name(CircuitState state) => state switch
    {
        CircuitState.Open => "open",
        CircuitState.HalfOpen => "half_open",
        CircuitState.Isolated => "isolated",
        _ => "closed",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Provider health could not be written ({Reason}); the next tick tries again")]
    private static partial void LogReportFailed(ILogger logger, string reason);
}

/// <summary>Final delivery reports this Worker applied, per provider name (for each provider's delivery-report rate).</summary>
public sealed class ProviderReportCounts
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _counts = new();

    public void Add(string provider) => _counts.AddOrUpdate(provider, 1, (_, count) => count + 1);

    public long Of(string provider) => _counts.GetValueOrDefault(provider);
}
