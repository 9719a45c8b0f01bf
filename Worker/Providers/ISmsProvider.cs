using Ujumbe.Shared.Messaging;

namespace Ujumbe.Worker.Providers;

public enum SubmitStatus
{
    /// <summary>The provider took the message; a delivery report will follow.</summary>
    Accepted,

    /// <summary>The provider refused the message for good (bad number, blocked content, …).</summary>
    Rejected,

    /// <summary>The provider could not be reached or asked us to come back later: it did not take the message; try again (any provider).</summary>
    Unavailable,

    /// <summary>
    /// The request left but no answer came (a timeout, a connection lost mid-way): the provider may have taken the
    /// message. Try again later, with this provider only, so a message is never sent by two.
    /// </summary>
    Uncertain,
}

/// <summary>One message's answer; <see cref="Provider"/> is the name of the provider that gave it (set by routing).</summary>
public sealed record SubmitResult(Guid MessageId, SubmitStatus Status, string? ProviderMessageId = null, string? ErrorCode = null, string? Provider = null);

/// <summary>
/// An upstream SMS provider. Submissions carry our message id so a provider that deduplicates on it
/// never sends a message twice when we resubmit after a crash. Delivery reports come back
/// asynchronously on the delivery-reports queue.
/// </summary>
public interface ISmsProvider
{
    string Name { get; }

    Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<OutboundMessage> messages, CancellationToken cancellationToken);
}
