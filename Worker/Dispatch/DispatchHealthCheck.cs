using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Worker.Dispatch;

/// <summary>
/// Unhealthy when dispatch makes no progress while work waits, though PostgreSQL and RabbitMQ both answer
/// (their own checks cover them being down): a chunk handled for longer than any healthy one takes, a
/// consumer detached from its queue, outbox rows nobody publishes, or chunks waiting in the dispatch
/// queue while none has finished for <see cref="DispatchOptions.StallAfter"/>. An orchestrator then
/// restarts the Worker rather than leave messages queued behind a hung one.
/// </summary>
public sealed class DispatchHealthCheck(
    ConsumerProgress progress, NpgsqlDataSource database, RabbitMqConnection rabbit, IOptions<DispatchOptions> options) : IHealthCheck
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var stallAfter = options.Value.StallAfter;
        var failure = context.Registration.FailureStatus;
        if (progress.LongestHandled() is { } handled && handled.For > stallAfter)
        {
            return new HealthCheckResult(failure, $"A delivery from {handled.Queue} has been handled for {Seconds(handled.For)} s");
        }
        if (progress.LongestDetached() is { } detached && detached.For > stallAfter)
        {
            return new HealthCheckResult(failure, $"Nothing has consumed {detached.Queue} for {Seconds(detached.For)} s");
        }
        if (await OldestOutboxRowAsync(cancellationToken) is { } waited && waited > stallAfter)
        {
            return new HealthCheckResult(failure, $"Outbox rows have waited {Seconds(waited)} s to be published");
        }
        var idle = progress.SinceLastFinished(Topology.Dispatch);
        if (!progress.IsHandling(Topology.Dispatch) && idle > stallAfter && await WaitingChunksAsync(cancellationToken) is > 0 and var waiting)
        {
            return new HealthCheckResult(failure, $"{waiting} chunks wait in {Topology.Dispatch} and none was handled for {Seconds(idle)} s");
        }
        return HealthCheckResult.Healthy();
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);

    /// <summary>How long the oldest outbox row has waited; null if none waits or the database does not answer (its own check says so).</summary>
    private async Task<TimeSpan?> OldestOutboxRowAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            await using var command = database.CreateCommand("select extract(epoch from now() - min(created_at))::float8 from outbox");
            return await command.ExecuteScalarAsync(timeout.Token) is double seconds ? TimeSpan.FromSeconds(seconds) : null;
        }
        catch (Exception error) when (error is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            return null;
        }
    }

    /// <summary>Chunks ready in the dispatch queue; null if the broker does not answer (its own check says so).</summary>
    private async Task<uint?> WaitingChunksAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            var connection = await rabbit.GetAsync(timeout.Token);
            await using var channel = await connection.CreateChannelAsync(cancellationToken: timeout.Token);
            return await channel.MessageCountAsync(Topology.Dispatch, timeout.Token);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            return null;
        }
    }
}
