namespace Ujumbe.Shared.Identity;

/// <summary>
/// Ids as the API shows them: a type prefix and the row's UUID in hex (<c>key_0193…</c>). The prefix
/// makes a pasted id self-describing; an id of the wrong type simply does not parse (→ 404).
/// </summary>
public static class PublicId
{
    public const string Account = "acct";
    public const string ApiKey = "key";
    public const string User = "usr";
    public const string SenderId = "sid";
    public const string LedgerEntry = "txn";
    public const string Message = "msg";
    public const string Batch = "bat";
    public const string Webhook = "whk";
    public const string WebhookEvent = "evt";
    public const string WebhookDelivery = "whd";
    public const string Contact = "con";
    public const string Segment = "seg";
    public const string Campaign = "cmp";
    public const string ContentRule = "rul";
    public const string DeadLetter = "dlq";
    public const string Payment = "pay";
    public const string Provider = "prv";
    public const string Route = "rte";

    public static string Format(string prefix, Guid id) => $"{prefix}_{id:N}";

    public static bool TryParse(string prefix, string? value, out Guid id)
    {
        id = Guid.Empty;
        return value is not null
            && value.Length == prefix.Length + 1 + 32
            && value.StartsWith(prefix, StringComparison.Ordinal)
            && value[prefix.Length] == '_'
            && Guid.TryParseExact(value.AsSpan(prefix.Length + 1), "N", out id);
    }
}
