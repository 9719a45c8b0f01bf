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
    private ContentPolicy? _policy;
    private DateTimeOffset _loadedAt;

    public async ValueTask<ContentPolicy> GetAsync(CancellationToken cancellationToken)
    {
        if (_policy is { } fresh && time.GetUtcNow() - _loadedAt < MaxAge)
        {
            return fresh;
        }
        await _loading.WaitAsync(cancellationToken);
        try
        {
            if (_policy is { } loaded && time.GetUtcNow() - _loadedAt < MaxAge)
            {
                return loaded;
            }
            var rules = new List<ContentRule>();
            await using var command = database.CreateCommand("select id, category, phrase from content_rules order by created_at, id");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rules.Add(new ContentRule(reader.GetGuid(0), reader.GetString(1), reader.GetString(2)));
            }
            _policy = new ContentPolicy(rules);
            _loadedAt = time.GetUtcNow();
            return _policy;
        }
        finally
        {
            _loading.Release();
        }
    }

    public void Invalidate() => _policy = null;

    public void Dispose() => _loading.Dispose();
}

public static class ContentProblems
{
    /// <summary>403 CONTENT_REJECTED naming the category (not the phrase: the rules are the operators' to share or not).</summary>
    public static Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult Rejected(ContentMatch match) =>
        ServiceDefaults.Problems.Create(403, ServiceDefaults.ErrorCodes.ContentRejected, "Content not allowed.",
            $"The text contains content this platform does not carry (category: {match.Category}). Nothing was queued or charged.",
            extensions: [new("category", match.Category)]);
}
