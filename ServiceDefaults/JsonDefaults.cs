using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ujumbe.ServiceDefaults;

/// <summary>The one JSON convention of the public API: snake_case names and enum values.</summary>
public static class JsonDefaults
{
    public static JsonSerializerOptions Options { get; } = Create();

    public static void Apply(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        // A body naming a field twice is ambiguous; refuse it rather than guess which one wins.
        options.AllowDuplicateProperties = false;
    }

    private static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Apply(options);
        return options;
    }
}
