using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;
using Ujumbe.Web.Session;

namespace Ujumbe.Web.Pages.Payments;

/// <summary>
/// One payment and its status; while it is pending the page refreshes itself (site.js; a Refresh link without script)
/// so the payer's confirmation shows as it happens. Another account's payment is not found: the Api shows each
/// payment only to the account credited and to whoever requested it.
/// </summary>
public sealed class DetailModel(GatewayClient gateway) : PageModel
{
    public Payment? Payment { get; private set; }
    public PaymentParties Parties { get; private set; } = PaymentParties.None;
    /// <summary>The signed-in account's credits, once a payment to it completed (what the payment changed).</summary>
    public Credits? Own { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        var result = gateway.GetAsync<Payment>($"/v1/payments/{Uri.EscapeDataString(id)}", cancellationToken);
        var parties = PaymentParties.LoadAsync(gateway, User, cancellationToken);
        var (payment, names) = (await result, await parties);
        if (!payment.Ok)
        {
            return NotFound();
        }
        (Payment, Parties) = (payment.Value, names);
        if (Payment!.Status == "completed" && Payment.AccountId == User.AccountId())
        {
            Own = (await gateway.GetAsync<Credits>("/v1/balance", cancellationToken)).Value;
        }
        return Page();
    }
}
