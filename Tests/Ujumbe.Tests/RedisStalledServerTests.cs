using System.Collections.Concurrent;
using System.Diagnostics;
using Ujumbe.Shared.Redis;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// A server that stops answering altogether (hung, or unreachable without a reset) is dropped, so callers
/// fail fast instead of each waiting out its timeout, and reconnected when it answers again. On a
/// redis-server of the test's own, paused with CLIENT PAUSE.
/// </summary>
public sealed class RedisStalledServerTests
{
    private static readonly TimeSpan FailFast = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_server_that_stops_answering_altogether_is_dropped_and_reconnected()
    {
        await using var server = await TemporaryRedis.StartAsync();
        await using var admin = await RedisClient.ConnectAsync(server.ConnectionString);
        await using var client = await RedisClient.ConnectAsync(RedisOptions.Parse(server.ConnectionString) with
        {
            CommandTimeout = TimeSpan.FromMilliseconds(200),
            StalledConnectionTimeout = TimeSpan.FromMilliseconds(600),
            ConnectTimeout = TimeSpan.FromMilliseconds(500),
        });

        var downs = new ConcurrentQueue<Exception?>();
        client.ConnectionStateChanged += (_, change) =>
        {
            if (!change.IsConnected)
            {
                downs.Enqueue(change.Error);
            }
        };

        await admin.ExecuteAsync("CLIENT", ["PAUSE", 4000, "ALL"]);
        await Assert.ThrowsAsync<RedisTimeoutException>(async () => await client.GetAsync("k"));

        // dropped after 0.6 s without an answer, long before the pause ends
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(!client.IsConnected), TimeSpan.FromSeconds(3), "the stalled connection is dropped");
        var started = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RedisConnectionException>(async () => await client.GetAsync("k"));
        Assert.True(started.Elapsed < FailFast, $"took {started.Elapsed}");
        Assert.Contains("Not connected to Redis", error.Message, StringComparison.Ordinal);
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(!downs.IsEmpty), because: "the drop is reported with its reason");
        var reason = Assert.Single(downs);
        Assert.Contains($"Redis at 127.0.0.1:{server.Port} has not answered for 0.6 s; dropping the connection", reason!.Message, StringComparison.Ordinal);
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.IsConnected), TimeSpan.FromSeconds(15), "it reconnects once the server answers");
        Assert.Equal("PONG", (await client.ExecuteAsync("PING")).AsString());
    }
}
