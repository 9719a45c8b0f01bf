using StackExchange.Redis;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>
/// A client of the stack's shared Redis for one test, with a key prefix of its own (tests run in parallel);
/// dispose deletes every key under the prefix and closes the client.
/// </summary>
public sealed class StackRedis : IAsyncDisposable
{
    private const string DeleteByPrefix = """
        local n = 0
        for _, key in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do n = n + redis.call('DEL', key) end
        return n
        """;

    private StackRedis(ConnectionMultiplexer client, string prefix)
    {
        Client = client;
        Prefix = prefix;
    }

    public ConnectionMultiplexer Client { get; }

    /// <summary><c>test:&lt;random&gt;:</c>; also usable as a channel prefix.</summary>
    public string Prefix { get; }

    public static async Task<StackRedis> ConnectAsync()
    {
        var client = await ConnectionMultiplexer.ConnectAsync(TestStack.Settings.Redis);
        return new StackRedis(client, "test:" + Guid.NewGuid().ToString("N")[..12] + ":");
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Client.IsConnected)
            {
                await Client.GetDatabase().ScriptEvaluateAsync(DeleteByPrefix, [], [Prefix]);
            }
        }
        finally
        {
            await Client.DisposeAsync();
        }
    }
}
