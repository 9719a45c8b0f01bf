using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Ujumbe.Shared.Compat.Classic;

/// <summary>One field of the classic API's input: its text (the body's over the query's), how often it was given, and whether some value of it was of no text type (a JSON object).</summary>
public readonly record struct ClassicField(string? Text, int Count, bool WrongType)
{
    public bool Present => Count > 0;
}

/// <summary>
/// The classic API's input as its clients send it (seed 002; a PHP application, so what PHP's request input is):
/// the query string's parameters with the body's over them, the body a form (urlencoded or multipart) or a JSON
/// object. Its credentials (<c>username</c>/<c>password</c>, <c>api_key</c>) travel in the same input, so the
/// gateway reads it too, and takes them out of the request before it is forwarded (<see cref="TakeAsync"/>).
/// </summary>
public sealed class ClassicInput
{
    private readonly Dictionary<string, ClassicField> _fields = new(StringComparer.Ordinal);

    /// <summary>The body claimed to be JSON but is not a JSON object: nothing of it was read.</summary>
    public bool BodyUnreadable { get; private set; }

    public ClassicField this[string name] => _fields.GetValueOrDefault(name);

    public static async Task<ClassicInput> ReadAsync(HttpRequest request, CancellationToken cancellationToken) =>
        (await ParseAsync(request, cancellationToken)).Input;

    /// <summary>
    /// Reads the input and takes the fields <paramref name="names"/> out of the request: out of the query string and
    /// out of the body (a JSON object is written again without them; a form is written again, urlencoded, without
    /// them and without any file). A body that cannot be read as what it claims to be is left as it is.
    /// </summary>
    public static async Task<ClassicInput> TakeAsync(HttpRequest request, IReadOnlyCollection<string> names, CancellationToken cancellationToken)
    {
        var (input, json, form) = await ParseAsync(request, cancellationToken);
        if (request.Query.Any(p => names.Contains(p.Key)))
        {
            request.QueryString = QueryString.Create(request.Query.Where(p => !names.Contains(p.Key)));
        }
        if (json is not null && names.Any(json.ContainsKey))
        {
            foreach (var name in names)
            {
                json.Remove(name);
            }
            Replace(request, Encoding.UTF8.GetBytes(json.ToJsonString()), contentType: null);
        }
        else if (form is not null)
        {
            var kept = form.Where(p => !names.Contains(p.Key))
                .SelectMany(p => p.Value.Select(v => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(v ?? "")));
            Replace(request, Encoding.ASCII.GetBytes(string.Join('&', kept)), "application/x-www-form-urlencoded");
        }
        return input;
    }

    private static async Task<(ClassicInput Input, JsonObject? Json, IFormCollection? Form)> ParseAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var input = new ClassicInput();
        foreach (var (key, values) in request.Query)
        {
            foreach (var value in values)
            {
                input.Add(key, value, wrongType: false);
            }
        }
        if (request.HasJsonContentType())
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken);
            var bytes = buffer.ToArray();
            request.Body = new MemoryStream(bytes, writable: false);
            if (bytes.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
            {
                return (input, null, null); // the seed's clients send Content-Type: application/json on every request, GETs included
            }
            JsonObject? json;
            try
            {
                json = JsonNode.Parse(bytes) as JsonObject;
                // Materialise the properties now: a name given twice is ambiguous (and throws here, not later).
                _ = json?.Count;
            }
            catch (Exception error) when (error is JsonException or ArgumentException or InvalidOperationException)
            {
                json = null;
            }
            if (json is null)
            {
                input.BodyUnreadable = true;
                return (input, null, null);
            }
            foreach (var (key, value) in json)
            {
                input.AddJson(key, value);
            }
            return (input, json, null);
        }
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            foreach (var (key, values) in form)
            {
                foreach (var value in values)
                {
                    input.Add(key, value, wrongType: false);
                }
            }
            return (input, null, form);
        }
        return (input, null, null);
    }

    private static void Replace(HttpRequest request, byte[] body, string? contentType)
    {
        request.Body = new MemoryStream(body, writable: false);
        request.ContentLength = body.Length;
        request.Headers.TransferEncoding = default;
        if (contentType is not null)
        {
            request.ContentType = contentType;
        }
    }

    private void Add(string key, string? text, bool wrongType)
    {
        var known = _fields.GetValueOrDefault(key);
        _fields[key] = new ClassicField(wrongType ? known.Text : text, known.Count + 1, known.WrongType || wrongType);
    }

    /// <summary>
    /// A JSON value as PHP's input has it: a string as it is, a number or boolean as its JSON text, a list of
    /// those joined with commas (so <c>"numbers": ["0701…", "0712…"]</c> is the comma-separated list); null is absent.
    /// </summary>
    private void AddJson(string key, JsonNode? node)
    {
        switch (node)
        {
            case null:
                return;
            case JsonValue value when Scalar(value) is { } text:
                Add(key, text, wrongType: false);
                return;
            case JsonArray array when array.All(item => item is JsonValue element && Scalar(element) is not null):
                Add(key, string.Join(',', array.Select(item => Scalar((JsonValue)item!))), wrongType: false);
                return;
            default:
                Add(key, null, wrongType: true);
                return;
        }
    }

    private static string? Scalar(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.String => value.GetValue<string>(),
        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => value.ToJsonString(),
        _ => null,
    };
}
