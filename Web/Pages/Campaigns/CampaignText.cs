using System.Text.Json;
using System.Text.RegularExpressions;
using Ujumbe.Web.Gateway;

namespace Ujumbe.Web.Pages.Campaigns;

/// <summary>
/// The preview of a campaign text for one example recipient: its placeholders filled as the Api fills
/// them when it sends (<c>{{name}}</c>, <c>{{phone_number}}</c>, <c>{{email}}</c>, <c>{{attributes.key}}</c>;
/// a missing value becomes empty). Only a preview: the Api renders and checks every message itself.
/// </summary>
public static partial class CampaignText
{
    public static string Render(string text, Contact example) => Placeholder().Replace(text, match =>
    {
        var field = match.Groups[1].Value;
        return field switch
        {
            "name" => example.Name ?? "",
            "phone_number" => example.PhoneNumber,
            "email" => example.Email ?? "",
            _ when field.StartsWith("attributes.", StringComparison.Ordinal) => Attribute(example, field["attributes.".Length..]),
            _ => match.Value,
        };
    });

    private static string Attribute(Contact example, string key) =>
        example.Attributes is { ValueKind: JsonValueKind.Object } attributes && attributes.TryGetProperty(key, out var value)
            ? value.ValueKind == JsonValueKind.String ? value.GetString() ?? "" : value.GetRawText()
            : "";

    [GeneratedRegex(@"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")]
    private static partial Regex Placeholder();
}
