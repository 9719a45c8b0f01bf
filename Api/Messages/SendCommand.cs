using Ujumbe.Api.Phones;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Api.Messages;

/// <summary>
/// A validated send, ready to be committed: recipients are unique E.164 numbers, ids are assigned,
/// and (when the request carries an Idempotency-Key) the 202 answer is already serialised so it
/// can be stored in the same transaction that accepts the send.
/// </summary>
public sealed class SendCommand
{
    public required Guid AccountId { get; init; }
    public required Guid BatchId { get; init; }
    public required string SenderId { get; init; }
    public required string Text { get; init; }
    public required SmsEncoding Encoding { get; init; }
    /// <summary>Segments per message; for a personalised send (<see cref="Texts"/>), the most any message has.</summary>
    public required int Segments { get; init; }
    public required IReadOnlyList<string> Recipients { get; set; }
    public required Guid[] MessageIds { get; set; }

    /// <summary>
    /// Each recipient's country and operator, in the order of <see cref="Recipients"/>, found where the request was
    /// validated: looked up by the writer instead, they would hold every group after it behind the lookups of a
    /// large send. Null: the writer looks them up.
    /// </summary>
    public PhoneOrigin[]? Origins { get; set; }

    /// <summary>Per-message texts when personalised (a campaign); null when every message is <see cref="Text"/>.</summary>
    public string[]? Texts { get; set; }

    /// <summary>Per-message segment counts, with <see cref="Texts"/>.</summary>
    public int[]? MessageSegments { get; set; }

    /// <summary>Numbers left out when the send was committed because they opted out.</summary>
    public IReadOnlyList<string> Skipped { get; private set; } = [];

    /// <summary>Builds the 202 answer again if the writer had to leave numbers out (the ids and credits change).</summary>
    public Func<SendCommand, byte[]>? RespondAfterSkipping { get; init; }

    /// <summary>The campaign this send is, written in the same transaction.</summary>
    public CampaignRecord? Campaign { get; init; }
    public required DateTime CreatedAt { get; init; }
    public DateTime? ScheduledAt { get; init; }
    public string? CallbackUrl { get; init; }
    public string? Reference { get; init; }
    public string? TraceParent { get; init; }

    /// <summary>The client's Idempotency-Key, with the hash of the request it was first used for.</summary>
    public IdempotencyClaim? Idempotency { get; init; }

    /// <summary>The 202 answer, stored with the key so a replay returns exactly this.</summary>
    public byte[]? AcceptedResponse { get; set; }

    public long Credits => MessageSegments is { } each ? each.Sum(s => (long)s) : (long)Segments * Recipients.Count;

    public int SegmentsOf(int index) => MessageSegments?[index] ?? Segments;

    public string? TextOf(int index) => Texts?[index];

    public PhoneOrigin OriginOf(int index) => Origins is { } origins ? origins[index] : PhoneNumbers.OriginOf(Recipients[index]);

    /// <summary>Leaves out the recipients at these positions (they opted out) and rebuilds the answer.</summary>
    internal void Skip(IReadOnlySet<int> positions)
    {
        var keep = Enumerable.Range(0, Recipients.Count).Where(i => !positions.Contains(i)).ToArray();
        Skipped = [.. Skipped, .. positions.Order().Select(i => Recipients[i])];
        Recipients = keep.Select(i => Recipients[i]).ToArray();
        MessageIds = keep.Select(i => MessageIds[i]).ToArray();
        Origins = Origins is null ? null : keep.Select(i => Origins[i]).ToArray();
        Texts = Texts is null ? null : keep.Select(i => Texts[i]).ToArray();
        MessageSegments = MessageSegments is null ? null : keep.Select(i => MessageSegments[i]).ToArray();
        if (Recipients.Count > 0 && RespondAfterSkipping is { } respond)
        {
            AcceptedResponse = respond(this);
        }
    }
    internal TaskCompletionSource<SendOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

public sealed record IdempotencyClaim(string Key, byte[] RequestHash);

/// <summary>A campaign row: what the batch does not know about it.</summary>
public sealed record CampaignRecord(Guid Id, string Name, string Template, string AudienceJson, int Skipped, string[] SkippedNumbers)
{
    public const int MaxSkippedNumbersKept = 100;
}

public enum SendResult
{
    Accepted,
    InsufficientBalance,
    SenderIdNotApproved,
    Replayed,
    IdempotencyKeyReused,
    IdempotencyKeyInFlight,
    AllRecipientsOptedOut,
}

/// <summary>What became of a send. For a replay, the stored status and body of the original answer.</summary>
public sealed record SendOutcome(SendResult Result, long Available = 0, int ReplayStatus = 0, byte[]? ReplayBody = null)
{
    public static SendOutcome Accepted { get; } = new(SendResult.Accepted);
    public static SendOutcome SenderIdNotApproved { get; } = new(SendResult.SenderIdNotApproved);
    public static SendOutcome KeyReused { get; } = new(SendResult.IdempotencyKeyReused);
    public static SendOutcome KeyInFlight { get; } = new(SendResult.IdempotencyKeyInFlight);
    public static SendOutcome AllOptedOut { get; } = new(SendResult.AllRecipientsOptedOut);
}
