extern alias WorkerApp;

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Webhooks;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Webhooks with retry delays shrunk to fractions of a second and a short receiver timeout.</summary>
public sealed class WebhookFixture : SendingFixture
{
    public WebhookReceiver Receiver { get; private set; } = null!;

    public override Dictionary<string, string?> WorkerSettings => new()
    {
        ["Webhooks:Delivery:RetrySchedule:0"] = "00:00:00",
        ["Webhooks:Delivery:RetrySchedule:1"] = "00:00:00.200",
        ["Webhooks:Delivery:RetrySchedule:2"] = "00:00:00.200",
        ["Webhooks:Delivery:Timeout"] = "00:00:02",
        ["Webhooks:Delivery:PollInterval"] = "00:00:00.050",
        ["Webhooks:Delivery:Lease"] = "00:00:05",
        // Few slots, so a hanging endpoint would fill them all if the per-endpoint cap did not stop it.
        ["Webhooks:Delivery:MaxClaimed"] = "4",
        ["Webhooks:Delivery:MaxInFlightPerEndpoint"] = "2",
    };

    public override async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

public sealed class WebhookTests(WebhookFixture ujumbe) : IClassFixture<WebhookFixture>
{
    private WebhookReceiver Receiver => ujumbe.Receiver;

    private async Task<(string Id, string Secret)> RegisterAsync(HttpClient client, string path, params string[] events)
    {
        var created = await (await client.PostAsJsonAsync("/v1/webhooks", new { url = Receiver.Url(path), events = events.Length == 0 ? null : events }))
            .AssertJsonAsync(HttpStatusCode.Created);
        return (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);
    }

    private static Task<JsonElement> SendAsync(HttpClient client, object body) =>
        client.PostAsJsonAsync("/v1/messages", body).ContinueWith(t => t.Result.AssertJsonAsync(HttpStatusCode.Accepted)).Unwrap();

    private async Task<IReadOnlyList<ReceivedWebhook>> WaitForAsync(string path, int count, TimeSpan? within = null)
    {
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(Receiver.At(path).Count >= count), within ?? TimeSpan.FromSeconds(20),
            $"{count} webhook(s) at /{path}");
        return Receiver.At(path);
    }

    private static async Task<JsonElement> DeliveriesAsync(HttpClient client, string webhookId) =>
        (await (await client.GetAsync($"/v1/webhooks/{webhookId}/deliveries?page_size=100")).AssertJsonAsync()).GetProperty("data");

    [Fact]
    public async Task Message_and_batch_events_arrive_signed_once_each_with_the_batch_summary()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var (id, secret) = await RegisterAsync(client, "all");
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.True(Convert.FromBase64String(secret["whsec_".Length..]).Length * 8 >= 192);

        var accepted = await SendAsync(client, new { to = new[] { "+255712300001", "+255712300002" }, text = "events", sender_id = "UJUMBE", reference = "ord-9" });
        var batchId = accepted.GetProperty("batch_id").GetString()!;
        await SendingFixture.WaitForFinalizedAsync(client, batchId);
        var received = await WaitForAsync("all", 5); // 2 × sent, 2 × delivered, 1 × batch.finalized

        Assert.All(received, webhook => Assert.True(IndependentVerifier.Verifies(webhook, secret), "the signature verifies"));
        var types = received.Select(r => r.Json.GetProperty("event").GetString()!).OrderBy(t => t, StringComparer.Ordinal).ToArray();
        Assert.Equal(["batch.finalized", "message.delivered", "message.delivered", "message.sent", "message.sent"], types);
        var finalized = received.Single(r => r.Json.GetProperty("event").GetString() == "batch.finalized").Json;
        Assert.Equal(batchId, finalized.GetProperty("batch_id").GetString());
        Assert.Equal("ord-9", finalized.GetProperty("reference").GetString());
        Assert.Equal(2, finalized.GetProperty("summary").GetProperty("total").GetInt32());
        Assert.Equal(2, finalized.GetProperty("summary").GetProperty("delivered").GetInt32());
        Assert.All(finalized.GetProperty("messages").EnumerateArray(), m => Assert.Equal("delivered", m.GetProperty("status").GetString()));
        var delivered = received.First(r => r.Json.GetProperty("event").GetString() == "message.delivered").Json.GetProperty("message");
        Assert.Equal(batchId, delivered.GetProperty("batch_id").GetString());
        Assert.Equal(JsonValueKind.String, delivered.GetProperty("delivered_at").ValueKind);
        // Every event has its own id, carried in both the header and the body.
        Assert.Equal(5, received.Select(r => r.Headers["webhook-id"]).Distinct().Count());
        Assert.All(received, r => Assert.Equal(r.Headers["webhook-id"], r.Json.GetProperty("id").GetString()));

