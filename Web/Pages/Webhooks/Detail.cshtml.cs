using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Webhooks;

public sealed class DetailModel(GatewayClient gateway) : PageModel
{
    /// <summary>From the query's <c>page</c> (not bound as a property: Razor Pages' own route value is also called "page").</summary>
    public int PageNumber { get; private set; } = 1;

    public Webhook? Webhook { get; private set; }
    public PageOf<WebhookDelivery>? Deliveries { get; private set; }
    public Pager? Pager { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, [FromQuery(Name = "page")] int? page, CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, page ?? 1);
        var deliveries = await gateway.GetAsync<PageOf<WebhookDelivery>>(
            $"/v1/webhooks/{Uri.EscapeDataString(id)}/deliveries?page={Math.Max(1, PageNumber)}&page_size=25", cancellationToken);
        if (!deliveries.Ok)
        {
            return NotFound();
        }
        Deliveries = deliveries.Value;
        // The API has no GET of one endpoint; an account has at most 20, so the list has it.
        var all = await gateway.GetAsync<PageOf<Webhook>>("/v1/webhooks?page_size=100", cancellationToken);
        Webhook = all.Value?.Data.FirstOrDefault(w => w.Id == id);
        Pager = new Pager(Deliveries!.Page, Deliveries.PageSize, Deliveries.Total, $"/webhooks/{id}", Request.Query);
        return Page();
    }

    public async Task<IActionResult> OnPostRetryAsync(string id, string delivery, CancellationToken cancellationToken)
    {
        var result = await gateway.PostAsync<WebhookDelivery>($"/v1/webhooks/deliveries/{Uri.EscapeDataString(delivery)}/retry", null, cancellationToken);
        this.Flash(result.Ok ? "The delivery will be attempted again now." : result.Problem!.Message);
        return Redirect($"/webhooks/{Uri.EscapeDataString(id)}");
    }
}
