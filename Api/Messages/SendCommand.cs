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
    public required int Segments { get; init; }
    public required IReadOnlyList<string> Recipients { get; init; }
    public required Guid[] MessageIds { get; init; }
    public required DateTime CreatedAt { get; init; }
    public DateTime? ScheduledAt { get; init; }
    public string? CallbackUrl { get; init; }
    public string? Reference { get; init; }
    public string? TraceParent { get; init; }

    /// <summary>The client's Idempotency-Key, with the hash of the request it was first used for.</summary>
    public IdempotencyClaim? Idempotency { get; init; }

    /// <summary>The 202 answer, stored with the key so a replay returns exactly this.</summary>
    public byte[]? AcceptedResponse { get; init; }

    public long Credits => (long)Segments * Recipients.Count;

    internal TaskCompletionSource<SendOutcome> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

public sealed record IdempotencyClaim(string Key, byte[] RequestHash);

public enum SendResult
{
    Accepted,
    InsufficientBalance,
    SenderIdNotApproved,
    Replayed,
    IdempotencyKeyReused,
    IdempotencyKeyInFlight,
}

/// <summary>What became of a send. For a replay, the stored status and body of the original answer.</summary>
public sealed record SendOutcome(SendResult Result, long Available = 0, int ReplayStatus = 0, byte[]? ReplayBody = null)
{
    public static SendOutcome Accepted { get; } = new(SendResult.Accepted);
    public static SendOutcome SenderIdNotApproved { get; } = new(SendResult.SenderIdNotApproved);
    public static SendOutcome KeyReused { get; } = new(SendResult.IdempotencyKeyReused);
    public static SendOutcome KeyInFlight { get; } = new(SendResult.IdempotencyKeyInFlight);
}
