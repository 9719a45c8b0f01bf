using Npgsql;

namespace Ujumbe.Api.Content;

/// <summary>
/// The operators' content policy as of at most <see cref="MaxAge"/> ago. Every send checks it, so it
/// is held in memory and reloaded lazily; a change made through this instance applies at once, one
/// made through another Api instance within <see cref="MaxAge"/> (docs/decisions/0012).
/// </summary>
public sealed class ContentPolicyProvider(NpgsqlDataSource database, TimeProvider time) : IDisposable
{
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _loading = new(1, 1);
    private Loaded? _loaded;
    private long _invalidations;

    // Generation: the invalidations counted when the load began. A load that a change overtook is stale
    // however young it is, and a change needs nothing else than counting.
    private sealed record Loaded(ContentPolicy Policy, DateTimeOffset At, long Generation);

    private bool IsFresh(Loaded? loaded) =>
        loaded is not null && loaded.Generation == Interlocked.Read(ref _invalidations) && time.GetUtcNow() - loaded.At < MaxAge;

    public async ValueTask<ContentPolicy> GetAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _loaded) is var fresh && IsFresh(fresh))
        {
            return fresh!.Policy;
        }
        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (Volatile.Read(ref _loaded) is var loaded && IsFresh(loaded))
            {
                return loaded!.Policy;
            }
            var generation = Interlocked.Read(ref _invalidations);
            var rules = new List<ContentRule>();
            await using (var command = database.CreateCommand("select id, category, phrase from content_rules order by created_at, id"))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    rules.Add(new ContentRule(reader.GetGuid(0), reader.GetString(1), reader.GetString(2)));
                }
            }
            var load = new Loaded(new ContentPolicy(rules), time.GetUtcNow(), generation);
            Volatile.Write(ref _loaded, load);
            return load.Policy;
        }
        finally
        {
            _loading.Release();
        }
    }

    public void Invalidate() => Interlocked.Increment(ref _invalidations);

    public void Dispose() => _loading.Dispose();
}

public static class ContentProblems
{
    /// <summary>403 CONTENT_REJECTED naming the category (not the phrase: the rules are the operators' to share or not).</summary>
    public static Messages.SendProblem Refusal(ContentMatch match) =>
        new(403, ServiceDefaults.ErrorCodes.ContentRejected, "Content not allowed.",
            $"The text contains content this platform does not carry (category: {match.Category}). Nothing was queued or charged.",
            Extensions: [new("category", match.Category)]);

    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Rejected(ContentMatch match) =>
        Messages.MessagesApi.ToProblem(Refusal(match));
}
