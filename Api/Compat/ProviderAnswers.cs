using Microsoft.EntityFrameworkCore;
using Ujumbe.Api.Data;

namespace Ujumbe.Api.Compat;

/// <summary>Settings of the compatibility dialects (section <c>Compat</c>).</summary>
public sealed class CompatOptions
{
    public const string Section = "Compat";

    /// <summary>
    /// How long a dialect whose API answers after the provider did (Wasambazie: 502 when the provider rejects)
    /// waits for the provider's answer before it answers anyway, as accepted.
    /// </summary>
    public TimeSpan ProviderAnswerWait { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>A batch's messages by where they are: still waiting for a provider, refused by it, or neither.</summary>
public sealed record ProviderAnswer(int Recipients, int Waiting, int Rejected)
{
    /// <summary>Every message was refused by the provider (none is on its way; no credit is captured).</summary>
    public bool AllRejected => Waiting == 0 && Rejected == Recipients;
}

/// <summary>
/// Some seed APIs answer a send only once the provider has (decision 0026). Ujumbe commits a send first and
/// dispatches it after; such a dialect commits through the same pipeline, then watches the batch's counters
/// (one row, kept by every status move) until no message is waiting for a provider, or the wait is over.
/// </summary>
public static class ProviderAnswers
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(200);

    public static async Task<ProviderAnswer> WaitAsync(UjumbeDb db, Guid batchId, TimeSpan wait, TimeProvider time, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + wait;
        var pause = FirstPoll;
        while (true)
        {
            var answer = await db.Batches.AsNoTracking().Where(b => b.Id == batchId)
                .Select(b => new ProviderAnswer(b.Recipients, b.ScheduledCount + b.QueuedCount, b.RejectedCount))
                .SingleAsync(cancellationToken);
            var left = deadline - time.GetUtcNow();
            if (answer.Waiting == 0 || left <= TimeSpan.Zero)
            {
                return answer;
            }
            await Task.Delay(pause < left ? pause : left, time, cancellationToken);
            pause = pause * 2 < LongestPoll ? pause * 2 : LongestPoll;
        }
    }
}
