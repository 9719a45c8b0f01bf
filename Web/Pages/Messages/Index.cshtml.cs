using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Http.Extensions;
using Ujumbe.Web.Formatting;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Messages;

public sealed class IndexModel(GatewayClient gateway, ViewerClock clock) : PageModel
{
    public static readonly string[] Statuses = ["scheduled", "queued", "sent", "delivered", "failed", "rejected", "canceled"];

    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    [BindProperty(SupportsGet = true)] public string? To { get; set; }
    [BindProperty(SupportsGet = true)] public DateOnly? Since { get; set; }
    [BindProperty(SupportsGet = true)] public DateOnly? Until { get; set; }
    /// <summary>From the query's <c>page</c> (not bound as a property: Razor Pages' own route value is also called "page").</summary>
    public int PageNumber { get; private set; } = 1;

    public PageOf<Message>? Messages { get; private set; }
    public Pager? Pager { get; private set; }
    public bool Filtered => Status is not null || To is not null || Since is not null || Until is not null;

    public async Task OnGetAsync([FromQuery(Name = "page")] int? page, CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, page ?? 1);
        if (Status is not null && !Statuses.Contains(Status))
        {
            ModelState.AddModelError(nameof(Status), "Choose one of the listed statuses.");
            Status = null;
        }
        var query = new QueryBuilder { { "page", Math.Max(1, PageNumber).ToString(System.Globalization.CultureInfo.InvariantCulture) }, { "page_size", "25" } };
        if (Status is not null) query.Add("status", Status);
        if (!string.IsNullOrWhiteSpace(To)) query.Add("to", To.Trim());
        // Days in the viewer's zone, as UTC instants for the API.
        if (Since is { } since) query.Add("since", clock.ToUtc(since.ToDateTime(TimeOnly.MinValue)).ToString("O"));
        if (Until is { } until) query.Add("until", clock.ToUtc(until.AddDays(1).ToDateTime(TimeOnly.MinValue)).ToString("O"));
        var result = await gateway.GetAsync<PageOf<Message>>("/v1/messages" + query.ToQueryString(), cancellationToken);
        if (!result.Ok)
        {
            ModelState.Show(result.Problem!, new Dictionary<string, string> { ["to"] = nameof(To), ["status"] = nameof(Status), ["since"] = nameof(Since), ["until"] = nameof(Until) });
            return;
        }
        Messages = result.Value;
        Pager = new Pager(Messages!.Page, Messages.PageSize, Messages.Total, "/messages", Request.Query);
    }
}
