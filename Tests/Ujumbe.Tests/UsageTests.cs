using System.Net;
using System.Net.Http.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>GET /v1/usage: the per-day counts the dashboard's overview charts.</summary>
public sealed class UsageTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    [Fact]
    public async Task Usage_counts_todays_messages_per_local_day_and_lists_every_day_of_the_range()
    {
        var key = await ujumbe.OpenFundedAccountAsync(100);
        using var client = ujumbe.Client(key);
        var sent = await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "0712000301", "0712000302" }, text = "usage", sender_id = "UJUMBE" }))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        await SendingFixture.WaitForFinalizedAsync(client, sent.GetProperty("batch_id").GetString()!);
        await SendingFixture.WaitForSettledBalanceAsync(client);

        var usage = await (await client.GetAsync("/v1/usage?time_zone=Africa/Nairobi")).AssertJsonAsync();
        Assert.Equal("Africa/Nairobi", usage.GetProperty("time_zone").GetString());
        var days = usage.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(14, days.Count);
        var today = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Africa/Nairobi")).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(today, days[^1].GetProperty("date").GetString());
        Assert.Equal(2, days[^1].GetProperty("messages").GetInt32());
        Assert.Equal(2, days[^1].GetProperty("sent").GetInt32());
        Assert.Equal(2, days[^1].GetProperty("delivered").GetInt32());
        Assert.Equal(0, days[^1].GetProperty("failed").GetInt32());
        Assert.Equal(2, days[^1].GetProperty("credits").GetInt64());
        Assert.All(days.SkipLast(1), day => Assert.Equal(0, day.GetProperty("messages").GetInt32()));

        // Another account's messages are not counted.
        using var demo = ujumbe.Client(ujumbe.DemoKey);
        var theirs = await (await demo.GetAsync("/v1/usage")).AssertJsonAsync();
        Assert.All(theirs.GetProperty("data").EnumerateArray(), day => Assert.Equal(0, day.GetProperty("messages").GetInt32()));
    }

    [Theory]
    [InlineData("?time_zone=Mars/Olympus", "time_zone")]
    [InlineData("?from=2026-12-03&to=2026-11-01", "from")]
    [InlineData("?from=yesterday", "from")]
    [InlineData("?from=2024-01-01&to=2026-01-01", "from")]
    [InlineData("?granularity=hour", "granularity")]
    public async Task Bad_usage_queries_get_field_errors(string query, string field)
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var problem = await (await client.GetAsync("/v1/usage" + query)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }
}
