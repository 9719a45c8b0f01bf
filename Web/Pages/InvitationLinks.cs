using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages;

/// <summary>The link an invited owner opens to choose a password (the Welcome page), on this dashboard's own address.</summary>
public static class InvitationLinks
{
    public static string LinkFor(this PageModel page, Invitation invitation) =>
        $"{page.Request.Scheme}://{page.Request.Host}/welcome?token={Uri.EscapeDataString(invitation.Token)}";
}
