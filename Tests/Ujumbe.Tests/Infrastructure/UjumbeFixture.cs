extern alias ApiApp;
extern alias GatewayApp;

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Ujumbe.Api.Seeding;
using Ujumbe.Shared.Payments;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>
/// A running Ujumbe for one test class: its own database on the stack's PostgreSQL, the Api and
/// the Gateway on real sockets, and the seeded operator and demo accounts with working keys.
/// </summary>
public class UjumbeFixture : IAsyncLifetime
{
    public TestDatabase Database { get; private set; } = null!;
    public TestVirtualHost Broker { get; private set; } = null!;
    public ServiceHost<ApiApp::Program> Api { get; private set; } = null!;
    public ServiceHost<GatewayApp::Program> Gateway { get; private set; } = null!;

    /// <summary>The gateway signing key this deployment shares between Gateway and Api.</summary>
    public string SigningKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The key portal tokens are signed with (Api) and checked with (Gateway).</summary>
    public string PortalTokenKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>Encrypts webhook secrets at rest (Api and Worker share it).</summary>
    public string WebhookKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>What the mobile-money simulator signs its callbacks with (the Api verifies them with it).</summary>
    public string MobileMoneySecret { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>This deployment's Redis keys and channels (the stack's Redis is shared by every test class).</summary>
    public string RedisPrefix { get; } = "test-" + Guid.NewGuid().ToString("N")[..12] + ":";

    public string DemoPassword { get; private set; } = "";
    public string OperatorPassword { get; private set; } = "";

    public string DemoKey { get; private set; } = "";
    public string OperatorKey { get; private set; } = "";

    public virtual async Task InitializeAsync()
    {
        Database = await TestStack.CreateDatabaseAsync();
        Broker = await TestStack.CreateVirtualHostAsync();
        Api = new ServiceHost<ApiApp::Program>(ApiSettings());
        Api.Start();
        Gateway = new ServiceHost<GatewayApp::Program>(GatewaySettings(Api.Address), ConfigureGatewayServices);
        Gateway.Start();
        // The simulated aggregator calls back where a real one would: the public gateway, known only now.
        Api.Services.GetRequiredService<MobileMoneySimulator>().CallbackBaseUrl = Gateway.Address;

        await using var scope = Api.Services.CreateAsyncScope();
        var keys = await scope.ServiceProvider.GetRequiredService<DemoSeeder>().SeedAsync(null, CancellationToken.None);
        DemoKey = keys.DemoKey;
        OperatorKey = keys.OperatorKey;
        DemoPassword = keys.DemoPassword!;
        OperatorPassword = keys.OperatorPassword!;

        // A cold Api on a loaded machine can take longer than the gateway's key lookup allows (the gateway then
        // answers 503 "retry shortly", decision 0010): tests begin once a key is checked end to end.
        using var demo = Client(DemoKey);
        await HttpAssertions.EventuallyAsync(async () =>
        {
            using var response = await demo.GetAsync("/v1/balance");
            return response.StatusCode != HttpStatusCode.ServiceUnavailable;
        }, TimeSpan.FromSeconds(60), "the gateway checks keys with the Api");
    }

    /// <summary>Test-only replacements in the gateway's services (e.g. a clock the test moves).</summary>
    protected virtual void ConfigureGatewayServices(IServiceCollection services)
    {
    }

    protected virtual Dictionary<string, string?> ApiSettings() => new()
    {
        ["ConnectionStrings:postgres"] = Database.ConnectionString,
        ["ConnectionStrings:rabbitmq"] = Broker.ConnectionString,
        ["ConnectionStrings:redis"] = TestStack.Settings.Redis,
        ["Redis:Prefix"] = RedisPrefix,
        ["GatewaySigning:Key"] = SigningKey,
        ["PortalTokens:SigningKey"] = PortalTokenKey,
        ["SignIn:SlowdownStep"] = "00:00:00.050",
        ["Webhooks:SecretKey"] = WebhookKey,
        ["Webhooks:AllowPrivateNetworks"] = "true", // test receivers listen on loopback
        ["MobileMoneySimulator:CallbackSecret"] = MobileMoneySecret,
    };

