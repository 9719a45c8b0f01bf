using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ujumbe.Web.Pages;

/// <summary>Every error page: what happened in words, never a stack trace.</summary>
[IgnoreAntiforgeryToken]
public sealed class ErrorModel : PageModel
{
    public string Heading { get; private set; } = "Something went wrong";

    public string Explanation { get; private set; } = "The page could not be shown. Try again in a moment.";

    public void OnGet(int? status) => Describe(status);

    public void OnPost(int? status) => Describe(status);

    private void Describe(int? status)
    {
        (Heading, Explanation) = status switch
        {
            400 => ("The request was refused", "The form could not be accepted (it may have expired, or did not come from this page). Go back, reload the page and try again."),
            403 => ("Not allowed", "Your role cannot open this page."),
            404 => ("Not found", "There is nothing at this address."),
            _ => (Heading, Explanation),
        };
    }
}
