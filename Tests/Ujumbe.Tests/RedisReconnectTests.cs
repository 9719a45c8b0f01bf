using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Ujumbe.Shared.Redis;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// Failing fast while the server is down, recovering by itself when it returns, and closing cleanly.
/// Each test runs a redis-server of its own (stopped, restarted or paused at will; the stack's shared Redis
/// is never touched).
/// </summary>
public sealed class RedisReconnectTests
{
    // Generous for a loaded two-core CI machine, and still far below any timeout involved (30 s, or a pause).
    private static readonly TimeSpan FailFast = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task A_client_created_while_the_server_is_down_does_not_throw_and_connects_by_itself_when_it_starts()
    {
        await using var server = await TemporaryRedis.StartAsync();
        await server.StopServerAsync();

        await using var client = new RedisClient(server.ConnectionString);
        var error = await Assert.ThrowsAsync<RedisConnectionException>(async () => await client.PingAsync());
        Assert.Contains($"Not connected to Redis at 127.0.0.1:{server.Port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("refused", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.False(client.IsConnected);
        await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync(server.ConnectionString));
        await using var lenient = await RedisClient.ConnectAsync(server.ConnectionString + ",abortConnect=false");
        Assert.False(lenient.IsConnected);
        var received = new ConcurrentQueue<string>();
        await using var subscription = await client.SubscribeAsync("news", m => received.Enqueue(m.Text)); // registered for later

        await server.StartServerAsync();

        await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.IsConnected && lenient.IsConnected), TimeSpan.FromSeconds(15),
            "both clients connect once the server is up");
        Assert.Equal("PONG", (await client.ExecuteAsync("PING")).AsString());
        await HttpAssertions.EventuallyAsync(async () => await lenient.PublishAsync("news", "hello") == 1, TimeSpan.FromSeconds(15),
            "the subscription made while down takes effect");
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(received.Contains("hello")));
    }

    [Fact]
    public async Task When_the_server_stops_commands_fail_fast_and_the_client_recovers_with_its_subscriptions_when_it_returns()
    {
        await using var server = await TemporaryRedis.StartAsync(password: NewPassword());
        await using var client = await RedisClient.ConnectAsync(RedisOptions.Parse(server.ConnectionString) with { CommandTimeout = TimeSpan.FromSeconds(30) });
        var changes = new ConcurrentQueue<(RedisConnectionRole Role, bool Up)>();
        client.ConnectionStateChanged += (_, change) => changes.Enqueue((change.Role, change.IsConnected));
        var received = new ConcurrentQueue<string>();
        await using var subscription = await client.SubscribeAsync("events", m => received.Enqueue(m.Text));
        await client.SetAsync("before", "1");
        var blocked = client.ExecuteAsync("BLPOP", ["empty-list", 0]).AsTask(); // pending until the server goes

        await server.StopServerAsync();

        var lost = await Assert.ThrowsAsync<RedisConnectionException>(() => blocked.WaitAsync(TimeSpan.FromSeconds(5)));
        Assert.Contains("closed before the reply arrived", lost.Message, StringComparison.Ordinal);
        Assert.False(client.IsConnected);
        var started = Stopwatch.StartNew();
        for (var i = 0; i < 20; i++)
        {
            var error = await Assert.ThrowsAsync<RedisConnectionException>(async () => await client.GetAsync("before"));
            Assert.Contains($"Not connected to Redis at 127.0.0.1:{server.Port}", error.Message, StringComparison.Ordinal);
        }
        Assert.True(started.Elapsed < FailFast, $"20 commands took {started.Elapsed} to fail");
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(
            changes.Contains((RedisConnectionRole.Commands, false)) && changes.Contains((RedisConnectionRole.Subscriptions, false))),
            because: "both connections report going down");
        await Assert.ThrowsAsync<RedisConnectionException>(async () => await client.PublishAsync("events", "lost"));

        await server.StartServerAsync();

        await HttpAssertions.EventuallyAsync(() => Task.FromResult(client.IsConnected), TimeSpan.FromSeconds(15), "the client reconnects by itself");
        Assert.Equal("PONG", (await client.ExecuteAsync("PING")).AsString());
        Assert.Null(await client.GetStringAsync("before")); // a new, empty server: no persistence
        await HttpAssertions.EventuallyAsync(async () => await client.PublishAsync("events", "after") == 1, TimeSpan.FromSeconds(15),
            "the subscription is renewed on the new connection");
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(received.Contains("after")), because: "messages flow again");
        Assert.DoesNotContain("lost", received);
        Assert.Equal([(RedisConnectionRole.Commands, false), (RedisConnectionRole.Commands, true)],
            changes.Where(c => c.Role == RedisConnectionRole.Commands));
        Assert.Equal([(RedisConnectionRole.Subscriptions, false), (RedisConnectionRole.Subscriptions, true)],
            changes.Where(c => c.Role == RedisConnectionRole.Subscriptions).Skip(1)); // the first is its initial connect
    }

    [Fact]
    public async Task Disposing_the_client_fails_pending_commands_closes_its_connections_and_refuses_new_work()
    {
        await using var server = await TemporaryRedis.StartAsync();
        await using var observer = await RedisClient.ConnectAsync(server.ConnectionString);
        var client = await RedisClient.ConnectAsync(server.ConnectionString);
        var subscription = await client.SubscribeAsync("c", _ => { });
        var blocked = client.ExecuteAsync("BLPOP", ["empty-list", 0]).AsTask();
        Assert.Equal(3, await ConnectedClientsAsync(observer));

        await client.DisposeAsync();

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => blocked);
        Assert.Contains("disposed", error.Message, StringComparison.Ordinal);
        Assert.False(client.IsConnected);
        Assert.False(client.IsSubscriberConnected);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.PingAsync());
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await client.SubscribeAsync("c", _ => { }));
        await subscription.DisposeAsync(); // harmless after the client
        await client.DisposeAsync(); // idempotent
        await HttpAssertions.EventuallyAsync(async () => await ConnectedClientsAsync(observer) == 1, because: "the server sees both connections close");
    }

    [Fact]
    public async Task The_health_check_follows_redis_down_and_back_up()
    {
        await using var server = await TemporaryRedis.StartAsync();
        await using var client = await RedisClient.ConnectAsync(server.ConnectionString);
        var check = new RedisHealthCheck(client);
        var context = new HealthCheckContext
        {
            Registration = new("redis", check, HealthStatus.Unhealthy, null),
        };

        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(context)).Status);
        await server.StopServerAsync();
        var down = await check.CheckHealthAsync(context);
        Assert.Equal(HealthStatus.Unhealthy, down.Status);
        Assert.Contains("Redis does not answer", down.Description, StringComparison.Ordinal);
        await server.StartServerAsync();
        await HttpAssertions.EventuallyAsync(async () =>
            (await check.CheckHealthAsync(context)).Status == HealthStatus.Healthy,
            TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task The_service_registration_shares_one_client_and_the_container_disposes_it()
    {
        await using var server = await TemporaryRedis.StartAsync();
        var provider = new ServiceCollection().AddLogging().AddRedisClient(server.ConnectionString).BuildServiceProvider();

        var redis = provider.GetRequiredService<IRedis>();
        Assert.Same(redis, provider.GetRequiredService<RedisClient>());
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(redis.IsConnected));
        await redis.PingAsync();

        await provider.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await redis.PingAsync());
    }

    private static async Task<int> ConnectedClientsAsync(RedisClient observer) =>
        (await observer.ExecuteAsync("CLIENT", ["LIST"])).AsString()!.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    private static string NewPassword() => Guid.NewGuid().ToString("N");
}
