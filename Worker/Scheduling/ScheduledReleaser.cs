using System.Text.Json;
using Npgsql;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Worker.Scheduling;

/// <summary>
/// Releases scheduled batches when their time comes: in one transaction their messages move from
/// scheduled to queued and their dispatch chunks go into the outbox (so a release is never half
/// done); then the relay publishes them. Polls every 250 ms, so a message leaves within about half a
/// second of its scheduled time. Several Workers share the work (advisory locks per batch).
/// </summary>
public sealed class ScheduledReleaser(NpgsqlDataSource database, OutboxRelay relay, TimeProvider time, ILogger<ScheduledReleaser> logger)
    : PeriodicDatabaseJob(time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(250);

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        while (await ReleaseDueAsync(cancellationToken) > 0)
        {
            // more may be due
        }
    }

    /// <summary>Releases up to a handful of due batches; returns how many.</summary>
    public async Task<int> ReleaseDueAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow().UtcDateTime;
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var due = new List<(Guid Id, Guid Account, string Sender, string Text, int Segments, string? Trace)>();
        // Workers share the due batches through advisory locks, not row locks: a row lock taken here before
        // transition_messages locks the messages would be the reverse of a cancel's order (messages, then
        // batch) and could deadlock with it. Releasing a batch twice would be harmless anyway: the second
        // finds its messages queued and moves nothing. Locks are tried down a window wider than one take, so
        // a second Worker takes the next due batches rather than none.
        await using (var select = new NpgsqlCommand("""
            select id, account_id, sender_id, text, segments, trace_parent
              from (select * from batches where status = 'scheduled' and scheduled_at <= $1 order by scheduled_at limit 100) due
             where pg_try_advisory_xact_lock(hashtextextended(id::text, 0))
             limit 10
            """, connection, transaction))
        {
            select.Parameters.Add(new() { Value = now });
            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                due.Add((reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5)));
            }
        }
        if (due.Count == 0)
        {
            return 0;
        }
        var released = 0;
        foreach (var batch in due)
        {
            var outbox = new DispatchOutbox();
            var count = 0;
            await using (var release = new NpgsqlCommand("""
                with scheduled as (
                    select coalesce(array_agg(id order by id), '{}') as ids from messages where batch_id = $1 and status = 'scheduled'
                )
                select t.id, m.recipient, m.text, m.segments
                  from scheduled, transition_messages(scheduled.ids, array_fill('queued'::text, array[cardinality(scheduled.ids)]), $2) t
                  join messages m on m.id = t.id
                 where t.applied
                """, connection, transaction))
            {
                release.Parameters.Add(new() { Value = batch.Id });
                release.Parameters.Add(new() { Value = now });
                await using var reader = await release.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    outbox.Add(new OutboundMessage(reader.GetGuid(0), batch.Id, batch.Account, reader.GetString(1), batch.Sender,
                        reader.IsDBNull(2) ? batch.Text : reader.GetString(2), reader.GetInt32(3)), batch.Trace);
                    count++;
                }
            }
            await outbox.WriteAsync(connection, transaction, cancellationToken); // nothing when everything was canceled meanwhile
            released += count;
        }
        await transaction.CommitAsync(cancellationToken);
        WorkerTelemetry.ScheduledReleased.Add(released);
        relay.Notify();
        return due.Count;
    }
}
