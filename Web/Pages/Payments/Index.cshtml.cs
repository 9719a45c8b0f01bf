using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Payments;

/// <summary>
/// The account's mobile-money payments, newest first, filtered by status; for a partner also those it requested
/// for its tenants (the Api shows each payment only to the account credited and to whoever asked for it).
/// </summary>
public sealed class IndexModel(GatewayClient gateway) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Status { get; set; }
    /// <summary>From the query's <c>page</c> (not bound as a property: Razor Pages' own route value is also called "page").</summary>
    public int PageNumber { get; private set; } = 1;

    public PageOf<Payment>? Payments { get; private set; }
    public Pager? Pager { get; private set; }
    public PaymentParties Parties { get; private set; } = PaymentParties.None;

    public async Task OnGetAsync([FromQuery(Name = "page")] int? page, CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, page ?? 1);
        if (Status is not null && !MobileMoney.Statuses.Contains(Status))
        {
            ModelState.AddModelError(nameof(Status), "Choose one of the listed statuses.");
            Status = null;
        }
        var query = new QueryBuilder { { "page", PageNumber.ToString(System.Globalization.CultureInfo.InvariantCulture) }, { "page_size", "25" } };
        if (Status is not null)
        {
            query.Add("status", Status);
        }
        var payments = gateway.GetAsync<PageOf<Payment>>("/v1/payments" + query.ToQueryString(), cancellationToken);
        var parties = PaymentParties.LoadAsync(gateway, User, cancellationToken);
        var (result, names) = (await payments, await parties);
        Parties = names;
        if (!result.Ok)
        {
            ModelState.Show(result.Problem!, new Dictionary<string, string> { ["status"] = nameof(Status) });
            return;
        }
        Payments = result.Value;
        Pager = new Pager(Payments!.Page, Payments.PageSize, Payments.Total, "/payments", Request.Query);
    }
}
