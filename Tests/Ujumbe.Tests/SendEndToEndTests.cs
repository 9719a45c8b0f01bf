using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>A simulator that rejects some messages and fails to deliver some of the rest.</summary>
public sealed class MixedOutcomesFixture : SendingFixture
{
    public override Dictionary<string, string?> SimulatorSettings => new()
    {
        ["Providers:Simulator:AcceptanceRate"] = "0.6",
        ["Providers:Simulator:DeliveryRate"] = "0.6",
        ["Providers:Simulator:DeliveryReportDelay"] = "00:00:00.300",
        ["Providers:Simulator:Seed"] = "42",
    };
}

/// <summary>Send through the gateway, follow every message to its final status, and account for every credit.</summary>
public sealed class SendEndToEndTests(MixedOutcomesFixture ujumbe) : IClassFixture<MixedOutcomesFixture>
{
    /// <summary>Three Tanzanian mobiles the seeded simulator delivers, fails to deliver and rejects.</summary>
    private (string Delivered, string Failed, string Rejected) PickNumbers()
    {
        string? delivered = null, failed = null, rejected = null;
        for (var n = 0; n < 10_000 && (delivered is null || failed is null || rejected is null); n++)
        {
            var number = $"+2557123{n:D5}";
            var (accepted, isDelivered) = ujumbe.Simulator.Predict(number);
            if (!accepted)
            {
                rejected ??= number;
            }
            else if (isDelivered)
            {
                delivered ??= number;
            }
            else
            {
                failed ??= number;
            }
        }
        return (delivered!, failed!, rejected!);
    }

