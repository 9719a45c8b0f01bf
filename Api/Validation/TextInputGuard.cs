using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using Ujumbe.ServiceDefaults;

namespace Ujumbe.Api.Validation;

/// <summary>
/// One gate for every text a request brings, whatever the endpoint binds it to: each query value,
/// route value, and every string and property name of a JSON body is held to <see cref="InputText"/>
/// before the endpoint runs, and refused with 400 <c>VALIDATION_FAILED</c> naming where it was
/// (<c>q</c>, <c>attributes.colour</c>, <c>tags[2]</c>). A JSON body must be UTF-8 (RFC 8259);
/// another charset is 415. Bodies that are not JSON at all are left to the endpoint and the binder.
/// </summary>
public sealed class TextInputGuard(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (context.GetEndpoint() is null)
        {
            await next(context); // no such route: answered as 404 without looking at the input
            return;
        }

        if (FindUnacceptableValue(request) is { } field)
        {
            await Problems.Validation(field, InputText.ForbiddenMessage).ExecuteAsync(context);
            return;
        }

        if (HasBody(context) && request.HasJsonContentType())
        {
            if (!IsUtf8(request.ContentType))
            {
                await Problems.Create(415, ErrorCodes.UnsupportedMediaType, "Unsupported media type.",
                    "Send JSON as UTF-8: Content-Type: application/json or application/json; charset=utf-8.").ExecuteAsync(context);
                return;
            }
            var body = await ReadAllAsync(request.Body, context.RequestAborted);
            request.Body = new MemoryStream(body, writable: false);
            if (JsonText.FindUnacceptableString(body) is { } problem)
            {
                await Problems.Validation(problem.Field, problem.Message).ExecuteAsync(context);
                return;
            }
        }
        await next(context);
    }

    private static string? FindUnacceptableValue(HttpRequest request)
    {
        foreach (var (key, values) in request.Query)
        {
            if (!InputText.IsAcceptable(key))
            {
                return "query";
            }
            foreach (var value in values)
            {
                if (!InputText.IsAcceptable(value))
                {
                    return key;
                }
            }
        }
        foreach (var (key, value) in request.RouteValues)
        {
            if (value is string text && !InputText.IsAcceptable(text))
            {
                return key;
            }
        }
        return null;
    }

    private static bool HasBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? context.Request.ContentLength > 0;

    private static bool IsUtf8(string? contentType)
    {
        if (!MediaTypeHeaderValue.TryParse(contentType, out var mediaType) || mediaType.Charset.Length == 0)
        {
            return true; // no charset: JSON is UTF-8
        }
        var charset = HeaderUtilities.RemoveQuotes(mediaType.Charset).Value ?? "";
        return charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<byte[]> ReadAllAsync(Stream body, CancellationToken cancellationToken)
    {
        // Kestrel holds the body to the request size limit (413 past it), so this is at most that much.
        using var buffer = new MemoryStream();
        await body.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }
}

/// <summary>Finds the first string (value or property name) of a JSON document that <see cref="InputText"/> refuses.</summary>
public static class JsonText
{
    public sealed record Problem(string Field, string Message);

    private sealed class Level(bool isArray)
    {
        public bool IsArray { get; } = isArray;
        public int Index { get; set; } = -1;
        public string? Property { get; set; }
    }

    /// <summary>The field and what is wrong with it, or null when every string is acceptable or the JSON is malformed (the binder says so).</summary>
    public static Problem? FindUnacceptableString(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        var levels = new List<Level>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.StartObject or JsonTokenType.StartArray:
                        NextElement(levels);
                        levels.Add(new Level(reader.TokenType == JsonTokenType.StartArray));
                        break;
                    case JsonTokenType.EndObject or JsonTokenType.EndArray:
                        levels.RemoveAt(levels.Count - 1);
                        break;
                    case JsonTokenType.PropertyName:
                        if (Check(ref reader) is { } nameProblem)
                        {
                            levels[^1].Property = null; // the name itself cannot be shown: report the object holding it
                            return new Problem(Path(levels), nameProblem);
                        }
                        levels[^1].Property = reader.GetString();
                        break;
                    case JsonTokenType.String:
                        NextElement(levels);
                        if (Check(ref reader) is { } valueProblem)
                        {
                            return new Problem(Path(levels), valueProblem);
                        }
                        break;
                    default:
                        NextElement(levels);
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return null; // malformed: the binder's own error names it
        }
        return null;
    }

    private static void NextElement(List<Level> levels)
    {
        if (levels.Count > 0 && levels[^1].IsArray)
        {
            levels[^1].Index++;
        }
    }

    private static string? Check(ref Utf8JsonReader reader)
    {
        var raw = reader.ValueSpan; // the reader runs over one span, never a sequence
        if (!reader.ValueIsEscaped)
        {
            // Unescaped JSON text cannot hold C0 controls; what is left to check is UTF-8 itself, DEL and C1.
            if (!Utf8.IsValid(raw))
            {
                return InputText.NotUtf8Message;
            }
            return raw.Contains((byte)0x7f) || HasC1Control(raw) ? InputText.ForbiddenMessage : null;
        }
        try
        {
            return InputText.IsAcceptable(reader.GetString()) ? null : InputText.ForbiddenMessage;
        }
        catch (InvalidOperationException)
        {
            return InputText.ForbiddenMessage; // an escaped unpaired surrogate, or invalid UTF-8 beside escapes
        }
    }

    /// <summary>U+0080–U+009F are C2 80 – C2 9F in UTF-8.</summary>
    private static bool HasC1Control(ReadOnlySpan<byte> utf8)
    {
        for (var i = utf8.IndexOf((byte)0xc2); i >= 0 && i + 1 < utf8.Length; )
        {
            if (utf8[i + 1] is >= 0x80 and <= 0x9f)
            {
                return true;
            }
            var next = utf8[(i + 1)..].IndexOf((byte)0xc2);
            i = next < 0 ? -1 : i + 1 + next;
        }
        return false;
    }

    private static string Path(List<Level> levels)
    {
        var path = new StringBuilder();
        foreach (var level in levels)
        {
            if (level.IsArray)
            {
                path.Append('[').Append(level.Index).Append(']');
            }
            else if (level.Property is { } name)
            {
                if (path.Length > 0)
                {
                    path.Append('.');
                }
                path.Append(name);
            }
        }
        return path.Length == 0 ? "body" : path.ToString();
    }
}
