using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.SenderIds;

public sealed class SenderIdInput
{
    [Required(ErrorMessage = "Enter the sender ID: 3 to 11 letters and digits."), RegularExpression("^[A-Za-z0-9]{3,11}$", ErrorMessage = "Use 3 to 11 letters and digits, no spaces.")]
    public string? Name { get; set; }

    [Required(ErrorMessage = "Say what the sender ID is for."), StringLength(500, ErrorMessage = "Keep the purpose to 500 characters.")]
    public string? Purpose { get; set; }
}

public sealed class IndexModel(GatewayClient gateway) : PageModel
{
    [BindProperty]
    public SenderIdInput Input { get; set; } = new();

    public PageOf<SenderId>? SenderIds { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => await LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (ModelState.IsValid)
        {
            var requested = await gateway.PostAsync<SenderId>("/v1/sender-ids", new { name = Input.Name, purpose = Input.Purpose }, cancellationToken);
            if (requested.Ok)
            {
                this.Flash($"Sender ID {requested.Value!.Name} is requested; an operator will approve or reject it.");
                return Redirect("/sender-ids");
            }
            ModelState.Show(requested.Problem!, new Dictionary<string, string> { ["name"] = "Input.Name", ["purpose"] = "Input.Purpose" });
        }
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var senders = await gateway.GetAsync<PageOf<SenderId>>("/v1/sender-ids?page_size=100", cancellationToken);
        SenderIds = senders.Value;
        if (!senders.Ok)
        {
            ModelState.AddModelError("", senders.Problem!.Message);
        }
    }
}
