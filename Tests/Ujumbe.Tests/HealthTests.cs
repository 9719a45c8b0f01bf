extern alias ApiApp;
extern alias GatewayApp;
extern alias WorkerApp;
extern alias WebApp;

using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>/alive says the process is up; /health says whether its dependencies answer, right now.</summary>
public sealed class HealthTests
{
    private static readonly string SigningKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    private static async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(HttpClient client, string path)
    {
        var response = await client.GetAsync(path);
        return (response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement);
    }

    private static Dictionary<string, string?> ApiSettings(string postgres, string rabbitmq) => new()
    {
        ["ConnectionStrings:postgres"] = postgres,
        ["ConnectionStrings:rabbitmq"] = rabbitmq,
        ["ConnectionStrings:redis"] = TestStack.Settings.Redis,
        ["Redis:Prefix"] = "test-health:",
        ["GatewaySigning:Key"] = SigningKey,
        ["PortalTokens:SigningKey"] = SigningKey,
        ["Webhooks:SecretKey"] = SigningKey,
    };

    private static string CheckStatus(JsonElement health, string check) =>
        health.GetProperty("checks").GetProperty(check).GetProperty("status").GetString()!;

    [Fact]
    public async Task The_api_reports_a_stopped_postgres_as_unhealthy_and_recovers_when_it_returns()
    {
        await using var postgres = await TemporaryPostgres.StartAsync();
        await using var broker = await TestStack.CreateVirtualHostAsync();
        await using var api = new ServiceHost<ApiApp::Program>(ApiSettings(postgres.ConnectionString, broker.ConnectionString));
        api.Start();
        using var client = api.CreateSocketClient();

        var (status, health) = await GetAsync(client, "/health");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", CheckStatus(health, "postgres"));

        await postgres.StopServerAsync();
        (status, health) = await GetAsync(client, "/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", health.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", CheckStatus(health, "postgres"));
        // Only the internal network reaches the Api: its operators see why.
        Assert.StartsWith("PostgreSQL does not answer", health.GetProperty("checks").GetProperty("postgres").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);

        await postgres.StartServerAsync();
        await HttpAssertions.EventuallyAsync(async () => (await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK,
            because: "health follows the dependency back up");
    }

    [Fact]
    public async Task The_gateway_reports_a_stopped_api_as_unhealthy()
    {
        await using var database = await TestStack.CreateDatabaseAsync();
        await using var broker = await TestStack.CreateVirtualHostAsync();
        await using var api = new ServiceHost<ApiApp::Program>(ApiSettings(database.ConnectionString, broker.ConnectionString));
        api.Start();
        await using var gateway = new ServiceHost<GatewayApp::Program>(new Dictionary<string, string?>
        {
            ["services:api:http:0"] = api.Address.ToString(),
            ["ConnectionStrings:redis"] = TestStack.Settings.Redis,
            ["Redis:Prefix"] = "test-health:",
            ["GatewaySigning:Key"] = SigningKey,
            ["PortalTokens:SigningKey"] = SigningKey,
        });
        gateway.Start();
        using var client = gateway.CreateSocketClient();
        // The first probe also warms up service discovery and the client pipeline: on a busy machine it may
        // outlast the check's 3 s, so wait for the first healthy answer.
        await HttpAssertions.EventuallyAsync(async () => (await client.GetAsync("/health")).StatusCode == HttpStatusCode.OK,
            because: "the gateway is healthy while the Api is up");

        var apiAddress = api.Address.Authority;
        await api.DisposeAsync(); // stopped mid-test; the await using at the end is then a no-op
        var (status, health) = await GetAsync(client, "/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", CheckStatus(health, "api"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);

        // The gateway's /health is public: statuses only, no exception text naming internal addresses.
        Assert.DoesNotContain(apiAddress, health.GetRawText(), StringComparison.Ordinal);
        foreach (var check in health.GetProperty("checks").EnumerateObject())
        {
            Assert.False(check.Value.TryGetProperty("description", out _), $"{check.Name}: {check.Value}");
        }
    }

    [Fact]
    public async Task The_worker_is_healthy_with_the_stack_and_unhealthy_without_rabbitmq()
    {
        await using var database = await TestStack.CreateDatabaseAsync();
        await using var broker = await TestStack.CreateVirtualHostAsync();
        await using (var worker = new ServiceHost<WorkerApp::Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:postgres"] = database.ConnectionString,
            ["ConnectionStrings:rabbitmq"] = broker.ConnectionString,
            ["Webhooks:SecretKey"] = SigningKey,
        }))
        {
            worker.Start();
            using var client = worker.CreateSocketClient();
            var (status, health) = await GetAsync(client, "/health");
            Assert.True(status == HttpStatusCode.OK, health.GetRawText());
            Assert.Equal("Healthy", CheckStatus(health, "rabbitmq"));
            Assert.Equal("Healthy", CheckStatus(health, "postgres"));
        }

        var unreachable = new UriBuilder(TestStack.Settings.RabbitMq) { Port = 9 }.Uri.ToString(); // discard port: nothing listens
        await using (var worker = new ServiceHost<WorkerApp::Program>(new Dictionary<string, string?>
        {
            ["ConnectionStrings:postgres"] = database.ConnectionString,
            ["ConnectionStrings:rabbitmq"] = unreachable,
            ["Webhooks:SecretKey"] = SigningKey,
        }))
        {
            worker.Start();
            using var client = worker.CreateSocketClient();
            var (status, health) = await GetAsync(client, "/health");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("Unhealthy", CheckStatus(health, "rabbitmq"));
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
        }
    }

    [Fact]
    public async Task A_worker_started_before_its_broker_is_unhealthy_until_the_broker_answers_then_connects()
    {
        await using var database = await TestStack.CreateDatabaseAsync();
        await using var rabbit = await TemporaryRabbitMq.StartAsync();
        await rabbit.StopServerAsync();
        await using var worker = new ServiceHost<WorkerApp::Program>(TestStack.StandaloneWorkerSettings(database.ConnectionString, rabbit.ConnectionString));
        worker.Start();
        using var client = worker.CreateSocketClient();
        var (status, health) = await GetAsync(client, "/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", CheckStatus(health, "rabbitmq"));

        await rabbit.StartServerAsync();
        await HttpAssertions.EventuallyAsync(async () =>
            CheckStatus((await GetAsync(client, "/health")).Body, "rabbitmq") == "Healthy",
            TimeSpan.FromSeconds(30), "the Worker connects once the broker answers");
    }

    [Fact]
    public async Task The_web_dashboard_serves_its_page_and_health()
    {
        await using var web = new ServiceHost<WebApp::Program>(new Dictionary<string, string?>());
        web.Start();
        using var client = web.CreateSocketClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/alive")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);
        Assert.Contains("Ujumbe", await client.GetStringAsync("/"), StringComparison.Ordinal);
    }
}
