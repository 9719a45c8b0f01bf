using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Batches;

public sealed class DetailModel(GatewayClient gateway) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "page")] public int PageNumber { get; set; } = 1;

    public BatchReport? Report { get; private set; }
    public Pager? Pager { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
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
