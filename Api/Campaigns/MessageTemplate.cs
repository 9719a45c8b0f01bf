using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ujumbe.Api.Contacts;

namespace Ujumbe.Api.Campaigns;

/// <summary>The contact fields a template can use; a number that is not a contact has only its phone number.</summary>
public sealed record TemplateValues(string Phone, string? Name, string? Email, JsonObject? Attributes);

/// <summary>
/// A campaign text with <c>{{name}}</c>, <c>{{phone_number}}</c>, <c>{{email}}</c> and
/// <c>{{attributes.key}}</c> placeholders (spaces inside the braces allowed). Parsed once, rendered per
/// contact; a value the contact does not have renders as nothing. Anything else between double braces
/// is refused when the campaign is created, so a typo does not reach a hundred thousand phones.
/// </summary>
public sealed class MessageTemplate
{
    public static readonly string[] Fields = ["name", "phone_number", "email", "attributes.<name>"];

    private readonly List<Part> _parts;

    private abstract record Part;

    private sealed record Literal(string Text) : Part;

    private sealed record Field(string Name) : Part;

    private sealed record Attribute(string Key) : Part;

    private MessageTemplate(string text, List<Part> parts)
    {
        Text = text;
        _parts = parts;
    }

    /// <summary>The template as written.</summary>
    public string Text { get; }

    public bool HasPlaceholders => _parts.Any(p => p is not Literal);

    public bool UsesAttributes => _parts.Any(p => p is Attribute);

    public static MessageTemplate? TryParse(string text, out string? error)
    {
        var parts = new List<Part>();
        var position = 0;
        while (position < text.Length)
        {
            var open = text.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                parts.Add(new Literal(text[position..]));
                break;
            }
            if (open > position)
            {
                parts.Add(new Literal(text[position..open]));
            }
            var close = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"has a placeholder that is not closed with }}}} (at character {open + 1})";
                return null;
            }
            var name = text[(open + 2)..close].Trim();
            Part? part = name switch
            {
                "name" or "phone_number" or "email" => new Field(name),
                _ when name.StartsWith("attributes.", StringComparison.Ordinal) && ContactFields.IsAttributeKey(name["attributes.".Length..])
                    => new Attribute(name["attributes.".Length..]),
                _ => null,
            };
            if (part is null)
            {
                error = $"has an unknown placeholder {{{{{Shorten(name)}}}}}; use {string.Join(", ", Fields.Select(f => "{{" + f + "}}"))}";
                return null;
            }
            parts.Add(part);
            position = close + 2;
        }
        error = null;
        return new MessageTemplate(text, parts);
    }

    public string Render(TemplateValues values)
    {
        var text = new StringBuilder();
        foreach (var part in _parts)
        {
            text.Append(part switch
            {
                Literal literal => literal.Text,
                Field { Name: "name" } => values.Name,
                Field { Name: "phone_number" } => values.Phone,
                Field { Name: "email" } => values.Email,
                Attribute attribute => AttributeText(values.Attributes, attribute.Key),
                _ => null,
            });
        }
        return text.ToString();
    }

    private static string? AttributeText(JsonObject? attributes, string key) =>
        attributes?[key] is JsonValue value
            ? value.GetValueKind() switch
            {
                JsonValueKind.String => value.GetValue<string>(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => value.ToJsonString(),
            }
            : null;

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
