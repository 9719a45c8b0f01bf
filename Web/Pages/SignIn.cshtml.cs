using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;
using Ujumbe.Web.Session;

namespace Ujumbe.Web.Pages;

public sealed class SignInModel(GatewayClient gateway) : PageModel
{
    [BindProperty, Required(ErrorMessage = "Enter your email address."), EmailAddress(ErrorMessage = "Enter an email address like name@example.com."), StringLength(254)]
    public string? Email { get; set; }

    [BindProperty, Required(ErrorMessage = "Enter your password."), StringLength(1024)]
    public string? Password { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    [BindProperty(SupportsGet = true)]
    public bool Expired { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        Expired = false;
        if (!ModelState.IsValid)
        {
            return Page();
        }
        var login = await gateway.LoginAsync(Email!, Password!, cancellationToken);
        if (!login.Ok)
        {
            ModelState.Show(login.Problem!, new Dictionary<string, string> { ["email"] = nameof(Email), ["password"] = nameof(Password) });
            return Page();
        }
        await PortalSession.SignInAsync(HttpContext, Email!.Trim(), login.Value!.AccessToken, login.Value.ExpiresIn);
        // Only a path on this site: an absolute ReturnUrl would make the sign-in page an open redirect.
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
    }
}
