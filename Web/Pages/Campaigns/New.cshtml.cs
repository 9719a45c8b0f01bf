using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Campaigns;

public sealed class CampaignInput
{
    /// <summary>Made when the form is shown: a form sent twice (a double click, a resubmitted page) makes one campaign.</summary>
    public string? IdempotencyKey { get; set; }

    [Required(ErrorMessage = "Name the campaign."), StringLength(200)]
    public string? Name { get; set; }

    [Required(ErrorMessage = "Choose a sender ID.")]
    [Display(Name = "Sender ID")]
    public string? SenderId { get; set; }

    [Required(ErrorMessage = "Write the message."), StringLength(10_000)]
    public string? Text { get; set; }

    /// <summary>numbers, segment or contacts.</summary>
    public string Audience { get; set; } = "numbers";

    [StringLength(2_000_000)]
    public string? Numbers { get; set; }

    public string? SegmentId { get; set; }

    public List<string> ContactIds { get; set; } = [];
}

/// <summary>
/// A new campaign: to typed-in numbers, a segment or picked contacts, with a preview of the text for an
/// example recipient (live while typing when script runs, the Preview button otherwise).
/// </summary>
public sealed class NewModel(GatewayClient gateway) : PageModel
{
    private static readonly Dictionary<string, string> Fields = new()
    {
        ["name"] = "Input.Name", ["text"] = "Input.Text", ["sender_id"] = "Input.SenderId",
        ["audience"] = "Input.Audience", ["audience.numbers"] = "Input.Numbers", ["audience.segment_id"] = "Input.SegmentId",
        ["audience.contact_ids"] = "Input.ContactIds",
    };

    [BindProperty] public CampaignInput Input { get; set; } = new();

    public IReadOnlyList<SenderId> SenderIds { get; private set; } = [];
    public IReadOnlyList<Segment> Segments { get; private set; } = [];
    public IReadOnlyList<Contact> Contacts { get; private set; } = [];
    public Preview? Shown { get; private set; }

    public sealed record Preview(string Text, string For, Quote? Quote, string? Problem);

    public async Task OnGetAsync(string? segment, CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        Input.IdempotencyKey = Guid.NewGuid().ToString("N");
        Input.SenderId = SenderIds.Count > 0 ? SenderIds[0].Name : null;
        if (segment is not null && Segments.Any(s => s.Id == segment))
        {
            Input.Audience = "segment";
            Input.SegmentId = segment;
        }
    }

    public async Task<IActionResult> OnPostPreviewAsync(CancellationToken cancellationToken)
    {
        await LoadAsync(cancellationToken);
        Shown = await PreviewAsync(cancellationToken);
        return Page();
    }

    /// <summary>The live preview site.js asks for while the user types.</summary>
    public async Task<IActionResult> OnPostPreviewJsonAsync(CancellationToken cancellationToken)
    {
        var preview = await PreviewAsync(cancellationToken);
        if (preview is null)
        {
            return new JsonResult(new { message = "Write the message and choose who gets it to see a preview." });
        }
        return new JsonResult(new
        {
            text = preview.Text,
            detail = preview.Quote is { } quote
                ? $"For {preview.For}: {quote.Segments} segment(s), {quote.Encoding}, {Formatting.Numbers.Credits(quote.Credits)}."
                : preview.Problem ?? $"For {preview.For}.",
        });
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var audience = Audience();
        if (audience is null)
        {
            ModelState.AddModelError("Input.Audience", "Choose who gets the campaign.");
        }
        if (!ModelState.IsValid)
        {
            await LoadAsync(cancellationToken);
            return Page();
        }
        // A refused campaign gives its key back (decision 0027), so the corrected form may send the same one.
        var created = await gateway.PostOnceAsync<Campaign>("/v1/campaigns",
            new { name = Input.Name, text = Input.Text, sender_id = Input.SenderId, audience }, Input.IdempotencyKey, cancellationToken);
        if (created.Ok)
        {
            this.Flash($"The campaign {created.Value!.Name} is on its way.");
            return Redirect($"/campaigns/{Uri.EscapeDataString(created.Value.Id)}");
        }
        ModelState.Show(created.Problem!, Fields);
        await LoadAsync(cancellationToken);
        return Page();
    }

    private object? Audience() => Input.Audience switch
    {
        "numbers" when !string.IsNullOrWhiteSpace(Input.Numbers) => new { numbers = Input.Numbers },
        "segment" when !string.IsNullOrEmpty(Input.SegmentId) => new { segment_id = Input.SegmentId },
        "contacts" when Input.ContactIds.Count > 0 => new { contact_ids = Input.ContactIds },
        _ => null,
    };

    /// <summary>The text for the audience's first recipient, with what it costs that one.</summary>
    private async Task<Preview?> PreviewAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(Input.Text))
        {
            return null;
        }
        Contact? example = null;
        switch (Input.Audience)
        {
            case "numbers":
                var first = (Input.Numbers ?? "").Split([',', '\n', '\r', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
                example = first is null ? null : new Contact("", null, first, null, [], false, default, default);
                break;
            case "segment" when !string.IsNullOrEmpty(Input.SegmentId):
                var members = await gateway.GetAsync<PageOf<Contact>>($"/v1/segments/{Uri.EscapeDataString(Input.SegmentId)}/contacts?page_size=1", cancellationToken);
                example = members.Value is { Data.Count: > 0 } found ? found.Data[0] : null;
                break;
            case "contacts" when Input.ContactIds.Count > 0:
                example = (await gateway.GetAsync<Contact>($"/v1/contacts/{Uri.EscapeDataString(Input.ContactIds[0])}", cancellationToken)).Value;
                break;
        }
        if (example is null)
        {
            return new Preview(Input.Text, "no recipient yet", null, "Choose who gets it to see the text as they will.");
        }
        var text = CampaignText.Render(Input.Text, example);
        var who = example.Name is { Length: > 0 } name ? $"{name} ({example.PhoneNumber})" : example.PhoneNumber;
        if (string.IsNullOrEmpty(Input.SenderId))
        {
            return new Preview(text, who, null, null);
        }
        var quote = await gateway.PostAsync<Quote>("/v1/messages/quote",
            new { to = new[] { example.PhoneNumber }, text, sender_id = Input.SenderId }, cancellationToken);
        return new Preview(text, who, quote.Value, quote.Ok ? null : quote.Problem!.OneLine());
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var senders = await gateway.GetAsync<PageOf<SenderId>>("/v1/sender-ids?page_size=100", cancellationToken);
        SenderIds = senders.Value?.Data.Where(s => s.Status == "approved").ToList() ?? [];
        var segments = await gateway.GetAsync<PageOf<Segment>>("/v1/segments?page_size=100", cancellationToken);
        Segments = segments.Value?.Data ?? [];
        var contacts = await gateway.GetAsync<PageOf<Contact>>("/v1/contacts?page_size=100", cancellationToken);
        Contacts = contacts.Value?.Data ?? [];
    }
}