    [Fact]
    public async Task Three_numbers_in_three_formats_end_as_the_simulator_decided_and_only_sent_messages_are_charged()
    {
        var key = await ujumbe.OpenFundedAccountAsync(credits: 100);
        using var client = ujumbe.Client(key);
        var (delivered, failed, rejected) = PickNumbers();
        // E.164, international without "+", and national with the account's default country (TZ).
        var to = new[] { delivered, failed[1..], "0" + rejected[4..] };

        // A client-supplied trace context: the Worker's spans must belong to the same trace.
        var traceId = ActivityTraceId.CreateRandom();
        var workerSpans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Ujumbe.Worker",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => { lock (workerSpans) { workerSpans.Add(activity); } },
        };
        ActivitySource.AddActivityListener(listener);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = JsonContent.Create(new { to, text = "Habari! Your order has shipped.", sender_id = "ujumbe", reference = "order-17" }),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
        var accepted = await (await client.SendAsync(request)).AssertJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal("queued", accepted.GetProperty("status").GetString());
        Assert.Equal(3, accepted.GetProperty("recipients").GetInt32());
        Assert.Equal("GSM-7", accepted.GetProperty("encoding").GetString());
        Assert.Equal(1, accepted.GetProperty("segments").GetInt32());
        Assert.Equal(3, accepted.GetProperty("credits").GetInt64());
        Assert.Equal([delivered, failed, rejected],
            accepted.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("to").GetString()!).ToArray());

        // Accepting reserves all three credits at once: available drops by 3 and comes back only by releases.
        var available = (await (await client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64();
        Assert.InRange(available, 97, 98);

        var batchId = accepted.GetProperty("batch_id").GetString()!;
        var report = await SendingFixture.WaitForFinalizedAsync(client, batchId);
        var summary = report.GetProperty("summary");
        Assert.Equal(3, summary.GetProperty("total").GetInt32());
        Assert.Equal(1, summary.GetProperty("delivered").GetInt32());
        Assert.Equal(1, summary.GetProperty("failed").GetInt32());
        Assert.Equal(1, summary.GetProperty("rejected").GetInt32());
        Assert.Equal(0, summary.GetProperty("queued").GetInt32());
        Assert.Equal(0, summary.GetProperty("sent").GetInt32());

        var messages = report.GetProperty("messages").EnumerateArray().ToDictionary(m => m.GetProperty("to").GetString()!);
        AssertTimes(messages[delivered], "delivered", sent: true, delivered: true, failed: false);
        AssertTimes(messages[failed], "failed", sent: true, delivered: false, failed: true);
        AssertTimes(messages[rejected], "rejected", sent: false, delivered: false, failed: true);
        Assert.Equal("SIM_UNDELIVERED", messages[failed].GetProperty("error_code").GetString());
        Assert.Equal("SIM_REJECTED", messages[rejected].GetProperty("error_code").GetString());
        Assert.Equal("order-17", messages[delivered].GetProperty("reference").GetString());

        // Two messages reached the provider (captured); the rejected one was released.
        var balance = await SendingFixture.WaitForSettledBalanceAsync(client);
        Assert.Equal(98, balance.GetProperty("balance").GetInt64());
        Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
        Assert.Equal(98, balance.GetProperty("available").GetInt64());

        var ledger = (await (await client.GetAsync("/v1/ledger?page_size=100")).AssertJsonAsync()).GetProperty("data").EnumerateArray().ToList();
        var kinds = ledger.Select(e => e.GetProperty("kind").GetString()!).Reverse().ToArray();
        Assert.Equal(["adjustment", "reserve", "capture", "release"], kinds);
        var batchEntries = ledger.Where(e => e.GetProperty("reference").GetString() == batchId).ToList();
        Assert.Equal(3, batchEntries.Sum(e => e.GetProperty("reserved_change").GetInt64() > 0 ? e.GetProperty("reserved_change").GetInt64() : 0));
        Assert.Equal(-2, batchEntries.Sum(e => e.GetProperty("amount").GetInt64()));
        Assert.Equal(0, batchEntries.Sum(e => e.GetProperty("reserved_change").GetInt64()));
        // The ledger explains the balance exactly.
        Assert.Equal(98, ledger.Sum(e => e.GetProperty("amount").GetInt64()));
        Assert.Equal(98, ledger[0].GetProperty("balance_after").GetInt64());

        lock (workerSpans)
        {
            Assert.Contains(workerSpans, span => span.TraceId == traceId && span.OperationName == "dispatch process");
        }
    }

    [Fact]
    public async Task Every_sends_trace_reaches_its_dispatch_as_the_parent_or_a_link()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 100));
        var dispatches = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Ujumbe.Worker",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.OperationName == "dispatch process")
                {
                    lock (dispatches) { dispatches.Add(activity); }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        // Sends at once from one account are committed together and may share a dispatch chunk.
        var traces = Enumerable.Range(0, 8).Select(_ => ActivityTraceId.CreateRandom()).ToList();
        await Task.WhenAll(traces.Select(async (trace, i) =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
            {
                Content = JsonContent.Create(new { to = new[] { $"+25571270{i:D4}" }, text = "traced", sender_id = "UJUMBE" }),
            };
            request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
            await (await client.SendAsync(request)).AssertJsonAsync(HttpStatusCode.Accepted);
        }));

        await HttpAssertions.EventuallyAsync(() =>
        {
            lock (dispatches)
            {
                return Task.FromResult(traces.All(trace => dispatches.Any(d => d.TraceId == trace || d.Links.Any(l => l.Context.TraceId == trace))));
            }
        }, because: "every send's trace is the parent of a dispatch span or linked from one");
    }

    [Fact]
    public async Task A_number_given_twice_in_different_formats_is_sent_and_charged_once()
    {
        var key = await ujumbe.OpenFundedAccountAsync(credits: 10);
        using var client = ujumbe.Client(key);
        var accepted = await (await client.PostAsJsonAsync("/v1/messages",
            new { to = "+255712000001, 255712000001,0712000001", text = "once", sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal(1, accepted.GetProperty("recipients").GetInt32());
        Assert.Equal(1, accepted.GetProperty("credits").GetInt64());
        Assert.Single(accepted.GetProperty("messages").EnumerateArray());
    }

    [Fact]
    public async Task A_message_can_be_read_back_and_found_by_filters()
    {
        var key = await ujumbe.OpenFundedAccountAsync(credits: 10);
        using var client = ujumbe.Client(key);
        var (delivered, _, _) = PickNumbers();
        var accepted = await (await client.PostAsJsonAsync("/v1/messages",
            new { to = new[] { delivered }, text = "Karibu 😀", sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal("UCS-2", accepted.GetProperty("encoding").GetString());
        var batchId = accepted.GetProperty("batch_id").GetString()!;
        var messageId = accepted.GetProperty("messages")[0].GetProperty("id").GetString()!;
        await SendingFixture.WaitForFinalizedAsync(client, batchId);

        var message = await (await client.GetAsync($"/v1/messages/{messageId}")).AssertJsonAsync();
        Assert.Equal(delivered, message.GetProperty("to").GetString());
        Assert.Equal("Karibu 😀", message.GetProperty("text").GetString());
        Assert.Equal("UJUMBE", message.GetProperty("sender_id").GetString());
        Assert.Equal("delivered", message.GetProperty("status").GetString());
        Assert.Equal(batchId, message.GetProperty("batch_id").GetString());

        var byBatch = await (await client.GetAsync($"/v1/messages?batch_id={batchId}&status=delivered")).AssertJsonAsync();
        Assert.Equal(1, byBatch.GetProperty("total").GetInt32());
        var byNumber = await (await client.GetAsync($"/v1/messages?to=0{delivered[4..]}")).AssertJsonAsync();
        Assert.Equal(messageId, byNumber.GetProperty("data")[0].GetProperty("id").GetString());
        var none = await (await client.GetAsync($"/v1/messages?batch_id={batchId}&status=failed")).AssertJsonAsync();
        Assert.Equal(0, none.GetProperty("total").GetInt32());
        var future = await (await client.GetAsync($"/v1/messages?since={Uri.EscapeDataString(DateTime.UtcNow.AddHours(1).ToString("O"))}")).AssertJsonAsync();
        Assert.Equal(0, future.GetProperty("total").GetInt32());

        // Another account sees none of it.
        using var other = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        await (await other.GetAsync($"/v1/messages/{messageId}")).AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        await (await other.GetAsync($"/v1/batches/{batchId}")).AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        await (await other.PostAsync($"/v1/batches/{batchId}/cancel", null)).AssertProblemAsync(HttpStatusCode.NotFound, "NOT_FOUND");
        var othersList = await (await other.GetAsync("/v1/messages")).AssertJsonAsync();
        Assert.Equal(0, othersList.GetProperty("total").GetInt32());
    }

    private static void AssertTimes(JsonElement message, string status, bool sent, bool delivered, bool failed)
    {
        Assert.Equal(status, message.GetProperty("status").GetString());
        Assert.Equal(sent, message.GetProperty("sent_at").ValueKind == JsonValueKind.String);
        Assert.Equal(delivered, message.GetProperty("delivered_at").ValueKind == JsonValueKind.String);
        Assert.Equal(failed, message.GetProperty("failed_at").ValueKind == JsonValueKind.String);
        Assert.True(message.GetProperty("created_at").GetDateTime() <= DateTime.UtcNow);
        if (sent)
        {
            Assert.True(message.GetProperty("sent_at").GetDateTime() >= message.GetProperty("created_at").GetDateTime());
        }
    }
}
