using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.ApiKeys;

public sealed class NewKeyInput
{
    [Required(ErrorMessage = "Give the key a name, e.g. the system that will use it."), StringLength(100, ErrorMessage = "Keep the name to 100 characters.")]
    public string? Name { get; set; }

    [Range(1, 365, ErrorMessage = "Choose between 1 and 365 days, or leave it empty for a key that does not expire.")]
    [Display(Name = "Expires in (days)")]
    public int? ExpiresInDays { get; set; }
}

public sealed class IndexModel(GatewayClient gateway) : PageModel
{
    [BindProperty]
    public NewKeyInput Input { get; set; } = new();

    public PageOf<ApiKey>? Keys { get; private set; }

    /// <summary>Set only in the answer to the request that created the secret; never stored, never shown again.</summary>
    public IssuedApiKey? Issued { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken)
    {
        if (ModelState.IsValid)
        {
            var created = await gateway.PostAsync<IssuedApiKey>("/v1/api-keys", new { name = Input.Name, expires_in_days = Input.ExpiresInDays }, cancellationToken);
            if (created.Ok)
            {
                Issued = created.Value;
                ModelState.Clear();
                Input = new NewKeyInput();
            }
            else
            {
                ModelState.Show(created.Problem!, new Dictionary<string, string> { ["name"] = "Input.Name", ["expires_in_days"] = "Input.ExpiresInDays" });
            }
        }
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(string id, CancellationToken cancellationToken)
    {
        var revoked = await gateway.PostAsync<ApiKey>($"/v1/api-keys/{Uri.EscapeDataString(id)}/revoke", null, cancellationToken);
        this.Flash(revoked.Ok ? $"Key “{revoked.Value!.Name}” is revoked: it stops working at once." : revoked.Problem!.Message);
        return Redirect("/api-keys");
    }

    public async Task<IActionResult> OnPostRegenerateAsync(string id, CancellationToken cancellationToken)
    {
        var issued = await gateway.PostAsync<IssuedApiKey>($"/v1/api-keys/{Uri.EscapeDataString(id)}/regenerate", new { }, cancellationToken);
        if (issued.Ok)
        {
            Issued = issued.Value;
        }
        else
        {
            ModelState.AddModelError("", issued.Problem!.Message);
        }
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var keys = await gateway.GetAsync<PageOf<ApiKey>>("/v1/api-keys?page_size=100", cancellationToken);
        if (keys.Ok)
        {
            Keys = keys.Value;
        }
        else
        {
            ModelState.AddModelError("", keys.Problem!.Message);
        }
    }
}
