namespace Ujumbe.Web.Gateway;

// The API's answers, as far as the pages use them (snake_case on the wire, see JsonDefaults).

public sealed record LoginResponse(string AccessToken, string TokenType, int ExpiresIn);

public sealed record PageOf<T>(IReadOnlyList<T> Data, int Page, int PageSize, int Total);

public sealed record Credits(long Balance, long Reserved, long Available);

public sealed record Account(string Id, string Name, string DefaultCountry, string Status, int MaxSegments);

public sealed record UsageDay(DateOnly Date, int Messages, int Sent, int Delivered, int Failed, long Credits);

public sealed record Usage(DateOnly From, DateOnly To, string TimeZone, IReadOnlyList<UsageDay> Data);

public sealed record Quote(int Recipients, string Encoding, int Segments, long Credits, long Balance, long BalanceAfter, bool Sufficient);

public sealed record AcceptedMessage(string Id, string To, string Status);

public sealed record SkippedRecipient(string To, string Reason);

public sealed record SendAccepted(string BatchId, string Status, int Recipients, string Encoding, int Segments, long Credits,
    IReadOnlyList<AcceptedMessage> Messages, IReadOnlyList<SkippedRecipient> Skipped);

public sealed record Message(
    string Id, string BatchId, string To, string SenderId, string Text, string Status, string Encoding, int Segments,
    int Credits, string? ErrorCode, DateTime CreatedAt, DateTime? SentAt, DateTime? DeliveredAt, DateTime? FailedAt,
    DateTime? CanceledAt, string? Reference);

public sealed record BatchSummary(int Total, int Scheduled, int Queued, int Sent, int Delivered, int Failed, int Rejected, int Canceled);

public sealed record BatchReport(
    string BatchId, string Status, BatchSummary Summary, string SenderId, string Encoding, int Segments, long Credits,
    DateTime CreatedAt, DateTime? ScheduledAt, DateTime? FinalizedAt, string? Reference,
    IReadOnlyList<Message> Messages, int Page, int PageSize, int Total);

public sealed record ApiKey(
    string Id, string Name, string PublicKey, string[] Scopes, string Status,
    DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt, DateTime? LastUsedAt);

public sealed record IssuedApiKey(string Id, string Name, string PublicKey, string Secret, string[] Scopes, DateTime CreatedAt, DateTime? ExpiresAt);

public sealed record SenderId(string Id, string Name, string Purpose, string Status, string? RejectionReason, DateTime CreatedAt, DateTime? DecidedAt);

public sealed record AdminSenderId(
    string Id, string AccountId, string Name, string Purpose, string Status, string? RejectionReason, DateTime CreatedAt, DateTime? DecidedAt);

public sealed record Webhook(
    string Id, string Url, string[] Events, bool Enabled, string? DisabledReason, DateTime CreatedAt, DateTime UpdatedAt, string Format = "ujumbe");

public sealed record CreatedWebhook(string Id, string Url, string[] Events, bool Enabled, string Secret, DateTime CreatedAt, string Format = "ujumbe");

public sealed record WebhookAttempt(DateTime AttemptedAt, int? StatusCode, int? LatencyMs, string? Error, DateTime? NextAttemptAt);

public sealed record WebhookDelivery(
    string Id, string EventId, string EventType, string Url, string Status, int Attempts, DateTime? NextAttemptAt,
    int? LastStatusCode, string? LastError, DateTime CreatedAt, DateTime? CompletedAt, IReadOnlyList<WebhookAttempt> History);

public sealed record AdminAccount(
    string Id, string Name, string DefaultCountry, string Status, bool IsOperator, bool IsPartner,
    int MaxSegments, long Balance, long Reserved, DateTime CreatedAt);

public sealed record Tenant(
    string Id, string Name, string Email, string DefaultCountry, string TimeZone, string Status,
    long Balance, long Reserved, long Available, DateTime CreatedAt);

