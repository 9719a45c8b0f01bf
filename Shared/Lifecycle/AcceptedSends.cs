using Npgsql;
using NpgsqlTypes;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Shared.Lifecycle;

/// <summary>A send as its batch row records it.</summary>
public sealed record NewBatch(
    Guid Id, Guid AccountId, string SenderId, string Text, string Encoding, int Segments, int Recipients, long Credits,
    DateTime? ScheduledAt, string? CallbackUrl, string? Reference, string? TraceParent, DateTime CreatedAt);

/// <summary>One message of a send: <paramref name="Text"/> null when it is the batch's; where the number is from, when known.</summary>
public readonly record struct NewMessage(Guid Id, string Recipient, int Segments, string? Text, string? Country, string? Operator);

/// <summary>
/// Where the lifecycle begins: the rows of a group of accepted sends, written in the send path's group-commit
/// transaction (after it has decided them and reserved their credits): each send's batch with its live counts,
/// its messages (<c>queued</c>, or <c>scheduled</c> until their time) and, for the ones not scheduled, their
/// dispatch chunks in the outbox. Add each send's batch, then its messages; then <see cref="AddToAsync"/>.
/// </summary>
public sealed class AcceptedSends
{
    /// <summary>Above this many messages in a group they go in by binary COPY instead of array parameters.</summary>
    public const int CopyThreshold = 2_000;

    private readonly List<NewBatch> _batches = [];
    private readonly List<(int Batch, NewMessage Message)> _messages;

    public AcceptedSends(int expectedMessages = 0) => _messages = new(expectedMessages);

    public int MessageCount => _messages.Count;

    /// <summary>Adds a send; the messages added next are its.</summary>
    public void Add(NewBatch batch) => _batches.Add(batch);

    public void AddMessage(NewMessage message)
    {
        if (_batches.Count == 0)
        {
            throw new InvalidOperationException("A message is added after its batch.");
        }
        _messages.Add((_batches.Count - 1, message));
    }

    /// <summary>
    /// Adds the inserts of the batches, the messages and the dispatch chunks to <paramref name="batch"/>, to run in the
    /// caller's transaction; above <see cref="CopyThreshold"/> messages they are first copied in on
    /// <paramref name="connection"/> (a round trip of its own, in the same transaction).
    /// </summary>
    public async Task AddToAsync(NpgsqlConnection connection, NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        if (_batches.Count == 0)
        {
            return;
        }
        var copied = _messages.Count > CopyThreshold;
        if (copied)
        {
            await CopyMessagesAsync(connection, cancellationToken);
        }
        AddBatches(batch);
        if (!copied)
        {
            AddMessages(batch);
        }
        AddOutbox(batch);
    }

    private void AddBatches(NpgsqlBatch batch)
    {
        batch.BatchCommands.Add(Command($"""
            insert into batches (id, account_id, sender_id, text, encoding, segments, recipients, credits, status,
                                 scheduled_at, callback_url, reference, trace_parent, created_at, scheduled_count, queued_count)
            select id, account_id, sender_id, text, encoding, segments, recipients, credits,
                   case when scheduled_at is null then '{BatchStatus.Processing}' else '{BatchStatus.Scheduled}' end,
                   scheduled_at, callback_url, reference, trace_parent, created_at,
                   case when scheduled_at is null then 0 else recipients end,
                   case when scheduled_at is null then recipients else 0 end
              from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::int[], $7::int[], $8::bigint[],
                          $9::timestamptz[], $10::text[], $11::text[], $12::text[], $13::timestamptz[])
                   as b(id, account_id, sender_id, text, encoding, segments, recipients, credits,
                        scheduled_at, callback_url, reference, trace_parent, created_at)
            """,
            _batches.Select(b => b.Id).ToArray(),
            _batches.Select(b => b.AccountId).ToArray(),
            _batches.Select(b => b.SenderId).ToArray(),
            _batches.Select(b => b.Text).ToArray(),
            _batches.Select(b => b.Encoding).ToArray(),
            _batches.Select(b => b.Segments).ToArray(),
            _batches.Select(b => b.Recipients).ToArray(),
            _batches.Select(b => b.Credits).ToArray(),
            _batches.Select(b => b.ScheduledAt).ToArray(),
            _batches.Select(b => b.CallbackUrl).ToArray(),
            _batches.Select(b => b.Reference).ToArray(),
            _batches.Select(b => b.TraceParent).ToArray(),
            _batches.Select(b => b.CreatedAt).ToArray()));
    }

