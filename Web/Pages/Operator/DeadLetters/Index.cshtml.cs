using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Operator.DeadLetters;

/// <summary>Work that failed every retry: what, where, why; replayed one at a time (decision 0022).</summary>
public sealed class IndexModel(GatewayClient gateway) : PageModel
{
    public static readonly string[] Queues = ["dispatch", "delivery-reports"];

    [BindProperty(SupportsGet = true)] public string Status { get; set; } = "waiting";
    [BindProperty(SupportsGet = true)] public string? Queue { get; set; }
    public int PageNumber { get; private set; } = 1;

    public PageOf<DeadLetter>? DeadLetters { get; private set; }
    public Pager? Pager { get; private set; }

    public async Task OnGetAsync([FromQuery(Name = "page")] int? page, CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, page ?? 1);
        if (Status is not ("waiting" or "replayed"))
        {
            Status = "waiting";
        }
        if (Queue is not null && !Queues.Contains(Queue))
        {
            Queue = null;
        }
        var query = new QueryBuilder
        {
            { "status", Status }, { "page", PageNumber.ToString(System.Globalization.CultureInfo.InvariantCulture) }, { "page_size", "25" },
        };
        if (Queue is not null) query.Add("queue", Queue);
        var result = await gateway.GetAsync<PageOf<DeadLetter>>("/v1/admin/dead-letters" + query.ToQueryString(), cancellationToken);
        if (!result.Ok)
        {
            ModelState.AddModelError("", result.Problem!.Message);
            return;
        }
        DeadLetters = result.Value;
        Pager = new Pager(DeadLetters!.Page, DeadLetters.PageSize, DeadLetters.Total, "/operator/dead-letters", Request.Query);
    }

    public async Task<IActionResult> OnPostReplayAsync(string id, CancellationToken cancellationToken)
    {
        var result = await gateway.PostAsync<DeadLetter>($"/v1/admin/dead-letters/{Uri.EscapeDataString(id)}/replay", null, cancellationToken);
        this.Flash(result.Ok
            ? $"Sent back to the {result.Value!.Queue} queue for a fresh round of tries."
            : result.Problem!.OneLine());
        return Redirect("/operator/dead-letters");
    }
}
