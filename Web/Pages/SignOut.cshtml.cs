using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Session;

namespace Ujumbe.Web.Pages;

/// <summary>Signing out is a POST (with its anti-forgery token), so no link elsewhere can sign a user out.</summary>
public sealed class SignOutModel : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        await PortalSession.SignOutAsync(HttpContext);
        return Redirect("/sign-in");
    }
}
