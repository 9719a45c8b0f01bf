using System.Diagnostics;
using Ujumbe.Shared.Redis;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// A slow server never hangs a caller: command timeouts, the pending limit, the connect timeout.
/// Each test runs a redis-server of its own (stopped, restarted or paused at will; the stack's shared Redis
/// is never touched).
/// </summary>
public sealed class RedisTimeoutTests
{
    // Generous for a loaded two-core CI machine, and still far below any timeout involved (30 s, or a pause).
    private static readonly TimeSpan FailFast = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_command_without_a_reply_in_time_times_out_and_the_connection_stays_usable()
    {
        await using var server = await TemporaryRedis.StartAsync();
        await using var admin = await RedisClient.ConnectAsync(server.ConnectionString);
        await using var client = await RedisClient.ConnectAsync(RedisOptions.Parse(server.ConnectionString + ",asyncTimeout=300"));
        var changes = 0;
        client.ConnectionStateChanged += (_, _) => Interlocked.Increment(ref changes);
        await client.SetAsync("k", "v");

        await admin.ExecuteAsync("CLIENT", ["PAUSE", 3000, "ALL"]); // the server holds every client's commands

        var started = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RedisTimeoutException>(async () => await client.GetStringAsync("k"));
        // after the 300 ms timeout, long before the server would have answered (3 s)
        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(290), TimeSpan.FromMilliseconds(2500));
        Assert.Contains($"Redis at 127.0.0.1:{server.Port} did not answer within 300 ms (1 pending; last received ", error.Message, StringComparison.Ordinal);
        Assert.Contains(" ms ago, last sent ", error.Message, StringComparison.Ordinal);
        Assert.True(client.IsConnected);

        // Once the pause ends, the late reply is discarded and later commands get their own replies.
        await HttpAssertions.EventuallyAsync(async () =>
        {
            try
            {
                return await client.GetStringAsync("k") == "v";
            }
            catch (RedisTimeoutException)
            {
                return false;
            }
        }, because: "the server answers again after the pause");
        await client.SetAsync("k", "w");
        Assert.Equal("w", await client.GetStringAsync("k"));
        Assert.Equal(0, changes); // never disconnected
    }

    [Fact]
    public async Task Commands_beyond_the_pending_limit_fail_at_once()
    {
        await using var server = await TemporaryRedis.StartAsync();
        await using var admin = await RedisClient.ConnectAsync(server.ConnectionString);
        await using var client = await RedisClient.ConnectAsync(RedisOptions.Parse(server.ConnectionString) with
        {
            MaxPendingCommands = 10,
            CommandTimeout = TimeSpan.FromSeconds(30),
        });
        // Paused far longer than a slow machine could need to get to the 11th command. (With 1 s the pause
        // once ran out first on a loaded CI run, and the 11th command was then rightly accepted.) It cannot be
        // lifted early: CLIENT UNPAUSE is itself held by the pause.
        await admin.ExecuteAsync("CLIENT", ["PAUSE", 5000, "ALL"]);

        var waiting = Enumerable.Range(0, 10).Select(_ => client.GetStringAsync("k").AsTask()).ToList();
        var started = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RedisConnectionException>(async () => await client.GetStringAsync("k"));

        Assert.True(started.Elapsed < FailFast, $"took {started.Elapsed}");
        Assert.Contains("10 commands are already waiting", error.Message, StringComparison.Ordinal);
        Assert.All(await Task.WhenAll(waiting), Assert.Null); // answered after the pause
    }

    [Fact]
    public async Task Connecting_to_a_server_that_accepts_but_never_answers_times_out_clearly()
    {
        await using var server = await TemporaryRedis.StartAsync();
        await using var admin = await RedisClient.ConnectAsync(server.ConnectionString);
        await admin.ExecuteAsync("CLIENT", ["PAUSE", 4000, "ALL"]);

        var started = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync(server.ConnectionString + ",connectTimeout=300"));

        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(290), TimeSpan.FromMilliseconds(3000));
        Assert.Contains($"Could not connect to Redis at 127.0.0.1:{server.Port} within 300 ms", error.Message, StringComparison.Ordinal);
    }
}
