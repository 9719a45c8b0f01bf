using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages;

public sealed class SendInput
{
    [Required(ErrorMessage = "Enter at least one phone number."), StringLength(200_000)]
    [Display(Name = "To")]
    public string? To { get; set; }

    [Required(ErrorMessage = "Choose a sender ID.")]
    [Display(Name = "Sender ID")]
    public string? SenderId { get; set; }

    [Required(ErrorMessage = "Write the message."), StringLength(10_000)]
    public string? Text { get; set; }

    /// <summary>Fixed when the form is shown, so a double click or a resubmitted form sends once.</summary>
    public string? IdempotencyKey { get; set; }
}

public sealed class SendModel(GatewayClient gateway) : PageModel
{
    private static readonly Dictionary<string, string> Fields = new()
    {
        ["to"] = "Input.To", ["text"] = "Input.Text", ["sender_id"] = "Input.SenderId",
    };

    [BindProperty]
    public SendInput Input { get; set; } = new();

    public IReadOnlyList<SenderId> SenderIds { get; private set; } = [];
    public Quote? Quote { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Input.IdempotencyKey = Guid.NewGuid().ToString("N");
        await LoadSenderIdsAsync(cancellationToken);
        Input.SenderId ??= SenderIds.Count > 0 ? SenderIds[0].Name : null;
    }

    /// <summary>The quote without script: the same form, answered with the numbers.</summary>
    public async Task<IActionResult> OnPostQuoteAsync(CancellationToken cancellationToken)
    {
        await LoadSenderIdsAsync(cancellationToken);
        if (!ModelState.IsValid)
        {
            return Page();
        }
        var quote = await gateway.PostAsync<Quote>("/v1/messages/quote", Body(), cancellationToken);
        if (quote.Ok)
        {
            Quote = quote.Value;
        }
        else
        {
            ModelState.Show(quote.Problem!, Fields);
        }
        return Page();
    }

    /// <summary>The live quote site.js asks for while the user types: the quote, or the problem's words.</summary>
    public async Task<IActionResult> OnPostQuoteJsonAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(Input.To) || string.IsNullOrEmpty(Input.Text) || string.IsNullOrEmpty(Input.SenderId))
        {
            return new JsonResult(new { message = "Enter numbers, a sender ID and a message to see the cost." });
        }
        var quote = await gateway.PostAsync<Quote>("/v1/messages/quote", Body(), cancellationToken);
        return quote.Ok
            ? new JsonResult(new
            {
                encoding = quote.Value!.Encoding,
                segments = quote.Value.Segments,
                recipients = quote.Value.Recipients,
                credits = Formatting.Numbers.Credits(quote.Value.Credits),
                balance_after = Formatting.Numbers.Credits(quote.Value.BalanceAfter),
                sufficient = quote.Value.Sufficient,
            })
            : new JsonResult(new { message = quote.Problem!.OneLine() });
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            await LoadSenderIdsAsync(cancellationToken);
            return Page();
        }
        var sent = await gateway.PostOnceAsync<SendAccepted>("/v1/messages", Body(), Input.IdempotencyKey, cancellationToken);
        if (!sent.Ok)
        {
            ModelState.Show(sent.Problem!, Fields);
            // The corrected form is a new request: a new key, so it is not taken for a replay of this one.
            ModelState.Remove("Input.IdempotencyKey");
            Input.IdempotencyKey = Guid.NewGuid().ToString("N");
            await LoadSenderIdsAsync(cancellationToken);
            return Page();
        }
        var accepted = sent.Value!;
        this.Flash(accepted.Skipped.Count == 0
            ? $"Sent to {Formatting.Numbers.Count(accepted.Recipients)} recipient(s) for {Formatting.Numbers.Credits(accepted.Credits)}."
            : $"Sent to {Formatting.Numbers.Count(accepted.Recipients)} recipient(s); {Formatting.Numbers.Count(accepted.Skipped.Count)} skipped (opted out).");
        return Redirect($"/batches/{Uri.EscapeDataString(accepted.BatchId)}");
    }

    private object Body() => new
    {
        to = (Input.To ?? "").Split([',', ';', '\n', '\r'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
        text = Input.Text,
        sender_id = Input.SenderId,
    };

    private async Task LoadSenderIdsAsync(CancellationToken cancellationToken)
    {
        var senders = await gateway.GetAsync<PageOf<SenderId>>("/v1/sender-ids?page_size=100", cancellationToken);
        SenderIds = senders.Value?.Data.Where(s => s.Status == "approved").ToList() ?? [];
    }
}
