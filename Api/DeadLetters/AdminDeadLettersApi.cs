using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using NpgsqlTypes;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Api.DeadLetters;

/// <summary>
/// A piece of work that failed every retry. <c>body</c> is the message as UTF-8 text (null when it is
/// not text; <c>body_bytes</c> says how big it is); the list leaves it out.
/// </summary>
public sealed record DeadLetterResponse(
    string Id, string Queue, string Status, int Attempts, string? LastError, DateTime? FirstFailedAt, DateTime DeadLetteredAt,
    DateTime? ReplayedAt, string? ReplayedBy, string? TraceParent, int BodyBytes, string? Body);

/// <summary>
/// Operators (the <c>admin</c> scope) see what failed every retry, why, and replay it (decision 0022).
/// A replay puts the body back on its queue through the outbox, in the transaction that marks it
/// replayed: it is never lost (the outbox row commits with the mark) and never done twice (only a
/// waiting dead letter can be marked). It starts a fresh round of retries.
/// </summary>
public static class AdminDeadLettersApi
{
    public const string Waiting = "waiting";
    public const string Replayed = "replayed";

    public static RouteGroupBuilder MapAdminDeadLettersApi(this RouteGroupBuilder v1)
    {
        var deadLetters = v1.MapGroup("/admin/dead-letters").RequireScope(Scopes.Admin).WithTags("Operators");
        deadLetters.MapGet("/", ListAsync)
            .WithName("ListDeadLetters").WithSummary("List work that failed every retry, newest first");
        deadLetters.MapGet("/{id}", GetAsync)
            .WithName("GetDeadLetter").WithSummary("Get a dead letter with its body");
        deadLetters.MapPost("/{id}/replay", ReplayAsync)
            .WithName("ReplayDeadLetter").WithSummary("Send a dead letter back to its queue, once")
            .ProducesProblem(StatusCodes.Status409Conflict);
        return v1;
    }

    public static async Task<Results<Ok<PageOf<DeadLetterResponse>>, ProblemHttpResult>> ListAsync(
        string? queue, string? status, string? page, [FromQuery(Name = "page_size")] string? pageSize,
        NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        Paging.TryParse(page, pageSize, out var paging, out var errors);
        if (queue is not null && !Topology.WorkQueues.Contains(queue))
        {
            errors["queue"] = [$"must be one of: {string.Join(", ", Topology.WorkQueues)}"];
        }
        if (status is not null and not (Waiting or Replayed))
        {
            errors["status"] = [$"must be {Waiting} or {Replayed}"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        const string Filter = """
             where ($1::text is null or queue = $1)
               and ($2::text is null or ($2 = 'waiting') = (replayed_at is null))
            """;
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var count = new NpgsqlCommand($"select count(*)::int from dead_letters {Filter}", connection);
        AddFilter(count, queue, status);
        var total = (int)(await count.ExecuteScalarAsync(cancellationToken))!;
        await using var select = new NpgsqlCommand(
            $"select {Columns}, null::bytea from dead_letters {Filter} order by dead_lettered_at desc, id desc limit $3 offset $4", connection);
        AddFilter(select, queue, status);
        select.Parameters.Add(new() { Value = paging.Size });
        select.Parameters.Add(new() { Value = paging.Skip });
        var rows = new List<DeadLetterResponse>();
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(Read(reader));
            }
        }
        return TypedResults.Ok(paging.Of(rows, total));
    }

    public static async Task<Results<Ok<DeadLetterResponse>, ProblemHttpResult>> GetAsync(
        string id, NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.DeadLetter, id, out var deadLetterId))
        {
            return NotFound();
        }
        await using var select = database.CreateCommand($"select {Columns}, body from dead_letters where id = $1");
        select.Parameters.Add(new() { Value = deadLetterId });
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? TypedResults.Ok(Read(reader)) : NotFound();
    }

    public static async Task<Results<Ok<DeadLetterResponse>, ProblemHttpResult>> ReplayAsync(
        string id, Caller caller, NpgsqlDataSource database, OutboxRelay relay, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.DeadLetter, id, out var deadLetterId))
        {
            return NotFound();
        }
        var by = caller.Identity.UserId is { } user ? PublicId.Format(PublicId.User, user)
            : caller.KeyId is { } key ? PublicId.Format(PublicId.ApiKey, key)
            : "operator";
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        DeadLetterResponse? replayed = null;
        // Only a waiting dead letter is marked; a concurrent replay waits for this row's lock and then finds it replayed.
        await using (var mark = new NpgsqlCommand($"""
            update dead_letters set replayed_at = $2, replayed_by = $3
             where id = $1 and replayed_at is null
            returning {Columns}, body
            """, connection, transaction))
        {
            mark.Parameters.Add(new() { Value = deadLetterId });
            mark.Parameters.Add(new() { Value = time.GetUtcNow().UtcDateTime, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            mark.Parameters.Add(new() { Value = by });
            await using var reader = await mark.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                replayed = Read(reader);
            }
        }
        if (replayed is null)
        {
            await transaction.RollbackAsync(cancellationToken);
            await using var exists = database.CreateCommand("select replayed_at from dead_letters where id = $1");
            exists.Parameters.Add(new() { Value = deadLetterId });
            return await exists.ExecuteScalarAsync(cancellationToken) is DateTime at
                ? Problems.Create(StatusCodes.Status409Conflict, ErrorCodes.AlreadyReplayed, "Conflict.",
                    $"This dead letter was already replayed (at {at:yyyy-MM-ddTHH:mm:ssZ}); it is not sent twice.")
                : NotFound();
        }
        // No attempt header: the work starts a fresh round of retries.
        await using (var outbox = new NpgsqlCommand(
            "insert into outbox (routing_key, payload, trace_parent) select queue, body, trace_parent from dead_letters where id = $1",
            connection, transaction))
        {
            outbox.Parameters.Add(new() { Value = deadLetterId });
            await outbox.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(CancellationToken.None);
        relay.Notify();
        return TypedResults.Ok(replayed);
    }

    private static ProblemHttpResult NotFound() => Problems.NotFound("No dead letter with this id.");

    private const string Columns =
        "id, queue, attempts, last_error, first_failed_at, dead_lettered_at, replayed_at, replayed_by, trace_parent, length(body)";

    private static void AddFilter(NpgsqlCommand command, string? queue, string? status)
    {
        command.Parameters.Add(new() { Value = (object?)queue ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)status ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
    }

    /// <summary>Reads <see cref="Columns"/> then the body (null in lists).</summary>
    private static DeadLetterResponse Read(NpgsqlDataReader reader)
    {
        DateTime? At(int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTime>(ordinal);
        string? Text(int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
        var replayedAt = At(6);
        return new DeadLetterResponse(
            PublicId.Format(PublicId.DeadLetter, reader.GetGuid(0)), reader.GetString(1), replayedAt is null ? Waiting : Replayed,
            reader.GetInt32(2), Text(3), At(4), reader.GetFieldValue<DateTime>(5), replayedAt, Text(7), Text(8), reader.GetInt32(9),
            reader.IsDBNull(10) ? null : BodyText(reader.GetFieldValue<byte[]>(10)));
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string? BodyText(byte[] body)
    {
        try
        {
            return StrictUtf8.GetString(body);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
