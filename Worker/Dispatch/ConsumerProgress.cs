using System.Collections.Concurrent;

namespace Ujumbe.Worker.Dispatch;

/// <summary>
/// What the queue consumers are doing, for <see cref="DispatchHealthCheck"/>: the deliveries being handled
/// and since when, when one last finished, and whether each consumer is attached to its queue.
/// </summary>
public sealed class ConsumerProgress(TimeProvider time)
{
    private readonly ConcurrentDictionary<long, (string Queue, DateTimeOffset Since)> _handling = new();
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastFinished = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _detachedSince = new(StringComparer.Ordinal);
    private long _next;

    /// <summary>When this Worker started consuming (the health check's "nothing finished yet" counts from here).</summary>
    public DateTimeOffset StartedAt { get; } = time.GetUtcNow();

    public long Started(string queue)
    {
        var id = Interlocked.Increment(ref _next);
        _handling[id] = (queue, time.GetUtcNow());
        return id;
    }

    public void Finished(long id)
    {
        if (_handling.TryRemove(id, out var handled))
        {
            _lastFinished[handled.Queue] = time.GetUtcNow();
        }
    }

    /// <summary>The consumer is taking deliveries from <paramref name="queue"/>.</summary>
    public void Attached(string queue) => _detachedSince.TryRemove(queue, out _);

    /// <summary>The consumer of <paramref name="queue"/> is not taking deliveries (its channel is closed, or not yet open).</summary>
    public void Detached(string queue) => _detachedSince.TryAdd(queue, time.GetUtcNow());

    /// <summary>The delivery handled longest, if any: its queue and for how long.</summary>
    public (string Queue, TimeSpan For)? LongestHandled()
    {
        var now = time.GetUtcNow();
        var oldest = _handling.Values.OrderBy(h => h.Since).Cast<(string Queue, DateTimeOffset Since)?>().FirstOrDefault();
        return oldest is { } h ? (h.Queue, now - h.Since) : null;
    }

    /// <summary>How long since a delivery of <paramref name="queue"/> last finished (since the start if none has).</summary>
    public TimeSpan SinceLastFinished(string queue) =>
        time.GetUtcNow() - _lastFinished.GetValueOrDefault(queue, StartedAt);

    public bool IsHandling(string queue) => _handling.Values.Any(h => h.Queue == queue);

    /// <summary>A consumer detached for longest, if any.</summary>
    public (string Queue, TimeSpan For)? LongestDetached()
    {
        var now = time.GetUtcNow();
        var oldest = _detachedSince.OrderBy(d => d.Value).Cast<KeyValuePair<string, DateTimeOffset>?>().FirstOrDefault();
        return oldest is { } d ? (d.Key, now - d.Value) : null;
    }
}
