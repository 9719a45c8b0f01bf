using Npgsql;
using NpgsqlTypes;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Worker.Dispatch;

/// <summary>One row of <c>transition_messages</c>: where a message was, where it was asked to go, whether it moved.</summary>
public sealed record Transition(Guid Id, string? FromStatus, string ToStatus, bool Applied);

/// <summary>
/// Calls the database's <c>transition_messages</c> (migration 0002), which moves statuses and keeps
/// batch counts, finalization and credits (capture, release) in step, in one transaction.
/// </summary>
public sealed class MessageTransitions(NpgsqlDataSource database, TimeProvider time)
{
    public async Task<IReadOnlyList<Transition>> ApplyAsync(
        IReadOnlyList<Guid> ids, IReadOnlyList<string> toStatuses, string? provider = null,
        IReadOnlyList<string?>? providerIds = null, IReadOnlyList<string?>? errorCodes = null,
        IReadOnlyList<string>? onlyFrom = null, CancellationToken cancellationToken = default)
    {
        if (ids.Count == 0)
        {
            return [];
        }
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        return await ApplyAsync(connection, null, ids, toStatuses, provider, providerIds, errorCodes, onlyFrom, cancellationToken);
    }

    /// <summary>The same, inside the caller's transaction.</summary>
    public async Task<IReadOnlyList<Transition>> ApplyAsync(
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
        var results = new List<Transition>(ids.Count);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken); // past set_config's row
        while (await reader.ReadAsync(cancellationToken))
        {
            results.Add(new Transition(reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetString(2), reader.GetBoolean(3)));
        }
        return results;
    }
}
