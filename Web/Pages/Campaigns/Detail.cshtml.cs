using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Campaigns;

/// <summary>A campaign's live summary (refreshing itself while it sends, like a batch's report).</summary>
public sealed class DetailModel(GatewayClient gateway) : PageModel
{
    public Campaign? Campaign { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        var campaign = await gateway.GetAsync<Campaign>($"/v1/campaigns/{Uri.EscapeDataString(id)}", cancellationToken);
        if (!campaign.Ok)
        {
            return NotFound();
        }
        Campaign = campaign.Value;
        return Page();
    }

    /// <summary>The audience in words: "a segment: VIP", "3 numbers", "12 contacts".</summary>
    public string Audience()
    {
        var audience = Campaign!.Audience;
        string? Text(string name) => audience.TryGetProperty(name, out var value) ? value.ToString() : null;
        return Text("type") switch
        {
            "segment" => $"the segment {Text("segment_name")}",
            "numbers" => $"{Text("count")} number(s) typed in",
            "contacts" => $"{Text("count")} picked contact(s)",
            _ => "—",
        };
    }
}
