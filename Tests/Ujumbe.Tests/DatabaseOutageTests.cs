extern alias ApiApp;

using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Ujumbe.Api.Seeding;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// Api and Gateway in the Development environment (as scripts/run.sh runs them) on a PostgreSQL of
/// their own, so the test can stop it.
/// </summary>
public sealed class DevelopmentOutageFixture : UjumbeFixture
{
    public TemporaryPostgres Postgres { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Postgres = await TemporaryPostgres.StartAsync();
        await base.InitializeAsync();
    }

    protected override Dictionary<string, string?> ApiSettings()
    {
        var settings = base.ApiSettings();
        settings["ConnectionStrings:postgres"] = Postgres.ConnectionString;
        settings["environment"] = Environments.Development;
        return settings;
    }

    protected override Dictionary<string, string?> GatewaySettings(Uri api)
    {
        var settings = base.GatewaySettings(api);
        settings["environment"] = Environments.Development;
        return settings;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Postgres.DisposeAsync();
    }
}

/// <summary>
/// The same error contract in every environment, and a database outage is a 503 with Retry-After on
/// every endpoint, reads included: never a 500, never the developer exception page, never internals.
/// </summary>
public sealed class DatabaseOutageTests(DevelopmentOutageFixture ujumbe) : IClassFixture<DevelopmentOutageFixture>
{
    private static readonly string[] Reads =
    [
        "/v1/balance", "/v1/account", "/v1/ledger", "/v1/messages", "/v1/messages/msg_0193d5a1b2c34d5e8f90a1b2c3d4e5f6",
        "/v1/batches/bat_0193d5a1b2c34d5e8f90a1b2c3d4e5f6", "/v1/contacts", "/v1/contacts?q=amina&tag=vip",
        "/v1/contacts/con_0193d5a1b2c34d5e8f90a1b2c3d4e5f6", "/v1/segments", "/v1/campaigns", "/v1/opt-outs",
        "/v1/webhooks", "/v1/api-keys", "/v1/sender-ids",
    ];

    private static readonly string[] OperatorReads = ["/v1/admin/accounts", "/v1/admin/sender-ids", "/v1/admin/content-rules"];

    private static readonly (string Path, string Body)[] Writes =
    [
        ("/v1/messages", """{"to": ["0712345678"], "text": "Habari", "sender_id": "UJUMBE"}"""),
        ("/v1/messages/quote", """{"to": ["0712345678"], "text": "Habari", "sender_id": "UJUMBE"}"""),
        ("/v1/contacts", """{"name": "Amina", "phone_number": "0712345678"}"""),
        ("/v1/segments", """{"name": "VIP", "tags_any": ["vip"]}"""),
        ("/v1/opt-outs", """{"phone_number": "0712345678"}"""),
        ("/v1/api-keys", """{"name": "ci"}"""),
        ("/v1/webhooks", """{"url": "http://127.0.0.1:9/hook"}"""),
        ("/v1/sender-ids", """{"name": "DUKA", "purpose": "receipts"}"""),
    ];

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task The_services_really_run_in_development()
    {
        Assert.True(ujumbe.Api.Services.GetRequiredService<IHostEnvironment>().IsDevelopment());
        Assert.True(ujumbe.Gateway.Services.GetRequiredService<IHostEnvironment>().IsDevelopment());
        await Task.CompletedTask;
    }

    [Theory]
    [InlineData("{\"name\": ", "application/json", HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed)]
    [InlineData("", "application/json", HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed)]
    [InlineData("{\"name\": 5}", "application/json", HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed)]
    [InlineData("{\"name\": \"k\"}", "application/json; charset=klingon", HttpStatusCode.UnsupportedMediaType, ErrorCodes.UnsupportedMediaType)]
    [InlineData("name=k", "application/x-www-form-urlencoded", HttpStatusCode.UnsupportedMediaType, ErrorCodes.UnsupportedMediaType)]
    public async Task Unreadable_bodies_get_the_project_contract_in_development(string body, string contentType, HttpStatusCode status, string code)
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var response = await client.PostAsync("/v1/api-keys", content);
        var problem = await response.AssertProblemAsync(status, code);
        AssertNoInternals(problem.ToString());
    }

    [Fact]
    public async Task A_database_outage_is_503_with_retry_after_on_every_endpoint()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        using var anonymous = ujumbe.Client();
        // Both keys are known to the gateway before the outage (it caches them), so the Api answers each request.
        // (A cold Api on a loaded machine may miss the gateway's lookup deadline once: that is a 503 too, so poll.)
        await HttpAssertions.EventuallyAsync(async () => (await client.GetAsync("/v1/balance")).StatusCode == HttpStatusCode.OK,
            within: TimeSpan.FromSeconds(30), because: "the demo key is cached");
        await HttpAssertions.EventuallyAsync(async () => (await admin.GetAsync("/v1/admin/accounts")).StatusCode == HttpStatusCode.OK,
            within: TimeSpan.FromSeconds(30), because: "the operator key is cached");

        await ujumbe.Postgres.StopServerAsync();
        try
        {
            var requests = new List<(string What, Func<Task<HttpResponseMessage>> Send)>();
            requests.AddRange(Reads.Select(path => ("GET " + path, (Func<Task<HttpResponseMessage>>)(() => client.GetAsync(path)))));
            requests.AddRange(OperatorReads.Select(path => ("GET " + path, (Func<Task<HttpResponseMessage>>)(() => admin.GetAsync(path)))));
            requests.AddRange(Writes.Select(write => ("POST " + write.Path, (Func<Task<HttpResponseMessage>>)(() => client.PostAsync(write.Path, Json(write.Body))))));
            requests.Add(("POST /v1/auth/login", () => anonymous.PostAsJsonAsync("/v1/auth/login",
                new { email = SeededKeys.DemoEmail, password = ujumbe.DemoPassword })));

            // A key the gateway has not seen yet cannot be checked: the gateway's own 503 says when to retry too.
            await using var coldGateway = ujumbe.StartAnotherGateway();
            using var cold = UjumbeFixture.Client(coldGateway, ujumbe.DemoKey);
            requests.Add(("GET /v1/balance (uncached key)", () => cold.GetAsync("/v1/balance")));

            var wrong = new List<string>();
            foreach (var (what, send) in requests)
            {
                using var response = await send();
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable || response.Headers.RetryAfter is null
                    || !body.Contains($"\"code\":\"{ErrorCodes.ServiceUnavailable}\"", StringComparison.Ordinal) || HasInternals(body))
                {
                    wrong.Add($"{what}: {(int)response.StatusCode} retry-after={response.Headers.RetryAfter} {body[..Math.Min(body.Length, 300)]}");
                }
            }
            Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        }
        finally
        {
            await ujumbe.Postgres.StartServerAsync();
        }
        await HttpAssertions.EventuallyAsync(async () => (await client.GetAsync("/v1/balance")).StatusCode == HttpStatusCode.OK,
            within: TimeSpan.FromSeconds(20), because: "the Api serves again once PostgreSQL is back");
    }

    private static readonly string[] Internals =
        ["Exception", "   at ", "Npgsql", "select ", "SELECT ", "X-Ujumbe-", "Authorization", ".cs:line", "stack"];

    private static bool HasInternals(string body) => Internals.Any(marker => body.Contains(marker, StringComparison.Ordinal));

    private static void AssertNoInternals(string body) => Assert.False(HasInternals(body), body);
}
