using System.ComponentModel.DataAnnotations;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Contacts;

public sealed class ContactInput
{
    [Required(ErrorMessage = "Enter the contact's name."), StringLength(200)]
    public string? Name { get; set; }

    [Required(ErrorMessage = "Enter a phone number."), StringLength(40)]
    [Display(Name = "Phone number")]
    public string? PhoneNumber { get; set; }

    [EmailAddress(ErrorMessage = "Enter an email address like name@example.com."), StringLength(254)]
    public string? Email { get; set; }

    [StringLength(1000)]
    public string? Tags { get; set; }
}

public sealed class IndexModel(GatewayClient gateway) : PageModel
{
    /// <summary>The Api takes up to 10 MB of CSV; the form says so before the upload.</summary>
    public const long MaxImportBytes = 10 * 1024 * 1024;

    [BindProperty(SupportsGet = true)] public string? Q { get; set; }
    [BindProperty(SupportsGet = true)] public string? Tag { get; set; }
    /// <summary>From the query's <c>page</c> (not bound as a property: Razor Pages' own route value is also called "page").</summary>
    public int PageNumber { get; private set; } = 1;

    [BindProperty]
    public ContactInput Input { get; set; } = new();

    public PageOf<Contact>? Contacts { get; private set; }
    public Pager? Pager { get; private set; }
    public ContactImport? Import { get; private set; }

    public async Task OnGetAsync([FromQuery(Name = "page")] int? page, CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, page ?? 1);
        await LoadAsync(cancellationToken);
    }

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken cancellationToken)
    {
        if (ModelState.IsValid)
        {
            var tags = (Input.Tags ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var created = await gateway.PostAsync<Contact>("/v1/contacts",
                new { name = Input.Name, phone_number = Input.PhoneNumber, email = string.IsNullOrWhiteSpace(Input.Email) ? null : Input.Email, tags }, cancellationToken);
            if (created.Ok)
            {
                this.Flash($"{created.Value!.Name} ({created.Value.PhoneNumber}) is added.");
                return Redirect("/contacts");
            }
            ModelState.Show(created.Problem!, new Dictionary<string, string>
            {
                ["name"] = "Input.Name", ["phone_number"] = "Input.PhoneNumber", ["email"] = "Input.Email", ["tags"] = "Input.Tags",
            });
        }
        await LoadAsync(cancellationToken);
        return Page();
    }

    /// <summary>Hands the file to the Api as it came (multipart "file"); the Api checks every row and reports the bad ones.</summary>
    public async Task<IActionResult> OnPostImportAsync(IFormFile? file, CancellationToken cancellationToken)
    {
        ModelState.Clear();
        if (file is null || file.Length == 0)
        {
            ModelState.AddModelError("file", "Choose a CSV file with a phone column (name, email and tags are optional).");
        }
        else if (file.Length > MaxImportBytes)
        {
            ModelState.AddModelError("file", "The file is larger than 10 MB; split it.");
        }
        else
        {
            await using var stream = file.OpenReadStream();
            using var content = new MultipartFormDataContent();
            var part = new StreamContent(stream);
            part.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
            content.Add(part, "file", Path.GetFileName(file.FileName));
            var imported = await gateway.PostContentAsync<ContactImport>("/v1/contacts/import", content, cancellationToken);
            if (imported.Ok)
            {
                Import = imported.Value;
            }
            else
            {
                ModelState.Show(imported.Problem!, new Dictionary<string, string> { ["file"] = "file" });
            }
        }
        await LoadAsync(cancellationToken);
        return Page();
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var query = new QueryBuilder { { "page", Math.Max(1, PageNumber).ToString(System.Globalization.CultureInfo.InvariantCulture) }, { "page_size", "25" } };
        if (!string.IsNullOrWhiteSpace(Q)) query.Add("q", Q.Trim());
        if (!string.IsNullOrWhiteSpace(Tag)) query.Add("tag", Tag.Trim());
        var contacts = await gateway.GetAsync<PageOf<Contact>>("/v1/contacts" + query.ToQueryString(), cancellationToken);
        if (!contacts.Ok)
        {
            ModelState.AddModelError("", contacts.Problem!.Message);
            return;
        }
        Contacts = contacts.Value;
        Pager = new Pager(Contacts!.Page, Contacts.PageSize, Contacts.Total, "/contacts", Request.Query);
    }
}
