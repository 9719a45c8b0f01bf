using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Lifecycle;

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
        string id, UjumbeDb db, Caller caller, MessageLifecycle lifecycle, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Batch, id, out var batchId)
            || !await db.Batches.AnyAsync(b => b.Id == batchId, cancellationToken))
        {
            return Problems.NotFound("No batch with this id.");
        }
        await lifecycle.CancelBatchAsync(batchId, caller.AccountId, cancellationToken);
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
            PublicId.Format(PublicId.Batch, batch.Id), batch.Status == BatchStatus.Finalized ? BatchStatus.Finalized : BatchStatus.Processing, summary,
            batch.SenderId, batch.Encoding, batch.Segments, batch.Credits, batch.CreatedAt, batch.ScheduledAt, batch.FinalizedAt,
            batch.Reference, messages.Select(MessagesApi.ToResponse).ToList(), paging.Number, paging.Size, batch.Recipients);
    }
}
