using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// A slow provider (2 s per chunk) and a RabbitMQ node of this class's own, which the tests restart
/// while thousands of messages wait: the shape of the outage that once left dispatch hung for good.
/// </summary>
public sealed class SlowProviderOwnBrokerFixture : SendingFixture
{
    public TemporaryRabbitMq Rabbit { get; private set; } = null!;

    public override Dictionary<string, string?> SimulatorSettings => new(base.SimulatorSettings)
    {
        ["Providers:Simulator:SubmitLatency"] = "00:00:02",
        ["Providers:Simulator:DeliveryReportDelay"] = "00:00:00.200",
    };

    public override Dictionary<string, string?> WorkerSettings => new()
    {
        ["ConnectionStrings:rabbitmq"] = Rabbit.ConnectionString,
    };

    protected override Dictionary<string, string?> ApiSettings() => new(base.ApiSettings())
    {
        ["ConnectionStrings:rabbitmq"] = Rabbit.ConnectionString,
    };

    public override async Task InitializeAsync()
    {
        Rabbit = await TemporaryRabbitMq.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Rabbit.DisposeAsync();
    }
}

public sealed class BrokerRestartTests(SlowProviderOwnBrokerFixture ujumbe) : IClassFixture<SlowProviderOwnBrokerFixture>
{
    // 4,800 messages in 120 chunks: a minute of dispatch at 2 s per chunk, 4 at a time.
    private const int Sends = 120, PerSend = 40;

    /// <summary>The Worker's stop may take at most the host's shutdown timeout (the default, 30 s).</summary>
    private static readonly TimeSpan ShutdownTimeout = new HostOptions().ShutdownTimeout;

    private Task<long> CountAsync(string status) =>
        ujumbe.Database.ScalarAsync<long>("select count(*) from messages where status = $1", status);

    /// <summary>Sends 4,800 messages (120 sends of 40) and waits until dispatch has begun on them; returns the client and the batches.</summary>
    private async Task<(HttpClient Client, List<string> Batches)> SendAndStartDispatchAsync(int series)
    {
        var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: Sends * PerSend));
        var batches = new List<string>();
        var queuedBefore = await CountAsync("queued");
        for (var s = 0; s < Sends; s++)
        {
            var to = Enumerable.Range(0, PerSend).Select(i => $"+25571{series}4{s:D3}{i:D2}").ToArray();
            var accepted = await (await client.PostAsJsonAsync("/v1/messages", new { to, text = "through the restart", sender_id = "UJUMBE" }))
                .AssertJsonAsync(HttpStatusCode.Accepted);
            batches.Add(accepted.GetProperty("batch_id").GetString()!);
        }
        // Mid-run: some chunks are out, most wait (4 at a time, 2 s each).
        await HttpAssertions.EventuallyAsync(async () => await CountAsync("queued") < queuedBefore + (Sends * PerSend),
            TimeSpan.FromSeconds(30), "dispatch has begun");
        return (client, batches);
    }

    /// <summary>Every message leaves the queue (the remaining chunks take 2 s per 4), is delivered and charged once.</summary>
    private async Task AssertEverythingGoesOutAsync(HttpClient client, List<string> batches, long queuedAtReturn)
    {
        await HttpAssertions.EventuallyAsync(async () => await CountAsync("queued") + await CountAsync("submitting") == 0,
            TimeSpan.FromSeconds(30 + (queuedAtReturn / PerSend * 2 / 4) + 30), "every message leaves the queue");
        foreach (var batchId in batches)
        {
            var report = await SendingFixture.WaitForFinalizedAsync(client, batchId, TimeSpan.FromSeconds(60));
            Assert.Equal(PerSend, report.GetProperty("summary").GetProperty("delivered").GetInt32());
        }
        var balance = await SendingFixture.WaitForSettledBalanceAsync(client);
        Assert.Equal(0, balance.GetProperty("balance").GetInt64());
        Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
        Assert.Equal(0L, await ujumbe.Database.ScalarAsync<long>("select count(*) from outbox"));
    }

    /// <summary>Stops the class's broker; if that fails, starts it again, so the next test has one.</summary>
    private async Task StopBrokerAsync()
    {
        try
        {
            await ujumbe.Rabbit.StopServerAsync();
        }
        catch
        {
            await ujumbe.Rabbit.StartServerAsync();
            throw;
        }
    }

    [Fact]
    public async Task Dispatch_resumes_within_30_s_of_a_broker_restart_with_a_slow_provider()
    {
        var (client, batches) = await SendAndStartDispatchAsync(series: 3);
        using var _ = client;

        await StopBrokerAsync();
        try
        {
            Assert.True(await CountAsync("queued") > 0, "messages still wait when the broker goes");
        }
        finally
        {
            await ujumbe.Rabbit.StartServerAsync();
        }

        // Dispatch resumes within 30 s of the broker's return, whatever the provider latency, and everything goes out.
        var queuedAtReturn = await CountAsync("queued");
        await HttpAssertions.EventuallyAsync(async () => await CountAsync("queued") < queuedAtReturn,
            TimeSpan.FromSeconds(30), "dispatch resumes after RabbitMQ is back");
        await AssertEverythingGoesOutAsync(client, batches, queuedAtReturn);
    }

    [Fact]
    public async Task The_worker_stops_within_its_shutdown_timeout_with_the_broker_down_mid_dispatch()
    {
        var (client, batches) = await SendAndStartDispatchAsync(series: 5);
        using var _ = client;

        await StopBrokerAsync();
        var services = ujumbe.Worker.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToList();
        var stopping = Stopwatch.StartNew();
        var stoppedIn = TimeSpan.Zero;
        await ujumbe.RestartWorkerAsync(whileStopped: async () =>
        {
            stoppedIn = stopping.Elapsed;
            // Stopped for real: every loop ended, none abandoned at the timeout and left running.
            Assert.All(services, service => Assert.True(service.ExecuteTask?.IsCompleted ?? true, service.GetType().Name + " still runs"));
            await ujumbe.Rabbit.StartServerAsync();
        }).WaitAsync(ShutdownTimeout * 3);
        Assert.True(stoppedIn < ShutdownTimeout, $"the Worker took {stoppedIn.TotalSeconds:0.#} s to stop");

        await AssertEverythingGoesOutAsync(client, batches, await CountAsync("queued"));
    }
}
