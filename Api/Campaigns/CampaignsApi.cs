using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Content;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Messages;
using Ujumbe.Api.Phones;
using Ujumbe.Api.Segments;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Shared.Messaging;
using Ujumbe.Shared.Webhooks;
using Ujumbe.Api.Idempotency;

namespace Ujumbe.Api.Campaigns;

public sealed record CampaignAudienceRequest(string? Numbers, string? SegmentId, List<string?>? ContactIds);

public sealed record CampaignRequest(
    string? Name, string? Text, string? SenderId, CampaignAudienceRequest? Audience, DateTimeOffset? ScheduledAt,
    string? CallbackUrl, string? Reference);

/// <summary>Live counts: total = messages + skipped; failed includes messages the provider rejected.</summary>
public sealed record CampaignSummary(int Total, int Queued, int Sent, int Delivered, int Failed, int Canceled, int Skipped);

public sealed record CampaignResponse(
    string Id, string Name, string Status, string Text, string SenderId, JsonObject Audience, string BatchId, long Credits,
    DateTime? ScheduledAt, DateTime CreatedAt, CampaignSummary Summary, IReadOnlyList<string> SkippedNumbers);

/// <summary>
/// Campaigns (API.md "Contacts, segments, campaigns"): one text, personalised per contact, to typed-in
/// numbers, a segment or picked contacts. A campaign is accepted whole or not at all: one transaction
/// writes the campaign, its batch and every message (binary COPY) and reserves the credits for all of
/// them (the sum over each rendered text's segments), through the same pipeline as any send.
/// </summary>
public static class CampaignsApi
{
    public const int MaxRecipients = 200_000;
    public const int MaxContactIds = 10_000;

