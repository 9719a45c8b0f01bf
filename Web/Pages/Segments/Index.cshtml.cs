using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Segments;

public sealed class SegmentInput
{
    [Required(ErrorMessage = "Name the segment."), StringLength(200)]
    public string? Name { get; set; }

    [StringLength(1000)]
    [Display(Name = "Any of these tags")]
    public string? TagsAny { get; set; }

    [StringLength(1000)]
    [Display(Name = "All of these tags")]
    public string? TagsAll { get; set; }
}

/// <summary>Segments: contacts chosen by their tags, the audience of a campaign.</summary>
public sealed class IndexModel(GatewayClient gateway) : PageModel
{
    [BindProperty] public SegmentInput Input { get; set; } = new();

    public PageOf<Segment>? Segments { get; private set; }

    public Task OnGetAsync(CancellationToken cancellationToken) => LoadAsync(cancellationToken);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken)
    {
        if (ModelState.IsValid)
        {
            var created = await gateway.PostAsync<Segment>("/v1/segments",
                new { name = Input.Name, tags_any = Tags(Input.TagsAny), tags_all = Tags(Input.TagsAll) }, cancellationToken);
            if (created.Ok)
            {
                this.Flash($"The segment {created.Value!.Name} is created.");
                return Redirect("/segments");
            }
            ModelState.Show(created.Problem!, new Dictionary<string, string>
            {
                ["name"] = "Input.Name", ["tags_any"] = "Input.TagsAny", ["tags_all"] = "Input.TagsAll",
            });
        }
        await LoadAsync(cancellationToken);
        return Page();
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id, CancellationToken cancellationToken)
    {
        var deleted = await gateway.DeleteAsync($"/v1/segments/{Uri.EscapeDataString(id)}", cancellationToken);
        this.Flash(deleted.Ok ? "The segment is deleted; its contacts stay." : deleted.Problem!.OneLine());
        return Redirect("/segments");
    }

    private static string[] Tags(string? text) => (text ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var segments = await gateway.GetAsync<PageOf<Segment>>("/v1/segments?page_size=100", cancellationToken);
        Segments = segments.Value;
        if (!segments.Ok)
        {
            ModelState.AddModelError("", segments.Problem!.Message);
        }
    }
}
