using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Ujumbe.Shared.Redis;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Publish/subscribe on the stack's Redis, over the client's separate subscriber connection.</summary>
public sealed class RedisPubSubTests : IAsyncLifetime
{
    private StackRedis _redis = null!;

    private RedisClient Client => _redis.Client;

    public async Task InitializeAsync() => _redis = await StackRedis.ConnectAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task A_published_message_reaches_the_subscriber_with_its_channel_and_binary_payload()
    {
        var channel = _redis.Key("invalidate");
        var received = new ConcurrentQueue<RedisMessage>();
        await using var subscription = await Client.SubscribeAsync(channel, received.Enqueue);
        byte[] payload = [0, 13, 10, 255, .. "key_123"u8];

        var receivers = await Client.PublishAsync(channel, payload);

        Assert.Equal(1, receivers);
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(!received.IsEmpty), because: "the message is delivered");
        var message = Assert.Single(received);
        Assert.Equal(channel, message.Channel);
        Assert.Equal(payload, message.Payload.ToArray());
        Assert.True(Client.IsSubscriberConnected);
    }

    [Fact]
    public async Task Messages_from_another_client_arrive_in_the_order_they_were_published()
    {
        var channel = _redis.Key("ordered");
        var received = new ConcurrentQueue<string>();
        await using var subscription = await Client.SubscribeAsync(channel, m => received.Enqueue(m.Text));
        await using var publisher = await StackRedis.ConnectAsync();

        for (var i = 0; i < 1000; i++)
        {
            await publisher.Client.PublishAsync(channel, i.ToString(CultureInfo.InvariantCulture));
        }

        await HttpAssertions.EventuallyAsync(() => Task.FromResult(received.Count == 1000), because: "all messages arrive");
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => i.ToString(CultureInfo.InvariantCulture)), received);
    }

    [Fact]
    public async Task Two_handlers_on_one_channel_both_receive_and_disposing_one_keeps_the_other()
    {
        var channel = _redis.Key("shared");
        var first = new ConcurrentQueue<string>();
        var second = new ConcurrentQueue<string>();
        var firstSubscription = await Client.SubscribeAsync(channel, m => first.Enqueue(m.Text));
        await using var secondSubscription = await Client.SubscribeAsync(channel, m => second.Enqueue(m.Text));

        Assert.Equal(1, await Client.PublishAsync(channel, "one")); // one connection, subscribed once
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(first.Count == 1 && second.Count == 1));

        await firstSubscription.DisposeAsync();
        await firstSubscription.DisposeAsync(); // idempotent
        Assert.Equal(1, await Client.PublishAsync(channel, "two"));
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(second.Count == 2));

        Assert.Equal(["one"], first);
        Assert.Equal(["one", "two"], second);
    }

    [Fact]
    public async Task After_the_last_handler_unsubscribes_the_server_has_no_subscriber_and_nothing_is_delivered()
    {
        var channel = _redis.Key("gone");
        var received = new ConcurrentQueue<string>();
        var subscription = await Client.SubscribeAsync(channel, m => received.Enqueue(m.Text));
        Assert.Equal(1, await Client.PublishAsync(channel, "before"));
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(received.Count == 1));

        await subscription.DisposeAsync();

        Assert.Equal(0, await Client.PublishAsync(channel, "after"));
        var numsub = await Client.ExecuteAsync("PUBSUB", ["NUMSUB", channel]);
        Assert.Equal(0, numsub[1].AsInt64());
        // a later subscription to another channel proves the connection still reads; the old handler got nothing more
        var other = new ConcurrentQueue<string>();
        await using var again = await Client.SubscribeAsync(_redis.Key("other"), m => other.Enqueue(m.Text));
        await Client.PublishAsync(_redis.Key("other"), "x");
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(other.Count == 1));
        Assert.Equal(["before"], received);
    }

    [Fact]
    public async Task A_handler_that_throws_does_not_stop_delivery()
    {
        var channel = _redis.Key("faulty");
        var received = new ConcurrentQueue<string>();
        await using var subscription = await Client.SubscribeAsync(channel, m =>
        {
            received.Enqueue(m.Text);
            throw new InvalidOperationException("handler bug");
        });

        await Client.PublishAsync(channel, "1");
        await Client.PublishAsync(channel, "2");

        await HttpAssertions.EventuallyAsync(() => Task.FromResult(received.Count == 2));
        Assert.True(Client.IsSubscriberConnected);
    }

    [Fact]
    public async Task Commands_keep_working_while_subscribed_because_subscriptions_have_their_own_connection()
    {
        var name = "pubsub-" + Guid.NewGuid().ToString("N")[..8];
        await using var redis = await StackRedis.ConnectAsync(options => options with { ClientName = name });
        await using var subscription = await redis.Client.SubscribeAsync(redis.Key("busy"), _ => { });

        await redis.Client.SetAsync(redis.Key("k"), "v");

        Assert.Equal("v", await redis.Client.GetStringAsync(redis.Key("k")));
        var mine = (await redis.Client.ExecuteAsync("CLIENT", ["LIST"])).AsString()!
            .Split('\n').Where(line => line.Contains($" name={name} ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, mine.Count);
        Assert.Single(mine, line => line.Contains(" sub=1 ", StringComparison.Ordinal));
        Assert.Single(mine, line => line.Contains(" sub=0 ", StringComparison.Ordinal));
    }

    private static readonly AsyncLocal<string?> Ambient = new();

    [Fact]
    public async Task Handlers_do_not_run_in_the_context_of_whoever_opened_the_connections()
    {
        // A client created inside a request must not pin that request's Activity and AsyncLocals on its
        // background loops for the rest of the process's life.
        using var activity = new Activity("request").Start();
        Ambient.Value = "request-1";
        await using var redis = await StackRedis.ConnectAsync();
        var seen = new ConcurrentQueue<(string? Ambient, Activity? Activity)>();
        await using var subscription = await redis.Client.SubscribeAsync(redis.Key("ctx"), _ => seen.Enqueue((Ambient.Value, Activity.Current)));
        Ambient.Value = null;
        activity.Stop();

        await redis.Client.PublishAsync(redis.Key("ctx"), "x");

        await HttpAssertions.EventuallyAsync(() => Task.FromResult(!seen.IsEmpty));
        Assert.Equal((null, null), Assert.Single(seen));
    }
}
