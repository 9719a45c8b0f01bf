using System.Text.Json.Serialization;

namespace Ujumbe.Shared.Messaging;

/// <summary>One message to hand to a provider, with everything the provider needs.</summary>
public sealed record OutboundMessage(Guid Id, Guid BatchId, Guid AccountId, string To, string From, string Text, int Segments);

/// <summary>
/// The unit of dispatch work: up to a few hundred messages, possibly from several sends that were
/// committed together. <see cref="TraceParents"/> are the W3C contexts of the requests behind them.
/// </summary>
public sealed record DispatchChunk(IReadOnlyList<OutboundMessage> Messages, IReadOnlyList<string> TraceParents);

/// <summary>A provider's verdict on one message after it was sent: delivered to the handset or not.</summary>
/// <remarks><see cref="Provider"/>: the name of the provider that reported (for its delivery-report rate); null from the simulator.</remarks>
public sealed record DeliveryReport(Guid MessageId, string? ProviderMessageId, bool Delivered, string? ErrorCode, DateTime At, string? Provider = null);

public sealed record DeliveryReportBatch(IReadOnlyList<DeliveryReport> Reports);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(DispatchChunk))]
[JsonSerializable(typeof(DeliveryReportBatch))]
public sealed partial class MessagingJson : JsonSerializerContext;
