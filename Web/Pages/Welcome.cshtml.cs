using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages;

/// <summary>Where an invitation link leads: the invited owner chooses a password, then signs in with it.</summary>
public sealed class WelcomeModel(GatewayClient gateway) : PageModel
{
    [BindProperty(SupportsGet = true), Required(ErrorMessage = "This page needs the code from your invitation link.")]
    public string? Token { get; set; }

    [BindProperty, Required(ErrorMessage = "Choose a password."), StringLength(1024, MinimumLength = 12, ErrorMessage = "Use at least 12 characters.")]
    [Display(Name = "New password")]
    public string? Password { get; set; }

    [BindProperty, Compare(nameof(Password), ErrorMessage = "The two passwords differ.")]
    [Display(Name = "The same password again")]
    public string? Confirm { get; set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }
        var accepted = await gateway.AcceptInvitationAsync(Token!, Password!, cancellationToken);
        if (!accepted.Ok)
        {
            ModelState.Show(accepted.Problem!, new Dictionary<string, string> { ["password"] = nameof(Password) });
            return Page();
        }
        this.Flash($"Your password is set. Sign in as {accepted.Value!.Email}.");
        return Redirect("/sign-in");
    }
}
