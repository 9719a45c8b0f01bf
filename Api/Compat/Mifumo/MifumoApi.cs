using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.OpenApi;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Contacts;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Messages;
using Ujumbe.Api.Segments;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Compat.Mifumo;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Api.Compat.Mifumo;

/// <summary>Mifumo's send body (seed 000): <c>recipients</c> as an array (a comma-separated string is taken too).</summary>
public sealed record MifumoSendRequest(
    string? Message,
    [property: JsonConverter(typeof(RecipientsConverter))] IReadOnlyList<string>? Recipients,
    string? SenderId,
    string? WebhookUrl);

public sealed record MifumoSentMessage(string Id, string Recipient, string Status);

public sealed record MifumoSent(
    string BatchId, string Status, int Recipients, string SenderId, string Encoding, int Segments, long Credits,
    IReadOnlyList<MifumoSentMessage> Messages, IReadOnlyList<string> Skipped);

/// <summary>A list, as <c>data</c> of the envelope: the page and the count of everything that matched.</summary>
public sealed record MifumoPage<T>(IReadOnlyList<T> Results, int Count, int Page, int PageSize);

/// <summary>
/// Mifumo's integration API (seed 000, and the sending parts of 001) under <c>/compat/mifumo</c>: SMS send,
/// status, delivery reports and balance; contacts and segments. Each endpoint calls the /v1 code that does the
/// same (<see cref="MessageSender"/>; the /v1 handlers of messages, batches, balance, contacts and segments)
/// and words its typed result in Mifumo's envelope. docs/dialects/mifumo.md says what the seeds leave open.
/// </summary>
public static class MifumoApi
{
    private const string EnvelopeSchema = "MifumoError";

    /// <summary>Ujumbe's field names in a refusal, as Mifumo's clients know them.</summary>
    private static readonly Dictionary<string, string> FieldNames = new(StringComparer.Ordinal)
    {
        ["to"] = "recipients",
        ["text"] = "message",
        ["callback_url"] = "webhook_url",
    };

