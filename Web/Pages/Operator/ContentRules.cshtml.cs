using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Operator;

public sealed class ContentRuleInput
{
    [Required(ErrorMessage = "Name the category (e.g. gambling)."), StringLength(50)]
    public string? Category { get; set; }

    [Required(ErrorMessage = "Enter the word or phrase to block."), StringLength(200)]
    public string? Phrase { get; set; }
}

/// <summary>The content policy: phrases that get a send or campaign refused, by category.</summary>
public sealed class ContentRulesModel(GatewayClient gateway) : PageModel
{
    [BindProperty(SupportsGet = true)] public string? Category { get; set; }
    [BindProperty] public ContentRuleInput Input { get; set; } = new();

    public PageOf<ContentRule>? Rules { get; private set; }
    public Pager? Pager { get; private set; }

    public Task OnGetAsync([FromQuery(Name = "page")] int? page, CancellationToken cancellationToken) => LoadAsync(Math.Max(1, page ?? 1), cancellationToken);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken)
    {
        if (ModelState.IsValid)
        {
            var created = await gateway.PostAsync<ContentRule>("/v1/admin/content-rules", new { category = Input.Category, phrase = Input.Phrase }, cancellationToken);
            if (created.Ok)
            {
                this.Flash($"\"{created.Value!.Phrase}\" is blocked under {created.Value.Category}.");
                return Redirect("/operator/content-rules");
            }
            ModelState.Show(created.Problem!, new Dictionary<string, string> { ["category"] = "Input.Category", ["phrase"] = "Input.Phrase" });
        }
        await LoadAsync(1, cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id, CancellationToken cancellationToken)
    {
        var deleted = await gateway.DeleteAsync($"/v1/admin/content-rules/{Uri.EscapeDataString(id)}", cancellationToken);
        this.Flash(deleted.Ok ? "The phrase is no longer blocked." : deleted.Problem!.OneLine());
        return Redirect("/operator/content-rules");
    }

    private async Task LoadAsync(int page, CancellationToken cancellationToken)
    {
        var query = $"/v1/admin/content-rules?page={page}&page_size=50";
        if (!string.IsNullOrWhiteSpace(Category))
        {
            query += "&category=" + Uri.EscapeDataString(Category.Trim());
        }
        var rules = await gateway.GetAsync<PageOf<ContentRule>>(query, cancellationToken);
        if (!rules.Ok)
        {
            ModelState.AddModelError("", rules.Problem!.Message);
            return;
        }
        Rules = rules.Value;
        Pager = new Pager(Rules!.Page, Rules.PageSize, Rules.Total, "/operator/content-rules", Request.Query);
    }
}
