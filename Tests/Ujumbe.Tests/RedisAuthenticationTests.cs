using System.Diagnostics;
using Ujumbe.Shared.Redis;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// Handshake on every connection: AUTH (password, or ACL user and password), SELECT and CLIENT SETNAME, and clear errors when they are refused.
/// Each test runs a redis-server of its own (stopped, restarted or paused at will; the stack's shared Redis
/// is never touched).
/// </summary>
public sealed class RedisAuthenticationTests
{
    // Generous for a loaded two-core CI machine, and still far below any timeout involved (30 s, or a pause).
    private static readonly TimeSpan FailFast = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task The_password_in_the_connection_string_authenticates()
    {
        await using var server = await TemporaryRedis.StartAsync(password: NewPassword());

        await using var client = await RedisClient.ConnectAsync(server.ConnectionString);

        Assert.True(client.IsConnected);
        Assert.Equal("PONG", (await client.ExecuteAsync("PING")).AsString());
    }

    [Fact]
    public async Task A_wrong_password_is_a_clear_connection_error()
    {
        await using var server = await TemporaryRedis.StartAsync(password: NewPassword());

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() =>
            RedisClient.ConnectAsync($"127.0.0.1:{server.Port},password=wrong"));

        Assert.Contains($"Redis at 127.0.0.1:{server.Port} refused the credentials", error.Message, StringComparison.Ordinal);
        Assert.Contains("WRONGPASS", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong,", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_password_is_a_clear_connection_error_saying_authentication_is_required()
    {
        await using var server = await TemporaryRedis.StartAsync(password: NewPassword());

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync($"127.0.0.1:{server.Port}"));

        Assert.Contains("requires authentication; add password=", error.Message, StringComparison.Ordinal);
        Assert.Contains("NOAUTH", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_abortConnect_a_client_with_a_wrong_password_stays_disconnected_and_its_commands_say_why()
    {
        await using var server = await TemporaryRedis.StartAsync(password: NewPassword());

        await using var client = await RedisClient.ConnectAsync($"127.0.0.1:{server.Port},password=wrong,abortConnect=false");

        Assert.False(client.IsConnected);
        var started = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<RedisConnectionException>(async () => await client.GetAsync("k"));
        Assert.True(started.Elapsed < FailFast, $"took {started.Elapsed}");
        Assert.Contains("Not connected to Redis", error.Message, StringComparison.Ordinal);
        Assert.Contains("WRONGPASS", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_acl_user_authenticates_with_user_and_password()
    {
        await using var server = await TemporaryRedis.StartAsync(password: NewPassword());
        await using var admin = await RedisClient.ConnectAsync(server.ConnectionString);
        var password = NewPassword();
        await admin.ExecuteAsync("ACL", ["SETUSER", "gateway", "on", ">" + password, "~rl:*", "+@all"]);

        await using var client = await RedisClient.ConnectAsync($"127.0.0.1:{server.Port},user=gateway,password={password}");

        Assert.Equal("gateway", (await client.ExecuteAsync("ACL", ["WHOAMI"])).AsString());
        await client.SetAsync("rl:1", "ok");
        var denied = await Assert.ThrowsAsync<RedisServerException>(async () => await client.SetAsync("other", "no"));
        Assert.Equal("NOPERM", denied.ErrorCode);
        var refused = await Assert.ThrowsAsync<RedisConnectionException>(() =>
            RedisClient.ConnectAsync($"127.0.0.1:{server.Port},user=gateway,password=wrong"));
        Assert.Contains("refused the credentials of user 'gateway'", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_default_database_and_client_name_are_set_on_every_connection()
    {
        await using var server = await TemporaryRedis.StartAsync();
        await using var admin = await RedisClient.ConnectAsync(server.ConnectionString);

        await using var client = await RedisClient.ConnectAsync(server.ConnectionString + ",defaultDatabase=3,name=ujumbe-test");
        await client.SetAsync("k", "in-db-3");
        await using var subscription = await client.SubscribeAsync("c", _ => { });

        Assert.Equal("in-db-3", await client.GetStringAsync("k"));
        Assert.Null(await admin.GetStringAsync("k"));
        var mine = (await admin.ExecuteAsync("CLIENT", ["LIST"])).AsString()!.Split('\n')
            .Where(line => line.Contains(" name=ujumbe-test ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, mine.Count); // commands and subscriptions
        Assert.All(mine, line => Assert.Contains(" db=3 ", line, StringComparison.Ordinal));
        var refused = await Assert.ThrowsAsync<RedisConnectionException>(() => RedisClient.ConnectAsync(server.ConnectionString + ",defaultDatabase=99"));
        Assert.Contains("cannot select database 99", refused.Message, StringComparison.Ordinal);
    }

    private static string NewPassword() => Guid.NewGuid().ToString("N");
}
