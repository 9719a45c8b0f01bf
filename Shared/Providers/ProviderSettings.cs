using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ujumbe.Shared.Providers;

/// <summary>The kinds of upstream provider Ujumbe speaks to.</summary>
public static class ProviderKinds
{
    public const string Simulator = "simulator";
    public const string Kannel = "kannel";
    public const string Http = "http";

    public static readonly string[] All = [Simulator, Kannel, Http];
}

/// <summary>
/// A Kannel smsbox's sendsms interface (<c>http://host:13013/cgi-bin/sendsms</c>) and what to ask of it.
/// The sendsms user's password is a secret (<c>password</c>), never a setting.
/// </summary>
public sealed record KannelSettings
{
    /// <summary>The sendsms URL, e.g. <c>http://127.0.0.1:13013/cgi-bin/sendsms</c>.</summary>
    public string? Url { get; init; }

    /// <summary>The sendsms-user's username.</summary>
    public string? Username { get; init; }

    /// <summary>Force an SMSC (Kannel's <c>smsc</c> parameter); null lets Kannel route.</summary>
    public string? Smsc { get; init; }

    /// <summary>Which delivery reports Kannel sends back (bit mask of 1, 2, 4, 8, 16); default all five.</summary>
    public int DlrMask { get; init; } = 31;

    /// <summary>Where Kannel reaches Ujumbe (the public gateway); null: the Worker's <c>Providers:CallbackBaseUrl</c>.</summary>
    public string? CallbackBaseUrl { get; init; }

    /// <summary>The longest one sendsms request may take before its outcome counts as unknown.</summary>
    public double TimeoutSeconds { get; init; } = 10;
}

/// <summary>
/// A generic HTTP aggregator, configured rather than coded: where and how to submit, which field carries
/// what, how to tell success, where its message id is, and how its delivery reports read.
/// The Authorization header's value is a secret (<c>auth_header_value</c>), never a setting.
/// </summary>
public sealed record HttpProviderSettings
{
    public string? Url { get; init; }

    /// <summary><c>json</c> (default) or <c>form</c>.</summary>
    public string Format { get; init; } = "json";

    /// <summary>The header the secret <c>auth_header_value</c> goes in (default <c>Authorization</c>).</summary>
    public string AuthHeader { get; init; } = "Authorization";

    /// <summary>Our field (to, from, text, reference, callback_url) → the aggregator's field name (dots make nested objects in JSON).</summary>
    public Dictionary<string, string> Fields { get; init; } = new() { ["to"] = "to", ["from"] = "from", ["text"] = "text", ["reference"] = "reference" };

    /// <summary>Constant fields sent with every submit.</summary>
    public Dictionary<string, string> StaticFields { get; init; } = [];

    /// <summary>HTTP statuses that can mean success (default any 2xx).</summary>
    public int[]? SuccessStatuses { get; init; }

    /// <summary>A JSON path (dots) in the answer that must equal <see cref="SuccessValue"/> for success; null: the status decides.</summary>
    public string? SuccessPath { get; init; }

    public string? SuccessValue { get; init; }

    /// <summary>Where the aggregator's id of the message is in its answer (dots), e.g. <c>data.message_id</c>.</summary>
    public string? MessageIdPath { get; init; }

    public HttpDlrMapping Dlr { get; init; } = new();

    public double TimeoutSeconds { get; init; } = 10;
}

/// <summary>How the aggregator's delivery reports read (JSON body, form body or query).</summary>
public sealed record HttpDlrMapping
{
    /// <summary>The field with our message id (the <c>reference</c> we sent); the <c>msg</c> query parameter also works.</summary>
    public string MessageIdField { get; init; } = "reference";

    public string StatusField { get; init; } = "status";

    public string[] DeliveredValues { get; init; } = ["DELIVERED", "DELIVRD"];

    public string[] FailedValues { get; init; } = ["FAILED", "UNDELIV", "UNDELIVERED", "REJECTD", "EXPIRED"];

    public string? ErrorCodeField { get; init; } = "error_code";
}

/// <summary>The JSON shape settings are stored and shown in (snake_case, like the API).</summary>
public static class ProviderJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Reads a dotted path (<c>data.message_id</c>) from a JSON value; null when it is not there.</summary>
    public static string? ReadPath(JsonElement root, string path)
    {
        var current = root;
        foreach (var part in path.Split('.'))
        {
            if (current.ValueKind == JsonValueKind.Array && int.TryParse(part, out var index) && index >= 0 && index < current.GetArrayLength())
            {
                current = current[index];
                continue;
            }
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current))
            {
                return null;
            }
        }
        return current.ValueKind switch
        {
            JsonValueKind.String => current.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => current.GetRawText(),
            _ => null,
        };
    }
}
