using System.Text.Json;
using System.Text.Json.Nodes;
using Ujumbe.Api.Phones;

namespace Ujumbe.Api.Contacts;

/// <summary>A contact's fields after validation: what the API and the CSV import store.</summary>
public sealed record ValidContact(string? Name, string Phone, string? Email, string[] Tags, JsonObject Attributes);

/// <summary>
/// The rules for a contact's fields, shared by the API and the CSV import so both accept the same
/// contacts: phone numbers become E.164; tags are lower-cased, trimmed, unique and sorted (so a
/// segment's "VIP" and a contact's "vip" are the same tag); attributes are a flat object of short
/// values, because templates render them as text.
/// </summary>
public static class ContactFields
{
    public const int MaxNameLength = 200;
    public const int MaxEmailLength = 254;
    public const int MaxTags = 50;
    public const int MaxTagLength = 50;
    public const int MaxAttributes = 50;
    public const int MaxAttributeKeyLength = 64;
    public const int MaxAttributeValueLength = 1_000;

    public static ValidContact? Validate(
        string? name, string? phone, string? email, IEnumerable<string?>? tags, JsonElement? attributes, string defaultCountry,
        bool nameRequired, Dictionary<string, string[]> errors)
    {
        var cleanName = string.IsNullOrWhiteSpace(name) ? null : name.Trim();
        if (cleanName is null && nameRequired)
        {
            errors["name"] = ["is required"];
        }
        else if (cleanName is { Length: > MaxNameLength })
        {
            errors["name"] = [$"must be at most {MaxNameLength} characters"];
        }

        string? e164 = null;
        if (string.IsNullOrWhiteSpace(phone))
        {
            errors["phone_number"] = ["is required"];
        }
        else if (!PhoneNumbers.TryNormalize(phone, defaultCountry, out var normalized, out var phoneError))
        {
            errors["phone_number"] = [phoneError];
        }
        else
        {
            e164 = normalized;
        }

        var cleanEmail = string.IsNullOrWhiteSpace(email) ? null : email.Trim();
        if (cleanEmail is not null && !IsEmail(cleanEmail))
        {
            errors["email"] = [$"is not an email address (name@domain, at most {MaxEmailLength} characters)"];
        }

        var cleanTags = NormalizeTags(tags, errors, "tags");
        var cleanAttributes = NormalizeAttributes(attributes, errors);
        return errors.Count > 0 ? null : new ValidContact(cleanName, e164!, cleanEmail, cleanTags, cleanAttributes);
    }

    public static string[] NormalizeTags(IEnumerable<string?>? tags, Dictionary<string, string[]> errors, string field)
    {
        if (tags is null)
        {
            return [];
        }
        var clean = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            var value = tag?.Trim().ToLowerInvariant();
            if (string.IsNullOrEmpty(value) || value.Length > MaxTagLength || value.Any(char.IsControl))
            {
                errors[field] = [$"each tag must be 1 to {MaxTagLength} characters"];
                return [];
            }
            clean.Add(value);
        }
        if (clean.Count > MaxTags)
        {
            errors[field] = [$"at most {MaxTags} tags"];
            return [];
        }
        return [.. clean];
    }

    /// <summary>Attributes: an object of string, number or boolean values (stored as given), keys of letters, digits and underscores.</summary>
    public static JsonObject NormalizeAttributes(JsonElement? attributes, Dictionary<string, string[]> errors)
    {
        var result = new JsonObject();
        if (attributes is not { } element || element.ValueKind == JsonValueKind.Null)
        {
            return result;
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            errors["attributes"] = ["must be an object of names to values"];
            return result;
        }
        foreach (var property in element.EnumerateObject())
        {
            if (!IsAttributeKey(property.Name))
            {
                errors["attributes"] = [$"\"{Shorten(property.Name)}\" is not a valid name: use 1 to {MaxAttributeKeyLength} letters, digits and underscores"];
                return result;
            }
            var value = property.Value;
            switch (value.ValueKind)
            {
                case JsonValueKind.String when value.GetString()!.Length <= MaxAttributeValueLength:
                    result[property.Name] = value.GetString();
                    break;
                case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    result[property.Name] = JsonNode.Parse(value.GetRawText());
                    break;
                case JsonValueKind.Null:
                    break;
                default:
                    errors["attributes"] = [$"\"{property.Name}\" must be a string of at most {MaxAttributeValueLength} characters, a number or a boolean"];
                    return result;
            }
        }
        if (result.Count > MaxAttributes)
        {
            errors["attributes"] = [$"at most {MaxAttributes} attributes"];
        }
        return result;
    }

    public static bool IsAttributeKey(string key) =>
        key.Length is >= 1 and <= MaxAttributeKeyLength && key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static bool IsEmail(string email)
    {
        if (email.Length > MaxEmailLength || email.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
        {
            return false;
        }
        var at = email.IndexOf('@', StringComparison.Ordinal);
        return at > 0 && at == email.LastIndexOf('@') && email.IndexOf('.', at) > at + 1 && !email.EndsWith('.');
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
