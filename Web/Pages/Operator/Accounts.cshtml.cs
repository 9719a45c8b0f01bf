using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Operator;

public sealed class NewAccountInput
{
    [Required(ErrorMessage = "Enter the account's name."), StringLength(200)]
    public string? Name { get; set; }

    [Required(ErrorMessage = "Enter the owner's email."), EmailAddress(ErrorMessage = "Enter an email address like name@example.com."), StringLength(254)]
    [Display(Name = "Owner email")]
    public string? OwnerEmail { get; set; }

    [RegularExpression("^[A-Za-z]{2}$", ErrorMessage = "Use a two-letter country code, e.g. TZ.")]
    [Display(Name = "Default country")]
    public string? DefaultCountry { get; set; } = "TZ";
}

public sealed class AccountsModel(GatewayClient gateway) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    /// <summary>From the query's <c>page</c> (not bound as a property: Razor Pages' own route value is also called "page").</summary>
    public int PageNumber { get; private set; } = 1;

    [BindProperty]
    public NewAccountInput Input { get; set; } = new();

    public PageOf<AdminAccount>? Accounts { get; private set; }
    public Pager? Pager { get; private set; }

    /// <summary>The new account's first key, in the one answer that carries it.</summary>
    public CreatedAccount? Created { get; private set; }

    /// <summary>An account just made a partner, and the partner key it was issued (shown once).</summary>
    public PartnerMarked? MadePartner { get; private set; }

    public async Task OnGetAsync([FromQuery(Name = "page")] int? page, CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, page ?? 1);
        await LoadAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken)
    {
        if (ModelState.IsValid)
        {
            var created = await gateway.PostAsync<CreatedAccount>("/v1/admin/accounts",
                new { name = Input.Name, owner_email = Input.OwnerEmail, default_country = string.IsNullOrWhiteSpace(Input.DefaultCountry) ? null : Input.DefaultCountry }, cancellationToken);
            if (created.Ok)
            {
                Created = created.Value;
                ModelState.Clear();
                Input = new NewAccountInput();
            }
            else
            {
                ModelState.Show(created.Problem!, new Dictionary<string, string>
                {
                    ["name"] = "Input.Name", ["owner_email"] = "Input.OwnerEmail", ["default_country"] = "Input.DefaultCountry",
                });
            }
        }
        await LoadAsync(cancellationToken);
        return Page();
    }

    /// <summary>An owner just invited, and the link that sets their password (shown once).</summary>
    public (Invitation Invitation, string Link)? Invited { get; private set; }

    public async Task<IActionResult> OnPostInviteAsync(string id, CancellationToken cancellationToken)
    {
        Invited = await this.InviteOwnerAsync(gateway, $"/v1/admin/accounts/{Uri.EscapeDataString(id)}/invitation", cancellationToken);
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
        var result = await gateway.PostAsync<AdminAccount>($"/v1/admin/accounts/{Uri.EscapeDataString(id)}/{change}", null, cancellationToken);
        this.Flash(result.Ok ? $"{result.Value!.Name} is {result.Value.Status}." : result.Problem!.Message);
        return Redirect(Here());
    }

    public async Task<IActionResult> OnPostPartnerAsync(string id, string change, CancellationToken cancellationToken)
    {
        var path = $"/v1/admin/accounts/{Uri.EscapeDataString(id)}/partner";
        if (change == "mark")
        {
            var marked = await gateway.PostAsync<PartnerMarked>(path, null, cancellationToken);
            if (marked.Ok)
            {
                // Rendered, not redirected: the partner key is in this answer only.
                MadePartner = marked.Value;
                await LoadAsync(cancellationToken);
                return Page();
            }
            this.Flash(marked.Problem!.Message);
        }
        else if (change == "unmark")
        {
            var unmarked = await gateway.DeleteAsync(path, cancellationToken);
            this.Flash(unmarked.Ok ? "The account is no longer a partner." : unmarked.Problem!.Message);
        }
        else
        {
            return BadRequest();
        }
        return Redirect(Here());
    }

    public async Task<IActionResult> OnPostCreditsAsync(string id, string? amount, string? reason, CancellationToken cancellationToken)
    {
        if (!long.TryParse(amount, System.Globalization.NumberStyles.AllowLeadingSign | System.Globalization.NumberStyles.AllowThousands,
                System.Globalization.CultureInfo.InvariantCulture, out var credits) || credits == 0)
        {
            this.Flash("Credit adjustment: enter a whole number of credits other than 0 (negative removes credits).");
        }
        else if (string.IsNullOrWhiteSpace(reason))
        {
            this.Flash("Credit adjustment: give a reason; it is kept in the account's ledger.");
        }
        else
        {
            var result = await gateway.PostAsync<LedgerEntry>($"/v1/admin/accounts/{Uri.EscapeDataString(id)}/credits", new { amount = credits, reason }, cancellationToken);
            this.Flash(result.Ok
                ? $"Adjusted by {Formatting.Numbers.WithSign(credits)} credits; the balance is now {Formatting.Numbers.Credits(result.Value!.BalanceAfter)}."
                : "Credit adjustment: " + result.Problem!.OneLine());
        }
        return Redirect(Here());
    }

    private string Here() => "/operator/accounts" + (Q is null ? "" : "?q=" + Uri.EscapeDataString(Q));

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var path = $"/v1/admin/accounts?page={Math.Max(1, PageNumber)}&page_size=25" + (string.IsNullOrWhiteSpace(Q) ? "" : "&q=" + Uri.EscapeDataString(Q.Trim()));
        var accounts = await gateway.GetAsync<PageOf<AdminAccount>>(path, cancellationToken);
        if (!accounts.Ok)
        {
            ModelState.AddModelError("", accounts.Problem!.Message);
            return;
        }
        Accounts = accounts.Value;
        Pager = new Pager(Accounts!.Page, Accounts.PageSize, Accounts.Total, "/operator/accounts", Request.Query);
    }
}
