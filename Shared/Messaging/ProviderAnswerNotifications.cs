using System.Text;

namespace Ujumbe.Shared.Messaging;

/// <summary>
/// The PostgreSQL channel on which the Worker tells the Api "a provider answered for these batches" (decision 0031),
/// so a dialect request that answers only once the provider has (Wasambazie's send, SMSPop's create-and-send) is
/// woken instead of polling. A payload is batch ids (32 hex digits each) separated by commas, kept under
/// PostgreSQL's 8,000-byte limit; a notification only says "read the batch again": the batch row stays the truth.
/// </summary>
public static class ProviderAnswerNotifications
{
    public const string Channel = "ujumbe_provider_answers";

    /// <summary>Ids per payload: 242 × 33 bytes stays under the 8,000-byte limit of a NOTIFY payload.</summary>
    public const int IdsPerPayload = 242;

    private const int IdLength = 32;

    /// <summary>The payloads for these batch ids, each at most <see cref="IdsPerPayload"/> ids.</summary>
    public static List<string> Payloads(IReadOnlyCollection<Guid> batchIds)
    {
        var payloads = new List<string>(batchIds.Count / IdsPerPayload + 1);
        var payload = new StringBuilder(Math.Min(batchIds.Count, IdsPerPayload) * (IdLength + 1));
        var inPayload = 0;
        foreach (var id in batchIds)
        {
            if (inPayload == IdsPerPayload)
            {
                payloads.Add(payload.ToString());
                payload.Clear();
                inPayload = 0;
            }
            if (inPayload > 0)
            {
                payload.Append(',');
            }
            payload.Append(id.ToString("N"));
            inPayload++;
        }
        if (inPayload > 0)
        {
            payloads.Add(payload.ToString());
        }
        return payloads;
    }

    /// <summary>Calls <paramref name="batch"/> for each id in a payload; anything that is not an id is skipped.</summary>
    public static void Read(string payload, Action<Guid> batch)
    {
        var text = payload.AsSpan();
        foreach (var range in text.Split(','))
        {
            if (Guid.TryParseExact(text[range], "N", out var id))
            {
                batch(id);
            }
        }
    }
}
