using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests.Compat;

/// <summary>
/// Webhooks in Wasambazie's shape: an endpoint registered with format "wasambazie" receives the seed's
/// delivery.batch.finalized, verified exactly as the seed's Python verification does; retries as for /v1.
/// </summary>
public sealed class WasambazieWebhookTests(WebhookFixture ujumbe) : IClassFixture<WebhookFixture>
{
    private WebhookReceiver Receiver => ujumbe.Receiver;

    /// <summary>The seed's verify(): hex HMAC-SHA256 of the raw body keyed with the secret's bytes, compared in constant time.</summary>
    private static bool Verify(string secret, byte[] payload, string signature)
    {
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), payload));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(signature));
    }

    private async Task<WasambazieAccount> OpenAccountAsync()
    {
        var key = await ujumbe.OpenFundedAccountAsync(credits: 20);
        await WasambazieAccount.ApproveSenderIdAsync(ujumbe, key, "MYBRAND");
        return new WasambazieAccount(key);
    }

    private async Task<string> SendAsync(WasambazieAccount account, string to)
    {
        using var client = ujumbe.Client();
        using var response = await account.SendAsync(client, to, "Your order has been confirmed.", "MYBRAND");
        return (await response.AssertJsonAsync(HttpStatusCode.Created)).GetProperty("message_batch_id").GetString()!;
    }

    [Fact]
    public async Task A_finalized_batch_arrives_as_delivery_batch_finalized_signed_for_the_seed_verification()
    {
        var account = await OpenAccountAsync();
        using var v1 = ujumbe.Client(account.Secret);
        var created = await (await v1.PostAsJsonAsync("/v1/webhooks", new { url = Receiver.Url("wasambazie-ok"), format = "wasambazie" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal("wasambazie", created.GetProperty("format").GetString());
        Assert.Equal(["batch.finalized"], created.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        var secret = created.GetProperty("secret").GetString()!;

        var batchId = await SendAsync(account, "+255712345678,+255722345678,+255732345679");
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(Receiver.At("wasambazie-ok").Count >= 1), TimeSpan.FromSeconds(30),
            "the batch's webhook arrives");
        var received = Assert.Single(Receiver.At("wasambazie-ok"));

        Assert.True(Verify(secret, received.Body, received.Headers["x-wasambazie-signature"]), "X-Wasambazie-Signature verifies");
        Assert.False(received.Headers.ContainsKey("webhook-signature"));
        var payload = received.Json;
        Assert.Equal(["event", "message_batch_id", "summary", "messages"], payload.EnumerateObject().Select(p => p.Name));
        Assert.Equal("delivery.batch.finalized", payload.GetProperty("event").GetString());
        Assert.Equal(batchId, payload.GetProperty("message_batch_id").GetString());
        Assert.Equal("""{"total":3,"delivered":3,"failed":0}""", payload.GetProperty("summary").GetRawText());
        var messages = payload.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["+255712345678", "+255722345678", "+255732345679"], messages.Select(m => m.GetProperty("to_number").GetString()).Order());
        Assert.All(messages, m =>
        {
            Assert.Equal("delivered", m.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.String, m.GetProperty("delivered_at").ValueKind);
        });
        // The same report, polled.
        using var client = ujumbe.Client();
        using var report = await account.GetAsync(client, "/sms/delivery-reports/" + batchId);
        Assert.Equal("""{"total":3,"delivered":3,"failed":0}""", (await report.AssertJsonAsync()).GetProperty("summary").GetRawText());
    }

    [Fact]
    public async Task A_failed_attempt_is_retried_and_recorded_as_for_v1()
    {
        var account = await OpenAccountAsync();
        using var v1 = ujumbe.Client(account.Secret);
        Receiver.On("wasambazie-retry", (call, response) =>
        {
            response.StatusCode = call == 1 ? 500 : 200;
            return Task.CompletedTask;
        });
        var created = await (await v1.PostAsJsonAsync("/v1/webhooks", new { url = Receiver.Url("wasambazie-retry"), format = "wasambazie" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var secret = created.GetProperty("secret").GetString()!;
        await SendAsync(account, "+255712345678");

        await HttpAssertions.EventuallyAsync(() => Task.FromResult(Receiver.At("wasambazie-retry").Count >= 2), TimeSpan.FromSeconds(30),
            "the webhook is retried after a 500");
        var attempts = Receiver.At("wasambazie-retry");
        Assert.Equal(attempts[0].Text, attempts[1].Text);
        Assert.All(attempts, a => Assert.True(Verify(secret, a.Body, a.Headers["x-wasambazie-signature"])));

        JsonElement delivery = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            var deliveries = await (await v1.GetAsync($"/v1/webhooks/{created.GetProperty("id").GetString()}/deliveries")).AssertJsonAsync();
            delivery = deliveries.GetProperty("data")[0];
            return delivery.GetProperty("status").GetString() == "succeeded";
        }, TimeSpan.FromSeconds(10), "the delivery is recorded as succeeded");
        Assert.Equal("batch.finalized", delivery.GetProperty("event_type").GetString());
        Assert.Equal([500, 200], delivery.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("status_code").GetInt32()));
    }

    [Fact]
    public async Task A_format_carries_only_its_own_events_and_is_chosen_once()
    {
        var account = await OpenAccountAsync();
        using var v1 = ujumbe.Client(account.Secret);
        await (await v1.PostAsJsonAsync("/v1/webhooks", new { url = Receiver.Url("x"), format = "wasambazie", events = new[] { "message.sent" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        await (await v1.PostAsJsonAsync("/v1/webhooks", new { url = Receiver.Url("x"), format = "mifumo-xml" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");

        var plain = await (await v1.PostAsJsonAsync("/v1/webhooks", new { url = Receiver.Url("x") })).AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal("ujumbe", plain.GetProperty("format").GetString());
        var id = plain.GetProperty("id").GetString();
        await (await v1.PatchAsJsonAsync($"/v1/webhooks/{id}", new { format = "wasambazie" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");

        var dialect = await (await v1.PostAsJsonAsync("/v1/webhooks", new { url = Receiver.Url("x"), format = "wasambazie" })).AssertJsonAsync(HttpStatusCode.Created);
        await (await v1.PatchAsJsonAsync($"/v1/webhooks/{dialect.GetProperty("id").GetString()}", new { events = new[] { "message.failed" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, "VALIDATION_FAILED");
        var listed = await (await v1.GetAsync("/v1/webhooks")).AssertJsonAsync();
        Assert.Equal(["ujumbe", "wasambazie"], listed.GetProperty("data").EnumerateArray().Select(w => w.GetProperty("format").GetString()).Order());
    }
}
