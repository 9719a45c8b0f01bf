using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Data;
using Ujumbe.Api.Extensions;
using Ujumbe.Api.Idempotency;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Phones;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Api.Messages;

public sealed record AcceptedMessage(string Id, string To, string Status);

public sealed record SkippedRecipient(string To, string Reason);

public sealed record SendAcceptedResponse(
    string BatchId, string Status, int Recipients, string Encoding, int Segments, long Credits,
    DateTime? ScheduledAt, string? Reference, IReadOnlyList<AcceptedMessage> Messages, IReadOnlyList<SkippedRecipient> Skipped);

public sealed record QuoteResponse(int Recipients, string Encoding, int Segments, long Credits, long Balance, long BalanceAfter, bool Sufficient);

public sealed record MessageResponse(
    string Id, string BatchId, string To, string SenderId, string Text, string Status, string Encoding, int Segments,
    int Credits, string? ErrorCode, DateTime CreatedAt, DateTime? SentAt, DateTime? DeliveredAt, DateTime? FailedAt,
    DateTime? CanceledAt, string? Reference, string? Country, string? Operator);

/// <summary>Sending, quoting and reading messages (API.md "Messages and batches").</summary>
public static class MessagesApi
{
    /// <summary>Longer than any operator name in the carrier data.</summary>
    public const int MaxOperatorLength = 100;

    public static RouteGroupBuilder MapMessagesApi(this RouteGroupBuilder v1)
    {
        var messages = v1.MapGroup("/messages").RequireScope(Scopes.Messages).WithTags("Messages");
        messages.MapPost("/", SendAsync)
            .WithName("SendMessage").WithSummary("Send a text to one or many recipients")
            .Produces<SendAcceptedResponse>(StatusCodes.Status202Accepted).AcceptsIdempotencyKey()
            .ProducesProblem(StatusCodes.Status402PaymentRequired).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        messages.MapPost("/quote", QuoteAsync)
            .WithName("QuoteMessage").WithSummary("Price a send without sending it");
        messages.MapGet("/{id}", GetAsync)
            .WithName("GetMessage").WithSummary("Get one message and its delivery status");
        messages.MapGet("/", ListAsync)
            .WithName("ListMessages").WithSummary("List messages, newest first, filtered by status, batch, number or time");
        return v1;
    }

    public static async Task<Results<JsonBody, ProblemHttpResult>> SendAsync(
        SendRequest request, HttpRequest http, Caller caller, MessageSender sender, CancellationToken cancellationToken)
    {
        var (key, keyProblem) = IdempotencyKey.Read(http);
        if (keyProblem is not null)
        {
            return keyProblem;
        }
        var decision = await sender.SendAsync(caller.AccountId, request, key, MessageSender.AcceptedBody, cancellationToken);
        return decision switch
        {
            { Problem: { } problem } => ToProblem(problem),
            { Outcome: { Result: SendResult.Replayed } replay } => new JsonBody(replay.ReplayStatus, replay.ReplayBody!, Replayed: true),
            _ => new JsonBody(StatusCodes.Status202Accepted, decision.Command!.AcceptedResponse!),
        };
    }

    public static async Task<Results<Ok<QuoteResponse>, ProblemHttpResult>> QuoteAsync(
        SendRequest request, Caller caller, AccountSettingsCache accounts, UjumbeDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var settings = await accounts.GetAsync(caller.AccountId, cancellationToken);
        if (settings is null)
        {
            return Problems.NotFound("The account no longer exists.");
        }
        var (send, problem) = SendValidator.Validate(request, settings, time.UtcNow());
        if (problem is not null)
        {
            return ToProblem(problem);
        }
        var approved = await db.SenderIds.AnyAsync(s => s.Name == send!.SenderId && s.Status == SenderIdStatus.Approved, cancellationToken);
        if (!approved)
        {
            return Problems.Forbidden($"Sender ID {send!.SenderId} is not approved for this account.", ErrorCodes.SenderIdNotApproved);
        }
        var balance = await db.Balances.AsNoTracking().SingleAsync(cancellationToken);
        var available = balance.Credits - balance.Reserved;
        return TypedResults.Ok(new QuoteResponse(send!.Recipients.Count, SmsSegments.EncodingName(send.Encoding), send.Segments,
            send.Credits, available, available - send.Credits, send.Credits <= available));
    }