    public static DialectDocument Document { get; } = new(
        MifumoDialect.Instance,
        "Ujumbe — Mifumo dialect",
        "Mifumo's SMS integration API (SMS, contacts, segments) served by Ujumbe: change only the base URL and the API key. "
            + "Every answer is {success, message, data, error_code, details}.",
        new Dictionary<string, string>
        {
            ["SMS"] = "Sending SMS, message status, delivery reports and the balance.",
            ["Contacts"] = "Contacts and segments of contacts.",
        },
        new Dictionary<string, OpenApiSecurityScheme>
        {
            ["api_key"] = new()
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer",
                Description = "The API key (sk_…) as Authorization: Bearer YOUR_API_KEY.",
            },
        },
        new Dictionary<string, OpenApiSchema>
        {
            [EnvelopeSchema] = new()
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "success", "message", "data", "error_code", "details" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["success"] = new OpenApiSchema { Type = JsonSchemaType.Boolean },
                    ["message"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["data"] = new OpenApiSchema { Type = JsonSchemaType.Null },
                    ["error_code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "INVALID_CREDENTIALS, INVALID_PHONE, INSUFFICIENT_BALANCE, RATE_LIMIT_EXCEEDED, …" },
                    ["details"] = new OpenApiSchema { Description = "A sentence, or the field errors: field → messages." },
                },
            },
        },
        [
            (400, EnvelopeSchema, "Invalid parameters (VALIDATION_FAILED, INVALID_PHONE, …)."),
            (401, EnvelopeSchema, "INVALID_CREDENTIALS."),
            (403, EnvelopeSchema, "The key may not do this, or the account is suspended."),
            (429, EnvelopeSchema, "RATE_LIMIT_EXCEEDED; retry after Retry-After seconds."),
        ],
        path => path + "/");

    public static WebApplication MapMifumoApi(this WebApplication app)
    {
        // The seed writes every path with a trailing slash; routing takes it with or without.
        var api = app.MapGroup(MifumoDialect.Instance.Base.Value!).RequireAuthorization(CallerPolicies.Account)
            .WithGroupName(DialectOpenApi.DocumentName(MifumoDialect.Instance));
        var sms = api.MapGroup("/sms").WithTags("SMS");
        sms.MapPost("/send/", SendAsync).RequireScope(Scopes.Messages)
            .WithName("MifumoSendSms").WithSummary("Send SMS to one or more recipients")
            .Produces<MifumoEnvelope>()
            .WithDialectErrors((402, EnvelopeSchema, "INSUFFICIENT_BALANCE: nothing was sent or charged."));
        sms.MapGet("/status/{id}/", StatusAsync).RequireScope(Scopes.Messages)
            .WithName("MifumoMessageStatus").WithSummary("Get a message's status (or a batch's, by its id)")
            .Produces<MifumoEnvelope>().WithDialectErrors((404, EnvelopeSchema, "NOT_FOUND."));
        sms.MapGet("/delivery-reports/", DeliveryReportsAsync).RequireScope(Scopes.Messages)
            .WithName("MifumoDeliveryReports").WithSummary("Get delivery reports: messages, newest first")
            .Produces<MifumoEnvelope>();
        sms.MapGet("/balance/", BalanceAsync)
            .WithName("MifumoBalance").WithSummary("Get account balance")
            .Produces<MifumoEnvelope>();

        var contacts = api.MapGroup("/contacts").RequireScope(Scopes.Contacts).WithTags("Contacts");
        contacts.MapPost("/create/", CreateContactAsync)
            .WithName("MifumoCreateContact").WithSummary("Create contact")
            .Produces<MifumoEnvelope>(StatusCodes.Status201Created).WithDialectErrors((409, EnvelopeSchema, "CONFLICT: the phone number is taken."));
        contacts.MapGet("/search/", SearchContactsAsync)
            .WithName("MifumoSearchContacts").WithSummary("Search contacts by name, phone, email (q) or tag")
            .Produces<MifumoEnvelope>();
        contacts.MapGet("/{id}/", GetContactAsync)
            .WithName("MifumoGetContact").WithSummary("Get contact")
            .Produces<MifumoEnvelope>().WithDialectErrors((404, EnvelopeSchema, "NOT_FOUND."));
        contacts.MapPut("/{id}/update/", UpdateContactAsync)
            .WithName("MifumoUpdateContact").WithSummary("Update contact")
            .Produces<MifumoEnvelope>().WithDialectErrors((404, EnvelopeSchema, "NOT_FOUND."), (409, EnvelopeSchema, "CONFLICT: the phone number is taken."));
        contacts.MapDelete("/{id}/delete/", DeleteContactAsync)
            .WithName("MifumoDeleteContact").WithSummary("Delete contact")
            .Produces<MifumoEnvelope>().WithDialectErrors((404, EnvelopeSchema, "NOT_FOUND."));

        var segments = contacts.MapGroup("/segments");
        segments.MapPost("/create/", CreateSegmentAsync)
            .WithName("MifumoCreateSegment").WithSummary("Create segment")
            .Produces<MifumoEnvelope>(StatusCodes.Status201Created);
        segments.MapGet("/{id}/", GetSegmentAsync)
            .WithName("MifumoGetSegment").WithSummary("Get segment")
            .Produces<MifumoEnvelope>().WithDialectErrors((404, EnvelopeSchema, "NOT_FOUND."));
        segments.MapPut("/{id}/update/", UpdateSegmentAsync)
            .WithName("MifumoUpdateSegment").WithSummary("Update segment")
            .Produces<MifumoEnvelope>().WithDialectErrors((404, EnvelopeSchema, "NOT_FOUND."));
        segments.MapDelete("/{id}/delete/", DeleteSegmentAsync)
            .WithName("MifumoDeleteSegment").WithSummary("Delete segment")
            .Produces<MifumoEnvelope>().WithDialectErrors((404, EnvelopeSchema, "NOT_FOUND."));
        return app;
    }

    // ---- SMS ---------------------------------------------------------------------------------------------

    /// <summary>
    /// The send of /v1, with <c>webhook_url</c> as its callback URL (delivery events, signed as /v1's callbacks).
    /// Without <c>sender_id</c> the account's default sender ID is used: the one approved first.
    /// </summary>
    public static async Task<IResult> SendAsync(
        MifumoSendRequest request, Caller caller, MessageSender sender, UjumbeDb db, CancellationToken cancellationToken)
    {
        var senderId = request.SenderId;
        if (string.IsNullOrWhiteSpace(senderId))
        {
            senderId = await db.SenderIds.AsNoTracking().Where(s => s.Status == SenderIdStatus.Approved)
                .OrderBy(s => s.DecidedAt).ThenBy(s => s.Name).Select(s => s.Name).FirstOrDefaultAsync(cancellationToken);
            if (senderId is null)
            {
                return Error(403, ErrorCodes.SenderIdNotApproved,
                    "No sender_id was given and the account has no approved sender ID to use instead; request one first.");
            }
        }
        var decision = await sender.SendAsync(caller.AccountId,
            new SendRequest(request.Recipients, request.Message, senderId, request.WebhookUrl, ScheduledAt: null, Reference: null),
            idempotencyKey: null, respond: null, cancellationToken);
        if (decision.Problem is { } problem)
        {
            return Error(problem.Status, problem.Code, problem.Detail,
                problem.Errors?.ToDictionary(e => FieldNames.GetValueOrDefault(e.Key, e.Key), e => e.Value));
        }
        var command = decision.Command!;
        var messages = command.Recipients.Select((to, i) => new MifumoSentMessage(PublicId.Format(PublicId.Message, command.MessageIds[i]), to, "queued"));
        return Success(StatusCodes.Status200OK, "SMS sent successfully", new MifumoSent(
            PublicId.Format(PublicId.Batch, command.BatchId), "queued", command.Recipients.Count, command.SenderId,
            SmsSegments.EncodingName(command.Encoding), command.Segments, command.Credits, [.. messages], command.Skipped));
    }

    /// <summary>A message by its id (<c>msg_…</c>), or a whole batch's report by the batch id (<c>bat_…</c>) a send answered.</summary>
    public static async Task<IResult> StatusAsync(string id, UjumbeDb db, CancellationToken cancellationToken) =>
        id.StartsWith(PublicId.Batch + "_", StringComparison.Ordinal)
            ? Envelope((await BatchesApi.GetAsync(id, null, null, db, cancellationToken)).Result, "Batch status retrieved")
            : Envelope((await MessagesApi.GetAsync(id, db, cancellationToken)).Result, "Message status retrieved");

    public static async Task<IResult> DeliveryReportsAsync(
        string? status, [FromQuery(Name = "batch_id")] string? batchId, string? page, [FromQuery(Name = "page_size")] string? pageSize,
        UjumbeDb db, Caller caller, AccountSettingsCache accounts, CancellationToken cancellationToken)
    {
        var result = (await MessagesApi.ListAsync(status, batchId, to: null, since: null, until: null, country: null, mobileOperator: null,
            page, pageSize, db, caller, accounts, cancellationToken)).Result;
        return result is Ok<PageOf<MessageResponse>> { Value: { } found }
            ? Success(StatusCodes.Status200OK, "Delivery reports retrieved", new MifumoPage<MessageResponse>(found.Data, found.Total, found.Page, found.PageSize))
            : Envelope(result, "");
    }

    public static async Task<IResult> BalanceAsync(UjumbeDb db, CancellationToken cancellationToken) =>
        Envelope((await AccountApi.GetBalanceAsync(db, cancellationToken)).Result, "Balance retrieved");

    // ---- Contacts and segments ------------------------------------------------------------------------------

    public static async Task<IResult> CreateContactAsync(
        ContactRequest request, Caller caller, UjumbeDb db, AccountSettingsCache accounts, TimeProvider time, CancellationToken cancellationToken) =>
        Envelope((await ContactsApi.CreateAsync(request, caller, db, accounts, time, cancellationToken)).Result, "Contact created successfully");

    public static async Task<IResult> GetContactAsync(string id, UjumbeDb db, CancellationToken cancellationToken) =>
        Envelope((await ContactsApi.GetAsync(id, db, cancellationToken)).Result, "Contact retrieved");

    public static async Task<IResult> UpdateContactAsync(
        string id, ContactRequest request, Caller caller, UjumbeDb db, AccountSettingsCache accounts, TimeProvider time,
        CancellationToken cancellationToken) =>
        Envelope((await ContactsApi.UpdateAsync(id, request, caller, db, accounts, time, cancellationToken)).Result, "Contact updated successfully");

    public static async Task<IResult> DeleteContactAsync(string id, UjumbeDb db, CancellationToken cancellationToken) =>
        Envelope((await ContactsApi.DeleteAsync(id, db, cancellationToken)).Result, "Contact deleted successfully");

    public static async Task<IResult> SearchContactsAsync(
        string? q, string? tag, string? page, [FromQuery(Name = "page_size")] string? pageSize,
        Caller caller, UjumbeDb db, AccountSettingsCache accounts, CancellationToken cancellationToken)
    {
        var result = (await ContactsApi.ListAsync(q, tag, page, pageSize, caller, db, accounts, cancellationToken)).Result;
        return result is Ok<ContactPage> { Value: { } found }
            ? Success(StatusCodes.Status200OK, "Contacts retrieved", new MifumoPage<ContactResponse>(found.Data, found.Total, found.Page, found.PageSize))
            : Envelope(result, "");
    }

    public static async Task<IResult> CreateSegmentAsync(SegmentRequest request, Caller caller, UjumbeDb db, TimeProvider time, CancellationToken cancellationToken) =>
        Envelope((await SegmentsApi.CreateAsync(request, caller, db, time, cancellationToken)).Result, "Segment created successfully");

    public static async Task<IResult> GetSegmentAsync(string id, UjumbeDb db, CancellationToken cancellationToken) =>
        Envelope((await SegmentsApi.GetAsync(id, db, cancellationToken)).Result, "Segment retrieved");

    public static async Task<IResult> UpdateSegmentAsync(string id, SegmentRequest request, UjumbeDb db, TimeProvider time, CancellationToken cancellationToken) =>
        Envelope((await SegmentsApi.UpdateAsync(id, request, db, time, cancellationToken)).Result, "Segment updated successfully");

    public static async Task<IResult> DeleteSegmentAsync(string id, UjumbeDb db, CancellationToken cancellationToken) =>
        Envelope((await SegmentsApi.DeleteAsync(id, db, cancellationToken)).Result, "Segment deleted successfully");

    // ---- The envelope ------------------------------------------------------------------------------------------

    /// <summary>
    /// A /v1 handler's typed answer in the envelope: its value as <c>data</c> with its status (200, 201; a 204 becomes
    /// 200 with <c>data: null</c>, since the envelope is the answer), or its problem as the envelope's error.
    /// </summary>
    private static IResult Envelope(IResult result, string message) => result switch
    {
        ProblemHttpResult { ProblemDetails: var problem } => Error(
            problem.Status ?? StatusCodes.Status400BadRequest,
            problem.Extensions.TryGetValue("code", out var code) && code is string text ? text : ErrorCodes.ForStatus(problem.Status ?? 400),
            problem.Detail,
            problem.Extensions.TryGetValue("errors", out var errors) ? errors as IDictionary<string, string[]> : null),
        IValueHttpResult { Value: var value } and IStatusCodeHttpResult { StatusCode: var status } =>
            Success(status ?? StatusCodes.Status200OK, message, value),
        _ => Success(StatusCodes.Status200OK, message, null),
    };

    private static JsonHttpResult<MifumoEnvelope> Success(int status, string message, object? data) =>
        TypedResults.Json(MifumoDialect.Success(message, data), JsonDefaults.Options, statusCode: status);

    private static DialectResult Error(int status, string code, string? detail, IDictionary<string, string[]>? errors = null) =>
        new(MifumoDialect.Instance.Error(status, code, detail, errors));
}
