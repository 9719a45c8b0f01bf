using System.Globalization;
using System.Security.Cryptography;
using Ujumbe.Shared.Redis;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>One connection shared by many concurrent callers: replies reach the right caller, writes coalesce.</summary>
public sealed class RedisPipeliningTests : IAsyncLifetime
{
    private StackRedis _redis = null!;

    private RedisClient Client => _redis.Client;

    public async Task InitializeAsync() => _redis = await StackRedis.ConnectAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task Ten_thousand_concurrent_increments_from_many_tasks_count_exactly_and_each_caller_gets_its_own_reply()
    {
        var key = _redis.Key("counter");

        var replies = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            var mine = new List<long>(200);
            for (var i = 0; i < 200; i++)
            {
                mine.Add((await Client.ExecuteAsync("INCR", [key])).AsInt64());
            }
            return mine;
        })));
        var burst = await Task.WhenAll(Enumerable.Range(0, 10_000).Select(async _ => (await Client.ExecuteAsync("INCR", [key])).AsInt64()));

        Assert.Equal(20_000, (await Client.ExecuteAsync("GET", [key])).AsInt64());
        // every reply value 1..20000 appears exactly once: no reply was lost, duplicated or given to the wrong caller
        Assert.Equal(Enumerable.Range(1, 20_000).Select(i => (long)i), replies.SelectMany(r => r).Concat(burst).Order());
        // and within one sequential caller, values only grow
        Assert.All(replies, mine => Assert.Equal(mine.Order(), mine));
    }

    [Fact]
    public async Task Concurrent_callers_each_read_back_their_own_value()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => Task.Run(async () =>
        {
            var key = _redis.Key("own-" + i.ToString(CultureInfo.InvariantCulture));
            // sizes from a few bytes to 64 KiB, so large and small commands interleave on the wire
            var value = RandomNumberGenerator.GetBytes(i % 100 == 0 ? 64 * 1024 : 8 + i % 300);
            await Client.SetAsync(key, value);
            var read = await Client.GetAsync(key);
            await Client.SetAsync(key, "second-" + i);
            return read.AsSpan().SequenceEqual(value) && await Client.GetStringAsync(key) == "second-" + i;
        })));

        Assert.All(results, Assert.True);
    }

    [Fact]
    public async Task Commands_issued_together_go_out_in_a_few_socket_writes()
    {
        // A private server, so its read counter sees only this test's traffic.
        await using var server = await TemporaryRedis.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString);
        var before = await ReadsProcessedAsync(client);

        var pending = new Task<RedisValue>[10_000];
        for (var i = 0; i < pending.Length; i++)
        {
            pending[i] = client.ExecuteAsync("INCR", ["counter"]).AsTask();
        }
        for (var i = 0; i < pending.Length; i++)
        {
            Assert.Equal(i + 1, (await pending[i]).AsInt64());
        }
        var reads = await ReadsProcessedAsync(client) - before;

        // One command per write would make the server read ~10,000 times; coalesced, it reads the
        // ~0.3 MB in (socket-buffer-sized) pieces.
        Assert.InRange(reads, 1, 500);
    }

    private static async Task<long> ReadsProcessedAsync(RedisClient client)
    {
        var info = (await client.ExecuteAsync("INFO", ["stats"])).AsString()!;
        var line = info.Split("\r\n").Single(l => l.StartsWith("total_reads_processed:", StringComparison.Ordinal));
        return long.Parse(line["total_reads_processed:".Length..], CultureInfo.InvariantCulture);
    }
}
