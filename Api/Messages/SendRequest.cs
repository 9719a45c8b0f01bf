using System.Text.Json;
using System.Text.Json.Serialization;

namespace Ujumbe.Api.Messages;

/// <summary>The body of <c>POST /v1/messages</c> and <c>/v1/messages/quote</c>.</summary>
public sealed record SendRequest(
    [property: JsonConverter(typeof(RecipientsConverter))] IReadOnlyList<string>? To,
    string? Text,
    string? SenderId,
    string? CallbackUrl,
    DateTimeOffset? ScheduledAt,
    string? Reference);

/// <summary><c>to</c> is an array of numbers or one comma-separated string.</summary>
public sealed class RecipientsConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string>? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.String:
                return reader.GetString()!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            case JsonTokenType.StartArray:
                var list = new List<string>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                {
                    if (reader.TokenType != JsonTokenType.String)
                    {
                        throw new JsonException("to must be an array of strings or a comma-separated string.");
                    }
                    list.Add(reader.GetString()!);
                }
                return list;
            default:
                throw new JsonException("to must be an array of strings or a comma-separated string.");
        }
    }

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var item in value)
        {
            writer.WriteStringValue(item);
        }
        writer.WriteEndArray();
    }
}
