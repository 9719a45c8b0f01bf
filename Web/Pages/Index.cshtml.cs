using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Formatting;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages;

public sealed class IndexModel(GatewayClient gateway, ViewerClock clock) : PageModel
{
    public Credits? Credits { get; private set; }
    public Usage? Usage { get; private set; }
    public UsageDay? Today { get; private set; }
    public ApiProblem? Problem { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        var credits = gateway.GetAsync<Credits>("/v1/balance", cancellationToken);
        // The last 14 days in the viewer's zone, counted by the Api (GET /v1/usage).
        var usage = gateway.GetAsync<Usage>($"/v1/usage?time_zone={Uri.EscapeDataString(clock.Zone.Id)}", cancellationToken);
        var (balance, days) = (await credits, await usage);
        Credits = balance.Value;
        Usage = days.Value;
        Today = Usage is { Data.Count: > 0 } ? Usage.Data[^1] : null;
        Problem = balance.Problem ?? days.Problem;
    }
}
