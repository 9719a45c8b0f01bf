using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Campaigns;

public sealed class IndexModel(GatewayClient gateway) : PageModel
{
    public int PageNumber { get; private set; } = 1;
    public PageOf<Campaign>? Campaigns { get; private set; }
    public Pager? Pager { get; private set; }

    public async Task OnGetAsync([FromQuery(Name = "page")] int? page, CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, page ?? 1);
        var campaigns = await gateway.GetAsync<PageOf<Campaign>>($"/v1/campaigns?page={PageNumber}&page_size=25", cancellationToken);
        if (!campaigns.Ok)
        {
            ModelState.AddModelError("", campaigns.Problem!.Message);
            return;
        }
        Campaigns = campaigns.Value;
        Pager = new Pager(Campaigns!.Page, Campaigns.PageSize, Campaigns.Total, "/campaigns", Request.Query);
    }
}
