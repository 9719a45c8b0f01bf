using System.Net;
using System.Net.Http.Json;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

public sealed class SchedulingTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    [Fact]
    public async Task A_scheduled_send_waits_and_is_released_within_a_second_of_its_time()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var at = DateTime.UtcNow.AddSeconds(3);
        var accepted = await (await client.PostAsJsonAsync("/v1/messages",
            new { to = new[] { "+255712100001", "+255712100002" }, text = "later", sender_id = "UJUMBE", scheduled_at = at }))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal("scheduled", accepted.GetProperty("status").GetString());
        var batchId = accepted.GetProperty("batch_id").GetString()!;

        var early = await (await client.GetAsync($"/v1/batches/{batchId}")).AssertJsonAsync();
        Assert.Equal(2, early.GetProperty("summary").GetProperty("scheduled").GetInt32());
        Assert.All(early.GetProperty("messages").EnumerateArray(), m => Assert.Equal("scheduled", m.GetProperty("status").GetString()));

        var report = await SendingFixture.WaitForFinalizedAsync(client, batchId);
        Assert.Equal(2, report.GetProperty("summary").GetProperty("delivered").GetInt32());
        foreach (var message in report.GetProperty("messages").EnumerateArray())
        {
            var sentAt = message.GetProperty("sent_at").GetDateTime();
            Assert.InRange(sentAt, at, at.AddSeconds(1));
        }
    }

    [Fact]
    public async Task Canceling_a_scheduled_batch_cancels_its_messages_and_releases_their_credits()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var accepted = await (await client.PostAsJsonAsync("/v1/messages",
            new { to = new[] { "+255712100011", "+255712100012", "+255712100013" }, text = "never", sender_id = "UJUMBE", scheduled_at = DateTime.UtcNow.AddHours(2) }))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        var batchId = accepted.GetProperty("batch_id").GetString();
        Assert.Equal(7, (await (await client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64());

        var canceled = await (await client.PostAsync($"/v1/batches/{batchId}/cancel", null)).AssertJsonAsync();
        Assert.Equal("finalized", canceled.GetProperty("status").GetString());
        Assert.Equal(3, canceled.GetProperty("summary").GetProperty("canceled").GetInt32());
        Assert.All(canceled.GetProperty("messages").EnumerateArray(), m =>
        {
            Assert.Equal("canceled", m.GetProperty("status").GetString());
            Assert.Equal(System.Text.Json.JsonValueKind.String, m.GetProperty("canceled_at").ValueKind);
        });

        var balance = await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(10, balance.GetProperty("available").GetInt64());
        Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
        await SendRulesTests.AssertLedgerExplainsBalanceAsync(ujumbe, client);

        // Canceling again changes nothing.
        var again = await (await client.PostAsync($"/v1/batches/{batchId}/cancel", null)).AssertJsonAsync();
        Assert.Equal(3, again.GetProperty("summary").GetProperty("canceled").GetInt32());
        Assert.Equal(10, (await (await client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task Canceling_a_finished_batch_changes_nothing()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var accepted = await (await client.PostAsJsonAsync("/v1/messages",
            new { to = new[] { "+255712100021" }, text = "now", sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);
        var batchId = accepted.GetProperty("batch_id").GetString()!;
        await SendingFixture.WaitForFinalizedAsync(client, batchId);
        var report = await (await client.PostAsync($"/v1/batches/{batchId}/cancel", null)).AssertJsonAsync();
        Assert.Equal(1, report.GetProperty("summary").GetProperty("delivered").GetInt32());
        Assert.Equal(0, report.GetProperty("summary").GetProperty("canceled").GetInt32());
        Assert.Equal(9, (await SendingFixture.WaitForSettledBalanceAsync(client)).GetProperty("balance").GetInt64());
    }
}
