using System.Globalization;
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
/// one Redis round trip, atomic, on Redis's own clock (so every gateway replica shares one limit). If
/// Redis fails, each replica limits alone with the same algorithm in memory (see decision 0010).
/// </para>
/// </summary>
public sealed partial class RateLimiter(IRedis redis, TimeProvider time, ILogger<RateLimiter> logger)
{
    // KEYS: the buckets; ARGV: limit and period (ms) of each, in order. Returns
    // {allowed (0/1), retry after ms, then for each bucket: remaining, reset ms}.
    private static readonly RedisScript Gcra = new("""
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local allowed = 1
        local retry = 0
        local tats = {}
        local result = {0, 0}
        for i = 1, #KEYS do
          local limit = tonumber(ARGV[2 * i - 1])
          local period = tonumber(ARGV[2 * i])
          local interval = period / limit
          local tat = tonumber(redis.call('GET', KEYS[i]) or now)
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
          local limit = tonumber(ARGV[2 * i - 1])
          local period = tonumber(ARGV[2 * i])
          local interval = period / limit
          local tat = tats[i]
          if allowed == 1 then
            redis.call('SET', KEYS[i], string.format('%.3f', tat), 'PX', math.max(1, math.ceil(tat - now)))
          end
          result[2 * i + 1] = math.max(0, math.floor((period - (tat - now)) / interval))
          result[2 * i + 2] = math.max(0, math.ceil(tat - now))
        end
        result[1] = allowed
        result[2] = math.ceil(retry)
        return result
        """);

    // KEYS: one bucket; ARGV: its limit and period (ms). Gives back one request's emission interval.
    private static readonly RedisScript Refund = new("""
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
        """);

    // This replica's buckets while Redis is unreachable; only touched under _localGate.
    private readonly Dictionary<string, double> _local = new(StringComparer.Ordinal);
    private readonly Lock _localGate = new();
    private long _lastFallbackLog;

    public async ValueTask<RateDecision> CheckAsync(IReadOnlyList<Bucket> buckets, CancellationToken cancellationToken)
    {
        var keys = new string[buckets.Count];
        var arguments = new RedisArgument[buckets.Count * 2];
        for (var i = 0; i < buckets.Count; i++)
        {
            keys[i] = buckets[i].Key;
            arguments[2 * i] = buckets[i].Limit;
            arguments[2 * i + 1] = (long)buckets[i].Period.TotalMilliseconds;
        }
        try
        {
            var reply = await redis.EvalAsync(Gcra, keys, arguments, cancellationToken);
            var figures = new (long Remaining, long ResetMs)[buckets.Count];
            for (var i = 0; i < buckets.Count; i++)
            {
                figures[i] = (reply[2 * i + 2].AsInt64(), reply[2 * i + 3].AsInt64());
            }
            return Decide(buckets, reply[0].AsInt64() == 1, reply[1].AsInt64(), figures);
        }
        catch (RedisException error)
        {
            var now = Environment.TickCount64;
            if (now - Interlocked.Read(ref _lastFallbackLog) > 10_000)
            {
                Interlocked.Exchange(ref _lastFallbackLog, now);
                LogFallback(logger, error);
            }
            return CheckLocally(buckets);
        }
    }

    /// <summary>Takes back one request counted against <paramref name="bucket"/> (it turned out not to be what the bucket limits).</summary>
    public async ValueTask RefundAsync(Bucket bucket, CancellationToken cancellationToken)
    {
        try
        {
            await redis.EvalAsync(Refund, [bucket.Key], [bucket.Limit, (long)bucket.Period.TotalMilliseconds], cancellationToken);
        }
        catch (RedisException)
        {
            // Charged here while Redis was away, or not at all: at worst one request too many is counted.
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            lock (_localGate)
            {
                if (_local.TryGetValue(bucket.Key, out var tat))
                {
                    tat -= bucket.Period.TotalMilliseconds / bucket.Limit;
                    if (tat <= now)
                    {
                        _local.Remove(bucket.Key);
                    }
                    else
                    {
                        _local[bucket.Key] = tat;
                    }
                }
            }
        }
    }

    /// <summary>The same algorithm, in this process only: each replica allows the full limit on its own.</summary>
    private RateDecision CheckLocally(IReadOnlyList<Bucket> buckets)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        lock (_localGate)
        {
            var allowed = true;
            double retry = 0;
            var tats = new double[buckets.Count];
            for (var i = 0; i < buckets.Count; i++)
            {
                var period = buckets[i].Period.TotalMilliseconds;
                var interval = period / buckets[i].Limit;
                var tat = Math.Max(_local.GetValueOrDefault(buckets[i].Key, now), now);
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
                    _local[buckets[i].Key] = tats[i];
                }
                figures[i] = ((long)Math.Max(0, Math.Floor((period - (tats[i] - now)) / interval)), (long)Math.Max(0, Math.Ceiling(tats[i] - now)));
            }
            if (_local.Count > 100_000)
            {
                // Buckets whose TAT has passed are full again: forgetting them changes nothing.
                foreach (var (key, tat) in _local)
                {
                    if (tat <= now)
                    {
                        _local.Remove(key);
                    }
                }
            }
            return Decide(buckets, allowed, (long)Math.Ceiling(retry), figures);
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
