using System.Globalization;
using Ujumbe.Shared.Redis;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Lua scripts run by EVALSHA, falling back to EVAL when the server has lost them.</summary>
public sealed class RedisScriptTests : IAsyncLifetime
{
    // A fixed-window limiter like the gateway's: count this request, start the window on the first, say whether it fits.
    private static readonly RedisScript FixedWindow = new("""
        local count = redis.call('INCR', KEYS[1])
        if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
        if count > tonumber(ARGV[1]) then return {0, count} end
        return {1, count}
        """);

    private static readonly RedisScript Echo = new("return {KEYS[1], ARGV[1], ARGV[2], #KEYS, #ARGV}");

    private StackRedis _redis = null!;

    private RedisClient Client => _redis.Client;

    public async Task InitializeAsync() => _redis = await StackRedis.ConnectAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task A_script_is_named_by_the_sha1_redis_computes_for_it()
    {
        var loaded = await Client.ExecuteAsync("SCRIPT", ["LOAD", FixedWindow.Source]);

        Assert.Equal(loaded.AsString(), FixedWindow.Sha1);
        Assert.Matches("^[0-9a-f]{40}$", FixedWindow.Sha1);
    }

    [Fact]
    public async Task A_script_gets_its_keys_and_arguments_and_returns_its_reply()
    {
        var reply = await Client.EvalAsync(Echo, [_redis.Key("k")], ["a", 42]);

        Assert.Equal($"[{_redis.Key("k")}, a, 42, 1, 2]", reply.ToString());
    }

    [Fact]
    public async Task A_script_error_is_a_RedisServerException_and_the_connection_keeps_working()
    {
        var failing = new RedisScript("return redis.call('NO-SUCH-COMMAND')");

        var error = await Assert.ThrowsAsync<RedisServerException>(async () => await Client.EvalAsync(failing, []));

        Assert.Contains("Unknown Redis command", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(Client.IsConnected);
        Assert.Equal(1, (await Client.EvalAsync(new RedisScript("return 1"), [])).AsInt64());
    }

    [Fact]
    public async Task Concurrent_evaluations_of_a_rate_limit_script_admit_exactly_the_limit()
    {
        var key = _redis.Key("window");

        var replies = await Task.WhenAll(Enumerable.Range(0, 1000).Select(async _ => await Client.EvalAsync(FixedWindow, [key], [600, 60_000])));

        Assert.Equal(600, replies.Count(r => r[0].AsInt64() == 1));
        Assert.Equal(Enumerable.Range(1, 1000).Select(i => (long)i), replies.Select(r => r[1].AsInt64()).Order());
        Assert.InRange((await Client.ExecuteAsync("PTTL", [key])).AsInt64(), 1, 60_000);
    }

    [Fact]
    public async Task After_SCRIPT_FLUSH_a_script_is_loaded_again_by_EVAL_and_then_runs_by_EVALSHA()
    {
        // A private server: SCRIPT FLUSH and the command statistics would disturb (and be disturbed by) other tests.
        await using var server = await TemporaryRedis.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString);
        var script = new RedisScript("return ARGV[1] .. '!'");

        Assert.Equal("a!", (await client.EvalAsync(script, [], ["a"])).AsString()); // NOSCRIPT, then EVAL
        Assert.Equal("b!", (await client.EvalAsync(script, [], ["b"])).AsString()); // EVALSHA
        Assert.Equal(1, (await client.ExecuteAsync("SCRIPT", ["EXISTS", script.Sha1]))[0].AsInt64());

        await client.ExecuteAsync("SCRIPT", ["FLUSH"]);
        Assert.Equal(0, (await client.ExecuteAsync("SCRIPT", ["EXISTS", script.Sha1]))[0].AsInt64());
        Assert.Equal("c!", (await client.EvalAsync(script, [], ["c"])).AsString()); // NOSCRIPT, then EVAL
        Assert.Equal("d!", (await client.EvalAsync(script, [], ["d"])).AsString()); // EVALSHA

        var stats = await CommandStatsAsync(client);
        Assert.Equal(2, stats["eval"].Calls);
        Assert.Equal(4, stats["evalsha"].Calls); // every evaluation tried EVALSHA first …
        Assert.Equal(2, stats["evalsha"].Failed); // … and two got NOSCRIPT
    }

    private static async Task<Dictionary<string, (long Calls, long Failed)>> CommandStatsAsync(RedisClient client)
    {
        // cmdstat_evalsha:calls=2,usec=…,usec_per_call=…,rejected_calls=0,failed_calls=2
        var info = (await client.ExecuteAsync("INFO", ["commandstats"])).AsString()!;
        var stats = new Dictionary<string, (long, long)>();
        foreach (var line in info.Split("\r\n").Where(l => l.StartsWith("cmdstat_", StringComparison.Ordinal)))
        {
            var name = line["cmdstat_".Length..line.IndexOf(':', StringComparison.Ordinal)];
            var fields = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Split(',')
                .Select(f => f.Split('='))
                .ToDictionary(f => f[0], f => f[1]);
            stats[name] = (long.Parse(fields["calls"], CultureInfo.InvariantCulture),
                long.Parse(fields.GetValueOrDefault("failed_calls", "0"), CultureInfo.InvariantCulture));
        }
        return stats;
    }
}
