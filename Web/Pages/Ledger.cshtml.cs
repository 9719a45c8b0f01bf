using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages;

public sealed class LedgerModel(GatewayClient gateway) : PageModel
{
    /// <summary>From the query's <c>page</c> (not bound as a property: Razor Pages' own route value is also called "page").</summary>
    public int PageNumber { get; private set; } = 1;

    public PageOf<LedgerEntry>? Entries { get; private set; }
    public Pager? Pager { get; private set; }

    public async Task OnGetAsync([FromQuery(Name = "page")] int? page, CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, page ?? 1);
        var entries = await gateway.GetAsync<PageOf<LedgerEntry>>($"/v1/ledger?page={Math.Max(1, PageNumber)}&page_size=50", cancellationToken);
        if (!entries.Ok)
        {
            ModelState.AddModelError("", entries.Problem!.Message);
            return;
        }
        Entries = entries.Value;
        Pager = new Pager(Entries!.Page, Entries.PageSize, Entries.Total, "/ledger", Request.Query);
    }

    /// <summary>What each kind of entry means, in words.</summary>
    public static string Describe(string kind) => kind switch
    {
        "topup" => "Top-up",
        "reserve" => "Reserved for a send",
        "capture" => "Charged (provider took the message)",
        "release" => "Released (not sent)",
        "transfer" => "Transfer",
        "adjustment" => "Adjustment by Ujumbe",
        _ => kind,
    };
}
