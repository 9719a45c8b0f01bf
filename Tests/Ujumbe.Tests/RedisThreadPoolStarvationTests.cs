using System.Diagnostics;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Runs alone: its tests block thread-pool threads on purpose, which would slow other tests down.</summary>
[CollectionDefinition(nameof(RedisThreadPoolStarvationTests), DisableParallelization = true)]
public sealed class ThreadPoolStarvationCollection;

[Collection(nameof(RedisThreadPoolStarvationTests))]
public sealed class RedisThreadPoolStarvationTests
{
    [Fact]
    public async Task Replies_are_matched_on_time_even_while_the_thread_pool_is_starved()
    {
        // The reader runs on its own thread: blocking work elsewhere in the process (sync-over-async, a burst of
        // slow handlers) delays the callers' continuations, but must not turn answered commands into timeouts.
        await using var redis = await StackRedis.ConnectAsync(options => options with { CommandTimeout = TimeSpan.FromMilliseconds(500) });
        var key = redis.Key("n");
        var started = Stopwatch.StartNew();
        // Far more blocking work items than the pool has (or will inject) threads, all blocking until one
        // deadline: every pool thread is busy for 1.5 s, then they all finish at once.
        var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 3 / 2;
        using var never = new ManualResetEventSlim();
        for (var i = 0; i < 256; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                if (left > TimeSpan.Zero)
                {
                    never.Wait(left);
                }
            }, null);
        }

        var commands = Enumerable.Range(0, 100).Select(_ => redis.Client.ExecuteAsync("INCR", [key]).AsTask()).ToArray();
        var replies = await Task.WhenAll(commands);

        Assert.True(started.Elapsed > TimeSpan.FromMilliseconds(500), $"the pool was not starved for longer than the timeout ({started.Elapsed})");
        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), replies.Select(r => r.AsInt64()).Order());
    }

    [Fact]
    public async Task A_slow_synchronization_context_of_a_caller_does_not_delay_replies()
    {
        // Callers awaiting on a SynchronizationContext (a UI, xunit's own) get their continuations posted to it.
        // The reader thread must not make those posts itself, one after another: each may be slow.
        await using var redis = await StackRedis.ConnectAsync(options => options with { CommandTimeout = TimeSpan.FromSeconds(1) });
        var key = redis.Key("n");
        var slow = new SlowPostContext(TimeSpan.FromMilliseconds(20)); // 100 posts in a row would take 2 s
        var previous = SynchronizationContext.Current;
        Task<long>[] commands;
        SynchronizationContext.SetSynchronizationContext(slow);
        try
        {
            commands = Enumerable.Range(0, 100).Select(_ => IncrementAsync(redis, key)).ToArray();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        var replies = await Task.WhenAll(commands);

        Assert.Equal(Enumerable.Range(1, 100).Select(i => (long)i), replies.Order());
        // A reply that arrives before its caller reaches the await continues inline, without a post; the
        // rest must have gone through the context, or the test proved nothing (60 serial posts > 1 s).
        Assert.InRange(slow.Posts, 60, 100);
    }

    private static async Task<long> IncrementAsync(StackRedis redis, string key) =>
        (await redis.Client.ExecuteAsync("INCR", [key])).AsInt64(); // continues on the slow context

    private sealed class SlowPostContext(TimeSpan delay) : SynchronizationContext
    {
        private static readonly ManualResetEventSlim Never = new();
        private int _posts;

        public int Posts => Volatile.Read(ref _posts);

        public override void Post(SendOrPostCallback d, object? state)
        {
            Interlocked.Increment(ref _posts);
            Never.Wait(delay); // a slow Post
            ThreadPool.QueueUserWorkItem(_ =>
            {
                SetSynchronizationContext(this);
                d(state);
            });
        }
    }
}