    public static RouteGroupBuilder MapCampaignsApi(this RouteGroupBuilder v1)
    {
        var campaigns = v1.MapGroup("/campaigns").RequireScope(Scopes.Campaigns).WithTags("Campaigns");
        campaigns.MapPost("/", CreateAsync)
            .WithName("CreateCampaign").WithSummary("Create a campaign and send (or schedule) it").StoresIdempotentAnswers()
            .Produces<CampaignResponse>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status402PaymentRequired).ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        campaigns.MapGet("/", ListAsync)
            .WithName("ListCampaigns").WithSummary("List campaigns");
        campaigns.MapGet("/{id}", GetAsync)
            .WithName("GetCampaign").WithSummary("Get a campaign and its delivery summary");
        return v1;
    }

    public static async Task<Results<JsonBody, ProblemHttpResult>> CreateAsync(
        CampaignRequest request, Caller caller, UjumbeDb db, AccountSettingsCache accounts, SendPipeline pipeline,
        ContentPolicyProvider contentPolicy, IOptions<WebhookOptions> webhookOptions, TimeProvider time, CancellationToken cancellationToken)
    {
        var settings = await accounts.GetAsync(caller.AccountId, cancellationToken);
        if (settings is null)
        {
            return Problems.NotFound("The account no longer exists.");
        }
        var now = time.UtcNow();
        var (fields, problem) = ValidateFields(request, now);
        if (problem is not null)
        {
            return problem;
        }
        // The content policy judges what would be sent: each distinct rendered text (words around a
        // placeholder are only words once rendered, and an attribute can carry a phrase in).
        var policy = await contentPolicy.GetAsync(cancellationToken);
        // Without placeholders every message is the same text: prepared, measured and checked once, before
        // the audience is read.
        string? shared = null;
        SegmentCount sharedMeasure = default;
        if (!fields!.Template.HasPlaceholders)
        {
            shared = Prepare(fields.Template.Text);
            sharedMeasure = SmsSegments.Measure(shared);
            if (sharedMeasure.Segments > settings.MaxSegments)
            {
                return Problems.Create(400, ErrorCodes.MessageTooLong, "A message is too long.",
                    $"The text needs {sharedMeasure.Segments} segments; this account allows at most {settings.MaxSegments}. Nothing was sent.",
                    new Dictionary<string, string[]> { ["text"] = [$"needs {sharedMeasure.Segments} segments; the limit is {settings.MaxSegments}"] });
            }
            if (policy.Match(shared) is { } blockedText)
            {
                return ContentProblems.Rejected(blockedText);
            }
        }
        if (request.CallbackUrl is { } callback
            && await UrlGuard.CheckAsync(callback, webhookOptions.Value.AllowPrivateNetworks, cancellationToken) is { } callbackError)
        {
            return Problems.Validation("callback_url", callbackError);
        }

        var (audience, audienceProblem) = await ResolveAudienceAsync(request.Audience!, fields.Template, db, settings.DefaultCountry, cancellationToken);
        if (audienceProblem is not null)
        {
            return audienceProblem;
        }

        // Render each message: its text decides its segments and credits, and it is exactly the text sent.
        var recipients = new List<string>(audience!.Members.Count);
        var texts = shared is null ? new List<string>(audience.Members.Count) : null;
        var segments = shared is null ? new List<int>(audience.Members.Count) : null;
        var checkedTexts = shared is null ? new HashSet<string>(StringComparer.Ordinal) : null;
        var skipped = new List<string>();
        var ucs2 = sharedMeasure.Encoding == SmsEncoding.Ucs2;
        foreach (var member in audience.Members)
        {
            if (member.OptedOut)
            {
                skipped.Add(member.Values.Phone);
                continue;
            }
            var text = shared ?? Prepare(fields.Template.Render(member.Values));
            if (text.Length == 0)
            {
                skipped.Add(member.Values.Phone);
                continue;
            }
            if (shared is not null)
            {
                recipients.Add(member.Values.Phone);
                continue;
            }
            var measured = SmsSegments.Measure(text);
            if (measured.Segments > settings.MaxSegments)
            {
                return Problems.Create(400, ErrorCodes.MessageTooLong, "A message is too long.",
                    $"The text for {member.Values.Phone} needs {measured.Segments} segments; this account allows at most {settings.MaxSegments}. Nothing was sent.",
                    new Dictionary<string, string[]> { ["text"] = [$"renders to {measured.Segments} segments for {member.Values.Phone}; the limit is {settings.MaxSegments}"] });
            }
            if (checkedTexts!.Add(text) && policy.Match(text) is { } blocked)
            {
                return ContentProblems.Rejected(blocked);
            }
            ucs2 |= measured.Encoding == SmsEncoding.Ucs2;
            recipients.Add(member.Values.Phone);
            texts!.Add(text);
            segments!.Add(measured.Segments);
        }
        if (recipients.Count == 0)
        {
            return MessagesApi.AllOptedOut();
        }

        var campaignId = Guid.CreateVersion7(now);
        var batchId = Guid.CreateVersion7(now);
        var messageIds = new Guid[recipients.Count];
        for (var i = 0; i < messageIds.Length; i++)
        {
            messageIds[i] = Guid.CreateVersion7(now);
        }
        var template = SmsSegments.Normalize(fields.Template.Text);
        var skippedNumbers = skipped.Take(CampaignRecord.MaxSkippedNumbersKept).ToArray();
        byte[] Respond(SendCommand sending)
        {
            var allSkipped = skipped.Count + sending.Skipped.Count;
            var status = sending.ScheduledAt is null ? "sending" : "scheduled";
            var response = new CampaignResponse(
                PublicId.Format(PublicId.Campaign, campaignId), fields.Name, status, template, fields.SenderId, audience.Description,
                PublicId.Format(PublicId.Batch, batchId), sending.Credits, sending.ScheduledAt, now,
                new CampaignSummary(sending.Recipients.Count + allSkipped, sending.Recipients.Count, 0, 0, 0, 0, allSkipped),
                [.. skippedNumbers.Concat(sending.Skipped).Take(CampaignRecord.MaxSkippedNumbersKept)]);
            return JsonSerializer.SerializeToUtf8Bytes(response, JsonDefaults.Options);
        }
        var command = new SendCommand
        {
            AccountId = caller.AccountId,
            BatchId = batchId,
            SenderId = fields.SenderId,
            // The batch's text is what an unpersonalised message sends; a personalised one sends its own.
            Text = shared ?? template,
            Encoding = ucs2 ? SmsEncoding.Ucs2 : SmsEncoding.Gsm7,
            Segments = segments?.Max() ?? sharedMeasure.Segments,
            Recipients = recipients,
            MessageIds = messageIds,
            // Found here, on this request, not by the writer while it holds the account's balance row.
            Origins = [.. recipients.Select(PhoneNumbers.OriginOf)],
            Texts = texts?.ToArray(),
            MessageSegments = segments?.ToArray(),
            CreatedAt = now,
            ScheduledAt = fields.ScheduledAt,
            CallbackUrl = request.CallbackUrl,
            Reference = fields.Reference,
            TraceParent = Activity.Current?.Id,
            RespondAfterSkipping = Respond,
            Campaign = new CampaignRecord(campaignId, fields.Name, template, audience.Description.ToJsonString(), skipped.Count, skippedNumbers),
        };
        command.AcceptedResponse = Respond(command);
        var outcome = await pipeline.SendAsync(command, cancellationToken);
        return outcome.Result switch
        {
            SendResult.Accepted => new JsonBody(StatusCodes.Status201Created, command.AcceptedResponse),
            SendResult.AllRecipientsOptedOut => MessagesApi.AllOptedOut(),
            SendResult.InsufficientBalance => Problems.Create(402, ErrorCodes.InsufficientBalance, "Insufficient balance.",
                $"This campaign needs {command.Credits} credits and {outcome.Available} are available. Nothing was queued or charged.",
                extensions: [new("credits_required", command.Credits), new("credits_available", outcome.Available)]),
            _ => Problems.Forbidden(
                $"Sender ID {fields.SenderId} is not approved for this account. Request it with POST /v1/sender-ids.",
                ErrorCodes.SenderIdNotApproved),
        };
    }

    public static async Task<Results<Ok<CampaignResponse>, ProblemHttpResult>> GetAsync(string id, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Campaign, id, out var campaignId))
        {
            return NotFound();
        }
        var row = await Rows(db).FirstOrDefaultAsync(r => r.Campaign.Id == campaignId, cancellationToken);
        return row is null ? NotFound() : TypedResults.Ok(ToResponse(row));
    }

    public static async Task<Results<Ok<PageOf<CampaignResponse>>, ProblemHttpResult>> ListAsync(
        string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        var total = await db.Campaigns.CountAsync(cancellationToken);
        var rows = await Rows(db).OrderByDescending(r => r.Campaign.Id).Skip(paging.Skip).Take(paging.Size).ToListAsync(cancellationToken);
        return TypedResults.Ok(paging.Of(rows.Select(ToResponse).ToList(), total));
    }

    private sealed record ValidFields(string Name, MessageTemplate Template, string SenderId, DateTime? ScheduledAt, string? Reference);

    private static (ValidFields? Fields, ProblemHttpResult? Problem) ValidateFields(CampaignRequest request, DateTime now)
    {
        var errors = new Dictionary<string, string[]>();
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            errors["name"] = ["is required, up to 200 characters"];
        }
        MessageTemplate? template = null;
        if (string.IsNullOrWhiteSpace(request.Text))
        {
            errors["text"] = ["is required"];
        }
        else if (request.Text.Length > SendValidator.MaxTextLength)
        {
            errors["text"] = [$"must be at most {SendValidator.MaxTextLength} characters"];
        }
        else if ((template = MessageTemplate.TryParse(request.Text, out var templateError)) is null)
        {
            errors["text"] = [templateError!];
        }
        var (sender, scheduledAt) = SendValidator.ValidateDelivery(request.SenderId, request.CallbackUrl, request.ScheduledAt, request.Reference, now, errors);
        var audience = request.Audience;
        var kinds = audience is null ? 0 : (audience.Numbers is null ? 0 : 1) + (audience.SegmentId is null ? 0 : 1) + (audience.ContactIds is null ? 0 : 1);
        if (kinds != 1)
        {
            errors["audience"] = ["is required: exactly one of {\"numbers\": \"…\"}, {\"segment_id\": \"seg_…\"} or {\"contact_ids\": [\"con_…\"]}"];
        }
        return errors.Count > 0
            ? (null, Problems.Validation(errors))
            : (new ValidFields(name!, template!, sender!, scheduledAt, request.Reference), null);
    }

    private sealed record Member(TemplateValues Values, bool OptedOut);

    private sealed record AudienceRow(string Phone, string? Name, string? Email, JsonObject? Attributes, bool OptedOut);

    private sealed record Audience(IReadOnlyList<Member> Members, JsonObject Description);

    /// <summary>
    /// The audience's members in a stable order, each with what its template needs and whether it opted
    /// out. Numbers are normalised and de-duplicated; a number that is a contact is personalised like one.
    /// Segments and contact ids are the caller's own (another account's are "not found").
    /// </summary>
    private static async Task<(Audience? Audience, ProblemHttpResult? Problem)> ResolveAudienceAsync(
        CampaignAudienceRequest request, MessageTemplate template, UjumbeDb db, string country, CancellationToken cancellationToken)
    {
        IQueryable<Contact> contacts;
        JsonObject description;
        List<string>? numbers = null;
        if (request.Numbers is { } typed)
        {
            var inputs = typed.Split([',', ';', '\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            (numbers, _, var phoneProblem) = SendValidator.NormalizeRecipients(inputs, country, "audience.numbers", listed: 100);
            if (phoneProblem is not null)
            {
                return (null, MessagesApi.ToProblem(phoneProblem));
            }
            if (numbers.Count == 0)
            {
                return (null, Problems.Validation("audience.numbers", "has no phone numbers"));
            }
            if (numbers.Count > MaxRecipients)
            {
                return (null, Problems.Validation("audience.numbers", $"has {numbers.Count} numbers; a campaign has at most {MaxRecipients}"));
            }
            var wanted = numbers.ToArray();
            contacts = db.Contacts.AsNoTracking().Where(c => wanted.Contains(c.Phone));
            description = new JsonObject { ["type"] = "numbers", ["count"] = numbers.Count };
        }
        else if (request.SegmentId is { } segmentId)
        {
            if (await SegmentsApi.FindAsync(db, segmentId, tracking: false, cancellationToken) is not { } segment)
            {
                return (null, Problems.NotFound("No segment with this id."));
            }
            contacts = SegmentsApi.Members(db, segment);
            description = new JsonObject { ["type"] = "segment", ["segment_id"] = segmentId, ["segment_name"] = segment.Name };
        }
        else
        {
            var ids = new List<Guid>();
            foreach (var id in request.ContactIds!)
            {
                if (!PublicId.TryParse(PublicId.Contact, id, out var contactId))
                {
                    return (null, Problems.NotFound($"No contact with id {id}."));
                }
                ids.Add(contactId);
            }
            if (ids.Count == 0 || ids.Count > MaxContactIds)
            {
                return (null, Problems.Validation("audience.contact_ids", $"must list 1 to {MaxContactIds} contact ids"));
            }
            var wanted = ids.Distinct().ToArray();
            contacts = db.Contacts.AsNoTracking().Where(c => wanted.Contains(c.Id));
            description = new JsonObject { ["type"] = "contacts", ["count"] = wanted.Length };
        }

        var withAttributes = template.UsesAttributes;
        var ordered = contacts.OrderBy(c => c.Id);
        // Typed-in numbers read their opt-outs by number below (not all of them are contacts), so not here.
        var rows = await (numbers is null
                ? ordered.Select(c => new AudienceRow(c.Phone, c.Name, c.Email, withAttributes ? c.Attributes : null, db.OptOuts.Any(o => o.Phone == c.Phone)))
                : ordered.Select(c => new AudienceRow(c.Phone, c.Name, c.Email, withAttributes ? c.Attributes : null, false)))
            .Take(MaxRecipients + 1)
            .ToListAsync(cancellationToken);
        if (rows.Count > MaxRecipients)
        {
            return (null, Problems.Validation("audience", $"has more than {MaxRecipients} contacts; split the campaign"));
        }
        if (request.ContactIds is not null && rows.Count < (int)description["count"]!)
        {
            return (null, Problems.NotFound($"{(int)description["count"]! - rows.Count} of the contact ids were not found."));
        }

        List<Member> members;
        if (numbers is not null)
        {
            // Numbers keep the order they were typed in; the ones that are contacts are personalised.
            var byPhone = rows.ToDictionary(r => r.Phone, StringComparer.Ordinal);
            var optedOut = (await db.OptOuts.AsNoTracking().Where(o => numbers.Contains(o.Phone)).Select(o => o.Phone).ToListAsync(cancellationToken))
                .ToHashSet(StringComparer.Ordinal);
            members = numbers.Select(phone => byPhone.TryGetValue(phone, out var contact)
                ? new Member(new TemplateValues(phone, contact.Name, contact.Email, contact.Attributes), optedOut.Contains(phone))
                : new Member(new TemplateValues(phone, null, null, null), optedOut.Contains(phone))).ToList();
        }
        else
        {
            members = rows.Select(r => new Member(new TemplateValues(r.Phone, r.Name, r.Email, r.Attributes), r.OptedOut)).ToList();
        }
        if (members.Count == 0)
        {
            return (null, Problems.Validation("audience", "has no contacts"));
        }
        return (new Audience(members, description), null);
    }

    /// <summary>Init-only members, so EF can filter and sort on them.</summary>
    private sealed class CampaignRow
    {
        public required Campaign Campaign { get; init; }
        public required Batch Batch { get; init; }
    }

    private static IQueryable<CampaignRow> Rows(UjumbeDb db) =>
        from c in db.Campaigns.AsNoTracking()
        join b in db.Batches.AsNoTracking() on c.BatchId equals b.Id
        select new CampaignRow { Campaign = c, Batch = b };

    private static CampaignResponse ToResponse(CampaignRow row)
    {
        var (campaign, batch) = (row.Campaign, row.Batch);
        var status = batch.Status switch
        {
            BatchStatus.Scheduled => "scheduled",
            BatchStatus.Finalized when batch.CanceledCount == batch.Recipients => "canceled",
            BatchStatus.Finalized => "completed",
            _ => "sending",
        };
        var summary = new CampaignSummary(
            batch.Recipients + campaign.Skipped, batch.ScheduledCount + batch.QueuedCount, batch.SentCount, batch.DeliveredCount,
            batch.FailedCount + batch.RejectedCount, batch.CanceledCount, campaign.Skipped);
        return new CampaignResponse(
            PublicId.Format(PublicId.Campaign, campaign.Id), campaign.Name, status, campaign.Template, batch.SenderId,
            JsonNode.Parse(campaign.Audience)!.AsObject(), PublicId.Format(PublicId.Batch, batch.Id), batch.Credits, batch.ScheduledAt,
            campaign.CreatedAt, summary, campaign.SkippedNumbers);
    }

    private static string Prepare(string rendered) => SmsSegments.Normalize(rendered).Trim();

    private static ProblemHttpResult NotFound() => Problems.NotFound("No campaign with this id.");
}
