using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Campaigns;
using Ujumbe.Api.Content;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Messages;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Compat.SmsPop;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Api.Compat.SmsPop;

/// <summary>SMSPop's create-and-send body (seed 003).</summary>
public sealed record SmsPopCampaignRequest(string? Name, string? Message, string? SenderId, string? ContactImportMethod, string? ManualContacts);

public sealed record SmsPopCampaign(string Id, string Name, string Message, string SenderId, string Status);

public sealed record SmsPopSummary(int Sent, int Failed);

public sealed record SmsPopContact(string PhoneNumber, string Status);

public sealed record SmsPopCampaignSent(
    bool Success, string Message, SmsPopCampaign Campaign, SmsPopSummary Summary, IReadOnlyList<SmsPopContact> Contacts);

public sealed record SmsPopListedCampaign(
    string Id, string Name, string Message, string SenderId, string Status, SmsPopSummary Summary, DateTime CreatedAt);

public sealed record SmsPopCampaigns(bool Success, IReadOnlyList<SmsPopListedCampaign> Campaigns, int Page, int PageSize, int Total);

/// <summary>
/// SMSPop's campaigns API (seed 003) under <c>/compat/smspop/api</c>: create-and-send with manual contacts, and the
/// list. A campaign is /v1's campaign (<see cref="CampaignsApi"/>: the same validation, content policy, credits and
/// pipeline); the answer waits for the provider's (<see cref="ProviderAnswers"/>) to report each contact as sent or
/// failed, as the seed's does. docs/dialects/smspop.md says what the seed leaves open.
/// </summary>
public static class SmsPopApi
{
    public const string ManualImport = "manual";
    private const string ErrorSchema = "SmsPopError";

    /// <summary>
    /// The seed's example body ends its object with a comma; PHP and browsers never send that, people pasting it do.
    /// A field named twice is refused, as /v1 refuses it (which one was meant?).
    /// </summary>
    private static readonly JsonDocumentOptions Lenient = new() { AllowTrailingCommas = true, AllowDuplicateProperties = false };

    /// <summary>The body's fields, in the order Laravel's validator reports them.</summary>
    private static readonly string[] Fields = ["name", "message", "sender_id", "contact_import_method", "manual_contacts"];

