using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
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

    /// <summary>
    /// While the Api listens for the Worker's notifications, how often a waiting request reads its batch anyway:
    /// the most a lost notification can cost it (decision 0031).
    /// </summary>
    public TimeSpan ProviderAnswerPoll { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>A batch's messages by where they are: still waiting for a provider, refused by it, or neither.</summary>
public sealed record ProviderAnswer(int Recipients, int Waiting, int Rejected)
{
    /// <summary>Every message was refused by the provider (none is on its way; no credit is captured).</summary>
    public bool AllRejected => Waiting == 0 && Rejected == Recipients;
}

/// <summary>
/// Some seed APIs answer a send only once the provider has (decision 0026). Ujumbe commits a send first and
/// dispatches it after; such a dialect commits through the same pipeline, then waits until no message of the batch
/// is waiting for a provider (its counters: one row, kept by every status move), or the wait is over.
/// <para>
/// It is woken rather than polling (decision 0031): the Worker notifies the batches whose messages a provider
/// answered once that is committed, <see cref="ProviderAnswerListener"/> hears it, and the request reads its batch
/// once. It reads it anyway every <see cref="CompatOptions.ProviderAnswerPoll"/> (a lost notification), at the
/// deadline, and, while the Api is not listening (PostgreSQL away, reconnecting), at short growing pauses as before.
/// </para>
/// </summary>
public sealed class ProviderAnswers(ProviderAnswerSignals signals, IOptions<CompatOptions> options, TimeProvider time)
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(200);

    public async Task<ProviderAnswer> WaitAsync(UjumbeDb db, Guid batchId, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + options.Value.ProviderAnswerWait;
        using var watch = signals.Watch(batchId);
        // Taken before each read, so an answer notified from then on is never missed.
        var changed = watch.Changed;
        // Just committed: the provider cannot have answered yet, unless it was notified before the watch began.
        var read = watch.AnsweredBeforeWatch || !signals.Listening;
        var pause = FirstPoll;
        while (true)
        {
            if (read)
            {
                var answer = await db.Batches.AsNoTracking().Where(b => b.Id == batchId)
                    .Select(b => new ProviderAnswer(b.Recipients, b.ScheduledCount + b.QueuedCount, b.RejectedCount))
                    .SingleAsync(cancellationToken);
                if (answer.Waiting == 0 || time.GetUtcNow() >= deadline)
                {
                    return answer;
                }
            }
            read = true;
            var left = deadline - time.GetUtcNow();
            var next = signals.Listening ? options.Value.ProviderAnswerPoll : pause;
            await WokenOrPastAsync(changed, next < left ? next : left, cancellationToken);
            changed = watch.Changed;
            pause = pause * 2 < LongestPoll ? pause * 2 : LongestPoll;
        }
    }

    /// <summary>Returns when <paramref name="changed"/> completes or <paramref name="pause"/> has passed, whichever is first.</summary>
    private async Task WokenOrPastAsync(Task changed, TimeSpan pause, CancellationToken cancellationToken)
    {
        if (pause <= TimeSpan.Zero)
        {
            return;
        }
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await Task.WhenAny(changed, Task.Delay(pause, time, timer.Token));
        // Woken: the pause's timer is not left running until it would have ended.
        await timer.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }
}
