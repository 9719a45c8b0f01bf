using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Batches;

public sealed class DetailModel(GatewayClient gateway) : PageModel
{
    /// <summary>From the query's <c>page</c> (not bound as a property: Razor Pages' own route value is also called "page").</summary>
    public int PageNumber { get; private set; } = 1;

    public BatchReport? Report { get; private set; }
    public Pager? Pager { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, [FromQuery(Name = "page")] int? page, CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, page ?? 1);
        var result = await gateway.GetAsync<BatchReport>($"/v1/batches/{Uri.EscapeDataString(id)}?page={Math.Max(1, PageNumber)}&page_size=50", cancellationToken);
        if (!result.Ok)
        {
            return NotFound();
        }
        Report = result.Value;
        Pager = new Pager(Report!.Page, Report.PageSize, Report.Total, $"/batches/{Report.BatchId}", Request.Query);
        return Page();
    }

    /// <summary>Cancels what has not left yet; the id comes from the route and the Api answers only for the caller's own batches.</summary>
    public async Task<IActionResult> OnPostCancelAsync(string id, CancellationToken cancellationToken)
    {
        var result = await gateway.PostAsync<BatchReport>($"/v1/batches/{Uri.EscapeDataString(id)}/cancel", null, cancellationToken);
        this.Flash(result.Ok ? "Messages not yet sent were canceled and their credits released." : result.Problem!.Message);
        return Redirect($"/batches/{Uri.EscapeDataString(id)}");
    }
}
