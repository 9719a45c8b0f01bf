using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;
using Ujumbe.Tests.Infrastructure;

[assembly: CollectionBehavior(DisableTestParallelization = true)] // one AppHost at a time: 2 cores

namespace Ujumbe.AppHost.Tests;

/// <summary>
/// The real AppHost with its real server executables (PostgreSQL, Redis, RabbitMQ from the Debian packages)
/// on test-only ports and a fresh data folder, started once per test class.
/// </summary>
public class AppHostFixture : IAsyncLifetime
{
    public static readonly string[] Resources = ["postgres", "redis", "rabbitmq", "api", "worker", "gateway", "web"];

    /// <summary>First of the ports this fixture's servers use (five from here).</summary>
    protected virtual int FirstPort => 47530;
    protected virtual int Replicas => 1;

    public DistributedApplication App { get; private set; } = null!;
    public string DataDirectory { get; private set; } = null!;
    public string DemoKey { get; private set; } = null!;
    public string OperatorKey { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        DataDirectory = Directory.CreateTempSubdirectory("ujumbe-apphost-").FullName;
        // PostgreSQL runs as 'postgres' and must reach its folder.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(DataDirectory, (UnixFileMode)0b111_101_101);
        }
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
        [
            "UJUMBE_SERVERS=executables",
            $"UJUMBE_DATA_DIR={DataDirectory}",
            $"UJUMBE_PG_PORT={FirstPort}",
            $"UJUMBE_REDIS_PORT={FirstPort + 1}",
            $"UJUMBE_RABBITMQ_PORT={FirstPort + 2}",
            $"UJUMBE_RABBITMQ_DIST_PORT={FirstPort + 3}",
            $"UJUMBE_EPMD_PORT={FirstPort + 4}",
            $"UJUMBE_REPLICAS={Replicas}",
            // The services' ports are the test host's to choose (random), whatever the environment says.
            "UJUMBE_GATEWAY_PORT=", "UJUMBE_API_PORT=", "UJUMBE_WORKER_PORT=", "UJUMBE_WEB_PORT=",
        ]);
        App = await builder.BuildAsync();
        var stopping = App.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping;
        _ = Task.Run(() => WatchInstancesAsync(stopping));
        // Generous: on a busy 2-core machine six services build their first JIT'd requests slowly.
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try
        {
            await App.StartAsync(timeout.Token);
            foreach (var name in Resources)
            {
                await App.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            var states = _instances.Values.Select(e => $"{e.ResourceId}: {e.Snapshot.State?.Text} {e.Snapshot.HealthStatus} exit={e.Snapshot.ExitCode}");
            throw new TimeoutException("The AppHost did not become healthy: " + string.Join("; ", states));
        }
        using var keys = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(DataDirectory, "demo-keys.json")));
        DemoKey = keys.RootElement.GetProperty("demo_key").GetString()!;
        OperatorKey = keys.RootElement.GetProperty("operator_key").GetString()!;
        await WaitUntilEveryGatewayChecksNewKeysAsync();
    }

    /// <summary>
    /// A cold Api on a loaded machine (the other test assembly runs beside this one) can take longer than a
    /// gateway's key lookup allows; the gateway then answers 503 "retry shortly" (decision 0010). Healthy is
    /// not warm: tests begin once every gateway replica has checked several new keys with the Apis behind it.
    /// </summary>
    private async Task WaitUntilEveryGatewayChecksNewKeysAsync()
    {
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(ReplicaAddresses("gateway").Count == Replicas),
            TimeSpan.FromSeconds(30), "every gateway replica is seen running");
        using var admin = Client("gateway", OperatorKey);
        foreach (var address in ReplicaAddresses("gateway"))
        {
            for (var i = 0; i < 2 * Replicas; i++)
            {
                string? secret = null;
                await HttpAssertions.EventuallyAsync(async () =>
                {
                    using var created = await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "Warm-up", owner_email = $"{Guid.NewGuid():N}@example.com" });
                    if (created.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        return false;
                    }
                    secret = (await created.AssertJsonAsync(HttpStatusCode.Created)).GetProperty("api_key").GetProperty("secret").GetString();
                    return true;
                }, TimeSpan.FromMinutes(2), "the operator key is checked and an account created");
                using var replica = Client(address, secret);
                await HttpAssertions.EventuallyAsync(async () =>
                {
                    using var response = await replica.GetAsync("/v1/balance");
                    return response.StatusCode != HttpStatusCode.ServiceUnavailable;
                }, TimeSpan.FromMinutes(2), $"the gateway at {address} checks a new key with the Api");
            }
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, ResourceEvent> _instances = new();

    /// <summary>The latest state of every instance (each replica is one), by its id.</summary>
    private async Task WatchInstancesAsync(CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var change in App.ResourceNotifications.WatchAsync(cancellationToken))
            {
                _instances[change.ResourceId] = change;
            }
        }
        catch (OperationCanceledException)
        {
            // disposed
        }
    }

    public async Task DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // a server may still be writing its last log line; the folder is in /tmp
        }
    }

    /// <summary>A client for a service's (load-balanced) endpoint, with an API key if given.</summary>
    public HttpClient Client(string resource, string? secret = null)
    {
        var client = App.CreateHttpClient(resource, "http");
        if (secret is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }
        return client;
    }

    /// <summary>Each replica's own address (not the load balancer's): where its Kestrel listens.</summary>
    public IReadOnlyList<Uri> ReplicaAddresses(string resource)
    {
        var addresses = new List<Uri>();
        foreach (var (instance, state) in _instances.Where(i => i.Value.Resource.Name == resource && i.Value.Snapshot.State?.Text == KnownResourceStates.Running))
        {
            var variables = state.Snapshot.EnvironmentVariables;
            var urls = variables.FirstOrDefault(v => v.Name == "ASPNETCORE_URLS")?.Value;
            var port = variables.FirstOrDefault(v => v.Name == "HTTP_PORTS")?.Value;
            var address = urls?.Split(';')[0] ?? (port is null ? null : $"http://127.0.0.1:{port}");
            Assert.True(address is not null, $"{instance} has neither ASPNETCORE_URLS nor HTTP_PORTS: {string.Join(", ", variables.Select(v => v.Name))}");
            addresses.Add(new Uri(address.Replace("localhost", "127.0.0.1", StringComparison.Ordinal)));
        }
        return addresses;
    }

    public static HttpClient Client(Uri address, string? secret = null)
    {
        var client = new HttpClient { BaseAddress = address };
        if (secret is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }
        return client;
    }
}

/// <summary>The gateway, the api and the worker twice each.</summary>
public sealed class ReplicatedAppHostFixture : AppHostFixture
{
    protected override int FirstPort => 47540;
    protected override int Replicas => 2;
}