public sealed record TransferSide(string AccountId, long Balance, long Reserved, long Available);

public sealed record CreditTransfer(string Reference, long Amount, TransferSide Partner, TransferSide Tenant, DateTime CreatedAt);

public sealed record Invitation(string Email, string Token, DateTime ExpiresAt);

public sealed record AcceptedInvitation(string Email);

public sealed record PartnerMarked(AdminAccount Account, IssuedApiKey? ApiKey);

public sealed record CreatedAccount(string Id, string Name, string DefaultCountry, string Status, string OwnerEmail, IssuedApiKey ApiKey);

public sealed record LedgerEntry(
    string Id, string Kind, long Amount, long ReservedChange, long BalanceAfter, long ReservedAfter, long AvailableAfter,
    string? Reference, DateTime CreatedAt);

public static class WebhookEvents
{
    /// <summary>The shapes an endpoint can receive events in (decision 0026), with how the form names them.</summary>
    public static readonly IReadOnlyDictionary<string, string> Formats = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["ujumbe"] = "Ujumbe (Standard Webhooks signature)",
        ["wasambazie"] = "Wasambazie (delivery.batch.finalized, X-Wasambazie-Signature)",
    };

    public static readonly string[] All =
    [
        "message.sent", "message.delivered", "message.failed", "batch.finalized",
        "payment.completed", "payment.failed", "sender_id.approved", "sender_id.rejected",
    ];
}

public sealed record Contact(
    string Id, string? Name, string PhoneNumber, string? Email, string[] Tags, bool OptedOut, DateTime CreatedAt, DateTime UpdatedAt,
    System.Text.Json.JsonElement? Attributes = null);

public sealed record ImportRowError(int Row, string Error);

public sealed record ContactImport(int Rows, int Created, int Updated, int OptedOut, int Failed, IReadOnlyList<ImportRowError> Errors, bool ErrorsTruncated);

public sealed record DeadLetter(
    string Id, string Queue, string Status, int Attempts, string? LastError, DateTime? FirstFailedAt, DateTime DeadLetteredAt,
    DateTime? ReplayedAt, string? ReplayedBy, string? TraceParent, int BodyBytes, string? Body);

public sealed record Segment(string Id, string Name, string[] TagsAny, string[] TagsAll, DateTime CreatedAt, DateTime UpdatedAt);

public sealed record CampaignSummary(int Total, int Queued, int Sent, int Delivered, int Failed, int Canceled, int Skipped);

public sealed record Campaign(
    string Id, string Name, string Status, string Text, string SenderId, System.Text.Json.JsonElement Audience, string BatchId, long Credits,
    DateTime? ScheduledAt, DateTime CreatedAt, CampaignSummary Summary, IReadOnlyList<string>? SkippedNumbers);

public sealed record ContentRule(string Id, string Category, string Phrase, DateTime CreatedAt);

public sealed record Payment(
    string PaymentId, string AccountId, string Status, long Credits, decimal Amount, string Currency, string Provider,
    string PhoneNumber, string? Instructions, string? ProviderTransactionId, string? FailureReason,
    DateTime CreatedAt, DateTime ExpiresAt, DateTime? CompletedAt, DateTime? FailedAt);

public static class MobileMoney
{
    public const string Pending = "pending";

    public static readonly string[] Statuses = [Pending, "completed", "failed"];

    /// <summary>The networks a payer can pay from (decision 0025), as the form names them: with the number ranges each can charge.</summary>
    public static readonly IReadOnlyDictionary<string, string> Networks = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["vodacom"] = "Vodacom (074, 075, 076)",
        ["tigo"] = "Tigo (065, 067, 071, 077)",
        ["airtel"] = "Airtel (068, 069, 078)",
        ["halotel"] = "Halotel (061, 062)",
    };

    public static string NetworkName(string network) =>
        Networks.TryGetValue(network, out var name) ? name[..name.IndexOf(' ', StringComparison.Ordinal)] : network;
}
