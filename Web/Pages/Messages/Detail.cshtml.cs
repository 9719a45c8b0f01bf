using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Messages;

public sealed class DetailModel(GatewayClient gateway) : PageModel
{
    public Message? Message { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        var result = await gateway.GetAsync<Message>($"/v1/messages/{Uri.EscapeDataString(id)}", cancellationToken);
        if (!result.Ok)
        {
            return NotFound();
        }
        Message = result.Value;
        return Page();
    }
}
