using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Shared.Lifecycle;

/// <summary>
/// The one writer of dispatch work into the outbox, for the lifecycle's two ways into <c>queued</c> (a send accepted
/// now, <see cref="AcceptedSends"/>; a scheduled one released, <see cref="MessageLifecycle.ReleaseDueAsync"/>):
/// messages in order, cut into chunks of <see cref="ChunkSize"/> (one RabbitMQ message each), each chunk with
/// the trace contexts of the requests behind it. Written in the caller's transaction, with what the messages
/// record, so the work is published if and only if it commits.
/// </summary>
internal sealed class DispatchOutbox
{
    /// <summary>Messages per dispatch chunk.</summary>
    public const int ChunkSize = 500;

    private readonly List<byte[]> _payloads = [];
    private readonly List<string?> _traceParents = [];
    private readonly List<OutboundMessage> _chunk = new(ChunkSize);
    private readonly List<string> _chunkTraces = [];

    /// <summary>Adds a message; <paramref name="traceParent"/> is the W3C context of the request that sent it, if any.</summary>
    public void Add(OutboundMessage message, string? traceParent)
    {
        if (_chunk.Count == ChunkSize)
        {
            Cut();
        }
        if (traceParent is not null && (_chunkTraces.Count == 0 || _chunkTraces[^1] != traceParent))
        {
            _chunkTraces.Add(traceParent);
        }
        _chunk.Add(message);
    }

    /// <summary>The insert of every chunk added, for a batch of statements; null when nothing was added.</summary>
    public NpgsqlBatchCommand? ToBatchCommand()
    {
        Cut();
        if (_payloads.Count == 0)
        {
            return null;
        }
        var command = new NpgsqlBatchCommand(
            "insert into outbox (routing_key, payload, trace_parent) select $1, p, t from unnest($2::bytea[], $3::text[]) as o(p, t)");
        command.Parameters.Add(new NpgsqlParameter { Value = Topology.Dispatch });
        command.Parameters.Add(new NpgsqlParameter { Value = _payloads.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = _traceParents.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        return command;
    }

    /// <summary>Inserts every chunk added, in <paramref name="transaction"/>.</summary>
    public async Task WriteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (ToBatchCommand() is not { } insert)
        {
            return;
        }
        await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { insert } };
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    private void Cut()
    {
        if (_chunk.Count == 0)
        {
            return;
        }
        _payloads.Add(JsonSerializer.SerializeToUtf8Bytes(new DispatchChunk([.. _chunk], [.. _chunkTraces]), MessagingJson.Default.DispatchChunk));
        // The chunk's relay span continues the first request's trace; the others are links.
        _traceParents.Add(_chunkTraces.FirstOrDefault());
        _chunk.Clear();
        _chunkTraces.Clear();
    }
}
