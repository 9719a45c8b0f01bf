namespace Ujumbe.Shared.Messaging;

/// <summary>API.md "Idempotency": a key is remembered, with its answer, for this long.</summary>
public static class IdempotencyKeys
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);

    /// <summary>
    /// A key claimed by a request that has not answered for this long is taken to be abandoned (its process
    /// stopped between doing the work and recording the answer) and may be claimed again. Sends never leave
    /// one: their claim commits with the send itself.
    /// </summary>
    public static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(5);
}
