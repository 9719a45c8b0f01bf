using Npgsql;
using Ujumbe.Shared.Messaging;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Worker.Housekeeping;

/// <summary>
/// Deletes rows whose time is over, so tables that gain a row per request do not only grow:
/// <list type="bullet">
/// <item>idempotency keys past their window (the send path already treats them as free, but each keeps
/// its whole stored answer, up to about a megabyte for a 10,000-number send);</item>
/// <item>failed sign-ins, per email and per address, idle for <see cref="FailureMemory"/> and not locked
/// (made-up emails and addresses would otherwise each leave a row for ever);</item>
/// <item>webhook deliveries held for a disabled endpoint longer than <see cref="WebhookOptions.HeldRetention"/>:
/// failed, not kept for ever (decision 0017). Held deliveries whose endpoint is enabled (held by a send that
/// committed just as the endpoint was enabled again) are made due.</item>
/// </list>
/// Small deletes, so it never holds many locks or a long transaction; several Workers may run it at once
/// (a row deleted twice is simply not found).
/// </summary>
public sealed class ExpiredRowsSweeper(NpgsqlDataSource database, TimeProvider time, ILogger<ExpiredRowsSweeper> logger)
    : PeriodicDatabaseJob(time, logger)
{
    private const int RowsPerDelete = 5_000;

    /// <summary>An email's or an address's failed sign-ins are forgotten this long after the last one (unless locked).</summary>
    public static readonly TimeSpan FailureMemory = TimeSpan.FromDays(1);

    protected override TimeSpan Interval => TimeSpan.FromMinutes(10);

    protected override bool RunsAtStart => true;

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => SweepAsync(cancellationToken);

    /// <summary>Deletes every expired row; returns how many.</summary>
    public async Task<long> SweepAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow().UtcDateTime;
        return await DeleteAsync("idempotency_keys", "created_at < $1", now - IdempotencyKeys.Window, now, cancellationToken)
            + await DeleteAsync("sign_in_failures", "last_failure_at < $1 and (locked_until is null or locked_until < $2)",
                now - FailureMemory, now, cancellationToken)
            + await DeleteAsync("login_failures", "window_start < $1 and (locked_until is null or locked_until < $2)",
                now - FailureMemory, now, cancellationToken)
            + await SettleHeldDeliveriesAsync(now, cancellationToken);
    }

    /// <summary>Fails held webhook deliveries past the retention; releases those whose endpoint is enabled. Returns how many.</summary>
    public async Task<long> SettleHeldDeliveriesAsync(DateTime now, CancellationToken cancellationToken)
    {
        long settled = 0;
        while (true)
        {
            await using var command = database.CreateCommand($"""
                with due as (
                    select d.id, d.created_at < $2 as expired
                      from webhook_deliveries d
                      left join webhook_endpoints e on e.id = d.endpoint_id
                     where d.status = 'held' and (d.created_at < $2 or coalesce(e.enabled, false))
                     limit {RowsPerDelete}
                     for update of d skip locked
                )
                update webhook_deliveries d
                   set status = case when due.expired then 'failed' else 'pending' end,
                       next_attempt_at = case when due.expired then null else $1 end,
                       attempts = case when due.expired then d.attempts else 0 end,
                       last_error = case when due.expired then 'Held longer than the retention while the endpoint was disabled' else d.last_error end,
                       completed_at = case when due.expired then $1 end
                  from due where d.id = due.id
                """);
            command.Parameters.Add(new() { Value = now });
            command.Parameters.Add(new() { Value = now - WebhookOptions.HeldRetention });
            var rows = await command.ExecuteNonQueryAsync(cancellationToken);
            settled += rows;
            if (rows < RowsPerDelete)
            {
                return settled;
            }
        }
    }

    private async Task<long> DeleteAsync(string table, string expired, DateTime before, DateTime now, CancellationToken cancellationToken)
    {
        long deleted = 0;
        while (true)
        {
            await using var command = database.CreateCommand($"""
                delete from {table} where ctid = any(array(
                    select ctid from {table} where {expired} limit {RowsPerDelete}))
                """);
            command.Parameters.Add(new() { Value = before });
            command.Parameters.Add(new() { Value = now });
            var rows = await command.ExecuteNonQueryAsync(cancellationToken);
            deleted += rows;
            if (rows < RowsPerDelete)
            {
                return deleted;
            }
        }
    }
}
