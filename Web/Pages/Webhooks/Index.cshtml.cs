using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Webhooks;

public sealed class WebhookInput
{
    [Required(ErrorMessage = "Enter the URL Ujumbe should call."), StringLength(2048, ErrorMessage = "A URL may have at most 2,048 characters.")]
    [Display(Name = "URL")]
    public string? Url { get; set; }

    public List<string> Events { get; set; } = [];

    /// <summary>The shape events arrive in: Ujumbe's, or a compatibility dialect's for code written against that API.</summary>
    public string Format { get; set; } = "ujumbe";
}

public sealed class IndexModel(GatewayClient gateway) : PageModel
{
    [BindProperty]
    public WebhookInput Input { get; set; } = new();

    public PageOf<Webhook>? Webhooks { get; private set; }

    /// <summary>Set only in the answer to the request that created it; never shown again.</summary>
    public CreatedWebhook? Created { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken)
    {
        if (Input.Events.Any(e => !WebhookEvents.All.Contains(e)))
        {
            ModelState.AddModelError("Input.Events", "Choose from the listed events.");
        }
        if (!WebhookEvents.Formats.ContainsKey(Input.Format))
        {
            ModelState.AddModelError("Input.Format", "Choose one of the listed formats.");
        }
        if (ModelState.IsValid)
        {
            // No event ticked means every event, as in the API.
            var created = await gateway.PostAsync<CreatedWebhook>("/v1/webhooks",
                new { url = Input.Url, events = Input.Events.Count == 0 ? null : Input.Events, format = Input.Format }, cancellationToken);
            if (created.Ok)
            {
                Created = created.Value;
                ModelState.Clear();
                Input = new WebhookInput();
            }
            else
            {
                ModelState.Show(created.Problem!, new Dictionary<string, string> { ["url"] = "Input.Url", ["events"] = "Input.Events", ["format"] = "Input.Format" });
            }
        }
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostToggleAsync(string id, bool enabled, CancellationToken cancellationToken)
    {
        var result = await gateway.PatchAsync<Webhook>($"/v1/webhooks/{Uri.EscapeDataString(id)}", new { enabled }, cancellationToken);
        this.Flash(result.Ok ? $"{result.Value!.Url} is {(result.Value.Enabled ? "enabled" : "disabled")}." : result.Problem!.Message);
        return Redirect("/webhooks");
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var webhooks = await gateway.GetAsync<PageOf<Webhook>>("/v1/webhooks?page_size=100", cancellationToken);
        Webhooks = webhooks.Value;
        if (!webhooks.Ok)
        {
            ModelState.AddModelError("", webhooks.Problem!.Message);
        }
    }
}
