using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages;

public static class PageProblems
{
    /// <summary>
    /// Shows an API problem on the page: its <c>detail</c> in the summary at the top, and each of its
    /// <c>errors</c> next to the form field it names (<paramref name="fields"/>: API field → input name).
    /// An error naming no field on the form joins the summary.
    /// </summary>
    public static void Show(this ModelStateDictionary state, ApiProblem problem, IReadOnlyDictionary<string, string>? fields = null)
    {
        state.AddModelError("", problem.Message);
        foreach (var (field, messages) in problem.Errors)
        {
            var input = fields?.GetValueOrDefault(field);
            foreach (var message in messages)
            {
                state.AddModelError(input ?? "", Sentence(field, message));
            }
        }
    }

    /// <summary>The problem in one line, for where no field can carry it: its first field error as a sentence, else its detail.</summary>
    public static string OneLine(this ApiProblem problem) =>
        problem.Errors.SelectMany(e => e.Value.Select(m => Sentence(e.Key, m))).FirstOrDefault() ?? problem.Message;

    /// <summary>"expires_in_days" + "must be between 1 and 365" → "Expires in days must be between 1 and 365".</summary>
    public static string Sentence(string field, string message)
    {
        var name = field.Replace('_', ' ');
        return name.Length == 0 ? message : char.ToUpperInvariant(name[0]) + name[1..] + " " + message;
    }

    /// <summary>A one-line notice for the next page (after a redirect).</summary>
    public static void Flash(this PageModel page, string message) => page.TempData["flash"] = message;
}
