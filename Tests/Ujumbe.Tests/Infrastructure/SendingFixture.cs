extern alias WorkerApp;

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Ujumbe.Worker.Providers;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>A running Ujumbe that sends: Api, Gateway and a Worker with the simulator provider.</summary>
public class SendingFixture : UjumbeFixture
{
    public ServiceHost<WorkerApp::Program> Worker { get; private set; } = null!;

    /// <summary>The simulator's settings; tests read them to know what outcomes to expect.</summary>
    public virtual Dictionary<string, string?> SimulatorSettings => new()
    {
        ["Providers:Simulator:AcceptanceRate"] = "1",
        ["Providers:Simulator:DeliveryRate"] = "1",
        ["Providers:Simulator:DeliveryReportDelay"] = "00:00:00.200",
        ["Providers:Simulator:Seed"] = "7",
    };

    /// <summary>More Worker settings a fixture wants (webhook retry schedule, …).</summary>
    public virtual Dictionary<string, string?> WorkerSettings => [];

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Worker = StartWorker();
    }

    public ServiceHost<WorkerApp::Program> StartWorker()
    {
        var settings = new Dictionary<string, string?>(SimulatorSettings)
        {
            ["ConnectionStrings:postgres"] = Database.ConnectionString,
            ["ConnectionStrings:rabbitmq"] = Broker.ConnectionString,
            ["Webhooks:SecretKey"] = WebhookKey,
            ["Webhooks:AllowPrivateNetworks"] = "true",
        };
        foreach (var (key, value) in WorkerSettings)
        {
            settings[key] = value;
        }
        var worker = new ServiceHost<WorkerApp::Program>(settings);
        worker.Start();
        return worker;
    }

    /// <summary>Replaces the Worker, as a restart would (the old one is stopped first).</summary>
    public async Task RestartWorkerAsync(Func<Task>? whileStopped = null)
    {
        await Worker.DisposeAsync();
        if (whileStopped is not null)
        {
            await whileStopped();
        }
        Worker = StartWorker();
    }

    public SimulatorProvider Simulator => Worker.Services.GetRequiredService<SimulatorProvider>();

    /// <summary>Waits until the Worker has reread providers and routes and sees what <paramref name="condition"/> asks (it rereads them every refresh interval).</summary>
    public async Task WorkerSeesAsync(Func<ProviderSnapshot, bool> condition, string because)
    {
        var catalog = Worker.Services.GetRequiredService<ProviderCatalog>();
        await HttpAssertions.EventuallyAsync(async () => condition(await catalog.CurrentAsync(CancellationToken.None)), TimeSpan.FromSeconds(10),
            "the Worker sees " + because);
    }

    /// <summary>Polls the batch until it is finalized (or fails the test at the deadline).</summary>
    public static async Task<JsonElement> WaitForFinalizedAsync(HttpClient client, string batchId, TimeSpan? within = null)
    {
        JsonElement report = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            report = await (await client.GetAsync($"/v1/batches/{batchId}?page_size=100")).AssertJsonAsync();
            return report.GetProperty("status").GetString() == "finalized";
        }, within ?? TimeSpan.FromSeconds(30), $"batch {batchId} is finalized");
        return report;
    }

    /// <summary>
    /// The balance once every credit move of finished messages is posted (the Worker posts them a
    /// fraction of a second after the status changes): polls until nothing is reserved.
    /// </summary>
    public static async Task<JsonElement> WaitForSettledBalanceAsync(HttpClient client)
    {
        JsonElement balance = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            balance = await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
            return balance.GetProperty("reserved").GetInt64() == 0;
        }, TimeSpan.FromSeconds(10), "reserved credits are captured or released");
        return balance;
    }

    public override async Task DisposeAsync()
    {
        await Worker.DisposeAsync();
        await base.DisposeAsync();
    }
}