    private void AddMessages(NpgsqlBatch batch)
    {
        var count = _messages.Count;
        var ids = new Guid[count];
        var batches = new Guid[count];
        var accounts = new Guid[count];
        var recipients = new string[count];
        var statuses = new string[count];
        var segments = new int[count];
        var texts = new string?[count];
        var createdAt = new DateTime[count];
        var countries = new string?[count];
        var operators = new string?[count];
        for (var row = 0; row < count; row++)
        {
            var (index, message) = _messages[row];
            var send = _batches[index];
            ids[row] = message.Id;
            batches[row] = send.Id;
            accounts[row] = send.AccountId;
            recipients[row] = message.Recipient;
            statuses[row] = MessageStatus.Initial(send.ScheduledAt);
            segments[row] = message.Segments;
            texts[row] = message.Text;
            createdAt[row] = send.CreatedAt;
            countries[row] = message.Country;
            operators[row] = message.Operator;
        }
        batch.BatchCommands.Add(Command("""
            insert into messages (id, batch_id, account_id, recipient, status, segments, credits, text, created_at, country, operator)
            select id, batch_id, account_id, recipient, status, segments, segments, text, created_at, country, operator
              from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::int[], $7::text[], $8::timestamptz[], $9::text[], $10::text[])
                   as m(id, batch_id, account_id, recipient, status, segments, text, created_at, country, operator)
            """,
            ids, batches, accounts, recipients, statuses, segments, texts, createdAt, countries, operators));
    }

    private async Task CopyMessagesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var copy = await connection.BeginBinaryImportAsync(
            "copy messages (id, batch_id, account_id, recipient, status, segments, credits, text, created_at, country, operator) from stdin (format binary)",
            cancellationToken);
        foreach (var (index, message) in _messages)
        {
            var send = _batches[index];
            await copy.StartRowAsync(cancellationToken);
            await copy.WriteAsync(message.Id, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(send.Id, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(send.AccountId, NpgsqlDbType.Uuid, cancellationToken);
            await copy.WriteAsync(message.Recipient, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(MessageStatus.Initial(send.ScheduledAt), NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(message.Segments, NpgsqlDbType.Integer, cancellationToken);
            await copy.WriteAsync(message.Segments, NpgsqlDbType.Integer, cancellationToken);
            if (message.Text is { } text)
            {
                await copy.WriteAsync(text, NpgsqlDbType.Text, cancellationToken);
            }
            else
            {
                await copy.WriteNullAsync(cancellationToken);
            }
            await copy.WriteAsync(send.CreatedAt, NpgsqlDbType.TimestampTz, cancellationToken);
            await copy.WriteAsync(message.Country, NpgsqlDbType.Text, cancellationToken);
            await copy.WriteAsync(message.Operator, NpgsqlDbType.Text, cancellationToken);
        }
        await copy.CompleteAsync(cancellationToken);
    }

    /// <summary>Dispatch work for everything not scheduled, in chunks that may mix sends of the group.</summary>
    private void AddOutbox(NpgsqlBatch batch)
    {
        var outbox = new DispatchOutbox();
        foreach (var (index, message) in _messages)
        {
            var send = _batches[index];
            if (send.ScheduledAt is null)
            {
                outbox.Add(new OutboundMessage(message.Id, send.Id, send.AccountId, message.Recipient, send.SenderId,
                    message.Text ?? send.Text, message.Segments), send.TraceParent);
            }
        }
        if (outbox.ToBatchCommand() is { } insert)
        {
            batch.BatchCommands.Add(insert);
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
