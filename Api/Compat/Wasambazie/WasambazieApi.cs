using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.OpenApi;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Messages;
using Ujumbe.Api.Validation;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Compat.Wasambazie;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Compat.Wasambazie;

/// <summary>The send body as Wasambazie's clients write it; each field is checked for its type by hand (FastAPI's 422).</summary>
public sealed record WasambazieSendRequest(JsonElement? ToNumber, JsonElement? Message, JsonElement? SenderId);

/// <summary>The send body as the OpenAPI document shows it.</summary>
public sealed record WasambazieSendBody(string ToNumber, string Message, string SenderId);

public sealed record WasambazieSent(int StatusCode, bool Success, string MessageBatchId, string Message);

public sealed record WasambazieBalance(double Balance);

public sealed record WasambazieSummary(int Total, int Delivered, int Failed);

public sealed record WasambazieMessage(string ToNumber, string Status, DateTime? DeliveredAt);

public sealed record WasambazieReport(string MessageBatchId, WasambazieSummary Summary, IReadOnlyList<WasambazieMessage> Messages);

/// <summary>
/// Wasambazie's API (seed 004) under <c>/compat/wasambazie/v1</c>: send, balance and delivery reports, as thin
/// translations onto /v1's services (<see cref="MessageSender"/>, the same balance and batches). The gateway
/// has checked the key pair; errors are <c>{"detail": …}</c> (<see cref="WasambazieDialect"/>).
/// See docs/dialects/wasambazie.md for what the seed leaves open.
/// </summary>
public static class WasambazieApi
{
    private const string Tag = "SMS";
    private const string DetailSchema = "WasambazieDetail";
    private const string FieldErrorsSchema = "WasambazieFieldErrors";

    /// <summary>Ujumbe's field names in a refusal, as Wasambazie's clients know them.</summary>
    private static readonly Dictionary<string, string> FieldNames = new(StringComparer.Ordinal)
    {
        ["to"] = "to_number",
        ["text"] = "message",
    };