    public static DialectDocument Document { get; } = new(
        SmsPopDialect.Instance,
        "Ujumbe — SMSPop dialect",
        "SMSPop's campaigns API served by Ujumbe: change only the base URL and the token. Errors are {success: false, message}.",
        new Dictionary<string, string> { ["Campaigns"] = "Create-and-send campaigns to manually listed contacts, and list them." },
        new Dictionary<string, OpenApiSecurityScheme>
        {
            ["token"] = new() { Type = SecuritySchemeType.Http, Scheme = "bearer", Description = "The API key (sk_…) as Authorization: Bearer <token>." },
        },
        new Dictionary<string, OpenApiSchema>
        {
            [ErrorSchema] = new()
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "success", "message" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["success"] = new OpenApiSchema { Type = JsonSchemaType.Boolean },
                    ["message"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["errors"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Description = "On 422 \"Validation failed\": each field and what is wrong with it.",
                        AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                    },
                },
            },
        },
        [
            (401, ErrorSchema, "Invalid or missing authentication token."),
            (403, ErrorSchema, "The token may not do this, or the account is inactive."),
            (429, ErrorSchema, "Too many requests; retry after Retry-After seconds."),
        ],
        path => path);

    public static WebApplication MapSmsPopApi(this WebApplication app)
    {
        var api = app.MapGroup(SmsPopDialect.Instance.Base.Value!).RequireAuthorization(CallerPolicies.Account)
            .WithGroupName(DialectOpenApi.DocumentName(SmsPopDialect.Instance)).WithTags("Campaigns")
            .RequireScope(Scopes.Campaigns);
        api.MapPost("/campaigns", CreateAsync)
            .WithName("SmsPopCreateCampaign").WithSummary("Create & send campaign")
            .Accepts<SmsPopCampaignRequest>("application/json", "application/x-www-form-urlencoded")
            .Produces<SmsPopCampaignSent>()
            .WithDialectErrors(
                (402, ErrorSchema, "\"Insufficient credits. Please purchase more SMS credits\": nothing was sent or charged."),
                (422, ErrorSchema, "\"Validation failed\" with errors, or \"Invalid sender ID\"."));
        api.MapGet("/campaigns", ListAsync)
            .WithName("SmsPopListCampaigns").WithSummary("List campaigns")
            .Produces<SmsPopCampaigns>();
        return app;
    }

    public static async Task<IResult> CreateAsync(
        HttpRequest http, Caller caller, UjumbeDb db, AccountSettingsCache accounts, SendPipeline pipeline,
        ContentPolicyProvider contentPolicy, IOptions<WebhookOptions> webhookOptions, ProviderAnswers providerAnswers, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (request, errors) = await ReadAsync(http, cancellationToken);
        if (request is null)
        {
            return Invalid(new() { ["body"] = ["The request body must be a JSON object (or form fields)."] });
        }
        foreach (var (field, missing) in Validate(request))
        {
            errors.TryAdd(field, missing);
        }
        if (errors.Count > 0)
        {
            return Invalid(new(Fields.Where(errors.ContainsKey).Select(f => KeyValuePair.Create(f, errors[f]))));
        }

        var campaign = new CampaignRequest(request.Name, request.Message, request.SenderId,
            new CampaignAudienceRequest(request.ManualContacts, SegmentId: null, ContactIds: null), ScheduledAt: null, CallbackUrl: null, Reference: null);
        var created = (await CampaignsApi.CreateAsync(campaign, caller, db, accounts, pipeline, contentPolicy, webhookOptions, time, cancellationToken)).Result;
        if (created is ProblemHttpResult { ProblemDetails: var problem })
        {
            return Refusal(problem);
        }
        var answer = (JsonBody)created;
        var (campaignId, batchId, skipped) = ReadCreated(answer.Body);

        await providerAnswers.WaitAsync(db, batchId, cancellationToken);
        var messages = await db.Messages.AsNoTracking().Where(m => m.BatchId == batchId).OrderBy(m => m.Id)
            .Select(m => new { m.Recipient, m.Status }).ToListAsync(cancellationToken);
        var contacts = messages.Select(m => new SmsPopContact(m.Recipient.TrimStart('+'), StatusOf(m.Status)))
            .Concat(skipped.Select(number => new SmsPopContact(number.TrimStart('+'), "skipped")))
            .ToList();
        return TypedResults.Json(new SmsPopCampaignSent(
            true,
            $"Successfully imported {contacts.Count} contacts and SMS sending completed.",
            new SmsPopCampaign(campaignId, request.Name!.Trim(), request.Message!, request.SenderId!.Trim().ToUpperInvariant(), "approved"),
            new SmsPopSummary(contacts.Count(c => c.Status == "sent"), contacts.Count(c => c.Status == "failed")),
            contacts), JsonDefaults.Options);
    }

    public static async Task<IResult> ListAsync(
        string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        var listed = (await CampaignsApi.ListAsync(page, pageSize, db, cancellationToken)).Result;
        if (listed is not Ok<PageOf<CampaignResponse>> { Value: { } found })
        {
            return Refusal(((ProblemHttpResult)listed).ProblemDetails);
        }
        return TypedResults.Json(new SmsPopCampaigns(true,
            [.. found.Data.Select(c => new SmsPopListedCampaign(c.Id, c.Name, c.Text, c.SenderId, "approved",
                new SmsPopSummary(c.Summary.Sent + c.Summary.Delivered, c.Summary.Failed), c.CreatedAt))],
            found.Page, found.PageSize, found.Total), JsonDefaults.Options);
    }

    /// <summary>A contact's send status: handed to the provider (or delivered) is sent; refused, undelivered or canceled is failed.</summary>
    public static string StatusOf(string status) => status switch
    {
        MessageStatus.Sent or MessageStatus.Delivered => "sent",
        MessageStatus.Failed or MessageStatus.Rejected or MessageStatus.Canceled => "failed",
        _ => "pending",
    };

    /// <summary>
    /// The body as Laravel reads it: JSON (as the seed's snippets send it) or form fields. A field that is not text is
    /// a field error ("must be a string"), not an unreadable body. Null: neither a JSON object nor a form.
    /// </summary>
    private static async Task<(SmsPopCampaignRequest? Request, Dictionary<string, string[]> Errors)> ReadAsync(
        HttpRequest http, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var values = new Dictionary<string, string?>();
        if (http.HasFormContentType)
        {
            IFormCollection form;
            try
            {
                form = await http.ReadFormAsync(cancellationToken);
            }
            catch (InvalidDataException)
            {
                return (null, errors);
            }
            foreach (var field in Fields)
            {
                if (form.TryGetValue(field, out var value))
                {
                    if (value.Count == 1)
                    {
                        values[field] = value[0];
                    }
                    else
                    {
                        errors[field] = [$"The {Words(field)} field must be a string."];
                    }
                }
            }
        }
        else
        {
            JsonDocument document;
            try
            {
                document = await JsonDocument.ParseAsync(http.Body, Lenient, cancellationToken);
            }
            catch (JsonException)
            {
                return (null, errors);
            }
            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return (null, errors);
                }
                foreach (var field in Fields)
                {
                    if (!document.RootElement.TryGetProperty(field, out var value))
                    {
                        continue;
                    }
                    switch (value.ValueKind)
                    {
                        case JsonValueKind.String:
                            values[field] = value.GetString();
                            break;
                        case JsonValueKind.Null:
                            break;
                        default:
                            errors[field] = [$"The {Words(field)} field must be a string."];
                            break;
                    }
                }
            }
        }
        return (new SmsPopCampaignRequest(values.GetValueOrDefault("name"), values.GetValueOrDefault("message"), values.GetValueOrDefault("sender_id"),
            values.GetValueOrDefault("contact_import_method"), values.GetValueOrDefault("manual_contacts")), errors);
    }

    private static string Words(string field) => field.Replace('_', ' ');

    /// <summary>Laravel's required-field messages, as the seed's 422 shows them.</summary>
    private static Dictionary<string, string[]> Validate(SmsPopCampaignRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        void Required(string? value, string field)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                errors[field] = [$"The {Words(field)} field is required."];
            }
        }
        Required(request.Name, "name");
        Required(request.Message, "message");
        Required(request.SenderId, "sender_id");
        Required(request.ContactImportMethod, "contact_import_method");
        if (!errors.ContainsKey("contact_import_method") && request.ContactImportMethod!.Trim() != ManualImport)
        {
            errors["contact_import_method"] = ["The selected contact import method is invalid."];
        }
        else if (request.ContactImportMethod?.Trim() == ManualImport && string.IsNullOrWhiteSpace(request.ManualContacts))
        {
            errors["manual_contacts"] = ["The manual contacts field is required when contact import method is manual."];
        }
        return errors;
    }

    /// <summary>The campaign id, batch id and numbers left out (opted out) from /v1's campaign answer.</summary>
    private static (string CampaignId, Guid BatchId, string[] Skipped) ReadCreated(byte[] body)
    {
        using var created = JsonDocument.Parse(body);
        var root = created.RootElement;
        PublicId.TryParse(PublicId.Batch, root.GetProperty("batch_id").GetString(), out var batchId);
        var skipped = root.TryGetProperty("skipped_numbers", out var numbers)
            ? numbers.EnumerateArray().Select(n => n.GetString()!).ToArray()
            : [];
        return (root.GetProperty("id").GetString()!, batchId, skipped);
    }

    private static DialectResult Invalid(Dictionary<string, string[]> errors) =>
        new(new(422, new SmsPopError(false, SmsPopDialect.ValidationFailed, errors)));

    /// <summary>A refusal of /v1's campaign in SMSPop's words: its field names, and content rejection naming the category.</summary>
    private static DialectResult Refusal(ProblemDetails problem)
    {
        var code = problem.Extensions.TryGetValue("code", out var named) && named is string text ? text : ErrorCodes.ForStatus(problem.Status ?? 400);
        if (code == ErrorCodes.ContentRejected)
        {
            var category = problem.Extensions.TryGetValue("category", out var value) ? value?.ToString() : "restricted";
            return new(SmsPopDialect.Message(403, $"Campaign rejected: Content classified as {category} is not allowed"));
        }
        Dictionary<string, string[]>? errors = null;
        if (problem.Extensions.TryGetValue("errors", out var listed) && listed is IDictionary<string, string[]> fields)
        {
            if (fields.ContainsKey("sender_id"))
            {
                // Not even a valid name: it cannot be approved either (the seed's one answer for a bad sender ID).
                return new(SmsPopDialect.Message(422, SmsPopDialect.InvalidSenderId));
            }
            errors = [];
            foreach (var (field, messages) in fields)
            {
                var name = field == "text" ? "message" : field.StartsWith("audience", StringComparison.Ordinal) ? "manual_contacts" : field;
                errors[name] = [.. errors.GetValueOrDefault(name) ?? [], .. messages];
            }
        }
        return new(SmsPopDialect.Instance.Error(problem.Status ?? 400, code, problem.Detail, errors));
    }
}
