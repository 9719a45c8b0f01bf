using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Ujumbe.Shared.Messaging;
using Ujumbe.Tests.Infrastructure;
using Ujumbe.Worker.Dispatch;

namespace Ujumbe.Tests;

/// <summary>A simulator slow enough that a Worker can be stopped with submissions in flight.</summary>
public sealed class SlowProviderFixture : SendingFixture
{
    public override Dictionary<string, string?> SimulatorSettings => new(base.SimulatorSettings)
    {
        ["Providers:Simulator:SubmitLatency"] = "00:00:00.400",
        ["Providers:Simulator:DeliveryReportDelay"] = "00:00:00.100",
    };
}

/// <summary>RabbitMQ delivers at least once and Workers crash: nothing may be sent or charged twice, or lost.</summary>
public sealed class RedeliveryTests(SlowProviderFixture ujumbe) : IClassFixture<SlowProviderFixture>
{
    private T Hosted<T>() => ujumbe.Worker.Services.GetServices<IHostedService>().OfType<T>().Single();

    [Fact]
    public async Task A_chunk_handled_twice_is_submitted_and_charged_once()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var accepted = await (await client.PostAsJsonAsync("/v1/messages",
            new { to = new[] { "+255712200001", "+255712200002" }, text = "twice?", sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);
        var batchId = accepted.GetProperty("batch_id").GetString()!;
        await SendingFixture.WaitForFinalizedAsync(client, batchId);

        // The same chunk again, as a redelivery would bring it.
        var ids = accepted.GetProperty("messages").EnumerateArray()
            .Select(m => Guid.ParseExact(m.GetProperty("id").GetString()!["msg_".Length..], "N")).ToArray();
        var accountId = await ujumbe.Database.ScalarAsync<Guid>("select account_id from messages where id = $1", ids[0]);
        var batch = Guid.ParseExact(batchId["bat_".Length..], "N");
        var chunk = new DispatchChunk(ids.Select((id, i) => new OutboundMessage(id, batch, accountId, $"+25571220000{i + 1}", "UJUMBE", "twice?", 1)).ToList(), []);
        var outcome = await Hosted<DispatchConsumer>().DispatchAsync(chunk, CancellationToken.None);
        Assert.Equal(0, outcome.Sent);
        Assert.All(ids, id => Assert.Equal(1, ujumbe.Simulator.Submissions(id)));

        // And its delivery reports again.
        var reports = ids.Select(id => new DeliveryReport(id, "sim-" + id.ToString("N"), true, null, DateTime.UtcNow)).ToList();
        var early = await Hosted<DeliveryReportConsumer>().ApplyAsync(reports, CancellationToken.None);
        Assert.Empty(early);

        var balance = await SendingFixture.WaitForSettledBalanceAsync(client);
        Assert.Equal(8, balance.GetProperty("balance").GetInt64());
        Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
        Assert.Equal(1L, await ujumbe.Database.ScalarAsync<long>(
            "select count(*) from ledger_entries where kind = 'capture' and reference = $1", batchId));
        var report = await (await client.GetAsync($"/v1/batches/{batchId}")).AssertJsonAsync();
        Assert.Equal(2, report.GetProperty("summary").GetProperty("delivered").GetInt32());
    }

    [Fact]
    public async Task Sends_accepted_while_the_worker_is_down_go_out_when_it_is_back()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5000));
        string batchId = "";
        await ujumbe.RestartWorkerAsync(whileStopped: async () =>
        {
            var to = Enumerable.Range(0, 1200).Select(i => $"+2557123{i:D5}").ToArray();
            var accepted = await (await client.PostAsJsonAsync("/v1/messages", new { to, text = "while you were out", sender_id = "UJUMBE" }))
                .AssertJsonAsync(HttpStatusCode.Accepted);
            batchId = accepted.GetProperty("batch_id").GetString()!;
        });
        var report = await SendingFixture.WaitForFinalizedAsync(client, batchId, TimeSpan.FromSeconds(60));
        Assert.Equal(1200, report.GetProperty("summary").GetProperty("delivered").GetInt32());
        var balance = await SendingFixture.WaitForSettledBalanceAsync(client);
        Assert.Equal(5000 - 1200, balance.GetProperty("balance").GetInt64());
        Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
    }

    [Fact]
    public async Task A_worker_stopped_mid_dispatch_loses_nothing_and_charges_nothing_twice()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10_000));
        var to = Enumerable.Range(0, 4000).Select(i => $"+2557124{i:D5}").ToArray();
        var accepted = await (await client.PostAsJsonAsync("/v1/messages", new { to, text = "mid-flight", sender_id = "UJUMBE" }))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        var batchId = accepted.GetProperty("batch_id").GetString()!;

        // Stop the Worker once some messages are out and others are still waiting or being submitted.
        await HttpAssertions.EventuallyAsync(async () =>
            await ujumbe.Database.ScalarAsync<bool>(
                "select count(*) filter (where status in ('sent', 'delivered')) > 0 and count(*) filter (where status = 'queued') > 0 from messages"),
            TimeSpan.FromSeconds(20), "dispatch is under way");
        await ujumbe.RestartWorkerAsync();

        var report = await SendingFixture.WaitForFinalizedAsync(client, batchId, TimeSpan.FromSeconds(90));
        Assert.Equal(4000, report.GetProperty("summary").GetProperty("delivered").GetInt32());
        var balance = await SendingFixture.WaitForSettledBalanceAsync(client);
        Assert.Equal(10_000 - 4000, balance.GetProperty("balance").GetInt64());
        Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
        await SendRulesTests.AssertLedgerExplainsBalanceAsync(ujumbe, client);
        Assert.Equal(4000L, await ujumbe.Database.ScalarAsync<long>(
            "select (-sum(amount))::bigint from ledger_entries where kind = 'capture' and reference = $1", batchId));
    }
}