        // Every event was made with the change that caused it, so all exist now the batch is final; once each
        // delivery is recorded as succeeded nothing more is sent: batch.finalized is sent once.
        JsonElement deliveries = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            deliveries = await DeliveriesAsync(client, id);
            return deliveries.GetArrayLength() >= 5 && deliveries.EnumerateArray().All(d => d.GetProperty("status").GetString() == "succeeded");
        }, TimeSpan.FromSeconds(10), "every delivery is recorded as succeeded");
        Assert.Equal(5, deliveries.GetArrayLength());
        Assert.All(deliveries.EnumerateArray(), d => Assert.Equal(1, d.GetProperty("attempts").GetInt32()));
        Assert.Equal(5, Receiver.At("all").Count);
        Assert.Equal(1, Receiver.At("all").Count(r => r.Json.GetProperty("event").GetString() == "batch.finalized"));
    }

    [Fact]
    public async Task A_sends_trace_runs_from_the_gateway_through_the_provider_and_its_delivery_report_to_its_webhooks()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        await RegisterAsync(client, "traced");
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "Ujumbe.Worker" or "Ujumbe.Messaging" or "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);

        // The caller's own trace context, so the trace id is known.
        var traceId = ActivityTraceId.CreateRandom();
        var callerSpan = ActivitySpanId.CreateRandom();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = JsonContent.Create(new { to = new[] { "+255712300051" }, text = "traced", sender_id = "UJUMBE" }),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        var accepted = await (await client.SendAsync(request)).AssertJsonAsync(HttpStatusCode.Accepted);
        var messageId = Guid.ParseExact(accepted.GetProperty("messages")[0].GetProperty("id").GetString()!["msg_".Length..], "N");

        List<Activity> Traced(string name) => spans.Where(s => s.TraceId == traceId && s.OperationName == name).ToList();
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(
                Traced("webhook deliver").Count >= 3 && Traced("dispatch process").Count == 1
                && Traced("delivery-reports process").Any(r => r.GetTagItem("ujumbe.reports.delivered") is 1)),
            TimeSpan.FromSeconds(20), "message.sent, message.delivered and batch.finalized delivered in the send's trace");

        var gatewayRequest = Assert.Single(spans, s => s.Source.Name == "Microsoft.AspNetCore" && s.ParentSpanId == callerSpan);
        Assert.Equal(traceId, gatewayRequest.TraceId);

        // The provider's answer is a client span of the dispatch.
        var dispatch = Assert.Single(Traced("dispatch process"));
        var submit = Assert.Single(Traced("provider submit"));
        Assert.Equal(dispatch.SpanId, submit.ParentSpanId);
        Assert.Equal(ActivityKind.Client, submit.Kind);
        Assert.Equal("simulator", submit.GetTagItem("ujumbe.provider"));
        Assert.Equal(1, submit.GetTagItem("ujumbe.message_count"));
        Assert.Equal([messageId.ToString()], (string[])submit.GetTagItem("ujumbe.message_ids")!);
        Assert.Equal("accepted", submit.GetTagItem("ujumbe.provider.outcome"));

        // The delivery report comes back in the same trace, under the submission (published there, handled later).
        var report = Assert.Single(Traced("delivery-reports process"), r => r.GetTagItem("ujumbe.reports.delivered") is 1);
        Assert.True(DescendsFrom(report, submit), "the delivery report's handling descends from the provider submission");

        // Each webhook delivery is a child of the change that caused its event.
        var webhooks = Traced("webhook deliver");
        Assert.All(webhooks, w => Assert.Equal(ActivityKind.Client, w.Kind));
        Activity Webhook(string type) => Assert.Single(webhooks, w => (string?)w.GetTagItem("ujumbe.webhook.event_type") == type);
        Assert.Equal(dispatch.SpanId, Webhook("message.sent").ParentSpanId);
        Assert.Equal(report.SpanId, Webhook("message.delivered").ParentSpanId);
        Assert.Equal(report.SpanId, Webhook("batch.finalized").ParentSpanId);
        Assert.Equal(3, Receiver.At("traced").Count);

        bool DescendsFrom(Activity span, Activity ancestor)
        {
            for (var current = span; current is not null; current = spans.FirstOrDefault(s => s.SpanId == current.ParentSpanId))
            {
                if (current.ParentSpanId == ancestor.SpanId)
                {
                    return true;
                }
            }
            return false;
        }
    }

    [Fact]
    public async Task An_endpoint_gets_only_the_events_it_subscribed_to_and_no_events_exist_without_listeners()
    {
        using var quiet = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        var silent = await SendAsync(quiet, new { to = new[] { "+255712300011" }, text = "nobody listens", sender_id = "UJUMBE" });
        await SendingFixture.WaitForFinalizedAsync(quiet, silent.GetProperty("batch_id").GetString()!);
        var account = (await (await quiet.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString()!;
        Assert.Equal(0L, await ujumbe.Database.ScalarAsync<long>("select count(*) from webhook_events where account_id = $1",
            Guid.ParseExact(account["acct_".Length..], "N")));

        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        await RegisterAsync(client, "finals-only", "batch.finalized");
        var accepted = await SendAsync(client, new { to = new[] { "+255712300012" }, text = "x", sender_id = "UJUMBE" });
        await SendingFixture.WaitForFinalizedAsync(client, accepted.GetProperty("batch_id").GetString()!);
        var received = await WaitForAsync("finals-only", 1);
        Assert.All(received, r => Assert.Equal("batch.finalized", r.Json.GetProperty("event").GetString()));
    }

    [Fact]
    public async Task A_receiver_that_fails_twice_gets_it_on_the_third_attempt_and_the_history_shows_all_three()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        Receiver.On("flaky", (call, response) =>
        {
            response.StatusCode = call <= 2 ? 500 : 200;
            return Task.CompletedTask;
        });
        var (id, secret) = await RegisterAsync(client, "flaky", "batch.finalized");
        var accepted = await SendAsync(client, new { to = new[] { "+255712300021" }, text = "retry me", sender_id = "UJUMBE" });
        await SendingFixture.WaitForFinalizedAsync(client, accepted.GetProperty("batch_id").GetString()!);
        var received = await WaitForAsync("flaky", 3);
        Assert.Single(received.Select(r => r.Headers["webhook-id"]).Distinct()); // the same event, retried
        Assert.All(received, r => Assert.True(IndependentVerifier.Verifies(r, secret)));

        JsonElement delivery = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            delivery = (await DeliveriesAsync(client, id))[0];
            return delivery.GetProperty("status").GetString() == "succeeded";
        }, TimeSpan.FromSeconds(10), "the delivery is recorded as succeeded");
        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());
        var history = delivery.GetProperty("history").EnumerateArray().ToList();
        Assert.Equal([500, 500, 200], history.Select(a => a.GetProperty("status_code").GetInt32()));
        Assert.All(history, a => Assert.True(a.GetProperty("latency_ms").GetInt32() >= 0));
        Assert.Equal(JsonValueKind.String, history[0].GetProperty("next_attempt_at").ValueKind);
        Assert.Equal(JsonValueKind.Null, history[2].GetProperty("next_attempt_at").ValueKind);
    }

    [Fact]
    public async Task Retry_after_from_the_receiver_decides_when_the_next_attempt_comes()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        Receiver.On("busy", (call, response) =>
        {
            response.StatusCode = call == 1 ? 503 : 204;
            if (call == 1)
            {
                response.Headers.RetryAfter = "2";   // the schedule here would retry after 0.2 s
            }
            return Task.CompletedTask;
        });
        var (id, _) = await RegisterAsync(client, "busy", "batch.finalized");
        await SendAsync(client, new { to = new[] { "+255712300031" }, text = "later please", sender_id = "UJUMBE" });
        var received = await WaitForAsync("busy", 2, TimeSpan.FromSeconds(15));
        Assert.True(received[1].At - received[0].At >= TimeSpan.FromSeconds(1.8), $"retried after {(received[1].At - received[0].At).TotalSeconds:0.00} s");

        JsonElement delivery = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            delivery = (await DeliveriesAsync(client, id))[0];
            return delivery.GetProperty("status").GetString() == "succeeded";
        }, TimeSpan.FromSeconds(10), "the second attempt is recorded");
        var first = delivery.GetProperty("history")[0];
        var planned = first.GetProperty("next_attempt_at").GetDateTime() - first.GetProperty("attempted_at").GetDateTime();
        Assert.InRange(planned.TotalSeconds, 1.9, 3);
    }

    [Fact]
    public async Task After_an_endpoints_url_changes_its_pending_and_manual_retries_go_to_the_new_url()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        Receiver.On("moving-from", (_, response) =>
        {
            response.StatusCode = 503;
            response.Headers.RetryAfter = "2";   // time to change the URL before the retry
            return Task.CompletedTask;
        });
        var (id, secret) = await RegisterAsync(client, "moving-from", "sender_id.approved");
        var requested = await (await client.PostAsJsonAsync("/v1/sender-ids", new { name = "MOVING1", purpose = "moving" })).AssertJsonAsync(HttpStatusCode.Created);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.PostAsync($"/v1/admin/sender-ids/{requested.GetProperty("id").GetString()}/approve", null)).AssertJsonAsync();
        var first = (await WaitForAsync("moving-from", 1))[0];

        await (await client.PatchAsJsonAsync($"/v1/webhooks/{id}", new { url = Receiver.Url("moving-to") })).AssertJsonAsync();
        var retried = (await WaitForAsync("moving-to", 1))[0];
        Assert.Equal(first.Headers["webhook-id"], retried.Headers["webhook-id"]);
        Assert.True(IndependentVerifier.Verifies(retried, secret));
        Assert.Single(Receiver.At("moving-from"));
        JsonElement delivery = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            delivery = (await DeliveriesAsync(client, id))[0];
            return delivery.GetProperty("status").GetString() == "succeeded";
        }, TimeSpan.FromSeconds(10), "the retry to the new URL is recorded");
        Assert.Equal(Receiver.Url("moving-to"), delivery.GetProperty("url").GetString());

        await (await client.PatchAsJsonAsync($"/v1/webhooks/{id}", new { url = Receiver.Url("moving-on") })).AssertJsonAsync();
        await (await client.PostAsync($"/v1/webhooks/deliveries/{delivery.GetProperty("id").GetString()}/retry", null)).AssertJsonAsync();
        Assert.Equal(first.Headers["webhook-id"], (await WaitForAsync("moving-on", 1))[0].Headers["webhook-id"]);
        Assert.Single(Receiver.At("moving-to"));
    }

    [Fact]
    public async Task Redirects_are_not_followed()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        var elsewhere = Receiver.Url("elsewhere");
        Receiver.On("moved", (_, response) =>
        {
            response.StatusCode = 307;
            response.Headers.Location = elsewhere;
            return Task.CompletedTask;
        });
        var (id, _) = await RegisterAsync(client, "moved", "batch.finalized");
        await SendAsync(client, new { to = new[] { "+255712300032" }, text = "moved", sender_id = "UJUMBE" });

        JsonElement delivery = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            var deliveries = await DeliveriesAsync(client, id);
            delivery = deliveries.GetArrayLength() > 0 ? deliveries[0] : default;
            return delivery.ValueKind == JsonValueKind.Object && delivery.GetProperty("history").GetArrayLength() > 0;
        }, TimeSpan.FromSeconds(15), "the first attempt is recorded");
        var attempt = delivery.GetProperty("history")[0];
        Assert.Equal(307, attempt.GetProperty("status_code").GetInt32());
        Assert.Contains("307", attempt.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Empty(Receiver.At("elsewhere"));
    }

    [Fact]
    public async Task A_410_disables_the_endpoint_and_what_happens_meanwhile_is_delivered_when_it_is_enabled_again()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        Receiver.Answer("gone", 410);
        var (id, _) = await RegisterAsync(client, "gone", "batch.finalized");
        var accepted = await SendAsync(client, new { to = new[] { "+255712300031" }, text = "gone", sender_id = "UJUMBE" });
        await SendingFixture.WaitForFinalizedAsync(client, accepted.GetProperty("batch_id").GetString()!);
        await WaitForAsync("gone", 1);
        await HttpAssertions.EventuallyAsync(async () =>
        {
            var endpoint = (await (await client.GetAsync("/v1/webhooks")).AssertJsonAsync()).GetProperty("data").EnumerateArray().Single();
            return !endpoint.GetProperty("enabled").GetBoolean() && endpoint.GetProperty("disabled_reason").GetString()!.Contains("410", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(10), "the endpoint is disabled");
        // The event the 410 answered is held for the endpoint, not dropped.
        await HttpAssertions.EventuallyAsync(async () => (await DeliveriesAsync(client, id))[0].GetProperty("status").GetString() == "held",
            TimeSpan.FromSeconds(10), "the answered delivery is held");
        Assert.Equal(1, (await DeliveriesAsync(client, id))[0].GetProperty("attempts").GetInt32());

        // While it is disabled, events are kept for it and not sent.
        var meanwhile = await SendAsync(client, new { to = new[] { "+255712300032" }, text = "while you were gone", sender_id = "UJUMBE" });
        await SendingFixture.WaitForFinalizedAsync(client, meanwhile.GetProperty("batch_id").GetString()!);
        await HttpAssertions.EventuallyAsync(async () =>
        {
            var deliveries = await DeliveriesAsync(client, id);
            return deliveries.GetArrayLength() == 2 && deliveries.EnumerateArray().All(d => d.GetProperty("status").GetString() == "held");
        }, TimeSpan.FromSeconds(10), "the event of the send made meanwhile is held");
        Assert.Single(Receiver.At("gone"));

        // Re-enabled by the account: what was held is delivered, then new events as usual.
        Receiver.Answer("gone", 204);
        var enabled = await (await client.PatchAsJsonAsync($"/v1/webhooks/{id}", new { enabled = true })).AssertJsonAsync();
        Assert.True(enabled.GetProperty("enabled").GetBoolean());
        Assert.Equal(JsonValueKind.Null, enabled.GetProperty("disabled_reason").ValueKind);
        var held = await WaitForAsync("gone", 3);
        Assert.Equal(
            new[] { accepted.GetProperty("batch_id").GetString(), meanwhile.GetProperty("batch_id").GetString() }.Order(),
            held.Skip(1).Select(w => w.Json.GetProperty("batch_id").GetString()).Order());
        var again = await SendAsync(client, new { to = new[] { "+255712300034" }, text = "back again", sender_id = "UJUMBE" });
        var received = await WaitForAsync("gone", 4);
        Assert.Equal("batch.finalized", received[3].Json.GetProperty("event").GetString());
        Assert.Equal(again.GetProperty("batch_id").GetString(), received[3].Json.GetProperty("batch_id").GetString());
        Assert.Equal(4, received.Count);
    }

    [Fact]
    public async Task Events_for_an_endpoint_the_account_disabled_are_kept_for_72_hours_and_delivered_when_it_is_enabled_again()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        Receiver.Answer("paused", 204);
        var (id, _) = await RegisterAsync(client, "paused", "batch.finalized");
        var disabled = await (await client.PatchAsJsonAsync($"/v1/webhooks/{id}", new { enabled = false })).AssertJsonAsync();
        Assert.False(disabled.GetProperty("enabled").GetBoolean());

        var batches = new List<string>();
        foreach (var to in new[] { "+255712300041", "+255712300042", "+255712300043" })
        {
            var accepted = await SendAsync(client, new { to = new[] { to }, text = "paused", sender_id = "UJUMBE" });
            batches.Add(accepted.GetProperty("batch_id").GetString()!);
            await SendingFixture.WaitForFinalizedAsync(client, batches[^1]);
        }
        JsonElement deliveries = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            deliveries = await DeliveriesAsync(client, id);
            return deliveries.GetArrayLength() == 3;
        }, TimeSpan.FromSeconds(10), "three events are kept");
        Assert.All(deliveries.EnumerateArray(), d => Assert.Equal("held", d.GetProperty("status").GetString()));
        Assert.Empty(Receiver.At("paused"));

        // The oldest was held longer than the retention: it is not delivered, and says why.
        var expired = Guid.ParseExact(deliveries[2].GetProperty("id").GetString()!["whd_".Length..], "N");
        await ujumbe.Database.ExecuteAsync("update webhook_deliveries set created_at = created_at - interval '73 hours' where id = $1", expired);

        await (await client.PatchAsJsonAsync($"/v1/webhooks/{id}", new { enabled = true })).AssertJsonAsync();
        var received = await WaitForAsync("paused", 2);
        Assert.Equal(batches.Skip(1).Order(), received.Select(w => w.Json.GetProperty("batch_id").GetString()!).Order());
        deliveries = await DeliveriesAsync(client, id);
        var old = deliveries.EnumerateArray().Single(d => d.GetProperty("id").GetString() == "whd_" + expired.ToString("N"));
        Assert.Equal("failed", old.GetProperty("status").GetString());
        Assert.Contains("retention", old.GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.Equal(2, Receiver.At("paused").Count);
    }

    [Fact]
    public async Task A_receiver_that_hangs_is_recorded_as_a_timeout_and_does_not_hold_up_other_endpoints()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 20));
        Receiver.On("hangs", async (_, response) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            response.StatusCode = 200;
        });
        var (hangingId, _) = await RegisterAsync(client, "hangs", "message.sent");
        var (quickId, _) = await RegisterAsync(client, "quick", "message.sent");
        var to = Enumerable.Range(0, 10).Select(i => $"+2557123004{i:D2}").ToArray();
        await SendAsync(client, new { to, text = "one slow, one quick", sender_id = "UJUMBE" });

        // Each quick delivery is made as soon as it is due: none waits for a slot the hanging endpoint
        // holds (its attempts hold one for the 2 s timeout; the Worker has 4 slots, 2 per endpoint).
        Assert.Equal(10, (await WaitForAsync("quick", 10, TimeSpan.FromSeconds(15))).Count);
        var quickDeliveries = await DeliveriesAsync(client, quickId);
        Assert.All(quickDeliveries.EnumerateArray(), delivery =>
        {
            var created = delivery.GetProperty("created_at").GetDateTime();
            var firstAttempt = delivery.GetProperty("history")[0].GetProperty("attempted_at").GetDateTime();
            Assert.True(firstAttempt - created < TimeSpan.FromSeconds(1.5), $"attempted {(firstAttempt - created).TotalMilliseconds:0} ms after it was due");
        });

        await HttpAssertions.EventuallyAsync(async () =>
        {
            var deliveries = await DeliveriesAsync(client, hangingId);
            return deliveries.EnumerateArray().Any(d => d.GetProperty("history").EnumerateArray()
                .Any(a => a.GetProperty("error").GetString()?.Contains("No answer within", StringComparison.Ordinal) == true));
        }, TimeSpan.FromSeconds(15), "the timeout is in the history");
    }

    [Fact]
    public async Task A_failed_delivery_can_be_retried_by_hand()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        Receiver.Answer("down", 503);
        var (id, _) = await RegisterAsync(client, "down", "batch.finalized");
        var accepted = await SendAsync(client, new { to = new[] { "+255712300041" }, text = "down", sender_id = "UJUMBE" });
        await SendingFixture.WaitForFinalizedAsync(client, accepted.GetProperty("batch_id").GetString()!);
        JsonElement delivery = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            delivery = (await DeliveriesAsync(client, id))[0];
            return delivery.GetProperty("status").GetString() == "failed";
        }, TimeSpan.FromSeconds(15), "all three attempts fail");
        Assert.Equal(3, delivery.GetProperty("attempts").GetInt32());

        Receiver.Answer("down", 200);
        var retryTrace = ActivityTraceId.CreateRandom();
        using var retry = new HttpRequestMessage(HttpMethod.Post, $"/v1/webhooks/deliveries/{delivery.GetProperty("id").GetString()}/retry");
        retry.Headers.Add("traceparent", $"00-{retryTrace}-{ActivitySpanId.CreateRandom()}-01");
        var retried = await (await client.SendAsync(retry)).AssertJsonAsync();
        Assert.Equal("pending", retried.GetProperty("status").GetString());
        await HttpAssertions.EventuallyAsync(async () => (await DeliveriesAsync(client, id))[0].GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(10), "the manual retry succeeds");
        // Delivered again in the trace of the request that asked for it (the receiver sees it in traceparent).
        Assert.Contains($"-{retryTrace}-", Receiver.At("down")[^1].Headers["traceparent"], StringComparison.Ordinal);

        using var other = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        await (await other.PostAsync($"/v1/webhooks/deliveries/{delivery.GetProperty("id").GetString()}/retry", null))
            .AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await other.GetAsync($"/v1/webhooks/{id}/deliveries")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }

    [Fact]
    public async Task A_per_message_callback_url_gets_the_events_signed_with_the_accounts_callback_secret()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        var secret = (await (await client.PostAsync("/v1/webhooks/callback-secret", null)).AssertJsonAsync()).GetProperty("secret").GetString()!;
        var accepted = await SendAsync(client, new { to = new[] { "+255712300051" }, text = "call me back", sender_id = "UJUMBE", callback_url = Receiver.Url("callback") });
        await SendingFixture.WaitForFinalizedAsync(client, accepted.GetProperty("batch_id").GetString()!);
        var received = await WaitForAsync("callback", 3); // sent, delivered, batch.finalized
        Assert.All(received, r => Assert.True(IndependentVerifier.Verifies(r, secret)));
    }

    [Fact]
    public async Task Sender_id_decisions_are_events_too()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        await RegisterAsync(client, "senders", "sender_id.approved", "sender_id.rejected");
        var requested = await (await client.PostAsJsonAsync("/v1/sender-ids", new { name = "EVENTS1", purpose = "events" })).AssertJsonAsync(HttpStatusCode.Created);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var decisionTrace = ActivityTraceId.CreateRandom();
        using var approve = new HttpRequestMessage(HttpMethod.Post, $"/v1/admin/sender-ids/{requested.GetProperty("id").GetString()}/approve");
        approve.Headers.Add("traceparent", $"00-{decisionTrace}-{ActivitySpanId.CreateRandom()}-01");
        await (await admin.SendAsync(approve)).AssertJsonAsync();
        var received = await WaitForAsync("senders", 1);
        var sender = received[0].Json;
        Assert.Equal("sender_id.approved", sender.GetProperty("event").GetString());
        Assert.Equal("EVENTS1", sender.GetProperty("sender_id").GetProperty("name").GetString());
        // The event's delivery continues the trace of the decision that caused it.
        Assert.Contains($"-{decisionTrace}-", received[0].Headers["traceparent"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Canceling_a_scheduled_batch_delivers_its_batch_finalized_in_the_cancels_trace()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        await RegisterAsync(client, "canceled", "batch.finalized");
        var accepted = await SendAsync(client, new { to = new[] { "+255712300061" }, text = "later", sender_id = "UJUMBE", scheduled_at = DateTime.UtcNow.AddHours(2) });
        var cancelTrace = ActivityTraceId.CreateRandom();
        using var cancel = new HttpRequestMessage(HttpMethod.Post, $"/v1/batches/{accepted.GetProperty("batch_id").GetString()}/cancel");
        cancel.Headers.Add("traceparent", $"00-{cancelTrace}-{ActivitySpanId.CreateRandom()}-01");
        await (await client.SendAsync(cancel)).AssertJsonAsync();
        var received = await WaitForAsync("canceled", 1);
        Assert.Equal("batch.finalized", received[0].Json.GetProperty("event").GetString());
        Assert.Contains($"-{cancelTrace}-", received[0].Headers["traceparent"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_result_the_database_refuses_is_dropped_without_stopping_the_recording_of_the_others()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var (refusedId, _) = await RegisterAsync(client, "refused", "sender_id.approved");
        var (healthyId, _) = await RegisterAsync(client, "recorded", "sender_id.approved");
        // A fault no retry can cure, for this endpoint's results only.
        await ujumbe.Database.ExecuteAsync("""
            create function refuse_results() returns trigger language plpgsql as $$
            begin
                if exists (select 1 from webhook_deliveries where id = new.delivery_id and url like '%/refused') then
                    raise exception 'refused by the test';
                end if;
                return new;
            end $$;
            create trigger refuse_results before insert on webhook_attempts for each row execute function refuse_results();
            """);
        try
        {
            var requested = await (await client.PostAsJsonAsync("/v1/sender-ids", new { name = "REFUSED1", purpose = "refused" })).AssertJsonAsync(HttpStatusCode.Created);
            using var admin = ujumbe.Client(ujumbe.OperatorKey);
            await (await admin.PostAsync($"/v1/admin/sender-ids/{requested.GetProperty("id").GetString()}/approve", null)).AssertJsonAsync();
            await WaitForAsync("refused", 1);
            await HttpAssertions.EventuallyAsync(async () => (await DeliveriesAsync(client, healthyId))[0].GetProperty("status").GetString() == "succeeded",
                TimeSpan.FromSeconds(10), "the other endpoint's result is recorded");
            Assert.Equal("pending", (await DeliveriesAsync(client, refusedId))[0].GetProperty("status").GetString());
        }
        finally
        {
            await ujumbe.Database.ExecuteAsync("drop trigger refuse_results on webhook_attempts; drop function refuse_results()");
        }
        // Dropping the result lost nothing: the lease ran out and the delivery was made again.
        await HttpAssertions.EventuallyAsync(async () => (await DeliveriesAsync(client, refusedId))[0].GetProperty("status").GetString() == "succeeded",
            TimeSpan.FromSeconds(15), "the refused endpoint's delivery is made again and recorded");
        Assert.True(Receiver.At("refused").Count >= 2);
    }

    [Fact]
    public async Task A_result_that_comes_after_the_delivery_was_taken_again_does_not_overwrite_the_new_claim()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Receiver.On("late", async (_, response) =>
        {
            await answer.Task;
            response.StatusCode = 500;
        });
        var (id, _) = await RegisterAsync(client, "late", "sender_id.approved");
        var requested = await (await client.PostAsJsonAsync("/v1/sender-ids", new { name = "LATE1", purpose = "late" })).AssertJsonAsync(HttpStatusCode.Created);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.PostAsync($"/v1/admin/sender-ids/{requested.GetProperty("id").GetString()}/approve", null)).AssertJsonAsync();
        await WaitForAsync("late", 1);

        // While the receiver holds the request, the delivery is taken again, as another Worker would once the lease ran out.
        Assert.Equal(1, await ujumbe.Database.ExecuteAsync(
            "update webhook_deliveries set attempts = attempts + 1, next_attempt_at = now() + interval '1 hour' where endpoint_id = $1 and status = 'pending'",
            Guid.ParseExact(id["whk_".Length..], "N")));
        answer.SetResult();

        JsonElement delivery = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            delivery = (await DeliveriesAsync(client, id))[0];
            return delivery.GetProperty("history").GetArrayLength() == 1;
        }, TimeSpan.FromSeconds(10), "the late attempt is in the history");
        Assert.Equal("pending", delivery.GetProperty("status").GetString());
        Assert.Equal(2, delivery.GetProperty("attempts").GetInt32());
        Assert.True(delivery.GetProperty("next_attempt_at").GetDateTime() > DateTime.UtcNow.AddMinutes(50), "the new claim's lease is kept");
        Assert.Equal(JsonValueKind.Null, delivery.GetProperty("last_status_code").ValueKind);
    }

    [Fact]
    public async Task Pending_deliveries_survive_a_worker_restart()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        await RegisterAsync(client, "restart", "sender_id.approved");
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await ujumbe.RestartWorkerAsync(whileStopped: async () =>
        {
            // Events made while no Worker runs wait in the database.
            for (var i = 0; i < 5; i++)
            {
                var requested = await (await client.PostAsJsonAsync("/v1/sender-ids", new { name = $"RESTART{i}", purpose = "restart" })).AssertJsonAsync(HttpStatusCode.Created);
                await (await admin.PostAsync($"/v1/admin/sender-ids/{requested.GetProperty("id").GetString()}/approve", null)).AssertJsonAsync();
            }
            Assert.Empty(Receiver.At("restart"));
        });
        var received = await WaitForAsync("restart", 5);
        Assert.Equal(5, received.Select(r => r.Json.GetProperty("sender_id").GetProperty("name").GetString()).Distinct().Count());
    }

    [Theory]
    [InlineData("ftp://example.com/hook", "http or https")]
    [InlineData("/relative/hook", "http or https")]
    [InlineData("https://user:secret@example.com/hook", "credentials")]
    [InlineData("https://does-not-exist.invalid/hook", "does not resolve")]
    public async Task Bad_urls_are_refused_with_the_reason(string url, string reason)
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var problem = await (await client.PostAsJsonAsync("/v1/webhooks", new { url })).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Contains(reason, problem.GetProperty("errors").GetProperty("url")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_url_longer_than_2048_characters_and_unknown_events_are_refused()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        await (await client.PostAsJsonAsync("/v1/webhooks", new { url = "https://example.com/" + new string('a', 2048) }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var problem = await (await client.PostAsJsonAsync("/v1/webhooks", new { url = Receiver.Url("x"), events = new[] { "message.exploded" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var message = problem.GetProperty("errors").GetProperty("events")[0].GetString()!;
        Assert.Contains("message.exploded", message, StringComparison.Ordinal);
        Assert.Contains("batch.finalized", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_account_has_at_most_twenty_endpoints()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        for (var i = 0; i < 20; i++)
        {
            await RegisterAsync(client, $"many/{i}");
        }
        var problem = await (await client.PostAsJsonAsync("/v1/webhooks", new { url = Receiver.Url("many/20") }))
            .AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        Assert.Contains("at most 20", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(20, (await (await client.GetAsync("/v1/webhooks")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Concurrent_creates_do_not_take_an_account_past_twenty_endpoints()
    {
        // A few rounds: the race is at the last free places and does not show every time.
        for (var round = 0; round < 3; round++)
        {
            using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
            for (var i = 0; i < 18; i++)
            {
                await RegisterAsync(client, $"racing/{i}");
            }
            var answers = await Task.WhenAll(Enumerable.Range(18, 12).Select(i => client.PostAsJsonAsync("/v1/webhooks", new { url = Receiver.Url($"racing/{i}") })));
            Assert.Equal(2, answers.Count(a => a.StatusCode == HttpStatusCode.Created));
            Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.Created), a => Assert.Equal(HttpStatusCode.Conflict, a.StatusCode));
            Assert.Equal(20, (await (await client.GetAsync("/v1/webhooks")).AssertJsonAsync()).GetProperty("total").GetInt32());
        }
    }

    [Fact]
    public async Task Secrets_are_shown_once_and_endpoints_are_private_to_their_account()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var (id, secret) = await RegisterAsync(client, "private");
        var listed = await (await client.GetAsync("/v1/webhooks")).AssertJsonAsync();
        Assert.DoesNotContain(secret, listed.GetRawText(), StringComparison.Ordinal);
        Assert.False(listed.GetProperty("data")[0].TryGetProperty("secret", out _));
        var stored = await ujumbe.Database.ScalarAsync<byte[]>("select secret_ciphertext from webhook_endpoints where id = $1", Guid.ParseExact(id["whk_".Length..], "N"));
        Assert.DoesNotContain(secret["whsec_".Length..], Convert.ToBase64String(stored!), StringComparison.Ordinal);

        using var other = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        await (await other.PatchAsJsonAsync($"/v1/webhooks/{id}", new { enabled = false })).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await other.DeleteAsync($"/v1/webhooks/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        Assert.Equal(0, (await (await other.GetAsync("/v1/webhooks")).AssertJsonAsync()).GetProperty("total").GetInt32());
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/v1/webhooks/{id}")).StatusCode);
        Assert.Equal(0, (await (await client.GetAsync("/v1/webhooks")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }
}

public sealed class WebhookDeliveryOptionsTests
{
    [Fact]
    public void A_worker_whose_lease_does_not_outlast_the_timeout_does_not_start()
    {
        using var worker = new ServiceHost<WorkerApp::Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:postgres"] = "Host=127.0.0.1;Port=1;Username=nobody",
            ["ConnectionStrings:rabbitmq"] = "amqp://nobody:nothing@127.0.0.1:1/",
            ["Webhooks:SecretKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
            ["Webhooks:Delivery:Timeout"] = "00:00:10",
            ["Webhooks:Delivery:Lease"] = "00:00:10",
        });
        var error = Assert.ThrowsAny<Exception>(() => worker.Start());
        Assert.Contains("Lease must be longer than", error.ToString(), StringComparison.Ordinal);
    }
}

/// <summary>Production's default: no webhooks to private addresses, in the Api or the Worker.</summary>
public sealed class PublicOnlyWebhookFixture : SendingFixture
{
    protected override Dictionary<string, string?> ApiSettings()
    {
        var settings = base.ApiSettings();
        settings["Webhooks:AllowPrivateNetworks"] = "false";
        return settings;
    }
}

public sealed class WebhookSsrfTests(PublicOnlyWebhookFixture ujumbe) : IClassFixture<PublicOnlyWebhookFixture>
{
    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://localhost/hook")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://192.168.0.10/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data")]
    [InlineData("http://[::1]/hook")]
    [InlineData("http://0.0.0.0/hook")]
    public async Task Private_addresses_are_refused_for_endpoints_and_callbacks(string url)
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        var problem = await (await client.PostAsJsonAsync("/v1/webhooks", new { url })).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Contains("private network", problem.GetProperty("errors").GetProperty("url")[0].GetString(), StringComparison.Ordinal);
        await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "+255712345678" }, text = "x", sender_id = "UJUMBE", callback_url = url }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }

    [Theory]
    [InlineData("8.8.8.8", false)]
    [InlineData("41.59.1.1", false)]
    [InlineData("100.64.0.1", true)]
    [InlineData("172.16.5.4", true)]
    [InlineData("224.0.0.1", true)]
    [InlineData("fc00::1", true)]
    [InlineData("fe80::1", true)]
    [InlineData("64:ff9b::a9fe:a9fe", true)]
    [InlineData("::10.0.0.1", true)]
    [InlineData("2002:c0a8:0101::1", true)]
    [InlineData("2002:0808:0808::1", false)]
    [InlineData("::ffff:10.0.0.1", true)]
    [InlineData("2001:4860:4860::8888", false)]
    public void Internal_addresses_are_recognised(string address, bool isInternal) =>
        Assert.Equal(isInternal, Ujumbe.Shared.Webhooks.UrlGuard.IsInternal(IPAddress.Parse(address)));

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/iam/security-credentials/")]
    [InlineData("http://169.254.170.2/v2/credentials")]
    [InlineData("http://[fe80::1]/hook")]
    [InlineData("http://[fd00:ec2::254]/latest/meta-data")]
    [InlineData("http://100.100.100.200/latest/meta-data")]
    [InlineData("http://168.63.129.16/machine")]
    [InlineData("http://192.0.0.192/opc/v1/instance")]
    [InlineData("http://[fd20:ce::254]/computeMetadata/v1")]
    [InlineData("http://[::ffff:169.254.169.254]/latest")]
    [InlineData("http://[64:ff9b::a9fe:a9fe]/latest")]
    [InlineData("http://[2002:a9fe:a9fe::1]/latest")]
    public async Task Link_local_and_metadata_addresses_are_refused_even_where_private_networks_are_allowed(string url)
    {
        var reason = await UrlGuard.CheckAsync(url, allowPrivateNetworks: true, CancellationToken.None);
        Assert.NotNull(reason);
        Assert.Contains("link-local or cloud metadata", reason, StringComparison.Ordinal);

        // And at connect time, whatever the registration said (DNS may change): no packet leaves.
        using var http = new HttpClient(new SocketsHttpHandler { ConnectCallback = UrlGuard.ConnectCallback(allowPrivateNetworks: true) });
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(url));
        Assert.StartsWith("Refused to connect", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:8080/hook")]
    [InlineData("http://10.1.2.3/hook")]
    [InlineData("http://[fd12:3456::1]/hook")]
    [InlineData("http://100.64.0.1/hook")]
    public async Task Private_addresses_are_allowed_where_private_networks_are(string url) =>
        Assert.Null(await UrlGuard.CheckAsync(url, allowPrivateNetworks: true, CancellationToken.None));
}

/// <summary>An endpoint accepted when it pointed outside, delivered to when it resolves inside: the Worker refuses at connect time.</summary>
public sealed class DeliveryTimeGuardFixture : SendingFixture
{
    public WebhookReceiver Receiver { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override Dictionary<string, string?> WorkerSettings => new()
    {
        ["Webhooks:AllowPrivateNetworks"] = "false",
        ["Webhooks:Delivery:RetrySchedule:0"] = "00:00:00",
        ["Webhooks:Delivery:PollInterval"] = "00:00:00.050",
    };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
    }
}

public sealed class WebhookDeliveryGuardTests(DeliveryTimeGuardFixture ujumbe) : IClassFixture<DeliveryTimeGuardFixture>
{
    [Fact]
    public async Task The_worker_refuses_to_connect_to_a_private_address_whatever_was_checked_at_registration()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var created = await (await client.PostAsJsonAsync("/v1/webhooks", new { url = ujumbe.Receiver.Url("inside"), events = new[] { "sender_id.approved" } }))
            .AssertJsonAsync(HttpStatusCode.Created); // the Api allows it here; the Worker does not
        var requested = await (await client.PostAsJsonAsync("/v1/sender-ids", new { name = "GUARD1", purpose = "guard" })).AssertJsonAsync(HttpStatusCode.Created);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.PostAsync($"/v1/admin/sender-ids/{requested.GetProperty("id").GetString()}/approve", null)).AssertJsonAsync();

        await HttpAssertions.EventuallyAsync(async () =>
        {
            var deliveries = (await (await client.GetAsync($"/v1/webhooks/{created.GetProperty("id").GetString()}/deliveries")).AssertJsonAsync()).GetProperty("data");
            return deliveries.GetArrayLength() == 1 && deliveries[0].GetProperty("status").GetString() == "failed"
                && deliveries[0].GetProperty("last_error").GetString()!.Contains("internal addresses", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(15), "the delivery is refused at connect time");
        Assert.Empty(ujumbe.Receiver.Received);
    }
}
