using System.Security.Cryptography;
using System.Text;
using Ujumbe.Shared.Redis;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Commands and every RESP2 reply type, against the stack's real Redis.</summary>
public sealed class RedisCommandTests : IAsyncLifetime
{
    private StackRedis _redis = null!;

    private RedisClient Client => _redis.Client;

    public async Task InitializeAsync() => _redis = await StackRedis.ConnectAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task Ping_answers_with_the_round_trip_time()
    {
        var roundTrip = await Client.PingAsync();

        Assert.InRange(roundTrip, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        Assert.True(Client.IsConnected);
        Assert.Equal("PONG", (await Client.ExecuteAsync("PING")).AsString());
    }

    [Fact]
    public async Task A_string_that_was_set_is_read_back_and_a_missing_key_is_null()
    {
        var key = _redis.Key("greeting");

        await Client.SetAsync(key, "habari");

        Assert.Equal("habari", await Client.GetStringAsync(key));
        Assert.Equal("habari"u8.ToArray(), await Client.GetAsync(key));
        Assert.Null(await Client.GetStringAsync(_redis.Key("missing")));
        Assert.Null(await Client.GetAsync(_redis.Key("missing")));
        var reply = await Client.ExecuteAsync("GET", [_redis.Key("missing")]);
        Assert.Equal(RedisValueKind.Null, reply.Kind);
        Assert.True(reply.IsNull);
    }

    [Fact]
    public async Task A_value_set_with_an_expiry_gets_that_time_to_live_and_then_expires()
    {
        var key = _redis.Key("short-lived");

        await Client.SetAsync(key, "x", TimeSpan.FromMilliseconds(1500));

        var ttl = (await Client.ExecuteAsync("PTTL", [key])).AsInt64();
        Assert.InRange(ttl, 1, 1500);
        await HttpAssertions.EventuallyAsync(async () => await Client.GetAsync(key) is null, because: "the key expires");
    }

    [Fact]
    public async Task An_expiry_that_is_not_positive_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Client.SetAsync(_redis.Key("k"), "x", TimeSpan.Zero));
    }

    [Fact]
    public async Task Values_are_binary_safe_including_CRLF_zero_bytes_and_protocol_characters()
    {
        var key = _redis.Key("binary");
        var value = Enumerable.Range(0, 256).Select(b => (byte)b)
            .Concat("\r\n$3\r\n*1\r\n-ERR\r\n+OK\r\n:1\r\n\0\r\n"u8.ToArray())
            .ToArray();

        await Client.SetAsync(key, value);

        Assert.Equal(value, await Client.GetAsync(key));
        Assert.Equal(value.Length, (await Client.ExecuteAsync("STRLEN", [key])).AsInt64());
        // and as a key: bytes with CRLF inside are one key
        var binaryKey = Encoding.UTF8.GetBytes(_redis.Key("a\r\nb"));
        await Client.ExecuteAsync("SET", [binaryKey, "v"]);
        Assert.Equal("v", await Client.GetStringAsync(_redis.Key("a\r\nb")));
    }

    [Fact]
    public async Task A_one_megabyte_value_round_trips_intact()
    {
        var key = _redis.Key("large");
        var value = RandomNumberGenerator.GetBytes(1024 * 1024 + 17);

        await Client.SetAsync(key, value);

        Assert.Equal(value, await Client.GetAsync(key));
        // and a large string with multi-byte characters, encoded straight into the send buffer
        var text = string.Concat(Enumerable.Repeat("Ujumbe ujumbe — ✉️ 日本語 ", 40_000));
        await Client.SetAsync(key, text);
        Assert.Equal(text, await Client.GetStringAsync(key));
    }

    [Fact]
    public async Task Keys_and_values_in_any_script_round_trip_as_UTF8()
    {
        var key = _redis.Key("kéy-日本-🙂");

        await Client.SetAsync(key, "ujumbe wa 🙂 — ñ");

        Assert.Equal("ujumbe wa 🙂 — ñ", await Client.GetStringAsync(key));
        Assert.Equal(1, (await Client.ExecuteAsync("EXISTS", [key])).AsInt64());
    }

    [Fact]
    public async Task Integer_replies_are_integers()
    {
        var key = _redis.Key("counter");

        var first = await Client.ExecuteAsync("INCR", [key]);
        var added = await Client.ExecuteAsync("INCRBY", [key, -5L]);
        var big = await Client.ExecuteAsync("INCRBY", [key, long.MaxValue - 100]);

        Assert.Equal(RedisValueKind.Integer, first.Kind);
        Assert.Equal(1, first.AsInt64());
        Assert.Equal(-4, added.AsInt64());
        Assert.Equal(long.MaxValue - 104, big.AsInt64());
        Assert.Equal((long.MaxValue - 104).ToString(System.Globalization.CultureInfo.InvariantCulture), await Client.GetStringAsync(key));
    }

    [Fact]
    public async Task Simple_string_replies_are_text()
    {
        var set = await Client.ExecuteAsync("SET", [_redis.Key("s"), 1.5]);
        var type = await Client.ExecuteAsync("TYPE", [_redis.Key("s")]);

        Assert.Equal(RedisValueKind.SimpleString, set.Kind);
        Assert.Equal("OK", set.AsString());
        Assert.Equal("string", type.AsString());
        Assert.Equal("1.5", await Client.GetStringAsync(_redis.Key("s")));
    }

    [Fact]
    public async Task Array_replies_carry_bulk_strings_nulls_and_integers()
    {
        var list = _redis.Key("list");
        await Client.ExecuteAsync("RPUSH", [list, "a", "", 3]);
        await Client.SetAsync(_redis.Key("present"), "yes");

        var range = await Client.ExecuteAsync("LRANGE", [list, 0, -1]);
        var values = await Client.ExecuteAsync("MGET", [_redis.Key("present"), _redis.Key("absent")]);
        var empty = await Client.ExecuteAsync("LRANGE", [_redis.Key("no-list"), 0, -1]);
        var nullArray = await Client.ExecuteAsync("LPOP", [_redis.Key("no-list"), 2]);

        Assert.Equal(RedisValueKind.Array, range.Kind);
        Assert.Equal(["a", "", "3"], range.AsArray().Select(v => v.AsString()));
        Assert.Equal("yes", values[0].AsString());
        Assert.True(values[1].IsNull);
        Assert.Equal(RedisValueKind.Array, empty.Kind);
        Assert.Equal(0, empty.Length);
        Assert.Equal(RedisValueKind.Null, nullArray.Kind); // *-1
    }

    [Fact]
    public async Task Arrays_nest()
    {
        var reply = await Client.ExecuteAsync("EVAL",
            ["return {1, 'two', {3, {'four', {}}}, false, redis.error_reply('inner error')}", 0]);

        Assert.Equal("[1, two, [3, [four, []]], (nil), (error) inner error]", reply.ToString());
        Assert.Equal(1, reply[0].AsInt64());
        Assert.Equal(RedisValueKind.Array, reply[2][1][1].Kind);
        Assert.Equal(0, reply[2][1][1].Length);
        Assert.True(reply[3].IsNull); // Lua false is a null bulk string in RESP2
        Assert.Equal(RedisValueKind.Error, reply[4].Kind); // nested errors are values, not exceptions
        Assert.Equal("inner error", reply[4].AsString());
    }

    [Fact]
    public async Task Delete_counts_the_keys_that_existed()
    {
        await Client.SetAsync(_redis.Key("a"), "1");
        await Client.SetAsync(_redis.Key("b"), "2");

        var deleted = await Client.DeleteAsync([_redis.Key("a"), _redis.Key("b"), _redis.Key("never")]);

        Assert.Equal(2, deleted);
        Assert.Null(await Client.GetAsync(_redis.Key("a")));
        Assert.Equal(0, await Client.DeleteAsync([_redis.Key("a")]));
        Assert.Equal(0, await Client.DeleteAsync([]));
    }

    [Fact]
    public async Task A_server_error_is_a_RedisServerException_and_the_connection_keeps_working()
    {
        var key = _redis.Key("a-list");
        await Client.ExecuteAsync("RPUSH", [key, "x"]);

        var wrongType = await Assert.ThrowsAsync<RedisServerException>(async () => await Client.GetAsync(key));
        var unknown = await Assert.ThrowsAsync<RedisServerException>(async () => await Client.ExecuteAsync("NO-SUCH-COMMAND", ["x"]));
        var arity = await Assert.ThrowsAsync<RedisServerException>(async () => await Client.ExecuteAsync("GET"));

        Assert.Equal("WRONGTYPE", wrongType.ErrorCode);
        Assert.StartsWith("WRONGTYPE Operation against a key holding the wrong kind of value", wrongType.Message, StringComparison.Ordinal);
        Assert.Equal("ERR", unknown.ErrorCode);
        Assert.Contains("unknown command", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("wrong number of arguments", arity.Message, StringComparison.Ordinal);
        Assert.True(Client.IsConnected);
        Assert.Equal("x", (await Client.ExecuteAsync("LPOP", [key])).AsString());
    }

    [Fact]
    public async Task Errors_in_the_middle_of_a_pipeline_do_not_shift_the_replies_of_other_commands()
    {
        var list = _redis.Key("not-a-string");
        await Client.ExecuteAsync("RPUSH", [list, "x"]);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 2000).Select(async i =>
        {
            if (i % 3 == 0)
            {
                try
                {
                    await Client.GetAsync(list);
                    return "no error";
                }
                catch (RedisServerException error)
                {
                    return error.ErrorCode == "WRONGTYPE" ? "ok" : error.Message;
                }
            }
            var reply = await Client.ExecuteAsync("ECHO", ["echo-" + i]);
            return reply.AsString() == "echo-" + i ? "ok" : $"{i} got {reply}";
        }));

        Assert.All(outcomes, outcome => Assert.Equal("ok", outcome));
    }

    [Fact]
    public async Task A_cancelled_command_throws_OperationCanceledException_and_the_connection_keeps_working()
    {
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Client.GetAsync(_redis.Key("k"), cancelled.Token));

        Assert.Null(await Client.GetAsync(_redis.Key("k")));
    }

    [Fact]
    public async Task Invalid_arguments_are_refused_before_anything_is_sent()
    {
        // thrown by the call itself, before a task exists
        Assert.IsType<ArgumentException>(ThrownByCall(() => Client.ExecuteAsync("SET", [_redis.Key("k"), default]).AsTask()));
        Assert.IsType<ArgumentException>(ThrownByCall(() => Client.ExecuteAsync(" ").AsTask()));
        Assert.IsType<ArgumentNullException>(ThrownByCall(() => Client.GetAsync(null!).AsTask()));
        Assert.Throws<ArgumentException>(() => new RedisArgument(double.NaN));

        Assert.Equal("PONG", (await Client.ExecuteAsync("PING")).AsString());
    }

    [Fact]
    public async Task Numbers_are_sent_in_the_form_redis_parses()
    {
        var key = _redis.Key("numbers");

        await Client.ExecuteAsync("ZADD", [key, double.NegativeInfinity, "low", 2.5, "mid", double.PositiveInfinity, "high", 1e20, "huge"]);

        var members = await Client.ExecuteAsync("ZRANGE", [key, 0, -1, "WITHSCORES"]);
        Assert.Equal("[low, -inf, mid, 2.5, huge, 1e+20, high, inf]", members.ToString());
    }

    private static ArgumentException? ThrownByCall(Func<Task> call)
    {
        try
        {
            _ = call();
            return null;
        }
        catch (ArgumentException error)
        {
            return error;
        }
    }
}
