using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Messaging;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>A provider that cannot take any message now (down, or asking us to come back later).</summary>
public sealed class UnavailableProviderFixture : SendingFixture
{
    public override Dictionary<string, string?> SimulatorSettings => new(base.SimulatorSettings)
    {
        ["Providers:Simulator:UnavailableRate"] = "1",
    };
}

/// <summary>What happens to messages while, and after, no provider will take them.</summary>
public sealed class ProviderOutageTests(UnavailableProviderFixture ujumbe) : IClassFixture<UnavailableProviderFixture>
{
    [Fact]
    public async Task Messages_wait_through_the_retries_and_fail_with_their_credits_released_after_the_last()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var accepted = await (await client.PostAsJsonAsync("/v1/messages",
            new { to = new[] { "+255712700001" }, text = "anyone there?", sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);
        var batchId = accepted.GetProperty("batch_id").GetString()!;
        var messageId = accepted.GetProperty("messages")[0].GetProperty("id").GetString()!;
        var id = Guid.ParseExact(messageId["msg_".Length..], "N");

        // The first try finds the provider unavailable: the message stays queued, its credit reserved.
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(ujumbe.Simulator.Submissions(id) >= 1), because: "the first try is made");
        var message = await (await client.GetAsync($"/v1/messages/{messageId}")).AssertJsonAsync();
        Assert.Equal("queued", message.GetProperty("status").GetString());
        Assert.Equal(1, (await (await client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("reserved").GetInt64());

        // The last retry (minutes away on the real schedule), as the retry queues would bring it.
        var accountId = await ujumbe.Database.ScalarAsync<Guid>("select account_id from messages where id = $1", id);
        var chunk = new DispatchChunk([new OutboundMessage(id, Guid.ParseExact(batchId["bat_".Length..], "N"), accountId, "+255712700001", "UJUMBE", "anyone there?", 1)], []);
        var lastTry = new OutgoingMessage(Topology.Exchange, Topology.Dispatch, JsonSerializer.SerializeToUtf8Bytes(chunk, MessagingJson.Default.DispatchChunk),
            null, new Dictionary<string, object?> { [Topology.AttemptHeader] = Topology.RetryDelays.Length });
        await ujumbe.Worker.Services.GetRequiredService<ConfirmingPublisher>().PublishAsync([lastTry], CancellationToken.None);

        var report = await SendingFixture.WaitForFinalizedAsync(client, batchId);
        Assert.Equal(1, report.GetProperty("summary").GetProperty("failed").GetInt32());
        message = await (await client.GetAsync($"/v1/messages/{messageId}")).AssertJsonAsync();
        Assert.Equal("failed", message.GetProperty("status").GetString());
        Assert.Equal(ErrorCodes.ProviderUnavailable, message.GetProperty("error_code").GetString());
        var balance = await SendingFixture.WaitForSettledBalanceAsync(client);
        Assert.Equal(10, balance.GetProperty("balance").GetInt64());
        Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
    }
}
