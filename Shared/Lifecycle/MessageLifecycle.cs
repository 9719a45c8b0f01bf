using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Messaging;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Shared.Lifecycle;

/// <summary>One message's move as <c>transition_messages</c> reports it: where it was, where it was asked to go, whether it moved.</summary>
public sealed record MessageMove(Guid Id, string? FromStatus, string ToStatus, bool Applied);

/// <summary>What became of a provider's delivery report handed to <see cref="MessageLifecycle.QueueDeliveryReportAsync"/>.</summary>
public enum ReportReceipt
{
    /// <summary>Queued for the Worker, which applies it once the message is recorded as sent.</summary>
    Queued,
    /// <summary>No such message.</summary>
    UnknownMessage,
    /// <summary>Another provider sent the message.</summary>
    WrongProvider,
    /// <summary>The message is already final (or was never sent): nothing changes.</summary>
    Duplicate,
}

/// <summary>
/// The message lifecycle (decision 0032): the only C# that changes messages and batches. Every status move goes
/// through the database's <c>transition_messages</c> (Api/Data/Functions/messages.sql), which keeps in one
/// transaction the batch's live counts and finalization, the credits to capture or release (posted by
/// <c>post_pending_credits</c>, credits.sql) and the webhook events the move causes (<c>after_messages_moved</c>).
/// Messages begin in <see cref="AcceptedSends"/> (the Api's group commit) and reach the Worker as dispatch chunks
/// written only by this folder's <see cref="DispatchOutbox"/>.
/// </summary>
/// <remarks>
/// Api: sends (<see cref="AcceptedSends"/>), <see cref="CancelBatchAsync"/>, <see cref="QueueDeliveryReportAsync"/>.
/// Worker: <see cref="ReleaseDueAsync"/>, <see cref="ClaimForDispatchAsync"/>, <see cref="MoveAsync(IReadOnlyList{Guid}, IReadOnlyList{string}, string?, IReadOnlyList{string?}?, IReadOnlyList{string?}?, IReadOnlyList{string}?, CancellationToken)"/>
/// (the providers' answers), <see cref="PinToProviderAsync"/>, <see cref="ApplyDeliveryReportsAsync"/>,
/// <see cref="PostPendingCreditsAsync"/>. <c>LifecycleBoundaryTests</c> fails if any other file calls this SQL.
/// </remarks>
public sealed class MessageLifecycle(NpgsqlDataSource database, OutboxRelay relay, TimeProvider time)
{
    /// <summary>
    /// Moves messages to new statuses where the move is allowed from where each one is (in its own transaction),
    /// with everything that follows in step. Safe to repeat: a move already made is not allowed again.
    /// <paramref name="onlyFrom"/> narrows the allowed moves to those starting from these statuses.
    /// </summary>
    public async Task<IReadOnlyList<MessageMove>> MoveAsync(
        IReadOnlyList<Guid> ids, IReadOnlyList<string> toStatuses, string? provider = null,
        IReadOnlyList<string?>? providerIds = null, IReadOnlyList<string?>? errorCodes = null,
        IReadOnlyList<string>? onlyFrom = null, CancellationToken cancellationToken = default)
    {
        if (ids.Count == 0)
        {
            return [];
        }
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        return await MoveAsync(connection, null, ids, toStatuses, provider, providerIds, errorCodes, onlyFrom, cancellationToken);
    }

