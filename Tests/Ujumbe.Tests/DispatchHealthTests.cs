using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>A provider that takes far longer than dispatch may be silent (StallAfter 2 s), though less than its timeout.</summary>
public sealed class HangingProviderFixture : SendingFixture
{
    public override Dictionary<string, string?> SimulatorSettings => new(base.SimulatorSettings)
    {
        ["Providers:Simulator:SubmitLatency"] = "00:00:12",
    };

    public override Dictionary<string, string?> WorkerSettings => new()
    {
        ["Dispatch:ProviderTimeout"] = "00:01:00",
        ["Dispatch:StallAfter"] = "00:00:02",
    };
}

/// <summary>The Worker's /health says when dispatch makes no progress while work waits, and says healthy again once it does.</summary>
public sealed class DispatchHealthTests(HangingProviderFixture ujumbe) : IClassFixture<HangingProviderFixture>
{
    private static async Task<JsonElement> DispatchCheckAsync(HttpClient worker)
    {
        var response = await worker.GetAsync("/health");
        var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(health.GetProperty("status").GetString() == "Healthy" ? HttpStatusCode.OK : HttpStatusCode.ServiceUnavailable, response.StatusCode);
        return health.GetProperty("checks").GetProperty("dispatch");
    }

    [Fact]
    public async Task Health_turns_unhealthy_while_a_chunk_makes_no_progress_and_healthy_when_it_does()
    {
        using var worker = ujumbe.Worker.CreateSocketClient();
        Assert.Equal("Healthy", (await DispatchCheckAsync(worker)).GetProperty("status").GetString());

        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var accepted = await (await client.PostAsJsonAsync("/v1/messages",
            new { to = new[] { "+255712900001" }, text = "are you stuck?", sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);

        JsonElement check = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            check = await DispatchCheckAsync(worker);
            return check.GetProperty("status").GetString() == "Unhealthy";
        }, TimeSpan.FromSeconds(10), "the dispatch check turns unhealthy");
        Assert.StartsWith("A delivery from dispatch has been handled for", check.GetProperty("description").GetString(), StringComparison.Ordinal);

        // The provider answers at last: progress, healthy again.
        await SendingFixture.WaitForFinalizedAsync(client, accepted.GetProperty("batch_id").GetString()!, TimeSpan.FromSeconds(40));
        await HttpAssertions.EventuallyAsync(async () => (await DispatchCheckAsync(worker)).GetProperty("status").GetString() == "Healthy",
            TimeSpan.FromSeconds(10), "the dispatch check is healthy again");
    }
}
