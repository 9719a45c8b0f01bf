using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages;

/// <summary>Inviting an account's owner from a page (operators' accounts, partners' tenants): the link is shown once.</summary>
public static class InvitationLinks
{
    /// <summary>
    /// Asks the API for an invitation at <paramref name="path"/> and gives it with its link, the Welcome page on this
    /// dashboard's own address; or, when refused, flashes why and gives null.
    /// </summary>
    public static async Task<(Invitation Invitation, string Link)?> InviteOwnerAsync(
        this PageModel page, GatewayClient gateway, string path, CancellationToken cancellationToken)
    {
        var invited = await gateway.PostAsync<Invitation>(path, null, cancellationToken);
        if (!invited.Ok)
        {
            page.Flash(invited.Problem!.Message);
            return null;
        }
        var request = page.Request;
        return (invited.Value!, $"{request.Scheme}://{request.Host}/welcome?token={Uri.EscapeDataString(invited.Value!.Token)}");
    }
}
