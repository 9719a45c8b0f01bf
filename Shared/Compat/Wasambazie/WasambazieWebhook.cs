using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ujumbe.Shared.Lifecycle;

namespace Ujumbe.Shared.Compat.Wasambazie;

/// <summary>
/// Webhooks in Wasambazie's shape (seed 004, "Webhooks"): an endpoint registered with format <c>wasambazie</c>
/// gets <c>delivery.batch.finalized</c> with the seed's payload, signed with <c>X-Wasambazie-Signature</c>:
/// the hex HMAC-SHA256 of the raw body, keyed with the endpoint's secret as shown (its UTF-8 bytes), as the
/// seed's verification code computes it.
/// </summary>
public static class WasambazieWebhook
{
    public const string Format = "wasambazie";
    public const string SignatureHeader = "X-Wasambazie-Signature";

    /// <summary>The only event the seed has; an endpoint of this format subscribes to it alone.</summary>
    public const string SourceEvent = "batch.finalized";
    public const string EventName = "delivery.batch.finalized";

    /// <summary>Wasambazie's four statuses: not yet with a provider is queued; refused, canceled or undelivered is failed.</summary>
    public static string StatusOf(string status) => status switch
    {
        MessageStatus.Sent => "sent",
        MessageStatus.Delivered => "delivered",
        MessageStatus.Failed or MessageStatus.Rejected or MessageStatus.Canceled => "failed",
        _ => "queued",
    };

    /// <summary>
    /// Ujumbe's <c>batch.finalized</c> payload (decision 0011) as the seed's <c>delivery.batch.finalized</c>. A payload
    /// of another shape (no such event reaches an endpoint of this format) is sent as it is rather than failing.
    /// </summary>
    public static byte[] Body(string batchFinalized)
    {
        using var source = JsonDocument.Parse(batchFinalized);
        var root = source.RootElement;
        if (root.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("batch_id", out var batchId) || batchId.ValueKind != JsonValueKind.String
            || !root.TryGetProperty("summary", out var summary) || summary.ValueKind != JsonValueKind.Object
            || !root.TryGetProperty("messages", out var messages) || messages.ValueKind != JsonValueKind.Array)
        {
            return Encoding.UTF8.GetBytes(batchFinalized);
        }
        int Count(string name) => summary.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt32() : 0;
        string? Text(JsonElement message, string name) =>
            message.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("event", EventName);
            json.WriteString("message_batch_id", batchId.GetString());
            json.WriteStartObject("summary");
            json.WriteNumber("total", Count("total"));
            json.WriteNumber("delivered", Count(MessageStatus.Delivered));
            json.WriteNumber("failed", Count(MessageStatus.Failed) + Count(MessageStatus.Rejected) + Count(MessageStatus.Canceled));
            json.WriteEndObject();
            json.WriteStartArray("messages");
            foreach (var message in messages.EnumerateArray())
            {
                json.WriteStartObject();
                json.WriteString("to_number", Text(message, "to"));
                json.WriteString("status", StatusOf(Text(message, "status") ?? ""));
                json.WriteString("delivered_at", Text(message, "delivered_at"));
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    /// <summary>The signing key: the secret as shown to the account (<c>whsec_…</c>), as bytes.</summary>
    public static byte[] Key(string secret) => Encoding.UTF8.GetBytes(secret);

    public static string Signature(byte[] key, byte[] body) => Convert.ToHexStringLower(HMACSHA256.HashData(key, body));
}
