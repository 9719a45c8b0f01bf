using System.Globalization;
using StackExchange.Redis;
using Ujumbe.Shared.Redis;

namespace Ujumbe.Gateway.RateLimiting;

/// <summary>One limit to count a request against: <paramref name="Limit"/> requests per <paramref name="Period"/>.</summary>
public readonly record struct Bucket(string Key, int Limit, TimeSpan Period);

/// <summary>
/// The answer for a request: whether it may pass, and the figures for the X-RateLimit-* headers of the
/// tightest bucket (the one with the fewest requests left).
/// </summary>
public readonly record struct RateDecision(bool Allowed, int Limit, int Remaining, TimeSpan Reset, TimeSpan RetryAfter);

/// <summary>
/// GCRA (the generic cell rate algorithm): each bucket keeps one number, the theoretical arrival time
/// (TAT) of the next request. A request is allowed if it does not push the TAT more than one period past
/// now. Unlike fixed windows there is no edge to exploit: a client can never do more than the limit in
/// any period of that length, and a full burst is allowed only after it has been idle.
/// <para>
/// All buckets of a request are checked and, only if every one allows it, charged in one Lua script:
/// one Redis round trip, atomic, on Redis's own clock (so every gateway replica shares one limit).
/// </para>
/// <para>
/// Each replica also keeps a record of every bucket's TAT as Redis last answered it (plus what it admitted
/// itself while Redis was away). While Redis fails, the replica limits from that record with the same
/// algorithm, so a key that spent its limit stays refused. Every script call carries the record as a floor,
/// so a Redis that lost its data (a restart) is seeded from it on the next request: spent limits are not
/// forgiven. See decision 0010 for the bound.
/// </para>
/// </summary>
public sealed partial class RateLimiter(IConnectionMultiplexer redis, TimeProvider time, ILogger<RateLimiter> logger)
{
    // KEYS: the buckets; ARGV: limit, period (ms) and this replica's recorded TAT (ms from now, 0 if none)
    // of each, in order. Returns {allowed (0/1), retry after ms, then for each bucket: remaining, reset ms}.
    private const string Gcra = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local allowed = 1
        local retry = 0
        local tats = {}
        local result = {0, 0}
        for i = 1, #KEYS do
          local limit = tonumber(ARGV[3 * i - 2])
          local period = tonumber(ARGV[3 * i - 1])
          local interval = period / limit
          local tat = tonumber(redis.call('GET', KEYS[i]) or now)
          local recorded = now + tonumber(ARGV[3 * i])
          if tat < recorded then tat = recorded end
          if tat < now then tat = now end
          local new_tat = tat + interval
          if new_tat - now > period then
            allowed = 0
            local wait = new_tat - now - period
            if wait > retry then retry = wait end
            tats[i] = tat
          else
            tats[i] = new_tat
          end
        end
        for i = 1, #KEYS do
          local limit = tonumber(ARGV[3 * i - 2])
          local period = tonumber(ARGV[3 * i - 1])
          local interval = period / limit
          local tat = tats[i]
          if allowed == 1 or tat > now then
            redis.call('SET', KEYS[i], string.format('%.3f', tat), 'PX', math.max(1, math.ceil(tat - now)))
          end
          result[2 * i + 1] = math.max(0, math.floor((period - (tat - now)) / interval))
          result[2 * i + 2] = math.max(0, math.ceil(tat - now))
        end
        result[1] = allowed
        result[2] = math.ceil(retry)
        return result
        """;

    // KEYS: one bucket; ARGV: its limit and period (ms). Gives back one request's emission interval.
    private const string Refund = """
        local tat = tonumber(redis.call('GET', KEYS[1]))
        if not tat then return 0 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        tat = tat - tonumber(ARGV[2]) / tonumber(ARGV[1])
        if tat <= now then
          redis.call('DEL', KEYS[1])
        else
          redis.call('SET', KEYS[1], string.format('%.3f', tat), 'PX', math.max(1, math.ceil(tat - now)))
        end
        return 1
        """;

    // This replica's record of each bucket's TAT (Unix ms, its own clock); only touched under _recordGate.
    private readonly Dictionary<string, double> _record = new(StringComparer.Ordinal);
    private readonly Lock _recordGate = new();
    private long _lastFallbackLog;
    private long _lastSweep;

    public async ValueTask<RateDecision> CheckAsync(IReadOnlyList<Bucket> buckets, CancellationToken cancellationToken)
    {
        var keys = new RedisKey[buckets.Count];
        var arguments = new StackExchange.Redis.RedisValue[buckets.Count * 3];
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_recordGate)
        {
            for (var i = 0; i < buckets.Count; i++)
            {
                keys[i] = buckets[i].Key;
                arguments[3 * i] = buckets[i].Limit;
                arguments[3 * i + 1] = (long)buckets[i].Period.TotalMilliseconds;
                arguments[3 * i + 2] = _record.TryGetValue(buckets[i].Key, out var tat) ? (long)Math.Max(0, Math.Ceiling(tat - now)) : 0;
            }
        }
        try
        {
            // The client sends the script by its SHA1 once the server knows it (one round trip), EVAL otherwise.
            var reply = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(Gcra, keys, arguments))!;
            var figures = new (long Remaining, long ResetMs)[buckets.Count];
            for (var i = 0; i < buckets.Count; i++)
            {
                figures[i] = ((long)reply[2 * i + 2], (long)reply[2 * i + 3]);
            }
            Remember(buckets, figures);
            return Decide(buckets, (long)reply[0] == 1, (long)reply[1], figures);
        }
        catch (Exception error) when (RedisRegistration.IsRedisFailure(error))
        {
            var tick = Environment.TickCount64;
            if (tick - Interlocked.Read(ref _lastFallbackLog) > 10_000)
            {
                Interlocked.Exchange(ref _lastFallbackLog, tick);
                LogFallback(logger, error);
            }
            return CheckLocally(buckets);
        }
    }

    /// <summary>Records the TATs Redis answered (reset = TAT - now), keeping whichever is later.</summary>
    private void Remember(IReadOnlyList<Bucket> buckets, (long Remaining, long ResetMs)[] figures)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_recordGate)
        {
            for (var i = 0; i < buckets.Count; i++)
            {
                if (figures[i].ResetMs <= 0)
                {
                    continue;
                }
                var tat = now + (double)figures[i].ResetMs;
                if (!_record.TryGetValue(buckets[i].Key, out var recorded) || recorded < tat)
                {
                    _record[buckets[i].Key] = tat;
                }
            }
            SweepIfLarge(now);
        }
    }

    /// <summary>Takes back one request counted against <paramref name="bucket"/> (it turned out not to be what the bucket limits).</summary>
    public async ValueTask RefundAsync(Bucket bucket, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_recordGate)
        {
            if (_record.TryGetValue(bucket.Key, out var tat))
            {
                tat -= bucket.Period.TotalMilliseconds / bucket.Limit;
                if (tat <= now)
                {
                    _record.Remove(bucket.Key);
                }
                else
                {
                    _record[bucket.Key] = tat;
                }
            }
        }
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(Refund, [bucket.Key], [bucket.Limit, (long)bucket.Period.TotalMilliseconds]);
        }
        catch (Exception error) when (RedisRegistration.IsRedisFailure(error))
        {
            // Charged here while Redis was away (the record above is what counts then), or not at all.
        }
    }

    /// <summary>The same algorithm on this replica's record: what Redis last said plus what this replica admitted since.</summary>
    private RateDecision CheckLocally(IReadOnlyList<Bucket> buckets)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_recordGate)
        {
            var allowed = true;
            double retry = 0;
            var tats = new double[buckets.Count];
            for (var i = 0; i < buckets.Count; i++)
            {
                var period = buckets[i].Period.TotalMilliseconds;
                var interval = period / buckets[i].Limit;
                var tat = Math.Max(_record.GetValueOrDefault(buckets[i].Key, now), now);
                var next = tat + interval;
                if (next - now > period)
                {
                    allowed = false;
                    retry = Math.Max(retry, next - now - period);
                    tats[i] = tat;
                }
                else
                {
                    tats[i] = next;
                }
            }
            var figures = new (long Remaining, long ResetMs)[buckets.Count];
            for (var i = 0; i < buckets.Count; i++)
            {
                var period = buckets[i].Period.TotalMilliseconds;
                var interval = period / buckets[i].Limit;
                if (allowed)
                {
                    _record[buckets[i].Key] = tats[i];
                }
                figures[i] = ((long)Math.Max(0, Math.Floor((period - (tats[i] - now)) / interval)), (long)Math.Max(0, Math.Ceiling(tats[i] - now)));
            }
            SweepIfLarge(now);
            return Decide(buckets, allowed, (long)Math.Ceiling(retry), figures);
        }
    }

    private void SweepIfLarge(long now)
    {
        // At most once a second: buckets still running stay, so a large record may stay large for a while.
        if (_record.Count <= 100_000 || now - _lastSweep < 1000)
        {
            return;
        }
        _lastSweep = now;
        // Buckets whose TAT has passed are full again: forgetting them changes nothing.
        foreach (var (key, tat) in _record)
        {
            if (tat <= now)
            {
                _record.Remove(key);
            }
        }
    }

    private static RateDecision Decide(IReadOnlyList<Bucket> buckets, bool allowed, long retryMs, (long Remaining, long ResetMs)[] figures)
    {
        var tightest = 0;
        for (var i = 1; i < buckets.Count; i++)
        {
            if (figures[i].Remaining < figures[tightest].Remaining)
            {
                tightest = i;
            }
        }
        return new RateDecision(allowed, buckets[tightest].Limit, (int)Math.Min(int.MaxValue, figures[tightest].Remaining),
            TimeSpan.FromMilliseconds(figures[tightest].ResetMs), TimeSpan.FromMilliseconds(retryMs));
    }

    public static string Seconds(TimeSpan span) =>
        Math.Max(0, (long)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Redis unreachable: rate limits are applied per gateway replica until it returns")]
    private static partial void LogFallback(ILogger logger, Exception error);
}
