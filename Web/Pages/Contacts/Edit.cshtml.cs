using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Contacts;

/// <summary>
/// Edits one contact. The id is the route's, and the Api looks it up within the signed-in account, so
/// another account's id is simply not found. Attributes (set through the API or a CSV) are kept as they
/// are: they are read again from the Api when saving, never round-tripped through the form.
/// </summary>
public sealed class EditModel(GatewayClient gateway) : PageModel
{
    private static readonly Dictionary<string, string> Fields = new()
    {
        ["name"] = "Input.Name", ["phone_number"] = "Input.PhoneNumber", ["email"] = "Input.Email", ["tags"] = "Input.Tags",
    };

    [BindProperty] public ContactInput Input { get; set; } = new();
    [BindProperty] public bool OptedOut { get; set; }

    public Contact? Contact { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        Input = new ContactInput
        {
            Name = Contact!.Name, PhoneNumber = Contact.PhoneNumber, Email = Contact.Email, Tags = string.Join(", ", Contact.Tags),
        };
        OptedOut = Contact.OptedOut;
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(string id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }
        if (!ModelState.IsValid)
        {
            return Page();
        }
        var tags = (Input.Tags ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var saved = await gateway.PutAsync<Contact>($"/v1/contacts/{Uri.EscapeDataString(id)}", new
        {
            name = Input.Name,
            phone_number = Input.PhoneNumber,
            email = string.IsNullOrWhiteSpace(Input.Email) ? null : Input.Email,
            tags,
            attributes = Contact!.Attributes,
            opted_out = OptedOut,
        }, cancellationToken);
        if (saved.Ok)
        {
            this.Flash($"{saved.Value!.Name} ({saved.Value.PhoneNumber}) is saved.");
            return Redirect("/contacts");
        }
        if (saved.Problem!.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
        ModelState.Show(saved.Problem, Fields);
        return Page();
    }

    public async Task<IActionResult> OnPostDeleteAsync(string id, CancellationToken cancellationToken)
    {
        var deleted = await gateway.DeleteAsync($"/v1/contacts/{Uri.EscapeDataString(id)}", cancellationToken);
        if (!deleted.Ok && deleted.Problem!.Status == StatusCodes.Status404NotFound)
        {
            return NotFound();
        }
        this.Flash(deleted.Ok ? "The contact is deleted (an opt-out of its number stays)." : deleted.Problem!.OneLine());
        return Redirect("/contacts");
    }

    private async Task<bool> LoadAsync(string id, CancellationToken cancellationToken)
    {
        var contact = await gateway.GetAsync<Contact>($"/v1/contacts/{Uri.EscapeDataString(id)}", cancellationToken);
        Contact = contact.Value;
        return contact.Ok;
    }
}
