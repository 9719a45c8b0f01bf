using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using Ujumbe.Api.Data;
using Ujumbe.Api.Idempotency;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Messages;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Api.SenderIds;

public sealed record SenderIdRequest(string? Name, string? Purpose);

public sealed record RejectSenderIdRequest(string? Reason);

public sealed record SenderIdResponse(
    string Id, string Name, string Purpose, string Status, string? RejectionReason, DateTime CreatedAt, DateTime? DecidedAt);

public sealed record AdminSenderIdResponse(
    string Id, string AccountId, string Name, string Purpose, string Status, string? RejectionReason, DateTime CreatedAt, DateTime? DecidedAt);

/// <summary>Sender IDs: requested by accounts, approved or rejected by operators; only approved ones can send.</summary>
public static class SenderIdsApi
{
    public static RouteGroupBuilder MapSenderIdsApi(this RouteGroupBuilder v1)
    {
        var senders = v1.MapGroup("/sender-ids").RequireScope(Scopes.Account).WithTags("Sender IDs");
        senders.MapPost("/", RequestAsync)
            .WithName("RequestSenderId").WithSummary("Request a sender ID (pending until an operator approves it)").StoresIdempotentAnswers()
            .ProducesProblem(StatusCodes.Status409Conflict);
        senders.MapGet("/", ListAsync)
            .WithName("ListSenderIds").WithSummary("List the account's sender IDs and their status");

        var admin = v1.MapGroup("/admin/sender-ids").RequireScope(Scopes.Admin).WithTags("Operators");
        admin.MapGet("/", AdminListAsync)
            .WithName("ListSenderIdRequests").WithSummary("List sender ID requests of every account");
        admin.MapPost("/{id}/approve", (string id, UjumbeDb db, TimeProvider time, CancellationToken ct) =>
            DecideAsync(id, SenderIdStatus.Approved, null, db, time, ct))
            .WithName("ApproveSenderId").WithSummary("Approve a sender ID request");
        admin.MapPost("/{id}/reject", (string id, RejectSenderIdRequest request, UjumbeDb db, TimeProvider time, CancellationToken ct) =>
            string.IsNullOrWhiteSpace(request.Reason) || request.Reason.Length > 500
                ? Task.FromResult<Results<Ok<AdminSenderIdResponse>, ProblemHttpResult>>(Problems.Validation("reason", "is required, up to 500 characters"))
                : DecideAsync(id, SenderIdStatus.Rejected, request.Reason.Trim(), db, time, ct))
            .WithName("RejectSenderId").WithSummary("Reject a sender ID request with a reason");
        return v1;
    }

    /// <summary>Asks for a sender ID (pending until an operator decides). A rejected one may be asked for again.</summary>
    public static async Task<Results<Created<SenderIdResponse>, ProblemHttpResult>> RequestAsync(
        SenderIdRequest request, Caller caller, UjumbeDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var name = request.Name?.Trim().ToUpperInvariant();
        if (string.IsNullOrEmpty(name) || !SenderIdNames.IsValidName(name))
        {
            errors["name"] = ["must be 3 to 11 letters and digits"];
        }
        var purpose = request.Purpose?.Trim();
        if (string.IsNullOrEmpty(purpose) || purpose.Length > 500)
        {
            errors["purpose"] = ["is required: what the sender ID will be used for, up to 500 characters"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var now = time.UtcNow();
        var existing = await db.SenderIds.FirstOrDefaultAsync(s => s.Name == name, cancellationToken);
        if (existing is { Status: not SenderIdStatus.Rejected })
        {
            return Problems.Conflict($"Sender ID {name} has already been requested ({UjumbeDb.SnakeCase(existing.Status.ToString())}).");
        }
        var sender = existing ?? db.SenderIds.Add(new SenderId
        {
            Id = Guid.CreateVersion7(now),
            AccountId = caller.AccountId,
            Name = name!,
            Purpose = purpose!,
            CreatedAt = now,
        }).Entity;
        sender.Purpose = purpose!;
        sender.Status = SenderIdStatus.Pending;
        sender.RejectionReason = null;
        sender.DecidedAt = null;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException error) when (error.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return Problems.Conflict($"Sender ID {name} has already been requested.");
        }
        var response = ToResponse(sender);
        return TypedResults.Created($"/v1/sender-ids/{response.Id}", response);
    }

    public static async Task<Results<Ok<PageOf<SenderIdResponse>>, ProblemHttpResult>> ListAsync(
        string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        return TypedResults.Ok(await paging.PageAsync(db.SenderIds.AsNoTracking().OrderBy(s => s.Name), ToResponse, cancellationToken));
    }

    public static async Task<Results<Ok<PageOf<AdminSenderIdResponse>>, ProblemHttpResult>> AdminListAsync(
        string? status, string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        var senders = db.SenderIds.IgnoreQueryFilters().AsNoTracking();
        if (status is not null)
        {
            if (!Enum.TryParse<SenderIdStatus>(status, ignoreCase: true, out var wanted) || status.Any(char.IsUpper))
            {
                return Problems.Validation("status", "must be pending, approved or rejected");
            }
            senders = senders.Where(s => s.Status == wanted);
        }
        return TypedResults.Ok(await paging.PageAsync(senders.OrderBy(s => s.CreatedAt), ToAdminResponse, cancellationToken));
    }

    private static async Task<Results<Ok<AdminSenderIdResponse>, ProblemHttpResult>> DecideAsync(
        string id, SenderIdStatus decision, string? reason, UjumbeDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.SenderId, id, out var senderId))
        {
            return Problems.NotFound("No sender ID with this id.");
        }
        var sender = await db.SenderIds.IgnoreQueryFilters().FirstOrDefaultAsync(s => s.Id == senderId, cancellationToken);
        if (sender is null)
        {
            return Problems.NotFound("No sender ID with this id.");
        }
        sender.Status = decision;
        sender.RejectionReason = reason;
        sender.DecidedAt = time.UtcNow();
        // The decision and its webhook event commit together.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        var type = decision == SenderIdStatus.Approved ? "sender_id.approved" : "sender_id.rejected";
        var payload = System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["created_at"] = sender.DecidedAt,
            ["sender_id"] = new Dictionary<string, object?>
            {
                ["id"] = PublicId.Format(PublicId.SenderId, sender.Id),
                ["name"] = sender.Name,
                ["status"] = UjumbeDb.SnakeCase(sender.Status.ToString()),
                ["rejection_reason"] = sender.RejectionReason,
            },
        });
        // The event's deliveries continue this request's trace.
        await WebhookTrace.NameAsync((NpgsqlConnection)db.Database.GetDbConnection(),
            (NpgsqlTransaction)transaction.GetDbTransaction(), cancellationToken);
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"select emit_webhook_event({sender.AccountId}, {type}, {payload}::jsonb, null, {sender.DecidedAt})", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok(ToAdminResponse(sender));
    }

    private static SenderIdResponse ToResponse(SenderId sender) => new(
        PublicId.Format(PublicId.SenderId, sender.Id), sender.Name, sender.Purpose, UjumbeDb.SnakeCase(sender.Status.ToString()),
        sender.RejectionReason, sender.CreatedAt, sender.DecidedAt);

    private static AdminSenderIdResponse ToAdminResponse(SenderId sender) => new(
        PublicId.Format(PublicId.SenderId, sender.Id), PublicId.Format(PublicId.Account, sender.AccountId), sender.Name,
        sender.Purpose, UjumbeDb.SnakeCase(sender.Status.ToString()), sender.RejectionReason, sender.CreatedAt, sender.DecidedAt);
}
