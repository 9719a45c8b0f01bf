using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests.OpenApi;

/// <summary>
/// Hostile input for every operation the OpenAPI document lists, built from its schemas: bodies with NUL,
/// lone surrogates, invalid UTF-8, huge strings and wrong types in each field; odd content types and
/// broken multipart; hostile query and path parameters. Through the real gateway and Api. Whatever the
/// input, the answer is never a 5xx and never shows internals (exception names, stack traces, SQL,
/// library names, the gateway's internal headers). The seed is fixed, so a failure replays exactly.
/// </summary>
public sealed class OpenApiFuzzTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    private const int Seed = 20261203;
    /// <summary>Besides NUL and invalid UTF-8, which every field and parameter gets, this many other hostile values each.</summary>
    private const int RandomValuesPerField = 1;
    private const int RandomValuesPerQueryParameter = 2;

    /// <summary>What an answer must never contain: signs of an exception, a stack, SQL or our plumbing.</summary>
    private static readonly string[] Internals =
    [
        "Exception", "   at ", ".cs:line", "StackTrace", "Npgsql", "PostgreSQL", "SQLSTATE", "System.", "Microsoft.",
        "syntax error", "select ", "insert into", "update ", "X-Ujumbe", "x-ujumbe", "RabbitMQ", "StackExchange",
    ];

    /// <summary>A marker in serialised JSON that is then replaced by raw text no JSON value can hold (bad escapes, bad bytes).</summary>
    private const string RawMarker = "\u2063RAW\u2063";

    private sealed record FuzzCase(string Description, string PathAndQuery, string? ContentType, byte[]? Body, (string Name, string Value)? Header = null);

    private sealed record Finding(string Operation, string Case, string Outcome);

    [Fact]
    public async Task Hostile_input_to_every_operation_gets_no_5xx_and_no_internals()
    {
        using var anonymous = ujumbe.Client();
        using var demo = ujumbe.Client(ujumbe.DemoKey);
        using var operatorClient = ujumbe.Client(ujumbe.OperatorKey);
        foreach (var client in new[] { anonymous, demo, operatorClient })
        {
            client.Timeout = TimeSpan.FromSeconds(30);
        }
        var documentText = await anonymous.GetStringAsync("/openapi/v1.json");
        using var parsed = JsonDocument.Parse(documentText);
        var document = parsed.RootElement;
        var random = new Random(Seed);
        var existing = await CreateResourcesAsync(demo, operatorClient);

        var findings = new List<Finding>();
        var sent = 0;
        var operations = 0;
        var clock = Stopwatch.StartNew();
        foreach (var path in document.GetProperty("paths").EnumerateObject())
        {
            foreach (var method in path.Value.EnumerateObject())
            {
                if (method.Name is not ("get" or "post" or "put" or "patch" or "delete"))
                {
                    continue;
                }
                operations++;
                var operation = $"{method.Name.ToUpperInvariant()} {path.Name}";
                // Each caller who can reach the handler: operators for /v1/admin, nobody for sign-in, the demo account otherwise.
                var client = path.Name == "/v1/auth/login" ? anonymous : path.Name.StartsWith("/v1/admin", StringComparison.Ordinal) ? operatorClient : demo;
                foreach (var fuzz in Cases(document, path.Name, method.Value, existing, random))
                {
                    sent++;
                    var outcome = await SendAsync(client, new HttpMethod(method.Name.ToUpperInvariant()), fuzz);
                    if (outcome is not null)
                    {
                        findings.Add(new Finding(operation, fuzz.Description, outcome));
                    }
                }
            }
        }

        Assert.True(operations >= 50, $"only {operations} operations in the document");
        Assert.True(findings.Count == 0, Report(findings, sent, operations, clock.Elapsed));
    }

    private static string Report(List<Finding> findings, int sent, int operations, TimeSpan elapsed)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture,
            $"{findings.Count} of {sent} fuzzed requests to {operations} operations (seed {Seed}, {elapsed.TotalSeconds:F0} s) got a 5xx or showed internals:");
        foreach (var group in findings.GroupBy(f => f.Operation))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{group.Key}: {group.Count()}");
            foreach (var finding in group.Take(10))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    {finding.Case} → {finding.Outcome}");
            }
        }
        return text.ToString();
    }

    private static async Task<string?> SendAsync(HttpClient client, HttpMethod method, FuzzCase fuzz)
    {
        using var request = new HttpRequestMessage(method, new Uri(fuzz.PathAndQuery, UriKind.Relative));
        if (fuzz.Body is not null)
        {
            request.Content = new ByteArrayContent(fuzz.Body);
            if (fuzz.ContentType is not null)
            {
                // Unvalidated: the point is to send what a careless or hostile client would.
                request.Content.Headers.TryAddWithoutValidation("Content-Type", fuzz.ContentType);
            }
        }
        if (fuzz.Header is { } header)
        {
            request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        }
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request);
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException)
        {
            return "no answer: " + error.GetType().Name + " " + error.Message;
        }
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            if (status >= 500)
            {
                return $"{status} {Snippet(body)}";
            }
            foreach (var marker in Internals)
            {
                if (body.Contains(marker, StringComparison.Ordinal))
                {
                    return $"{status} shows \"{marker}\": {Snippet(body)}";
                }
            }
            var leakedHeader = response.Headers.Concat(response.Content.Headers)
                .FirstOrDefault(h => h.Key.StartsWith("X-Ujumbe", StringComparison.OrdinalIgnoreCase));
            if (leakedHeader.Key is not null)
            {
                return $"{status} with internal header {leakedHeader.Key}";
            }
            return null;
        }
    }

    private static string Snippet(string body) => body.Length <= 300 ? body : body[..300] + "…";

    // ------------------------------------------------------------------ cases

    /// <summary>
    /// One real resource of each kind, so that an operation on <c>/…/{id}</c> reaches the handler's writes
    /// (a made-up id stops at 404). Keyed by the path up to the parameter; the values are URL-encoded. The
    /// key and account are made for this, as the fuzz revokes, regenerates and suspends them.
    /// </summary>
    private static async Task<Dictionary<string, string>> CreateResourcesAsync(HttpClient demo, HttpClient operatorClient)
    {
        async Task<JsonElement> PostAsync(HttpClient client, string path, string json)
        {
            using var response = await client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"setting up the fuzz: POST {path} answered {(int)response.StatusCode}: {body}");
            return JsonDocument.Parse(body).RootElement.Clone();
        }
        string Id(JsonElement created, string name = "id") => Uri.EscapeDataString(created.GetProperty(name).GetString()!);

        var send = await PostAsync(demo, "/v1/messages", """{"to": ["+255713000001"], "text": "Habari", "sender_id": "UJUMBE"}""");
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["/v1/contacts/{id}"] = Id(await PostAsync(demo, "/v1/contacts", """{"name": "Fuzz", "phone_number": "+255713000002", "tags": ["vip"]}""")),
            ["/v1/segments/{id}"] = Id(await PostAsync(demo, "/v1/segments", """{"name": "Fuzz", "tags_any": ["vip"]}""")),
            ["/v1/webhooks/{id}"] = Id(await PostAsync(demo, "/v1/webhooks", """{"url": "http://127.0.0.1:9/fuzz"}""")),
            ["/v1/api-keys/{id}"] = Id(await PostAsync(demo, "/v1/api-keys", """{"name": "fuzz"}""")),
            ["/v1/campaigns/{id}"] = Id(await PostAsync(demo, "/v1/campaigns", """{"name": "Fuzz", "text": "Habari", "sender_id": "UJUMBE", "audience": {"numbers": "+255713000003"}}""")),
            ["/v1/opt-outs/{phone}"] = Id(await PostAsync(demo, "/v1/opt-outs", """{"phone_number": "+255713000004"}"""), "phone_number"),
            ["/v1/messages/{id}"] = Id(send.GetProperty("messages")[0]),
            ["/v1/batches/{id}"] = Id(send, "batch_id"),
            ["/v1/admin/sender-ids/{id}"] = Id(await PostAsync(demo, "/v1/sender-ids", """{"name": "FUZZ", "purpose": "fuzzing"}""")),
            ["/v1/admin/accounts/{id}"] = Id(await PostAsync(operatorClient, "/v1/admin/accounts", """{"name": "Fuzz", "owner_email": "fuzz-owner@example.com"}""")),
            ["/v1/admin/content-rules/{id}"] = Id(await PostAsync(operatorClient, "/v1/admin/content-rules", """{"category": "fuzz", "phrase": "fuzzphrase"}""")),
        };
    }

    private static IEnumerable<FuzzCase> Cases(JsonElement document, string path, JsonElement operation, IReadOnlyDictionary<string, string> existing, Random random)
    {
        var parameters = operation.TryGetProperty("parameters", out var list) ? list.EnumerateArray().ToList() : [];
        var pathNames = parameters.Where(p => p.GetProperty("in").GetString() == "path").Select(p => p.GetProperty("name").GetString()!).ToList();
        var queryNames = parameters.Where(p => p.GetProperty("in").GetString() == "query").Select(p => p.GetProperty("name").GetString()!).ToList();
        var headerNames = parameters.Where(p => p.GetProperty("in").GetString() == "header").Select(p => p.GetProperty("name").GetString()!).ToList();
        string PathWith(string? name = null, string? encodedValue = null)
        {
            var result = path;
            foreach (var parameter in pathNames)
            {
                var placeholder = "{" + parameter + "}";
                var real = existing.GetValueOrDefault(path[..(path.IndexOf(placeholder, StringComparison.Ordinal) + placeholder.Length)]);
                result = result.Replace(placeholder, parameter == name ? encodedValue! : real ?? "x_" + random.Next(1000, 9999).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
            }
            return result;
        }

        JsonElement? jsonSchema = null;
        var csv = false;
        if (operation.TryGetProperty("requestBody", out var requestBody))
        {
            var content = requestBody.GetProperty("content");
            if (content.TryGetProperty("application/json", out var json))
            {
                jsonSchema = json.GetProperty("schema");
            }
            csv = content.TryGetProperty("text/csv", out _);
        }

        foreach (var name in pathNames)
        {
            foreach (var value in Pick(HostileEncoded, 3, random))
            {
                yield return new FuzzCase($"path {name}={value}", PathWith(name, value), "application/json", jsonSchema is null ? null : "{}"u8.ToArray());
            }
        }
        foreach (var name in queryNames)
        {
            foreach (var value in new[] { "a%00b", "%FF%FE" }.Concat(Pick(HostileEncoded, RandomValuesPerQueryParameter, random)))
            {
                yield return new FuzzCase($"query {name}={Short(value)}", $"{PathWith()}?{name}={value}", null, null);
            }
        }
        foreach (var name in headerNames)
        {
            yield return new FuzzCase($"header {name} too long", PathWith(), "application/json", "{}"u8.ToArray(), (name, new string('k', 300)));
            yield return new FuzzCase($"header {name} with a tab", PathWith(), "application/json", "{}"u8.ToArray(), (name, "a\tb"));
        }

        if (jsonSchema is { } schema)
        {
            var target = PathWith();
            var baseline = Sample(document, schema, random, depth: 0) ?? new JsonObject();
            yield return new FuzzCase("plausible body", target, "application/json", Bytes(baseline));
            foreach (var (description, contentType, body) in OddBodies(Bytes(baseline)))
            {
                yield return new FuzzCase(description, target, contentType, body);
            }
            foreach (var field in Fields(baseline, ""))
            {
                foreach (var (label, value, raw) in HostileJson.Take(2).Concat(Pick(HostileJson[2..], RandomValuesPerField, random)))
                {
                    var mutated = baseline.DeepClone();
                    Set(mutated, field, value?.DeepClone());
                    var bytes = Bytes(mutated);
                    if (raw is not null)
                    {
                        bytes = ReplaceMarker(bytes, raw);
                    }
                    yield return new FuzzCase($"{field}={label}", target, "application/json", bytes);
                }
            }
        }
        if (csv)
        {
            var target = PathWith();
            foreach (var (description, contentType, body) in HostileUploads())
            {
                yield return new FuzzCase(description, target, contentType, body);
            }
        }
    }

    private static IEnumerable<T> Pick<T>(T[] values, int count, Random random) =>
        Enumerable.Range(0, count).Select(_ => values[random.Next(values.Length)]);

    private static string Short(string value) => value.Length <= 40 ? value : value[..40] + $"…({value.Length})";

    /// <summary>Query and path values, already percent-encoded as they go on the wire.</summary>
    private static readonly string[] HostileEncoded =
    [
        "%00", "a%00b", "%FF%FE", "%C3%28", "%ED%A0%80", "%C0%AF", new string('x', 3000), "%F0%9F%92%A5" + new string('y', 200),
        "-1", "0", "99999999999999999999", "1e309", "NaN", "%5B%5D", "%7B%7D", "true", "%27%20OR%201%3D1--", "..%2F..%2Fetc%2Fpasswd",
        "%0D%0AX-Injected:%201", "%E2%80%AE", "%20%20%20", "",
    ];

    /// <summary>Field values: a JSON value, or a marker that <c>Raw</c> (JSON text, possibly invalid UTF-8) replaces.</summary>
    private static readonly (string Label, JsonNode? Value, byte[]? Raw)[] HostileJson =
    [
        // The first two go into every field.
        ("NUL", JsonValue.Create("a\u0000b"), null),
        ("invalid UTF-8", JsonValue.Create(RawMarker), [(byte)'"', 0x61, 0xFF, 0xFE, 0x62, (byte)'"']),
        ("only NUL", JsonValue.Create("\u0000"), null),
        ("lone surrogate", JsonValue.Create(RawMarker), "\"a\\ud800b\""u8.ToArray()),
        ("overlong UTF-8", JsonValue.Create(RawMarker), [(byte)'"', 0xC0, 0xAF, (byte)'"']),
        ("huge string", JsonValue.Create(new string('x', 200_000)), null),
        ("huge emoji string", JsonValue.Create(string.Concat(Enumerable.Repeat("💥", 20_000))), null),
        ("empty string", JsonValue.Create(""), null),
        ("control characters", JsonValue.Create("a\u0001\u0008\u001f\u007f\u0085b"), null),
        ("right-to-left override", JsonValue.Create("\u202egnp.exe"), null),
        ("SQL", JsonValue.Create("' OR 1=1; drop table accounts; --"), null),
        ("big integer", JsonValue.Create(99999999999999999999m), null),
        ("negative", JsonValue.Create(-1), null),
        ("fraction", JsonValue.Create(1.5), null),
        ("huge exponent", JsonValue.Create(RawMarker), "1e309"u8.ToArray()),
        ("true", JsonValue.Create(true), null),
        ("null", null, null),
        ("object", new JsonObject { ["x"] = 1 }, null),
        ("array", new JsonArray(1, "two", null), null),
        ("deep nesting", JsonValue.Create(RawMarker), Encoding.ASCII.GetBytes(new string('[', 300) + new string(']', 300))),
    ];

    private static IEnumerable<(string Description, string? ContentType, byte[] Body)> OddBodies(byte[] plausible)
    {
        yield return ("charset=klingon", "application/json; charset=klingon", plausible);
        yield return ("charset=utf-16 (body UTF-8)", "application/json; charset=utf-16", plausible);
        yield return ("text/plain", "text/plain", plausible);
        yield return ("no content type", null, plausible);
        yield return ("empty body", "application/json", []);
        yield return ("JSON array", "application/json", "[1,2,3]"u8.ToArray());
        yield return ("JSON string", "application/json", "\"x\""u8.ToArray());
        yield return ("truncated JSON", "application/json", plausible[..(plausible.Length / 2)]);
        yield return ("invalid UTF-8 outside strings", "application/json", [.. plausible, 0xFF]);
        yield return ("multipart without boundary", "multipart/form-data", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--\r\n"u8.ToArray());
        yield return ("multipart with a bad boundary", "multipart/form-data; boundary=\"", "garbage"u8.ToArray());
        yield return ("form", "application/x-www-form-urlencoded", "a=%00&b=%FF"u8.ToArray());
    }

    private static IEnumerable<(string Description, string? ContentType, byte[] Body)> HostileUploads()
    {
        const string header = "name,phone_number\n";
        yield return ("csv with NUL", "text/csv", Encoding.UTF8.GetBytes(header + "a\u0000b,+255712345678\n"));
        yield return ("csv with invalid UTF-8", "text/csv", [.. Encoding.UTF8.GetBytes(header + "a"), 0xFF, 0xFE, .. ",+255712345678\n"u8.ToArray()]);
        yield return ("csv with a huge field", "text/csv", Encoding.UTF8.GetBytes(header + new string('x', 300_000) + ",+255712345678\n"));
        yield return ("csv with charset=klingon", "text/csv; charset=klingon", Encoding.UTF8.GetBytes(header + "a,+255712345678\n"));
        yield return ("csv with unbalanced quotes", "text/csv", Encoding.UTF8.GetBytes(header + "\"a,+255712345678\n\"\"\"\n"));
        yield return ("empty csv", "text/csv", []);
        yield return ("multipart without boundary", "multipart/form-data", "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nname,phone_number\r\n--x--\r\n"u8.ToArray());
        yield return ("multipart with a bad boundary", "multipart/form-data; boundary=\"", "garbage"u8.ToArray());
        yield return ("multipart with a wrong boundary", "multipart/form-data; boundary=abc", "--xyz\r\n\r\n"u8.ToArray());
        yield return ("multipart, file with NUL", "multipart/form-data; boundary=b", Encoding.UTF8.GetBytes(
            "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n" + header + "a\u0000,+255712345678\r\n--b--\r\n"));
        yield return ("multipart without a file", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n--b--\r\n"u8.ToArray());
    }

    // ------------------------------------------------------------------ bodies from schemas

    /// <summary>
    /// A value the schema allows, plausible enough (real-looking numbers, URLs, sender IDs) that a mutated
    /// field is checked by the handler rather than its neighbours failing first.
    /// </summary>
    private static JsonNode? Sample(JsonElement document, JsonElement schema, Random random, int depth, string? name = null)
    {
        // Optional fields that would stop a plausible request before the rest is looked at: a campaign's
        // audience is one of numbers, segment_id and contact_ids (the sample uses numbers); a callback URL is
        // resolved in DNS; a schedule must be near. Left null here, they are still fuzzed one by one.
        if (name is "segment_id" or "contact_ids" or "callback_url" or "scheduled_at")
        {
            return null;
        }
        if (schema.TryGetProperty("$ref", out var reference))
        {
            var id = reference.GetString()!.Split('/')[^1];
            return depth > 6 ? null : Sample(document, document.GetProperty("components").GetProperty("schemas").GetProperty(id), random, depth + 1, name);
        }
        foreach (var combinator in new[] { "oneOf", "anyOf", "allOf" })
        {
            if (schema.TryGetProperty(combinator, out var options))
            {
                var option = options.EnumerateArray().FirstOrDefault(o => !(o.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() == "null"));
                return option.ValueKind == JsonValueKind.Undefined ? null : Sample(document, option, random, depth + 1, name);
            }
        }
        var type = schema.TryGetProperty("type", out var declared)
            ? declared.ValueKind == JsonValueKind.Array
                ? declared.EnumerateArray().Select(t => t.GetString()).FirstOrDefault(t => t != "null")
                : declared.GetString()
            : null;
        switch (type)
        {
            case "object":
                var result = new JsonObject();
                if (schema.TryGetProperty("properties", out var properties))
                {
                    foreach (var property in properties.EnumerateObject())
                    {
                        result[property.Name] = Sample(document, property.Value, random, depth + 1, property.Name);
                    }
                }
                return result;
            case "array":
                return new JsonArray(schema.TryGetProperty("items", out var items) ? Sample(document, items, random, depth + 1, name) : JsonValue.Create("x"));
            case "integer":
                return JsonValue.Create(name is "expires_in_days" ? 30 : 1);
            case "number":
                return JsonValue.Create(1.5);
            case "boolean":
                return JsonValue.Create(true);
            case "string":
                return JsonValue.Create(PlausibleString(schema, name, random));
            default:
                // Free-form JSON (e.g. contact attributes).
                return new JsonObject { ["plan"] = "gold" };
        }
    }

    private static string PlausibleString(JsonElement schema, string? name, Random random)
    {
        if (schema.TryGetProperty("format", out var format) && format.GetString() == "date-time")
        {
            return "2030-01-01T09:00:00Z";
        }
        var unique = random.Next(100_000, 999_999).ToString(CultureInfo.InvariantCulture);
        return name switch
        {
            "to" or "phone_number" or "numbers" => "+255712" + unique,
            "sender_id" => "UJUMBE",
            "text" => "Habari " + unique,
            "email" or "owner_email" => $"fuzz{unique}@example.com",
            "url" or "callback_url" => $"https://example.com/hooks/{unique}",
            "default_country" => "TZ",
            "scopes" => "messages",
            "events" => "message.delivered",
            "password" => "not-the-password-" + unique,
            _ => "fuzz " + unique,
        };
    }

    /// <summary>Every property path in the sample ("name", "audience.numbers", "tags[0]").</summary>
    private static IEnumerable<string> Fields(JsonNode node, string prefix)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, value) in obj)
            {
                var path = prefix.Length == 0 ? key : prefix + "." + key;
                yield return path;
                if (value is not null)
                {
                    foreach (var nested in Fields(value, path))
                    {
                        yield return nested;
                    }
                }
            }
        }
        else if (node is JsonArray array && array.Count > 0 && array[0] is { } first)
        {
            yield return prefix + "[0]";
            foreach (var nested in Fields(first, prefix + "[0]"))
            {
                yield return nested;
            }
        }
    }

    private static void Set(JsonNode root, string path, JsonNode? value)
    {
        var parts = path.Replace("[0]", ".[0]", StringComparison.Ordinal).Split('.', StringSplitOptions.RemoveEmptyEntries);
        var node = root;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            node = parts[i] == "[0]" ? node!.AsArray()[0] : node![parts[i]];
        }
        if (parts[^1] == "[0]")
        {
            node!.AsArray()[0] = value;
        }
        else
        {
            node!.AsObject()[parts[^1]] = value;
        }
    }

    private static byte[] Bytes(JsonNode node) => Encoding.UTF8.GetBytes(node.ToJsonString());

    private static byte[] ReplaceMarker(byte[] json, byte[] raw)
    {
        var marker = Encoding.UTF8.GetBytes(JsonValue.Create(RawMarker).ToJsonString());
        var at = json.AsSpan().IndexOf(marker);
        return at < 0 ? json : [.. json[..at], .. raw, .. json[(at + marker.Length)..]];
    }
}