    protected virtual Dictionary<string, string?> GatewaySettings(Uri api) => new()
    {
        ["services:api:http:0"] = api.ToString(),
        ["ConnectionStrings:redis"] = TestStack.Settings.Redis,
        ["Redis:Prefix"] = RedisPrefix,
        ["GatewaySigning:Key"] = SigningKey,
        ["PortalTokens:SigningKey"] = PortalTokenKey,
        ["Gateway:KeyUsageFlushInterval"] = "00:00:00.200",
        // The contract's defaults (1,000 requests an hour) would make tests count their requests.
        ["RateLimits:RequestsPerHour"] = "1000000",
        ["RateLimits:MessagesPerMinute"] = "1000000",
        ["RateLimits:AnonymousPerHour"] = "1000000",
    };

    /// <summary>
    /// Another gateway replica of the same deployment (same Api, Redis and keys), stopped by the caller.
    /// <paramref name="redisPrefix"/> gives it Redis names of its own, so it hears none of the Api's
    /// published credential changes.
    /// </summary>
    public ServiceHost<GatewayApp::Program> StartAnotherGateway(string? redisPrefix = null)
    {
        var settings = GatewaySettings(Api.Address);
        settings["Redis:Prefix"] = redisPrefix ?? RedisPrefix;
        var gateway = new ServiceHost<GatewayApp::Program>(settings, ConfigureGatewayServices);
        gateway.Start();
        return gateway;
    }

    /// <summary>Opens an account with the given credits and the approved sender ID UJUMBE; returns its key.</summary>
    public async Task<string> OpenFundedAccountAsync(long credits, string country = "TZ")
    {
        using var admin = Client(OperatorKey);
        var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts",
            new { name = "Test " + Guid.NewGuid().ToString("N")[..8], owner_email = $"{Guid.NewGuid():N}@example.com", default_country = country }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var accountId = created.GetProperty("id").GetString()!;
        if (credits > 0)
        {
            await (await admin.PostAsJsonAsync($"/v1/admin/accounts/{accountId}/credits", new { amount = credits, reason = "test funds" }))
                .AssertJsonAsync(HttpStatusCode.Created);
        }
        var key = created.GetProperty("api_key").GetProperty("secret").GetString()!;
        using var owner = Client(key);
        var sender = await (await owner.PostAsJsonAsync("/v1/sender-ids", new { name = "UJUMBE", purpose = "tests" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        await (await admin.PostAsync($"/v1/admin/sender-ids/{sender.GetProperty("id").GetString()}/approve", null)).AssertJsonAsync();
        return key;
    }

    /// <summary>An operator overrides the rate limits of the account that <paramref name="key"/> belongs to.</summary>
    public async Task SetRateLimitsAsync(string key, object limits)
    {
        using var owner = Client(key);
        var accountId = (await (await owner.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString();
        using var admin = Client(OperatorKey);
        await (await admin.PutAsJsonAsync($"/v1/admin/accounts/{accountId}/rate-limits", limits)).AssertJsonAsync();
    }

    /// <summary>A client of the gateway, authenticated with <paramref name="secret"/> as a Bearer token (if given).</summary>
    public HttpClient Client(string? secret = null) => Client(Gateway, secret);

    /// <summary>A client of <paramref name="gateway"/>, authenticated with <paramref name="secret"/> as a Bearer token (if given).</summary>
    public static HttpClient Client(ServiceHost<GatewayApp::Program> gateway, string? secret = null)
    {
        var client = gateway.CreateSocketClient();
        if (secret is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        }
        return client;
    }

    public virtual async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Api.DisposeAsync();
        await Broker.DisposeAsync();
        await Database.DisposeAsync();
    }
}
