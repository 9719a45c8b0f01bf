using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Formatting;
using Ujumbe.Web.Gateway;
using Ujumbe.Web.Session;

namespace Ujumbe.Web.Pages.Payments;

public sealed class PaymentInput
{
    /// <summary>Made when the form is shown: a form sent twice starts one payment, and the payer gets one prompt.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>Whose credits: empty for the signed-in account, else one of the partner's tenants.</summary>
    public string? For { get; set; }

    /// <summary>Text, so "1,000" is read as people write it; whether the number is acceptable is the Api's to say.</summary>
    [Required(ErrorMessage = "Enter how many credits to buy."), StringLength(20)]
    public string? Credits { get; set; }

    [Required(ErrorMessage = "Enter the number of the phone that pays."), StringLength(40)]
    [Display(Name = "Phone number")]
    public string? PhoneNumber { get; set; }

    [Required(ErrorMessage = "Choose the payer's mobile-money network.")]
    [Display(Name = "Network")]
    public string? Provider { get; set; }
}

/// <summary>
/// Buying credits by mobile money (decision 0025): for the signed-in account (<c>POST /v1/payments</c>) or, for a
/// partner, for one of its tenants (<c>POST /v1/tenants/{id}/payments</c>). The payer gets a prompt on the phone;
/// the page then shows the payment until it completes.
/// </summary>
public sealed class NewModel(GatewayClient gateway) : PageModel
{
    private static readonly Dictionary<string, string> Fields = new()
    {
        ["credits"] = "Input.Credits", ["phone_number"] = "Input.PhoneNumber", ["provider"] = "Input.Provider",
    };

    [BindProperty] public PaymentInput Input { get; set; } = new();

    public PaymentParties Parties { get; private set; } = PaymentParties.None;
    public Credits? Own { get; private set; }

    public async Task OnGetAsync(string? @for, CancellationToken cancellationToken)
    {
        Input.IdempotencyKey = Guid.NewGuid().ToString("N");
        Input.Provider = "vodacom";
        await LoadAsync(cancellationToken);
        // From a tenant's "Request a payment": that tenant is chosen.
        if (@for is not null && Parties.Tenants.Any(t => t.Id == @for))
        {
            Input.For = @for;
        }
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        long? credits = null;
        if (!string.IsNullOrWhiteSpace(Input.Credits))
        {
            if (long.TryParse(Input.Credits.Trim(), NumberStyles.AllowLeadingSign | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var typed))
            {
                credits = typed;
            }
            else
            {
                ModelState.AddModelError("Input.Credits", "Enter a whole number of credits, e.g. 500.");
            }
        }
        if (!ModelState.IsValid)
        {
            await LoadAsync(cancellationToken);
            return Page();
        }
        var forTenant = !string.IsNullOrEmpty(Input.For) && Input.For != User.AccountId();
        // The tenant's id goes to the Api as it came: only the partner's own tenants are found there (else 404).
        var path = forTenant ? $"/v1/tenants/{Uri.EscapeDataString(Input.For!)}/payments" : "/v1/payments";
        // A refused payment gives its key back (decision 0027), so the corrected form may send the same one.
        var created = await gateway.PostOnceAsync<Payment>(path,
            new { credits, phone_number = Input.PhoneNumber, provider = Input.Provider }, Input.IdempotencyKey, cancellationToken);
        if (created.Ok)
        {
            var payment = created.Value!;
            this.Flash($"Payment started: {Numbers.Credits(payment.Credits)} for {Numbers.Money(payment.Amount, payment.Currency)}. The payer confirms it on {payment.PhoneNumber}.");
            return Redirect($"/payments/{Uri.EscapeDataString(payment.PaymentId)}");
        }
        ModelState.Show(created.Problem!, Fields);
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var parties = PaymentParties.LoadAsync(gateway, User, cancellationToken);
        var balance = gateway.GetAsync<Credits>("/v1/balance", cancellationToken);
        (Parties, Own) = (await parties, (await balance).Value);
    }
}