    /// <summary>What <c>/openapi/compat-wasambazie.json</c> says about every operation: the key pair and the error bodies.</summary>
    public static DialectDocument Document { get; } = new(
        WasambazieDialect.Instance,
        "Ujumbe — Wasambazie dialect",
        "Wasambazie's SMS API (send, balance, delivery reports) served by Ujumbe: change only the base URL and the keys. "
            + "Errors are {\"detail\": \"…\"}; 422 lists field errors as FastAPI does.",
        new Dictionary<string, string> { [Tag] = "Sending SMS, the credit balance and delivery reports, authenticated by the API key pair." },
        new Dictionary<string, OpenApiSecurityScheme>
        {
            ["public_key"] = new()
            {
                Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = WasambazieDialect.PublicKeyHeader,
                Description = "The API key's public id (pk_…), sent together with its secret.",
            },
            ["secret_key"] = new()
            {
                Type = SecuritySchemeType.ApiKey, In = ParameterLocation.Header, Name = WasambazieDialect.SecretKeyHeader,
                Description = "The API key's secret (sk_…), shown once when the key is made.",
            },
        },
        new Dictionary<string, OpenApiSchema>
        {
            [DetailSchema] = new()
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "detail" },
                Properties = new Dictionary<string, IOpenApiSchema> { ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
            [FieldErrorsSchema] = new()
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "detail" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["detail"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Array,
                        Items = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Required = new HashSet<string> { "loc", "msg", "type" },
                            Properties = new Dictionary<string, IOpenApiSchema>
                            {
                                ["loc"] = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                                ["msg"] = new OpenApiSchema { Type = JsonSchemaType.String },
                                ["type"] = new OpenApiSchema { Type = JsonSchemaType.String },
                            },
                        },
                    },
                },
            },
        },
        [
            (401, DetailSchema, "Missing, invalid or revoked keys: \"Invalid or missing API credentials\"."),
            (429, DetailSchema, "A rate limit is spent; retry after Retry-After seconds."),
        ],
        path => path == "/balance" ? "/balance/" : path);

    public static WebApplication MapWasambazieApi(this WebApplication app)
    {
        // Routing matches a path with or without its trailing slash, so each path works both ways the seed's clients write it.
        var api = app.MapGroup(WasambazieDialect.Instance.Base.Value!).RequireAuthorization(CallerPolicies.Account)
            .WithGroupName(DialectOpenApi.DocumentName(WasambazieDialect.Instance)).WithTags(Tag);
        api.MapPost("/sms/send", SendAsync).RequireScope(Scopes.Messages)
            .WithName("WasambazieSendSms").WithSummary("Send one text to one number or a comma-separated list")
            .Accepts<WasambazieSendBody>("application/json")
            .Produces<WasambazieSent>(StatusCodes.Status201Created)
            .WithDialectErrors(
                (400, DetailSchema, "\"Sender ID is required\", an invalid number, or a text over the segment limit."),
                (402, DetailSchema, "\"Insufficient SMS credits\": nothing was sent or charged."),
                (403, DetailSchema, "The key may not send, the account is suspended, or the content is blocked."),
                (404, DetailSchema, "\"Sender ID not found or not approved\"."),
                (422, FieldErrorsSchema, "A field is missing or of the wrong type."),
                (502, DetailSchema, "\"Provider rejected the message\": no credits were deducted."));
        api.MapGet("/balance/", GetBalanceAsync)
            .WithName("WasambazieGetBalance").WithSummary("The SMS credits available (1 credit = 1 segment to 1 recipient)")
            .Produces<WasambazieBalance>();
        api.MapGet("/sms/delivery-reports/{batch_id}", GetReportAsync).RequireScope(Scopes.Messages)
            .WithName("WasambazieGetDeliveryReport").WithSummary("A batch's delivery report, once any message in it is final")
            .Produces<WasambazieReport>()
            .WithDialectErrors(
                (404, DetailSchema, "No such batch, or \"Report not yet available — the batch is still being processed.\""));
        return app;
    }

    public static async Task<IResult> SendAsync(
        HttpRequest http, Caller caller, MessageSender sender, UjumbeDb db, ProviderAnswers providerAnswers, CancellationToken cancellationToken)
    {
        var (body, invalid) = await ReadSendAsync(http, cancellationToken);
        if (invalid is not null)
        {
            return invalid;
        }
        if (string.IsNullOrWhiteSpace(body.SenderId))
        {
            return Detail(400, WasambazieDialect.SenderIdRequired);
        }
        var recipients = body.ToNumber!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var decision = await sender.SendAsync(caller.AccountId,
            new SendRequest(recipients, body.Message, body.SenderId, CallbackUrl: null, ScheduledAt: null, Reference: null),
            idempotencyKey: null, respond: null, cancellationToken);
        if (decision.Problem is { } problem)
        {
            return Refusal(problem);
        }
        var batchId = decision.Command!.BatchId;
        // Wasambazie answers once the provider has: 502 (and nothing charged: the refused messages' credits are released) if it refused all.
        var answer = await providerAnswers.WaitAsync(db, batchId, cancellationToken);
        if (answer.AllRejected)
        {
            return Detail(502, WasambazieDialect.ProviderRejected);
        }
        return TypedResults.Json(
            new WasambazieSent(StatusCodes.Status201Created, true, PublicId.Format(PublicId.Batch, batchId), "Message submitted successfully."),
            JsonDefaults.Options, statusCode: StatusCodes.Status201Created);
    }

    /// <summary>The credits that can be spent now (reserved credits are already promised to sends in flight).</summary>
    public static async Task<IResult> GetBalanceAsync(UjumbeDb db, CancellationToken cancellationToken)
    {
        var balance = await db.Balances.AsNoTracking().SingleOrDefaultAsync(cancellationToken);
        if (balance is null)
        {
            return Detail(404, "Not Found");
        }
        // The seed's balance is a float ("4250.0"); credits are whole, so this writes them the way it does.
        var json = string.Create(CultureInfo.InvariantCulture, $"{{\"balance\":{balance.Credits - balance.Reserved}.0}}");
        return new JsonBody(StatusCodes.Status200OK, Encoding.UTF8.GetBytes(json));
    }

    public static async Task<IResult> GetReportAsync([FromRoute(Name = "batch_id")] string batchId, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Batch, batchId, out var id))
        {
            return Detail(404, "Batch not found");
        }
        var batch = await db.Batches.AsNoTracking().FirstOrDefaultAsync(b => b.Id == id, cancellationToken);
        if (batch is null)
        {
            return Detail(404, "Batch not found");
        }
        var failed = batch.FailedCount + batch.RejectedCount + batch.CanceledCount;
        if (batch.DeliveredCount + failed == 0)
        {
            return Detail(404, WasambazieDialect.ReportNotReady);
        }
        var messages = await db.Messages.AsNoTracking().Where(m => m.BatchId == id).OrderBy(m => m.Id)
            .Select(m => new { m.Recipient, m.Status, m.DeliveredAt }).ToListAsync(cancellationToken);
        return TypedResults.Json(new WasambazieReport(
                PublicId.Format(PublicId.Batch, id),
                new WasambazieSummary(batch.Recipients, batch.DeliveredCount, failed),
                [.. messages.Select(m => new WasambazieMessage(m.Recipient, WasambazieWebhook.StatusOf(m.Status), m.DeliveredAt))]),
            JsonDefaults.Options);
    }

    private sealed record SendFields(string? ToNumber, string? Message, string? SenderId);

    /// <summary>The body's three fields as text, or FastAPI's 422 naming each one missing or of the wrong type.</summary>
    private static async Task<(SendFields Fields, IResult? Invalid)> ReadSendAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        WasambazieSendRequest? body;
        try
        {
            body = await JsonSerializer.DeserializeAsync<WasambazieSendRequest>(http.Body, JsonDefaults.Options, cancellationToken);
        }
        catch (JsonException)
        {
            body = null;
        }
        if (body is null)
        {
            return (new(null, null, null), new DialectResult(WasambazieDialect.FieldErrors(
                [new(["body"], "the body must be a JSON object with to_number, message and sender_id", "value_error.jsondecode")])));
        }
        var errors = new List<WasambazieFieldError>();
        var fields = new SendFields(
            Text(body.ToNumber, "to_number", required: true, errors),
            Text(body.Message, "message", required: true, errors),
            Text(body.SenderId, "sender_id", required: false, errors));
        return (fields, errors.Count > 0 ? new DialectResult(WasambazieDialect.FieldErrors(errors)) : null);
    }

    /// <summary>A string field; a number is taken as its digits (FastAPI's str fields take them too).</summary>
    private static string? Text(JsonElement? value, string field, bool required, List<WasambazieFieldError> errors)
    {
        if (value is not { ValueKind: not JsonValueKind.Null } element)
        {
            if (required)
            {
                errors.Add(new(["body", field], "field required", "value_error.missing"));
            }
            return null;
        }
        string text;
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                text = element.GetString()!;
                break;
            case JsonValueKind.Number:
                text = element.GetRawText();
                break;
            default:
                errors.Add(new(["body", field], "str type expected", "type_error.str"));
                return null;
        }
        if (!InputText.IsAcceptable(text))
        {
            errors.Add(new(["body", field], InputText.ForbiddenMessage, "value_error.str.characters"));
            return null;
        }
        return text;
    }

    /// <summary>
    /// A refusal of the shared send path in Wasambazie's words. A sender ID that is not even a valid name cannot
    /// be approved: like an unapproved one, 404 as the seed says.
    /// </summary>
    private static DialectResult Refusal(SendProblem problem)
    {
        if (problem.Errors?.ContainsKey("sender_id") == true)
        {
            return new(WasambazieDialect.Detail(404, WasambazieDialect.SenderIdNotApproved));
        }
        var errors = problem.Errors?.ToDictionary(e => FieldNames.GetValueOrDefault(e.Key, e.Key), e => e.Value);
        return new(WasambazieDialect.Instance.Error(problem.Status, problem.Code, problem.Detail, errors));
    }

    private static DialectResult Detail(int status, string detail) => new(WasambazieDialect.Detail(status, detail));
}
