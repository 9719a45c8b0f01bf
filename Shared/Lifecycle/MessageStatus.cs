namespace Ujumbe.Shared.Lifecycle;

/// <summary>
/// The statuses a message moves through, named once for every C# site (the SQL function files spell them as
/// literals; <c>LifecycleBoundaryTests</c> holds the schema's check constraint and the allowed moves to this list).
/// </summary>
/// <remarks>
/// scheduled → queued → (submitting →) sent → delivered | failed; queued or submitting → rejected | failed;
/// scheduled or queued → canceled. <see cref="MessageLifecycle"/> is the only code that moves a message.
/// </remarks>
public static class MessageStatus
{
    public const string Scheduled = "scheduled";
    public const string Queued = "queued";
    /// <summary>Claimed by a Worker for a provider slow enough to want a claim; shown to clients as <see cref="Queued"/>.</summary>
    public const string Submitting = "submitting";
    public const string Sent = "sent";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    /// <summary>Refused by the provider (its webhook event is <c>message.failed</c>).</summary>
    public const string Rejected = "rejected";
    public const string Canceled = "canceled";

    /// <summary>Every status a message row can hold, in the order of the messages table's check constraint.</summary>
    public static readonly IReadOnlyList<string> Stored = [Scheduled, Queued, Submitting, Sent, Delivered, Failed, Rejected, Canceled];

    /// <summary>The statuses the API shows and filters by (<see cref="Submitting"/> is an inside detail).</summary>
    public static readonly IReadOnlyList<string> Public = [Scheduled, Queued, Sent, Delivered, Failed, Rejected, Canceled];

    /// <summary>A stored status as the API shows it.</summary>
    public static string ToPublic(string stored) => stored == Submitting ? Queued : stored;

    /// <summary>The stored statuses a public one stands for (a filter on queued also finds messages being submitted).</summary>
    public static string[] StoredAs(string @public) => @public == Queued ? [Queued, Submitting] : [@public];

    /// <summary>Not yet answered for by a provider: a delivery report for such a message outran our record of the submission.</summary>
    public static bool IsAwaitingProvider(string? status) => status is Queued or Submitting;

    /// <summary>What a message starts as when its send is accepted.</summary>
    public static string Initial(DateTime? scheduledAt) => scheduledAt is null ? Queued : Scheduled;
}

/// <summary>The statuses of a batch (a send): the batches table's check constraint, named once.</summary>
public static class BatchStatus
{
    /// <summary>Its messages wait for their time.</summary>
    public const string Scheduled = "scheduled";
    /// <summary>Some of its messages are not final yet.</summary>
    public const string Processing = "processing";
    /// <summary>Every message is final; <c>batch.finalized</c> was emitted.</summary>
    public const string Finalized = "finalized";

    /// <summary>In the order of the batches table's check constraint.</summary>
    public static readonly IReadOnlyList<string> All = [Scheduled, Processing, Finalized];

    /// <summary>What a batch starts as when its send is accepted.</summary>
    public static string Initial(DateTime? scheduledAt) => scheduledAt is null ? Processing : Scheduled;
}
