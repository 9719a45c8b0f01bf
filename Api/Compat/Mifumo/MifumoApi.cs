using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Npgsql;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Auth;
using Ujumbe.Api.Contacts;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Messages;
using Ujumbe.Api.Partners;
using Ujumbe.Api.Payments;
using Ujumbe.Api.Segments;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Compat.Mifumo;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Shared.Messaging;
using Ujumbe.Shared.Payments;

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

/// <summary>Seed 001's JWT login: the portal user's email (<c>username</c> is taken too) and password.</summary>
public sealed record MifumoLoginRequest(string? Email, string? Username, string? Password);

/// <summary>
/// Mifumo's API (seeds 000 and 001) under <c>/compat/mifumo</c>: SMS send, status, delivery reports and balance;
/// contacts and segments; the white-label partner's tenants and their ZenoPay (mobile-money) payments; the JWT
/// login. Each endpoint calls the /v1 code that does the same (<see cref="MessageSender"/>; the /v1 handlers of
/// messages, batches, balance, contacts, segments, tenants, payments and sign-in) and words its typed result in
/// Mifumo's envelope. docs/dialects/mifumo.md says what the seeds leave open.
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
        "Mifumo's SMS API (SMS, contacts, segments, white-label tenants and their mobile-money payments, JWT login) served by "
            + "Ujumbe: change only the base URL and the API key. Every answer is {success, message, data, error_code, details}.",
        new Dictionary<string, string>
        {
            ["SMS"] = "Sending SMS, message status, delivery reports and the balance.",
            ["Contacts"] = "Contacts and segments of contacts.",
            ["Partner"] = "White-label: the partner's tenant accounts and their ZenoPay mobile-money payments.",
            ["Authentication"] = "JWT login: an access token for a portal user's email and password.",
        },
        new Dictionary<string, OpenApiSecurityScheme>
        {
            ["api_key"] = new()
            {
                Type = SecuritySchemeType.Http, Scheme = "bearer",
                Description = "The API key (sk_…) as Authorization: Bearer YOUR_API_KEY, or the access_token of POST /api/auth/login/.",
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
        var dialect = MifumoDialect.Instance;
        var documentName = DialectOpenApi.DocumentName(dialect);
        app.MapPost(dialect.Login.Value!, LoginAsync).WithGroupName(documentName).WithTags("Authentication")
            .WithName("MifumoLogin").WithSummary("Log in: an access token to send as Authorization: Bearer")
            .Produces<MifumoEnvelope>()
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // Public: one requirement that names no scheme.
                operation.Security = [new OpenApiSecurityRequirement()];
                return Task.CompletedTask;
            });

        var api = app.MapGroup(dialect.Integration.Value!).RequireAuthorization(CallerPolicies.Account).WithGroupName(documentName);
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

        // Seed 001's white-label API: a key (or login) of an account an operator made a partner, as for /v1/tenants.
        var tenants = api.MapGroup("/partner/tenants").RequireScope(Scopes.Partner).AddEndpointFilter(TenantsApi.OnlyPartnersAsync)
            .WithTags("Partner");
        tenants.MapPost("/create/", CreateTenantAsync)
            .WithName("MifumoCreateTenant").WithSummary("Create tenant account")
            .Produces<MifumoEnvelope>(StatusCodes.Status201Created).WithDialectErrors((409, EnvelopeSchema, "CONFLICT: a user with this email exists."));
        tenants.MapGet("/", ListTenantsAsync)
            .WithName("MifumoListTenants").WithSummary("List tenant accounts (q, status, page, page_size)")
            .Produces<MifumoEnvelope>();
        tenants.MapGet("/{id}/", GetTenantAsync)
            .WithName("MifumoGetTenant").WithSummary("Get tenant account")
            .Produces<MifumoEnvelope>().WithDialectErrors((404, EnvelopeSchema, "NOT_FOUND."));
        tenants.MapPost("/{id}/payments/initiate/", InitiatePaymentAsync)
            .WithName("MifumoInitiateTenantPayment").WithSummary("Initiate a ZenoPay mobile-money payment for a tenant's credits")
            .Produces<MifumoEnvelope>(StatusCodes.Status201Created)
            .WithDialectErrors((404, EnvelopeSchema, "NOT_FOUND."), (503, EnvelopeSchema, "PROVIDER_UNAVAILABLE: nothing was charged."));
        tenants.MapGet("/{id}/payments/{paymentId}/", PaymentStatusAsync)
            .WithName("MifumoTenantPaymentStatus").WithSummary("Get a tenant payment's status")
            .Produces<MifumoEnvelope>().WithDialectErrors((404, EnvelopeSchema, "NOT_FOUND."));
        return app;
    }

    // ---- Authentication ----------------------------------------------------------------------------------

    /// <summary>The portal's sign-in (same counting, slowing and locking); its token works as Bearer on every Mifumo path.</summary>
    public static async Task<IResult> LoginAsync(
        MifumoLoginRequest request, Caller caller, SignIn signIn, PortalTokens tokens, HttpResponse response, CancellationToken cancellationToken)
    {
        var result = (await AuthApi.LoginAsync(new LoginRequest(request.Email ?? request.Username, request.Password),
            caller, signIn, tokens, response, cancellationToken)).Result;
        // Not a key: the seed's description of INVALID_CREDENTIALS ("Invalid API key") would mislead here.
        return result is ProblemHttpResult { ProblemDetails: { Status: StatusCodes.Status401Unauthorized } problem }
            ? new DialectResult(new(StatusCodes.Status401Unauthorized,
                new MifumoEnvelope(false, "Invalid email or password", null, ErrorCodes.InvalidCredentials, problem.Detail)))
            : Envelope(result, "Login successful");
    }

    // ---- Partner: tenants and their payments -------------------------------------------------------------------

    public static async Task<IResult> CreateTenantAsync(
        CreateTenantRequest request, Caller caller, AccountService accounts, UjumbeDb db, CancellationToken cancellationToken) =>
        Envelope((await TenantsApi.CreateAsync(request, caller, accounts, db, cancellationToken)).Result, "Tenant created successfully");

    public static async Task<IResult> ListTenantsAsync(
        string? q, string? status, string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken) =>
        PageEnvelope<TenantResponse>((await TenantsApi.ListAsync(q, status, page, pageSize, db, cancellationToken)).Result, "Tenants retrieved");

    public static async Task<IResult> GetTenantAsync(string id, UjumbeDb db, CancellationToken cancellationToken) =>
        Envelope((await TenantsApi.GetAsync(id, db, cancellationToken)).Result, "Tenant retrieved");

    /// <summary>
    /// /v1's payment for a tenant (the tenant's tariff, the payer's prompt, credits once on completion). Answered 201:
    /// the payment exists (pending) — the seed lists 200 and 201 as its successes, not /v1's 202.
    /// </summary>
    public static async Task<IResult> InitiatePaymentAsync(
        string id, CreatePaymentRequest request, Caller caller, UjumbeDb db, NpgsqlDataSource database, IMobileMoneyProvider provider,
        IOptions<PaymentOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var result = (await PaymentsApi.InitiateForTenantAsync(id, request, caller, db, database, provider, options, time, cancellationToken)).Result;
        return result is Accepted<PaymentResponse> { Value: { } payment }
            ? Success(StatusCodes.Status201Created, "Payment initiated: the payer confirms it on the phone", payment)
            : Envelope(result, "", request.PhoneNumber);
    }

    /// <summary>/v1's payment, if it is this tenant's (a payment of another account is not found here, as any unknown id).</summary>
    public static async Task<IResult> PaymentStatusAsync(string id, string paymentId, UjumbeDb db, CancellationToken cancellationToken)
    {
        var result = (await PaymentsApi.GetAsync(paymentId, db, cancellationToken)).Result;
        if (result is Ok<PaymentResponse> { Value: { } payment }
            && !(PublicId.TryParse(PublicId.Account, id, out var tenantId) && payment.AccountId == PublicId.Format(PublicId.Account, tenantId)))
        {
            return Error(StatusCodes.Status404NotFound, ErrorCodes.NotFound, "No payment of this tenant has this id.");
        }
        return Envelope(result, "Payment status retrieved");
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
            senderId = await DefaultSenderId.FindAsync(db, cancellationToken);
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
        var messages = command.Recipients.Select((to, i) => new MifumoSentMessage(PublicId.Format(PublicId.Message, command.MessageIds[i]), to, MessageStatus.Queued));
        return Success(StatusCodes.Status200OK, "SMS sent successfully", new MifumoSent(
            PublicId.Format(PublicId.Batch, command.BatchId), MessageStatus.Queued, command.Recipients.Count, command.SenderId,
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
        return PageEnvelope<MessageResponse>(result, "Delivery reports retrieved");
    }

    public static async Task<IResult> BalanceAsync(UjumbeDb db, CancellationToken cancellationToken) =>
        Envelope((await AccountApi.GetBalanceAsync(db, cancellationToken)).Result, "Balance retrieved");

    // ---- Contacts and segments ------------------------------------------------------------------------------

    public static async Task<IResult> CreateContactAsync(
        ContactRequest request, Caller caller, UjumbeDb db, AccountSettingsCache accounts, TimeProvider time, CancellationToken cancellationToken) =>
        Envelope((await ContactsApi.CreateAsync(request, caller, db, accounts, time, cancellationToken)).Result, "Contact created successfully",
            request.PhoneNumber);

    public static async Task<IResult> GetContactAsync(string id, UjumbeDb db, CancellationToken cancellationToken) =>
        Envelope((await ContactsApi.GetAsync(id, db, cancellationToken)).Result, "Contact retrieved");

    public static async Task<IResult> UpdateContactAsync(
        string id, ContactRequest request, Caller caller, UjumbeDb db, AccountSettingsCache accounts, TimeProvider time,
        CancellationToken cancellationToken) =>
        Envelope((await ContactsApi.UpdateAsync(id, request, caller, db, accounts, time, cancellationToken)).Result, "Contact updated successfully",
            request.PhoneNumber);

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
    private static IResult Envelope(IResult result, string message, string? phoneGiven = null) => result switch
    {
        ProblemHttpResult { ProblemDetails: var problem } => Error(problem, phoneGiven),
        IValueHttpResult { Value: var value } and IStatusCodeHttpResult { StatusCode: var status } =>
            Success(status ?? StatusCodes.Status200OK, message, value),
        _ => Success(StatusCodes.Status200OK, message, null),
    };

    /// <summary>A /v1 list's page as <c>data: {results, count, page, page_size}</c>, or its problem.</summary>
    private static IResult PageEnvelope<T>(IResult result, string message) =>
        result is Ok<PageOf<T>> { Value: { } found }
            ? Success(StatusCodes.Status200OK, message, new MifumoPage<T>(found.Data, found.Total, found.Page, found.PageSize))
            : Envelope(result, message);

    /// <summary>A /v1 problem in the envelope. <paramref name="phoneGiven"/>: the request's phone number, if it had one.</summary>
    private static DialectResult Error(ProblemDetails problem, string? phoneGiven = null)
    {
        var status = problem.Status ?? StatusCodes.Status400BadRequest;
        var code = problem.Extensions.TryGetValue("code", out var named) && named is string text ? text : ErrorCodes.ForStatus(status);
        var errors = problem.Extensions.TryGetValue("errors", out var listed) ? listed as IDictionary<string, string[]> : null;
        // Seed 000's INVALID_PHONE ("Invalid phone format") is the answer to a bad number wherever one is given — a
        // contact's, a payer's — not only to a send's recipients (a missing one is a missing parameter).
        if (code == ErrorCodes.ValidationFailed && !string.IsNullOrWhiteSpace(phoneGiven) && errors is { Count: 1 } && errors.ContainsKey("phone_number"))
        {
            code = ErrorCodes.InvalidPhone;
        }
        return Error(status, code, problem.Detail, errors);
    }

    private static JsonHttpResult<MifumoEnvelope> Success(int status, string message, object? data) =>
        TypedResults.Json(MifumoDialect.Success(message, data), JsonDefaults.Options, statusCode: status);

    private static DialectResult Error(int status, string code, string? detail, IDictionary<string, string[]>? errors = null) =>
        new(MifumoDialect.Instance.Error(status, code, detail, errors));
}
