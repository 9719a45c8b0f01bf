using System.ComponentModel.DataAnnotations;
using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Partner;

public sealed class NewTenantInput
{
    /// <summary>Made when the form is shown: a form sent twice makes one tenant.</summary>
    public string? IdempotencyKey { get; set; }

    [Required(ErrorMessage = "Enter the tenant's name."), StringLength(200)]
    public string? Name { get; set; }

    [Required(ErrorMessage = "Enter the owner's email."), EmailAddress(ErrorMessage = "Enter an email address like name@example.com."), StringLength(254)]
    [Display(Name = "Owner email")]
    public string? Email { get; set; }

    [RegularExpression("^[A-Za-z]{2}$", ErrorMessage = "Use a two-letter country code, e.g. TZ.")]
    [Display(Name = "Default country")]
    public string? DefaultCountry { get; set; } = "TZ";
}

/// <summary>A partner's tenants: search, open, suspend or activate, and move credits to them or back.</summary>
public sealed class TenantsModel(GatewayClient gateway) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    /// <summary>From the query's <c>page</c> (not bound as a property: Razor Pages' own route value is also called "page").</summary>
    public int PageNumber { get; private set; } = 1;

    [BindProperty]
    public NewTenantInput Input { get; set; } = new();

    public PageOf<Tenant>? Tenants { get; private set; }
    public Credits? Own { get; private set; }
    public Pager? Pager { get; private set; }

    public async Task OnGetAsync([FromQuery(Name = "page")] int? page, CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, page ?? 1);
        Input.IdempotencyKey = Guid.NewGuid().ToString("N");
        await LoadAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken)
    {
        if (ModelState.IsValid)
        {
            var created = await gateway.PostOnceAsync<Tenant>("/v1/tenants",
                new { name = Input.Name, email = Input.Email, default_country = string.IsNullOrWhiteSpace(Input.DefaultCountry) ? null : Input.DefaultCountry },
                Input.IdempotencyKey, cancellationToken);
            if (created.Ok)
            {
                this.Flash($"{created.Value!.Name} is open, owned by {created.Value.Email}. Move credits to it below.");
                return Redirect("/partner/tenants?q=" + Uri.EscapeDataString(created.Value.Name));
            }
            ModelState.Show(created.Problem!, new Dictionary<string, string>
            {
                ["name"] = "Input.Name", ["email"] = "Input.Email", ["default_country"] = "Input.DefaultCountry",
            });
        }
        await LoadAsync(cancellationToken);
        return Page();
    }

    /// <summary>An owner just invited, and the link that sets their password (shown once).</summary>
    public (Invitation Invitation, string Link)? Invited { get; private set; }

    public async Task<IActionResult> OnPostInviteAsync(string id, CancellationToken cancellationToken)
    {
        Invited = await this.InviteOwnerAsync(gateway, $"/v1/tenants/{Uri.EscapeDataString(id)}/invitation", cancellationToken);
        if (Invited is null)
        {
            return Redirect(Here());
        }
        // Rendered, not redirected: the link is in this answer only.
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostStatusAsync(string id, string change, CancellationToken cancellationToken)
    {
        if (change is not ("suspend" or "activate"))
        {
            return BadRequest();
        }
        var result = await gateway.PostAsync<Tenant>($"/v1/tenants/{Uri.EscapeDataString(id)}/{change}", null, cancellationToken);
        this.Flash(result.Ok ? $"{result.Value!.Name} is {result.Value.Status}." : result.Problem!.Message);
        return Redirect(Here());
    }

    public async Task<IActionResult> OnPostCreditsAsync(string id, string? amount, string? key, CancellationToken cancellationToken)
    {
        if (!long.TryParse(amount, NumberStyles.AllowLeadingSign | NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var credits) || credits == 0)
        {
            this.Flash("Move credits: enter a whole number of credits other than 0 (negative takes credits back).");
            return Redirect(Here());
        }
        var moved = await gateway.PostOnceAsync<CreditTransfer>($"/v1/tenants/{Uri.EscapeDataString(id)}/credits", new { amount = credits }, key, cancellationToken);
        this.Flash(moved.Ok
            ? $"Moved {Formatting.Numbers.WithSign(credits)} credits (reference {moved.Value!.Reference}): the tenant has {Formatting.Numbers.Credits(moved.Value.Tenant.Available)} available, you have {Formatting.Numbers.Credits(moved.Value.Partner.Available)}."
            : "Move credits: " + moved.Problem!.OneLine());
        return Redirect(Here());
    }

    private string Here() => "/partner/tenants" + (Q is null ? "" : "?q=" + Uri.EscapeDataString(Q));

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var path = $"/v1/tenants?page={Math.Max(1, PageNumber)}&page_size=25" + (string.IsNullOrWhiteSpace(Q) ? "" : "&q=" + Uri.EscapeDataString(Q.Trim()));
        var tenants = gateway.GetAsync<PageOf<Tenant>>(path, cancellationToken);
        var own = gateway.GetAsync<Credits>("/v1/balance", cancellationToken);
        var (list, balance) = (await tenants, await own);
        Own = balance.Value;
        if (!list.Ok)
        {
            ModelState.AddModelError("", list.Problem!.Message);
            return;
        }
        Tenants = list.Value;
        Pager = new Pager(Tenants!.Page, Tenants.PageSize, Tenants.Total, "/partner/tenants", Request.Query);
    }
}