    public static async Task<Results<Ok<MessageResponse>, ProblemHttpResult>> GetAsync(
        string id, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Message, id, out var messageId))
        {
            return Problems.NotFound("No message with this id.");
        }
        var found = await MessageRows(db).Where(r => r.Message.Id == messageId).FirstOrDefaultAsync(cancellationToken);
        return found is null ? Problems.NotFound("No message with this id.") : TypedResults.Ok(ToResponse(found));
    }

    public static async Task<Results<Ok<PageOf<MessageResponse>>, ProblemHttpResult>> ListAsync(
        string? status, [FromQuery(Name = "batch_id")] string? batchId, string? to, string? since, string? until,
        string? country, [FromQuery(Name = "operator")] string? mobileOperator,
        string? page, [FromQuery(Name = "page_size")] string? pageSize,
        UjumbeDb db, Caller caller, AccountSettingsCache accounts, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        var rows = MessageRows(db);
        if (status is not null)
        {
            if (!MessageStatus.Public.Contains(status))
            {
                errors["status"] = [$"must be one of {string.Join(", ", MessageStatus.Public)}"];
            }
            var stored = MessageStatus.StoredAs(status);
            rows = rows.Where(r => stored.Contains(r.Message.Status));
        }
        if (batchId is not null)
        {
            if (PublicId.TryParse(PublicId.Batch, batchId, out var batch))
            {
                rows = rows.Where(r => r.Message.BatchId == batch);
            }
            else
            {
                errors["batch_id"] = ["is not a batch id"];
            }
        }
        if (to is not null)
        {
            if (PhoneNumbers.TryNormalize(to, await accounts.DefaultCountryAsync(caller.AccountId, cancellationToken), out var e164, out var phoneError))
            {
                rows = rows.Where(r => r.Message.Recipient == e164);
            }
            else
            {
                errors["to"] = [phoneError];
            }
        }
        if (country is not null)
        {
            var code = country.Trim().ToUpperInvariant();
            if (PhoneNumbers.IsKnownRegion(code))
            {
                rows = rows.Where(r => r.Message.Country == code);
            }
            else
            {
                errors["country"] = ["must be the ISO 3166 alpha-2 code of a country with a telephone numbering plan, e.g. TZ"];
            }
        }
        if (mobileOperator is not null)
        {
            var name = mobileOperator.Trim();
            if (name.Length is 0 or > MaxOperatorLength)
            {
                errors["operator"] = [$"must be an operator's name of 1 to {MaxOperatorLength} characters, e.g. Vodacom"];
            }
            else
            {
                // As the carrier data spells it, in any case: "vodacom" finds "Vodacom". ILIKE's wildcards are escaped.
                var pattern = name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal)
                    .Replace("_", "\\_", StringComparison.Ordinal);
                rows = rows.Where(r => r.Message.Operator != null && EF.Functions.ILike(r.Message.Operator, pattern, "\\"));
            }
        }
        if (ParseTime(since, "since", errors) is { } from)
        {
            rows = rows.Where(r => r.Message.CreatedAt >= from);
        }
        if (ParseTime(until, "until", errors) is { } before)
        {
            rows = rows.Where(r => r.Message.CreatedAt < before);
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        return TypedResults.Ok(await paging.PageAsync(
            rows.OrderByDescending(r => r.Message.CreatedAt).ThenByDescending(r => r.Message.Id), ToResponse, cancellationToken));
    }

    /// <summary>A message with what it shares with its batch. Init-only members, so EF can filter and sort on them.</summary>
    internal sealed class MessageRow
    {
        public required Message Message { get; init; }
        public required string SenderId { get; init; }
        public required string Text { get; init; }
        public required string Encoding { get; init; }
        public string? Reference { get; init; }
    }

    internal static IQueryable<MessageRow> MessageRows(UjumbeDb db) =>
        from m in db.Messages.AsNoTracking()
        join b in db.Batches on m.BatchId equals b.Id
        select new MessageRow { Message = m, SenderId = b.SenderId, Text = b.Text, Encoding = b.Encoding, Reference = b.Reference };

    internal static MessageResponse ToResponse(MessageRow row)
    {
        var m = row.Message;
        return new MessageResponse(
            PublicId.Format(PublicId.Message, m.Id), PublicId.Format(PublicId.Batch, m.BatchId), m.Recipient, row.SenderId,
            m.Text ?? row.Text, MessageStatus.ToPublic(m.Status), row.Encoding, m.Segments, m.Credits, m.ErrorCode,
            m.CreatedAt, m.SentAt, m.DeliveredAt, m.FailedAt, m.CanceledAt, row.Reference, m.Country, m.Operator);
    }

    internal static ProblemHttpResult AllOptedOut() => ToProblem(SendProblem.AllOptedOut);

    internal static ProblemHttpResult ToProblem(SendProblem problem) =>
        Problems.Create(problem.Status, problem.Code, problem.Title, problem.Detail, problem.Errors, problem.Extensions);

    private static DateTime? ParseTime(string? value, string field, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return null;
        }
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            return parsed.UtcDateTime;
        }
        errors[field] = ["must be an ISO 8601 time, e.g. 2026-11-21T09:00:00Z"];
        return null;
    }
}

/// <summary>Statuses as stored and as shown: a message being handed to a provider still shows as queued.</summary>
/// <summary>A pre-serialised JSON answer (also what an idempotent replay returns, byte for byte).</summary>
public sealed record JsonBody(int Status, byte[] Body, bool Replayed = false) : IResult, IStatusCodeHttpResult
{
    public int? StatusCode => Status;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = Status;
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = Body.Length;
        if (Replayed)
        {
            response.Headers[IdempotencyKey.ReplayedHeader] = "true";
        }
        return response.Body.WriteAsync(Body).AsTask();
    }
}
