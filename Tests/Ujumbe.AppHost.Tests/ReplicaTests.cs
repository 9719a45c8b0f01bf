using System.Net;
using System.Net.Http.Json;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.AppHost.Tests;

/// <summary>Two gateways, two Apis and two Workers, as the AppHost runs them with WithReplicas(2).</summary>
public sealed class ReplicaTests(ReplicatedAppHostFixture ujumbe) : IClassFixture<ReplicatedAppHostFixture>
{
    private async Task<(HttpClient First, HttpClient Second)> BothGatewaysAsync(string secret)
    {
        var addresses = ujumbe.ReplicaAddresses("gateway");
        Assert.Equal(2, addresses.Count);
        Assert.NotEqual(addresses[0], addresses[1]);
        var first = AppHostFixture.Client(addresses[0], secret);
        var second = AppHostFixture.Client(addresses[1], secret);
        await (await first.GetAsync("/health")).AssertJsonAsync();
        return (first, second);
    }

    private async Task<string> AccountWithLimitAsync(int requestsPerHour)
    {
        using var admin = ujumbe.Client("gateway", ujumbe.OperatorKey);
        var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "Limited", owner_email = $"{Guid.NewGuid():N}@example.com" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        await (await admin.PutAsJsonAsync($"/v1/admin/accounts/{created.GetProperty("id").GetString()}/rate-limits", new { requests_per_hour = requestsPerHour }))
            .AssertJsonAsync();
        return created.GetProperty("api_key").GetProperty("secret").GetString()!;
    }

    [Fact]
    public async Task A_rate_limit_is_exact_across_both_gateways()
    {
        var secret = await AccountWithLimitAsync(10);
        var (first, second) = await BothGatewaysAsync(secret);
        using (first)
        using (second)
        {
            var remaining = new List<string>();
            for (var i = 0; i < 10; i++)
            {
                var response = await (i % 2 == 0 ? first : second).GetAsync("/v1/balance");
                await response.AssertJsonAsync();
                remaining.Add(response.Headers.GetValues("X-RateLimit-Remaining").Single());
            }
            Assert.Equal(Enumerable.Range(0, 10).Reverse().Select(n => n.ToString(System.Globalization.CultureInfo.InvariantCulture)), remaining);
            foreach (var client in new[] { first, second })
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, (await client.GetAsync("/v1/balance")).StatusCode);
            }
        }
    }

    [Fact]
    public async Task A_revoked_key_is_refused_by_both_gateways_within_a_second()
    {
        using var owner = ujumbe.Client("gateway", ujumbe.DemoKey);
        var created = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "replicated" })).AssertJsonAsync(HttpStatusCode.Created);
        var (first, second) = await BothGatewaysAsync(created.GetProperty("secret").GetString()!);
        using (first)
        using (second)
        {
            await (await first.GetAsync("/v1/balance")).AssertJsonAsync();
            await (await second.GetAsync("/v1/balance")).AssertJsonAsync(); // both hold the key in their caches now

            await (await owner.PostAsync($"/v1/api-keys/{created.GetProperty("id").GetString()}/revoke", null)).AssertJsonAsync();
            var revokedAt = DateTime.UtcNow;
            foreach (var client in new[] { first, second })
            {
                await HttpAssertions.EventuallyAsync(async () => (await client.GetAsync("/v1/balance")).StatusCode == HttpStatusCode.Unauthorized,
                    TimeSpan.FromSeconds(1) - (DateTime.UtcNow - revokedAt), "every gateway refuses the revoked key within 1 s");
            }
        }
    }

    [Fact]
    public async Task With_two_workers_every_message_is_sent_and_charged_exactly_once()
    {
        const int count = 60;
        await using var receiver = await WebhookReceiver.StartAsync();
        using var client = ujumbe.Client("gateway", ujumbe.DemoKey);
        await (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url("sent"), events = new[] { "message.sent" } }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var balanceBefore = (await (await client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("balance").GetInt64();

        // Several sends, so the dispatch work spreads over both Workers' consumers.
        var ids = new List<string>();
        for (var batch = 0; batch < 6; batch++)
        {
            var numbers = Enumerable.Range(0, count / 6).Select(i => $"+2557123{batch:D2}{i:D3}").ToArray();
            var sent = await (await client.PostAsJsonAsync("/v1/messages", new { to = numbers, text = "Mara moja tu", sender_id = "UJUMBE" }))
                .AssertJsonAsync(HttpStatusCode.Accepted);
            ids.AddRange(sent.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("id").GetString()!));
        }
        Assert.Equal(count, ids.Count);

        await HttpAssertions.EventuallyAsync(async () =>
        {
            var pending = 0;
            foreach (var id in ids)
            {
                var status = (await (await client.GetAsync($"/v1/messages/{id}")).AssertJsonAsync()).GetProperty("status").GetString();
                pending += status is "delivered" ? 0 : 1;
            }
            return pending == 0;
        }, TimeSpan.FromSeconds(90), "every message is delivered");
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(ids.All(id => receiver.At("sent").Any(w => w.Text.Contains(id, StringComparison.Ordinal)))),
            TimeSpan.FromSeconds(30), "every message.sent webhook arrives");

        foreach (var id in ids)
        {
            // One message.sent event per message, whatever the number of webhook retries (same webhook-id).
            var events = receiver.At("sent").Where(w => w.Text.Contains(id, StringComparison.Ordinal)).Select(w => w.Headers["webhook-id"]).Distinct();
            Assert.Single(events);
        }
        // Charged once each: the posted balance settles at exactly count credits less, nothing left reserved.
        await HttpAssertions.EventuallyAsync(async () =>
        {
            var balance = await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
            return balance.GetProperty("balance").GetInt64() == balanceBefore - count && balance.GetProperty("reserved").GetInt64() == 0;
        }, TimeSpan.FromSeconds(30), "the balance is charged exactly once per message");
        Assert.Equal(2, ujumbe.ReplicaAddresses("worker").Count);
    }
}
