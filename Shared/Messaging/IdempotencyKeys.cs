namespace Ujumbe.Shared.Messaging;

/// <summary>API.md "Idempotency": a key is remembered, with its answer, for this long.</summary>
public static class IdempotencyKeys
{
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);
}
