using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Api.Messages;

public sealed record BatchSummary(int Total, int Scheduled, int Queued, int Sent, int Delivered, int Failed, int Rejected, int Canceled);

public sealed record BatchReport(
    string BatchId, string Status, BatchSummary Summary, string SenderId, string Encoding, int Segments, long Credits,
    DateTime CreatedAt, DateTime? ScheduledAt, DateTime? FinalizedAt, string? Reference,
    IReadOnlyList<MessageResponse> Messages, int Page, int PageSize, int Total);

/// <summary>Delivery reports and cancellation of batches.</summary>
public static class BatchesApi
{
    public static RouteGroupBuilder MapBatchesApi(this RouteGroupBuilder v1)
    {
        var batches = v1.MapGroup("/batches").RequireScope(Scopes.Messages).WithTags("Messages");
        batches.MapGet("/{id}", GetAsync)
            .WithName("GetBatch").WithSummary("Get a batch's delivery report");
        batches.MapPost("/{id}/cancel", CancelAsync)
            .WithName("CancelBatch").WithSummary("Cancel the batch's messages not yet sent and release their credits");
        return v1;
    }

    public static async Task<Results<Ok<BatchReport>, ProblemHttpResult>> GetAsync(
        string id, string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        if (!PublicId.TryParse(PublicId.Batch, id, out var batchId))
        {
            return Problems.NotFound("No batch with this id.");
        }
        var report = await ReportAsync(db, batchId, paging, cancellationToken);
        return report is null ? Problems.NotFound("No batch with this id.") : TypedResults.Ok(report);
    }

    /// <summary>
    /// Cancels every message of the batch not yet handed to a provider (scheduled or queued) and
    /// releases their reserved credits, atomically; messages already on their way are not recalled.
    /// </summary>
    public static async Task<Results<Ok<BatchReport>, ProblemHttpResult>> CancelAsync(
        string id, UjumbeDb db, Caller caller, NpgsqlDataSource database, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Batch, id, out var batchId)
            || !await db.Batches.AnyAsync(b => b.Id == batchId, cancellationToken))
        {
            return Problems.NotFound("No batch with this id.");
        }
        // Cancel and post the released credits in one transaction, so the balance shows them back at once.
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await WebhookTrace.NameAsync(connection, transaction, cancellationToken); // batch.finalized continues this request's trace
        await using (var cancel = new NpgsqlCommand("""
            with cancelable as (
                select coalesce(array_agg(id), '{}') as ids
                  from messages
                 where batch_id = $1 and account_id = $2 and status in ('scheduled', 'queued')
            )
            select count(*) filter (where t.applied)
              from cancelable, transition_messages(cancelable.ids, array_fill('canceled'::text, array[cardinality(cancelable.ids)]), $3) t
            """, connection, transaction))
        {
            cancel.Parameters.Add(new() { Value = batchId });
            cancel.Parameters.Add(new() { Value = caller.AccountId });
            cancel.Parameters.Add(new() { Value = time.UtcNow() });
            await cancel.ExecuteScalarAsync(cancellationToken);
        }
        await using (var post = new NpgsqlCommand("select post_pending_credits($1, $2)", connection, transaction))
        {
            post.Parameters.Add(new() { Value = time.UtcNow() });
            post.Parameters.Add(new() { Value = caller.AccountId });
            await post.ExecuteScalarAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
        var report = await ReportAsync(db, batchId, new Paging(1, Paging.DefaultSize), cancellationToken);
        return TypedResults.Ok(report!);
    }

    private static async Task<BatchReport?> ReportAsync(UjumbeDb db, Guid batchId, Paging paging, CancellationToken cancellationToken)
    {
        var batch = await db.Batches.AsNoTracking().FirstOrDefaultAsync(b => b.Id == batchId, cancellationToken);
        if (batch is null)
        {
            return null;
        }
        var messages = await MessagesApi.MessageRows(db).Where(r => r.Message.BatchId == batchId)
            .OrderBy(r => r.Message.Id).Skip(paging.Skip).Take(paging.Size).ToListAsync(cancellationToken);
        var summary = new BatchSummary(batch.Recipients, batch.ScheduledCount, batch.QueuedCount, batch.SentCount,
            batch.DeliveredCount, batch.FailedCount, batch.RejectedCount, batch.CanceledCount);
        return new BatchReport(
            PublicId.Format(PublicId.Batch, batch.Id), batch.Status == "finalized" ? "finalized" : "processing", summary,
            batch.SenderId, batch.Encoding, batch.Segments, batch.Credits, batch.CreatedAt, batch.ScheduledAt, batch.FinalizedAt,
            batch.Reference, messages.Select(MessagesApi.ToResponse).ToList(), paging.Number, paging.Size, batch.Recipients);
    }
}
