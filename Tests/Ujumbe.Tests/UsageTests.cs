using System.Globalization;
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
    [InlineData("?granularity=month&from=2020-01-01&to=2026-01-01", "from")]
    public async Task Bad_usage_queries_get_field_errors(string query, string field)
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var problem = await (await client.GetAsync("/v1/usage" + query)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Usage_comes_from_the_kept_aggregate_and_matches_the_messages_by_day_and_month_in_the_accounts_zone()
    {
        using var partner = await ujumbe.OpenPartnerAsync(credits: 50);
        var tenantId = await partner.CreateTenantAsync("Usage tenant", timeZone: "Pacific/Kiritimati");
        await partner.TransferAsync(tenantId, 50);
        using var acting = partner.ActingFor(ujumbe, tenantId);
        await ujumbe.ApproveSenderAsync(acting);
        var sent = await (await acting.PostAsJsonAsync("/v1/messages", new { to = new[] { "0712000501", "0712000502", "0712000503" }, text = "usage", sender_id = "UJUMBE" }))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        await SendingFixture.WaitForFinalizedAsync(acting, sent.GetProperty("batch_id").GetString()!);
        await SendingFixture.WaitForSettledBalanceAsync(acting);

        // The tenant's own zone (UTC+14) by default: "today" there is what the messages count towards.
        var zone = TimeZoneInfo.FindSystemTimeZoneById("Pacific/Kiritimati");
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, zone).DateTime);
        var byDay = await (await partner.Client.GetAsync($"/v1/usage?tenant_id={tenantId}")).AssertJsonAsync();
        Assert.Equal("Pacific/Kiritimati", byDay.GetProperty("time_zone").GetString());
        Assert.Equal(tenantId, byDay.GetProperty("account_id").GetString());
        var last = byDay.GetProperty("data").EnumerateArray().Last();
        Assert.Equal(today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), last.GetProperty("date").GetString());
        Assert.Equal(3, last.GetProperty("messages").GetInt32());
        Assert.Equal(3, last.GetProperty("sent").GetInt32());
        Assert.Equal(3, last.GetProperty("delivered").GetInt32());
        Assert.Equal(3, last.GetProperty("credits").GetInt64());

        var byMonth = await (await acting.GetAsync("/v1/usage?granularity=month")).AssertJsonAsync();
        Assert.Equal("month", byMonth.GetProperty("granularity").GetString());
        var months = byMonth.GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(12, months.Count);
        Assert.Equal(new DateOnly(today.Year, today.Month, 1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), months[^1].GetProperty("date").GetString());
        Assert.Equal(3, months[^1].GetProperty("delivered").GetInt32());
        Assert.All(months.SkipLast(1), m => Assert.Equal(0, m.GetProperty("messages").GetInt32()));

        // The partner's own usage does not include its tenant's.
        var own = await (await partner.Client.GetAsync("/v1/usage")).AssertJsonAsync();
        Assert.All(own.GetProperty("data").EnumerateArray(), d => Assert.Equal(0, d.GetProperty("messages").GetInt32()));
        // tenant_id is for partners only.
        await (await acting.GetAsync($"/v1/usage?tenant_id={tenantId}")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        // The aggregate agrees with the messages themselves, for every account and local day, once folded too.
        const string mismatches = """
            with kept as (
                select account_id, (slot at time zone 'Africa/Dar_es_Salaam')::date as day, sum(messages) m, sum(sent) s, sum(delivered) d, sum(failed) f, sum(credits) c
                  from (select account_id, slot, messages, sent, delivered, failed, credits from usage_slots
                        union all select account_id, slot, messages, sent, delivered, failed, credits from usage_deltas) u
                 group by 1, 2
            ), counted as (
                select account_id, (created_at at time zone 'Africa/Dar_es_Salaam')::date as day, count(*) m,
                       count(*) filter (where sent_at is not null) s, count(*) filter (where status = 'delivered') d,
                       count(*) filter (where status in ('failed', 'rejected')) f, coalesce(sum(credits) filter (where sent_at is not null), 0) c
                  from messages group by 1, 2
            )
            select count(*) from kept k full join counted c using (account_id, day)
             where (k.m, k.s, k.d, k.f, k.c) is distinct from (c.m, c.s, c.d, c.f, c.c)
            """;
        Assert.Equal(0, await ujumbe.Database.ScalarAsync<long>(mismatches));
        await HttpAssertions.EventuallyAsync(async () => await ujumbe.Database.ScalarAsync<long>("select count(*) from usage_deltas") == 0,
            because: "the Worker folds the deltas");
        Assert.Equal(0, await ujumbe.Database.ScalarAsync<long>(mismatches));
    }
}
