using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Operator;

/// <summary>The queue of sender IDs waiting for an operator's decision.</summary>
public sealed class SenderIdsModel(GatewayClient gateway) : PageModel
{
    [BindProperty(SupportsGet = true)] public string Status { get; set; } = "pending";

    public PageOf<AdminSenderId>? SenderIds { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        if (Status is not ("pending" or "approved" or "rejected"))
        {
            Status = "pending";
        }
        var result = await gateway.GetAsync<PageOf<AdminSenderId>>($"/v1/admin/sender-ids?status={Status}&page_size=100", cancellationToken);
        SenderIds = result.Value;
        if (!result.Ok)
        {
            ModelState.AddModelError("", result.Problem!.Message);
        }
    }

    public async Task<IActionResult> OnPostApproveAsync(string id, CancellationToken cancellationToken)
    {
        var result = await gateway.PostAsync<AdminSenderId>($"/v1/admin/sender-ids/{Uri.EscapeDataString(id)}/approve", null, cancellationToken);
        this.Flash(result.Ok ? $"{result.Value!.Name} is approved." : result.Problem!.Message);
        return Redirect("/operator/sender-ids");
    }

    public async Task<IActionResult> OnPostRejectAsync(string id, [StringLength(500)] string? reason, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            this.Flash("Give a reason to reject: the account sees it.");
            return Redirect("/operator/sender-ids");
        }
        var result = await gateway.PostAsync<AdminSenderId>($"/v1/admin/sender-ids/{Uri.EscapeDataString(id)}/reject", new { reason }, cancellationToken);
        this.Flash(result.Ok ? $"{result.Value!.Name} is rejected." : result.Problem!.Message);
        return Redirect("/operator/sender-ids");
    }
}
