using Npgsql;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Shared.Messaging;
using Ujumbe.Api.Validation;

namespace Ujumbe.Api.Messages;

/// <summary>
/// Commits a group of sends in one transaction:
/// <list type="number">
/// <item>lock the balance rows of the group's accounts (in account order, so writers never deadlock),
/// read which sender IDs are approved, and claim the Idempotency-Keys — one round trip;</item>
/// <item>decide each send in arrival order: replayed, refused or accepted with its credits reserved
/// against the running available balance;</item>
/// <item>write the reservations and their ledger entries, the sends' batches, messages and outbox chunks
/// for the Worker (<see cref="AcceptedSends"/>, where the message lifecycle begins; binary COPY when many)
/// and the stored answers for the keys — one round trip (plus the COPY) — and commit.</item>
/// </list>
/// Nothing of a send exists unless all of it does. Text the database would refuse fails its send
/// before anything is written; if a group still fails, <see cref="SendPipeline"/> commits its sends one
/// by one so a bad send fails alone. Either way the client can retry (with its Idempotency-Key)
/// without risk of a double charge.
/// </summary>
public sealed class SendWriter(NpgsqlDataSource database, OutboxRelay relay)
{
    public async Task WriteAsync(IReadOnlyList<SendCommand> group, CancellationToken cancellationToken)
    {
        group = WithoutUnwritable(group);
        if (group.Count == 0)
        {
            return;
        }
        var outcomes = new SendOutcome?[group.Count];
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        var state = await ReadStateAsync(connection, transaction, group, cancellationToken);
        var accepted = Decide(group, state, outcomes);

        if (accepted.Count > 0 || state.ClaimedKeys.Count > 0)
        {
            await WriteAcceptedAsync(connection, transaction, group, accepted, state, outcomes, cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        if (accepted.Count > 0)
        {
            ApiTelemetry.Accepted.Add(accepted.Sum(c => c.Recipients.Count));
        }

        if (accepted.Any(c => c.ScheduledAt is null))
        {
            relay.Notify();
        }
        for (var i = 0; i < group.Count; i++)
        {
            group[i].Completion.TrySetResult(outcomes[i]!);
        }
    }

    /// <summary>
    /// Fails, alone, every send holding text PostgreSQL would refuse (NUL) or that is not Unicode: written,
    /// it would fail the whole group's transaction. Request validation refuses such text first; this is the
    /// last line for any path that skips it.
    /// </summary>
    private static IReadOnlyList<SendCommand> WithoutUnwritable(IReadOnlyList<SendCommand> group)
    {
        List<SendCommand>? writable = null;
        for (var i = 0; i < group.Count; i++)
        {
            var command = group[i];
            if (IsWritable(command))
            {
                writable?.Add(command);
                continue;
            }
            writable ??= [.. group.Take(i)];
            command.Completion.TrySetException(new ArgumentException(
                "The send holds text the database cannot store (control characters or invalid Unicode).", nameof(group)));
        }
        return writable ?? group;
    }

    private static bool IsWritable(SendCommand command) =>
        InputText.IsAcceptable(command.Text) && InputText.IsAcceptable(command.SenderId)
        && InputText.IsAcceptable(command.Reference) && InputText.IsAcceptable(command.CallbackUrl)
        && command.Recipients.All(InputText.IsAcceptable)
        && (command.Texts?.All(InputText.IsAcceptable) ?? true)
        && (command.Campaign is not { } campaign || (InputText.IsAcceptable(campaign.Name) && InputText.IsAcceptable(campaign.Template)));

    private sealed class GroupState
    {
        public Dictionary<Guid, (long Balance, long Reserved)> Balances { get; } = [];
        public HashSet<(Guid Account, string Name)> ApprovedSenders { get; } = [];
        public HashSet<(Guid Account, string Key)> ClaimedKeys { get; } = [];
        public Dictionary<(Guid Account, string Key), (byte[] Hash, int? Status, byte[]? Body)> ExistingKeys { get; } = [];
        public HashSet<(Guid Account, string Phone)> OptedOut { get; } = [];
    }

    private static async Task<GroupState> ReadStateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<SendCommand> group, CancellationToken cancellationToken)
    {
        var state = new GroupState();
        var accounts = group.Select(c => c.AccountId).Distinct().Order().ToArray();
        var senders = group.Select(c => c.SenderId).Distinct().ToArray();
        // First use of each key in the group claims it; later uses in the same group follow it.
        var keyed = group.Where(c => c.Idempotency is not null)
            .DistinctBy(c => (c.AccountId, c.Idempotency!.Key)).ToList();

        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(Command(
            "select account_id, balance, reserved from balances where account_id = any($1) order by account_id for update",
            accounts));
        batch.BatchCommands.Add(Command(
            "select account_id, name from sender_ids where status = 'approved' and account_id = any($1) and name = any($2)",
            accounts, senders));
        // Read in the transaction that writes the messages: a number that opted out before this commit is never messaged.
        batch.BatchCommands.Add(Command(
            "select account_id, phone from opt_outs where account_id = any($1) and phone = any($2)",
            accounts, group.SelectMany(c => c.Recipients).Distinct().ToArray()));
        if (keyed.Count > 0)
        {
            var keyAccounts = keyed.Select(c => c.AccountId).ToArray();
            var keys = keyed.Select(c => c.Idempotency!.Key).ToArray();
            var now = keyed[0].CreatedAt;
            // A key older than the window is free again: the claim overwrites it.
            batch.BatchCommands.Add(Command("""
                insert into idempotency_keys (account_id, key, request_hash, created_at)
                select * from unnest($1::uuid[], $2::text[], $3::bytea[], $4::timestamptz[])
                on conflict (account_id, key) do update
                   set request_hash = excluded.request_hash, created_at = excluded.created_at,
                       response_status = null, response_body = null
                 where idempotency_keys.created_at < $5
                returning account_id, key
                """,
                keyAccounts, keys, keyed.Select(c => c.Idempotency!.RequestHash).ToArray(),
                keyed.Select(c => c.CreatedAt).ToArray(), now - IdempotencyKeys.Window));
            batch.BatchCommands.Add(Command("""
                select k.account_id, k.key, k.request_hash, k.response_status, k.response_body
                  from idempotency_keys k
                  join unnest($1::uuid[], $2::text[]) as wanted(account_id, key)
                    on k.account_id = wanted.account_id and k.key = wanted.key
                """,
                keyAccounts, keys));
        }

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            state.Balances[reader.GetGuid(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        }
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            state.ApprovedSenders.Add((reader.GetGuid(0), reader.GetString(1)));
        }
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            state.OptedOut.Add((reader.GetGuid(0), reader.GetString(1)));
        }
        if (keyed.Count > 0)
        {
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                state.ClaimedKeys.Add((reader.GetGuid(0), reader.GetString(1)));
            }
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                state.ExistingKeys[(reader.GetGuid(0), reader.GetString(1))] = (
                    reader.GetFieldValue<byte[]>(2),
                    reader.IsDBNull(3) ? null : reader.GetInt32(3),
                    reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4));
            }
        }
        return state;
    }

    /// <summary>Decides every send in arrival order; returns the accepted ones.</summary>
    private static List<SendCommand> Decide(IReadOnlyList<SendCommand> group, GroupState state, SendOutcome?[] outcomes)
    {
        var accepted = new List<SendCommand>();
        var leaders = new Dictionary<(Guid, string), int>();
        var available = state.Balances.ToDictionary(b => b.Key, b => b.Value.Balance - b.Value.Reserved);
        for (var i = 0; i < group.Count; i++)
        {
            var command = group[i];
            if (command.Idempotency is { } claim)
            {
                var id = (command.AccountId, claim.Key);
                if (leaders.TryGetValue(id, out var leader))
                {
                    outcomes[i] = Follow(group[leader], outcomes[leader]!, command);
                    continue;
                }
                leaders[id] = i;
                if (!state.ClaimedKeys.Contains(id))
                {
                    outcomes[i] = Existing(state.ExistingKeys.GetValueOrDefault(id), claim);
                    continue;
                }
            }
            if (!state.ApprovedSenders.Contains((command.AccountId, command.SenderId)))
            {
                outcomes[i] = SendOutcome.SenderIdNotApproved;
                continue;
            }
            if (state.OptedOut.Count > 0)
            {
                var optedOut = new HashSet<int>();
                for (var r = 0; r < command.Recipients.Count; r++)
                {
                    if (state.OptedOut.Contains((command.AccountId, command.Recipients[r])))
                    {
                        optedOut.Add(r);
                    }
                }
                if (optedOut.Count > 0)
                {
                    command.Skip(optedOut);
                    if (command.Recipients.Count == 0)
                    {
                        outcomes[i] = SendOutcome.AllOptedOut;
                        continue;
                    }
                }
            }
            var funds = available.GetValueOrDefault(command.AccountId);
            if (command.Credits > funds)
            {
                outcomes[i] = new SendOutcome(SendResult.InsufficientBalance, Available: funds);
                continue;
            }
            available[command.AccountId] = funds - command.Credits;
            outcomes[i] = SendOutcome.Accepted;
            accepted.Add(command);
        }
        return accepted;
    }

    /// <summary>A repeat of a key used earlier in the same group gets what the first use got.</summary>
    private static SendOutcome Follow(SendCommand leader, SendOutcome leaderOutcome, SendCommand follower)
    {
        if (!leader.Idempotency!.RequestHash.AsSpan().SequenceEqual(follower.Idempotency!.RequestHash))
        {
            return SendOutcome.KeyReused;
        }
        return leaderOutcome.Result switch
        {
            SendResult.Accepted => new SendOutcome(SendResult.Replayed, ReplayStatus: 202, ReplayBody: leader.AcceptedResponse),
            _ => leaderOutcome,
        };
    }

    /// <summary>A key someone else committed: replay its answer if the request is the same.</summary>
    private static SendOutcome Existing((byte[] Hash, int? Status, byte[]? Body) existing, IdempotencyClaim claim)
    {
        if (existing.Hash is null || existing.Status is null || existing.Body is null)
        {
            return SendOutcome.KeyInFlight;
        }
        return existing.Hash.AsSpan().SequenceEqual(claim.RequestHash)
            ? new SendOutcome(SendResult.Replayed, ReplayStatus: existing.Status.Value, ReplayBody: existing.Body)
            : SendOutcome.KeyReused;
    }

    private static async Task WriteAcceptedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<SendCommand> group,
        List<SendCommand> accepted, GroupState state, SendOutcome?[] outcomes, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (accepted.Count > 0)
        {
            AddReservations(batch, accepted, state);
            // The batches, messages and dispatch chunks: the lifecycle's first step (the messages by COPY when many).
            await Sends(accepted).AddToAsync(connection, batch, cancellationToken);
            AddCampaigns(batch, accepted);
        }
        AddIdempotencyAnswers(batch, group, state, outcomes);
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private static AcceptedSends Sends(List<SendCommand> accepted)
    {
        var sends = new AcceptedSends(accepted.Sum(c => c.Recipients.Count));
        foreach (var command in accepted)
        {
            sends.Add(new NewBatch(command.BatchId, command.AccountId, command.SenderId, command.Text,
                SmsSegments.EncodingName(command.Encoding), command.Segments, command.Recipients.Count, command.Credits,
                command.ScheduledAt, command.CallbackUrl, command.Reference, command.TraceParent, command.CreatedAt));
            for (var r = 0; r < command.Recipients.Count; r++)
            {
                var (country, @operator) = command.OriginOf(r);
                sends.AddMessage(new NewMessage(command.MessageIds[r], command.Recipients[r], command.SegmentsOf(r), command.TextOf(r), country, @operator));
            }
        }
        return sends;
    }

    private static void AddReservations(NpgsqlBatch batch, List<SendCommand> accepted, GroupState state)
    {
        // Ledger entries carry the running figures: the balance rows are locked, so they are exact.
        var running = state.Balances.ToDictionary(b => b.Key, b => b.Value);
        var ids = new Guid[accepted.Count];
        var accounts = new Guid[accepted.Count];
        var changes = new long[accepted.Count];
        var balances = new long[accepted.Count];
        var reservedAfter = new long[accepted.Count];
        var references = new string[accepted.Count];
        var createdAt = new DateTime[accepted.Count];
        for (var i = 0; i < accepted.Count; i++)
        {
            var command = accepted[i];
            var (balance, reserved) = running[command.AccountId];
            reserved += command.Credits;
            running[command.AccountId] = (balance, reserved);
            ids[i] = Guid.CreateVersion7(command.CreatedAt);
            accounts[i] = command.AccountId;
            changes[i] = command.Credits;
            balances[i] = balance;
            reservedAfter[i] = reserved;
            references[i] = PublicId.Format(PublicId.Batch, command.BatchId);
            createdAt[i] = command.CreatedAt;
        }
        var totals = accepted.GroupBy(c => c.AccountId).Select(g => (Account: g.Key, Credits: g.Sum(c => c.Credits))).ToArray();
        batch.BatchCommands.Add(Command("""
            update balances b set reserved = b.reserved + d.credits
              from unnest($1::uuid[], $2::bigint[]) as d(account_id, credits)
             where b.account_id = d.account_id
            """,
            totals.Select(t => t.Account).ToArray(), totals.Select(t => t.Credits).ToArray()));
        batch.BatchCommands.Add(Command("""
            insert into ledger_entries (id, account_id, kind, amount, reserved_change, balance_after, reserved_after, reference, created_at)
            select id, account_id, 'reserve', 0, change, balance_after, reserved_after, reference, created_at
              from unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::timestamptz[])
                   with ordinality as e(id, account_id, change, balance_after, reserved_after, reference, created_at, position)
             order by position
            """,
            ids, accounts, changes, balances, reservedAfter, references, createdAt));
    }

    private static void AddCampaigns(NpgsqlBatch batch, List<SendCommand> accepted)
    {
        foreach (var command in accepted)
        {
            if (command.Campaign is not { } campaign)
            {
                continue;
            }
            var skippedNumbers = campaign.SkippedNumbers.Concat(command.Skipped).Take(CampaignRecord.MaxSkippedNumbersKept).ToArray();
            batch.BatchCommands.Add(Command("""
                insert into campaigns (id, account_id, batch_id, name, template, audience, skipped, skipped_numbers, created_at)
                values ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)
                """,
                campaign.Id, command.AccountId, command.BatchId, campaign.Name, campaign.Template, campaign.AudienceJson,
                campaign.Skipped + command.Skipped.Count, skippedNumbers, command.CreatedAt));
        }
    }

    private static void AddIdempotencyAnswers(NpgsqlBatch batch, IReadOnlyList<SendCommand> group, GroupState state, SendOutcome?[] outcomes)
    {
        var answered = new List<SendCommand>();
        var released = new List<SendCommand>();
        for (var i = 0; i < group.Count; i++)
        {
            var command = group[i];
            if (command.Idempotency is not { } claim || !state.ClaimedKeys.Contains((command.AccountId, claim.Key)))
            {
                continue;
            }
            if (outcomes[i]!.Result == SendResult.Accepted)
            {
                answered.Add(command);
            }
            else if (outcomes[i]!.Result is SendResult.InsufficientBalance or SendResult.SenderIdNotApproved or SendResult.AllRecipientsOptedOut)
            {
                // Only a 202 is remembered: after a top-up or an approval, the same key may succeed.
                released.Add(command);
            }
        }
        if (answered.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                update idempotency_keys k set response_status = 202, response_body = a.body
                  from unnest($1::uuid[], $2::text[], $3::bytea[]) as a(account_id, key, body)
                 where k.account_id = a.account_id and k.key = a.key
                """,
                answered.Select(c => c.AccountId).ToArray(), answered.Select(c => c.Idempotency!.Key).ToArray(),
                answered.Select(c => c.AcceptedResponse!).ToArray()));
        }
        if (released.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                delete from idempotency_keys k
                 using unnest($1::uuid[], $2::text[]) as r(account_id, key)
                 where k.account_id = r.account_id and k.key = r.key
                """,
                released.Select(c => c.AccountId).ToArray(), released.Select(c => c.Idempotency!.Key).ToArray()));
        }
    }

    private static NpgsqlBatchCommand Command(string sql, params object?[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter ?? DBNull.Value });
        }
        return command;
    }
}
