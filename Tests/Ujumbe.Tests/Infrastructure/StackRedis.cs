using Ujumbe.Shared.Redis;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>
/// A client of the stack's shared Redis for one test, with a key prefix of its own (tests run in parallel);
/// dispose deletes every key under the prefix and closes the client.
/// </summary>
public sealed class StackRedis : IAsyncDisposable
{
    private static readonly RedisScript DeleteByPrefix = new("""
        local n = 0
        for _, key in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do n = n + redis.call('DEL', key) end
        return n
        """);

    private StackRedis(RedisClient client, string prefix)
    {
        Client = client;
        Prefix = prefix;
    }

    public RedisClient Client { get; }

    /// <summary><c>test:&lt;random&gt;:</c>; also usable as a channel prefix.</summary>
    public string Prefix { get; }

    public static RedisOptions Options => RedisOptions.Parse(TestStack.Settings.Redis);

    public static async Task<StackRedis> ConnectAsync(Func<RedisOptions, RedisOptions>? configure = null)
    {
        var options = Options;
        var client = await RedisClient.ConnectAsync(configure is null ? options : configure(options));
        return new StackRedis(client, "test:" + Guid.NewGuid().ToString("N")[..12] + ":");
    }

    public string Key(string name) => Prefix + name;

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Client.IsConnected)
            {
                await Client.EvalAsync(DeleteByPrefix, [], [Prefix]);
            }
        }
        finally
        {
            await Client.DisposeAsync();
        }
    }
}
