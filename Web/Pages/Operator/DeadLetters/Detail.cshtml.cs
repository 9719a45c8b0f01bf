using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Operator.DeadLetters;

/// <summary>One dead letter with its body (indented when it is JSON), and the replay button.</summary>
public sealed class DetailModel(GatewayClient gateway) : PageModel
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public DeadLetter? DeadLetter { get; private set; }

    public string? Body { get; private set; }

    public async Task<IActionResult> OnGetAsync(string id, CancellationToken cancellationToken)
    {
        var result = await gateway.GetAsync<DeadLetter>($"/v1/admin/dead-letters/{Uri.EscapeDataString(id)}", cancellationToken);
        if (!result.Ok)
        {
            return NotFound();
        }
        DeadLetter = result.Value;
        Body = Pretty(DeadLetter!.Body);
        return Page();
    }

    public async Task<IActionResult> OnPostReplayAsync(string id, CancellationToken cancellationToken)
    {
        var result = await gateway.PostAsync<DeadLetter>($"/v1/admin/dead-letters/{Uri.EscapeDataString(id)}/replay", null, cancellationToken);
        this.Flash(result.Ok
            ? $"Sent back to the {result.Value!.Queue} queue for a fresh round of tries."
            : result.Problem!.OneLine());
        return Redirect($"/operator/dead-letters/{Uri.EscapeDataString(id)}");
    }

    private static string? Pretty(string? body)
    {
        if (body is null)
        {
            return null;
        }
        try
        {
            using var document = JsonDocument.Parse(body);
            return JsonSerializer.Serialize(document.RootElement, Indented);
        }
        catch (JsonException)
        {
            return body;
        }
    }
}
