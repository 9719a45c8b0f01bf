namespace Ujumbe.Api.Data;

public enum AccountStatus
{
    Active,
    Suspended,
}

public sealed class Account
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public string DefaultCountry { get; set; } = "TZ";
    /// <summary>IANA zone the account's usage days and months are counted in.</summary>
    public string TimeZone { get; set; } = Accounts.AccountTimeZones.Default;
    /// <summary>The operator's tariff: what one credit costs this account (null: the platform default).</summary>
    public decimal? PricePerCredit { get; set; }
    public string Currency { get; set; } = "TZS";
    public AccountStatus Status { get; set; } = AccountStatus.Active;
    public bool IsOperator { get; set; }
    public bool IsPartner { get; set; }
    public Guid? ParentAccountId { get; set; }
    public int MaxSegments { get; set; } = 10;
    public int? MessagesPerMinute { get; set; }
    public int? ContactsPerHour { get; set; }
    public int? RequestsPerHour { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class User
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public required string Email { get; set; }
    public string? PasswordHash { get; set; }
    public required string Role { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class ApiKey
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public required string Name { get; set; }
    public required string PublicKey { get; set; }
    public required byte[] SecretHash { get; set; }
    public required string[] Scopes { get; set; }
    public DateTime? ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
    public DateTime CreatedAt { get; set; }
}

public enum SenderIdStatus
{
    Pending,
    Approved,
    Rejected,
}

public sealed class SenderId
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public required string Name { get; set; }
    public required string Purpose { get; set; }
    public SenderIdStatus Status { get; set; } = SenderIdStatus.Pending;
    public string? RejectionReason { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? DecidedAt { get; set; }
}

public sealed class Balance
{
    public Guid AccountId { get; set; }
    public long Credits { get; set; }
    public long Reserved { get; set; }
}

public enum LedgerKind
{
    Topup,
    Reserve,
    Capture,
    Release,
    Transfer,
    Adjustment,
}

public sealed class LedgerEntry
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public LedgerKind Kind { get; set; }
    public long Amount { get; set; }
    public long ReservedChange { get; set; }
    public long BalanceAfter { get; set; }
    public long ReservedAfter { get; set; }
    public string? Reference { get; set; }
    public DateTime CreatedAt { get; set; }
    public long Seq { get; set; }
}

public sealed class Batch
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public required string SenderId { get; set; }
    public required string Text { get; set; }
    public required string Encoding { get; set; }
    public int Segments { get; set; }
    public int Recipients { get; set; }
    public long Credits { get; set; }
    public required string Status { get; set; }
    public DateTime? ScheduledAt { get; set; }
    public string? CallbackUrl { get; set; }
    public string? Reference { get; set; }
    public string? TraceParent { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? FinalizedAt { get; set; }
    public int ScheduledCount { get; set; }
    public int QueuedCount { get; set; }
    public int SentCount { get; set; }
    public int DeliveredCount { get; set; }
    public int FailedCount { get; set; }
    public int RejectedCount { get; set; }
    public int CanceledCount { get; set; }
}

public sealed class Message
{
    public Guid Id { get; set; }
    public Guid BatchId { get; set; }
    public Guid AccountId { get; set; }
    public required string Recipient { get; set; }
    public required string Status { get; set; }
    /// <summary>ISO 3166 alpha-2 of the recipient's number, when it has one.</summary>
    public string? Country { get; set; }
    /// <summary>The mobile operator of the recipient's number range, when the carrier data knows it.</summary>
    public string? Operator { get; set; }
    public int Segments { get; set; }
    public int Credits { get; set; }
    public string? Text { get; set; }
    public string? Provider { get; set; }
    public string? ProviderMessageId { get; set; }
    public string? ErrorCode { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? SentAt { get; set; }
    public DateTime? DeliveredAt { get; set; }
    public DateTime? FailedAt { get; set; }
    public DateTime? CanceledAt { get; set; }
}

public sealed class Contact
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public string? Name { get; set; }
    public required string Phone { get; set; }
    public string? Email { get; set; }
    public string[] Tags { get; set; } = [];
    public required System.Text.Json.Nodes.JsonObject Attributes { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>Generated by the database: lower-cased name, phone and email, what <c>q</c> searches.</summary>
    public string Search { get; private set; } = "";
}

public sealed class OptOut
{
    public Guid AccountId { get; set; }
    public required string Phone { get; set; }
    public required string Source { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class Segment
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public required string Name { get; set; }
    public string[] TagsAny { get; set; } = [];
    public string[] TagsAll { get; set; } = [];
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

public sealed class Campaign
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public Guid BatchId { get; set; }
    public required string Name { get; set; }
    public required string Template { get; set; }
    public required string Audience { get; set; }
    public int Skipped { get; set; }
    public string[] SkippedNumbers { get; set; } = [];
    public DateTime CreatedAt { get; set; }
}

public sealed class ContentRuleRow
{
    public Guid Id { get; set; }
    public required string Category { get; set; }
    public required string Phrase { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class Payment
{
    public Guid Id { get; set; }
    /// <summary>The account credited when the payment completes.</summary>
    public Guid AccountId { get; set; }
    /// <summary>The account that asked for it: the account itself, or its partner.</summary>
    public Guid RequestedBy { get; set; }
    public required string Provider { get; set; }
    public required string Phone { get; set; }
    public long Credits { get; set; }
    public decimal Amount { get; set; }
    public required string Currency { get; set; }
    public required string Status { get; set; }
    public string? ProviderReference { get; set; }
    public string? ProviderTransactionId { get; set; }
    public string? FailureReason { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? CheckedAt { get; set; }
    public DateTime? CompletedAt { get; set; }
    public DateTime? FailedAt { get; set; }
}