    /// <summary>The same, inside the caller's transaction.</summary>
    public async Task<IReadOnlyList<MessageMove>> MoveAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction,
        IReadOnlyList<Guid> ids, IReadOnlyList<string> toStatuses, string? provider = null,
        IReadOnlyList<string?>? providerIds = null, IReadOnlyList<string?>? errorCodes = null,
        IReadOnlyList<string>? onlyFrom = null, CancellationToken cancellationToken = default)
    {
        if (ids.Count == 0)
        {
            return [];
        }
        // The trace of this change goes with the webhook deliveries it causes; in the same batch, so it
        // costs no round trip (and without a transaction, the batch is one).
        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(WebhookTrace.Command());
        var command = new NpgsqlBatchCommand("select id, from_status, to_status, applied from transition_messages($1, $2, $3, $4, $5, $6, $7)");
        batch.BatchCommands.Add(command);
        command.Parameters.Add(new() { Value = ids.ToArray() });
        command.Parameters.Add(new() { Value = toStatuses.ToArray() });
        command.Parameters.Add(new() { Value = time.GetUtcNow().UtcDateTime });
        command.Parameters.Add(new() { Value = (object?)provider ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)providerIds?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)errorCodes?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)onlyFrom?.ToArray() ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        var results = new List<MessageMove>(ids.Count);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken); // past set_config's row
        while (await reader.ReadAsync(cancellationToken))
        {
            results.Add(new MessageMove(reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2), reader.GetBoolean(3)));
        }
        return results;
    }

    /// <summary>
    /// Cancels every message of the account's batch not yet handed to a provider (scheduled or queued) and posts
    /// the released credits, in one transaction, so the balance shows them back at once. Messages already on their
    /// way are not recalled. Returns how many were canceled.
    /// </summary>
    public async Task<long> CancelBatchAsync(Guid batchId, Guid accountId, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await WebhookTrace.NameAsync(connection, transaction, cancellationToken); // batch.finalized continues this request's trace
        long canceled;
        await using (var cancel = new NpgsqlCommand($$"""
            with cancelable as (
                select coalesce(array_agg(id), '{}') as ids
                  from messages
                 where batch_id = $1 and account_id = $2 and status in ('{{MessageStatus.Scheduled}}', '{{MessageStatus.Queued}}')
            )
            select count(*) filter (where t.applied)
              from cancelable, transition_messages(cancelable.ids, array_fill('{{MessageStatus.Canceled}}'::text, array[cardinality(cancelable.ids)]), $3) t
            """, connection, transaction))
        {
            cancel.Parameters.Add(new() { Value = batchId });
            cancel.Parameters.Add(new() { Value = accountId });
            cancel.Parameters.Add(new() { Value = now });
            canceled = (long)(await cancel.ExecuteScalarAsync(cancellationToken))!;
        }
        await using (var post = new NpgsqlCommand("select post_pending_credits($1, $2)", connection, transaction))
        {
            post.Parameters.Add(new() { Value = now });
            post.Parameters.Add(new() { Value = accountId });
            await post.ExecuteScalarAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        return canceled;
    }

    /// <summary>
    /// Releases up to ten scheduled batches whose time has come: in one transaction
    /// their messages move from scheduled to queued and their dispatch chunks go into the outbox (so a release is
    /// never half done); then the relay is woken. Several Workers share the work (advisory locks per batch).
    /// Returns how many batches were due and how many messages were released.
    /// </summary>
    public async Task<(int Batches, int Messages)> ReleaseDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var due = new List<(Guid Id, Guid Account, string Sender, string Text, int Segments, string? Trace)>();
        // Workers share the due batches through advisory locks, not row locks: a row lock taken here before
        // transition_messages locks the messages would be the reverse of a cancel's order (messages, then
        // batch) and could deadlock with it. Releasing a batch twice would be harmless anyway: the second
        // finds its messages queued and moves nothing. Locks are tried down a window wider than one take, so
        // a second Worker takes the next due batches rather than none.
        await using (var select = new NpgsqlCommand($"""
            select id, account_id, sender_id, text, segments, trace_parent
              from (select * from batches where status = '{BatchStatus.Scheduled}' and scheduled_at <= $1 order by scheduled_at limit 100) due
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
            return (0, 0);
        }
        var released = 0;
        foreach (var batch in due)
        {
            var outbox = new DispatchOutbox();
            var count = 0;
            await using (var release = new NpgsqlCommand($$"""
                with scheduled as (
                    select coalesce(array_agg(id order by id), '{}') as ids from messages where batch_id = $1 and status = '{{MessageStatus.Scheduled}}'
                )
                select t.id, m.recipient, m.text, m.segments
                  from scheduled, transition_messages(scheduled.ids, array_fill('{{MessageStatus.Queued}}'::text, array[cardinality(scheduled.ids)]), $2) t
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
        relay.Notify();
        return (due.Count, released);
    }

    /// <summary>
    /// Locks, in the caller's transaction, the messages of a dispatch chunk that are still to be submitted (queued, or
    /// claimed by a submission that did not finish), so a redelivered chunk never sends twice and a cancel arriving
    /// meanwhile waits and then finds them sent. Those whose number opted out since the send was accepted are told
    /// apart (to be canceled with <see cref="CancelOptedOutAsync"/>), and any provider a message is pinned to is given.
    /// </summary>
    public static async Task<DispatchClaim> ClaimForDispatchAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] ids, CancellationToken cancellationToken)
    {
        var claim = new DispatchClaim();
        await using var command = new NpgsqlCommand($"""
            select m.id, m.status = '{MessageStatus.Queued}' and exists (select 1 from opt_outs o where o.account_id = m.account_id and o.phone = m.recipient),
                   m.pinned_provider
              from messages m
             where m.id = any($1) and m.status in ('{MessageStatus.Queued}', '{MessageStatus.Submitting}')
             order by m.id for update of m
            """, connection, transaction);
        command.Parameters.Add(new() { Value = ids });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetGuid(0);
            if (reader.GetBoolean(1))
            {
                claim.OptedOut.Add(id);
            }
            else
            {
                claim.Ready.Add(id);
                if (!reader.IsDBNull(2))
                {
                    claim.Pinned[id] = reader.GetString(2);
                }
            }
        }
        return claim;
    }

    /// <summary>
    /// Messages whose number opted out after the send was accepted (a scheduled send, a queue backlog): canceled with
    /// <c>OPTED_OUT</c>, never sent, their credits released.
    /// </summary>
    public Task<IReadOnlyList<MessageMove>> CancelOptedOutAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Guid> ids, CancellationToken cancellationToken) =>
        MoveAsync(connection, transaction, ids, Repeat(MessageStatus.Canceled, ids.Count),
            errorCodes: Repeat<string?>(ErrorCodes.OptedOut, ids.Count), cancellationToken: cancellationToken);

    /// <summary>
    /// Pins messages whose submission got no answer to the provider that may have taken them: they may only ever go
    /// back to it (which deduplicates on our message ids).
    /// </summary>
    public static async Task PinToProviderAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(Guid Id, string Provider)> pins, CancellationToken cancellationToken)
    {
        if (pins.Count == 0)
        {
            return;
        }
        await using var pin = new NpgsqlCommand(
            "update messages m set pinned_provider = p.provider from unnest($1::uuid[], $2::text[]) as p(id, provider) where m.id = p.id",
            connection, transaction);
        pin.Parameters.Add(new() { Value = pins.Select(p => p.Id).ToArray() });
        pin.Parameters.Add(new() { Value = pins.Select(p => p.Provider).ToArray() });
        await pin.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// The last try found the providers still unavailable: the messages still queued fail with
    /// <c>PROVIDER_UNAVAILABLE</c> and their credits are released. Returns how many failed.
    /// </summary>
    public async Task<int> FailUnavailableAsync(IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        var failed = await MoveAsync(ids, Repeat(MessageStatus.Failed, ids.Count),
            errorCodes: Repeat<string?>(ErrorCodes.ProviderUnavailable, ids.Count), onlyFrom: [MessageStatus.Queued],
            cancellationToken: cancellationToken);
        return failed.Count(m => m.Applied);
    }

    /// <summary>
    /// Applies delivery reports to messages that are sent (delivered or failed, which may finalize their batches).
    /// A report for a message already final changes nothing; one that arrived before its message was recorded as sent
    /// is among the moves not applied whose <see cref="MessageMove.FromStatus"/> is still awaiting the provider
    /// (<see cref="MessageStatus.IsAwaitingProvider"/>).
    /// </summary>
    public Task<IReadOnlyList<MessageMove>> ApplyDeliveryReportsAsync(IReadOnlyList<DeliveryReport> reports, CancellationToken cancellationToken) =>
        MoveAsync(
            reports.Select(r => r.MessageId).ToArray(),
            reports.Select(r => r.Delivered ? MessageStatus.Delivered : MessageStatus.Failed).ToArray(),
            providerIds: reports.Select(r => (string?)r.ProviderMessageId).ToArray(),
            errorCodes: reports.Select(r => r.ErrorCode).ToArray(),
            onlyFrom: [MessageStatus.Sent],
            cancellationToken: cancellationToken);

    /// <summary>
    /// A provider's delivery report, received by the Api: passed on through the outbox to the Worker's delivery-report
    /// queue (which applies it once the message is sent) if the message is one this provider sent and is not yet final.
    /// </summary>
    public async Task<ReportReceipt> QueueDeliveryReportAsync(DeliveryReport report, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        string? status = null, sentBy = null;
        await using (var look = new NpgsqlCommand("select status, provider from messages where id = $1", connection))
        {
            look.Parameters.Add(new() { Value = report.MessageId });
            await using var reader = await look.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                status = reader.GetString(0);
                sentBy = reader.IsDBNull(1) ? null : reader.GetString(1);
            }
        }
        if (status is null)
        {
            return ReportReceipt.UnknownMessage;
        }
        if (sentBy is not null && sentBy != report.Provider)
        {
            return ReportReceipt.WrongProvider;
        }
        // Queued or submitting: the report outran our own record of the submission; the Worker holds it until then.
        if (status != MessageStatus.Sent && !MessageStatus.IsAwaitingProvider(status))
        {
            return ReportReceipt.Duplicate;
        }
        await using (var insert = new NpgsqlCommand("insert into outbox (routing_key, payload, trace_parent) values ($1, $2, $3)", connection))
        {
            insert.Parameters.Add(new() { Value = Topology.DeliveryReports });
            insert.Parameters.Add(new() { Value = JsonSerializer.SerializeToUtf8Bytes(new DeliveryReportBatch([report]), MessagingJson.Default.DeliveryReportBatch) });
            insert.Parameters.Add(new() { Value = (object?)Activity.Current?.Id ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
        relay.Notify();
        return ReportReceipt.Queued;
    }

    /// <summary>
    /// Posts the credit moves that status changes left pending (captures for messages providers accepted, releases
    /// for ones never sent) to the ledger and the balances. Several Workers may call it at once: each pending move is
    /// posted by exactly one. Returns the number of ledger entries written.
    /// </summary>
    public async Task<int> PostPendingCreditsAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select post_pending_credits($1)");
        command.Parameters.Add(new() { Value = time.GetUtcNow().UtcDateTime });
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Now at the database's precision (microseconds).</summary>
    private DateTime Now()
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % 10), DateTimeKind.Utc);
    }

    private static T[] Repeat<T>(T value, int count)
    {
        var values = new T[count];
        Array.Fill(values, value);
        return values;
    }
}

/// <summary>What <see cref="MessageLifecycle.ClaimForDispatchAsync"/> locked.</summary>
public sealed class DispatchClaim
{
    /// <summary>To submit.</summary>
    public HashSet<Guid> Ready { get; } = [];
    /// <summary>Their numbers opted out meanwhile: to cancel.</summary>
    public List<Guid> OptedOut { get; } = [];
    /// <summary>Messages that may only go to this provider (an earlier submission got no answer).</summary>
    public Dictionary<Guid, string> Pinned { get; } = [];
}
