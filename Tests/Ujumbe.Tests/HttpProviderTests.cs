using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>One submit a fake aggregator got.</summary>
public sealed record AggregatorSubmit(string ApiKey, JsonElement Body, DateTime At);

/// <summary>
/// A small fake SMS aggregator with its own JSON API: <c>POST /send {msisdn, sender, message, client_ref}</c> with an
/// <c>X-Api-Key</c>, answering <c>{"status": "OK", "data": {"id": "agg-N"}}</c>; a number ending 99 gets
/// <c>{"status": "ERROR"}</c>, one ending 98 an HTML page (not what the mapping describes).
/// </summary>
public sealed class FakeAggregator : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _next;

    private FakeAggregator(WebApplication app) => _app = app;

    public ConcurrentQueue<AggregatorSubmit> Submits { get; } = new();

    public string Url => _app.Urls.First() + "/send";

    public static async Task<FakeAggregator> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var aggregator = new FakeAggregator(app);
        app.MapPost("/send", async (HttpContext context) =>
        {
            var body = (await JsonDocument.ParseAsync(context.Request.Body)).RootElement.Clone();
            aggregator.Submits.Enqueue(new AggregatorSubmit(context.Request.Headers["X-Api-Key"].ToString(), body, DateTime.UtcNow));
            if (context.Request.Headers["X-Api-Key"] != "agg-secret")
            {
                return Results.Json(new { status = "ERROR", reason = "bad key" }, statusCode: 401);
            }
            var to = body.GetProperty("msisdn").GetString()!;
            if (to.EndsWith("99", StringComparison.Ordinal))
            {
                return Results.Json(new { status = "ERROR", reason = "blocked" });
            }
            if (to.EndsWith("98", StringComparison.Ordinal))
            {
                return Results.Content("<html>maintenance</html>", "text/html");
            }
            return Results.Json(new { status = "OK", data = new { id = "agg-" + Interlocked.Increment(ref aggregator._next) } });
        });
        await app.StartAsync();
        return aggregator;
    }

    public IReadOnlyList<AggregatorSubmit> To(string number) =>
        Submits.Where(s => s.Body.GetProperty("msisdn").GetString() == number.TrimStart('+')).ToList();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

public sealed class AggregatorFixture : SendingFixture
{
    public FakeAggregator Aggregator { get; private set; } = null!;
    public string ProviderId { get; private set; } = "";
    public string CallbackToken { get; private set; } = "";

    public override Dictionary<string, string?> WorkerSettings => new()
    {
        ["Providers:CallbackBaseUrl"] = Gateway.Address.ToString(),
        ["Providers:RefreshInterval"] = "00:00:00.200",
        ["Providers:CircuitBreaker:MinimumThroughput"] = "2",
        // Only a provider failing (almost) every time opens: the aggregator's one uncertain answer must not.
        ["Providers:CircuitBreaker:FailureRatio"] = "0.75",
        ["Providers:CircuitBreaker:BreakDuration"] = "00:01:00",
    };

    public override async Task InitializeAsync()
    {
        Aggregator = await FakeAggregator.StartAsync();
        await base.InitializeAsync();
        using var admin = Client(OperatorKey);
        var created = await (await admin.PostAsJsonAsync("/v1/admin/providers", AggregatorProvider("aggregator", Aggregator.Url, maxPerSecond: null)))
            .AssertJsonAsync(HttpStatusCode.Created);
        ProviderId = created.GetProperty("id").GetString()!;
        CallbackToken = created.GetProperty("callback_token").GetString()!;
    }

    /// <summary>The aggregator as an operator configures it: no code, only the mapping.</summary>
    public static object AggregatorProvider(string name, string url, int? maxPerSecond) => new
    {
        name,
        kind = "http",
        max_per_second = maxPerSecond,
        settings = new
        {
            url,
            format = "json",
            auth_header = "X-Api-Key",
            fields = new Dictionary<string, string> { ["to_digits"] = "msisdn", ["from"] = "sender", ["text"] = "message", ["reference"] = "client_ref" },
            success_path = "status",
            success_value = "OK",
            message_id_path = "data.id",
            dlr = new
            {
                message_id_field = "ref",
                status_field = "state",
                delivered_values = new[] { "DELIVRD" },
                failed_values = new[] { "UNDELIV", "REJECTD" },
                error_code_field = "err",
            },
        },
        secrets = new { auth_header_value = "agg-secret" },
    };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Aggregator.DisposeAsync();
    }
}

/// <summary>The generic HTTP provider against a fake aggregator, and routing: prefixes, accounts, failover, circuit, cap.</summary>
public sealed class HttpProviderTests(AggregatorFixture ujumbe) : IClassFixture<AggregatorFixture>
{
    private static async Task<JsonElement> SendAsync(HttpClient client, string text, params string[] to) =>
        await (await client.PostAsJsonAsync("/v1/messages", new { to, text, sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);

    private static string MessageId(JsonElement accepted, int index = 0) => accepted.GetProperty("messages")[index].GetProperty("id").GetString()!;

    private static async Task<string> StatusAsync(HttpClient client, string messageId) =>
        (await (await client.GetAsync($"/v1/messages/{messageId}")).AssertJsonAsync()).GetProperty("status").GetString()!;

    private static async Task<string> AccountIdAsync(HttpClient client) =>
        (await (await client.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString()!;

    private async Task<string> RouteAsync(object route)
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var id = (await (await admin.PostAsJsonAsync("/v1/admin/routes", route)).AssertJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;
        var routeId = Guid.ParseExact(id[4..], "N");
        await ujumbe.WorkerSeesAsync(snapshot => snapshot.Routes.Any(r => r.Id == routeId), "the new route");
        return id;
    }

    [Fact]
    public async Task An_aggregator_configured_without_code_takes_messages_and_its_callbacks_deliver_them()
    {
        var key = await ujumbe.OpenFundedAccountAsync(credits: 100);
        using var client = ujumbe.Client(key);
        // This account's own route: its numbers under 2557126 go to the aggregator.
        await RouteAsync(new { prefix = "2557126", account_id = await AccountIdAsync(client), providers = new[] { ujumbe.ProviderId } });

        var accepted = await SendAsync(client, "Aggregated hello", "+255712600001", "+255712600099", "+255712600098");
        var submit = await WaitForSubmitAsync("+255712600001");
        Assert.Equal("agg-secret", submit.ApiKey);
        Assert.Equal("UJUMBE", submit.Body.GetProperty("sender").GetString());
        Assert.Equal("Aggregated hello", submit.Body.GetProperty("message").GetString());
        Assert.Equal(MessageId(accepted), submit.Body.GetProperty("client_ref").GetString());

        await HttpAssertions.EventuallyAsync(async () => await StatusAsync(client, MessageId(accepted)) == "sent", TimeSpan.FromSeconds(20), "sent");
        Assert.StartsWith("agg-", await ujumbe.Database.ScalarAsync<string>("select provider_message_id from messages where id = $1",
            Guid.ParseExact(MessageId(accepted)[4..], "N")), StringComparison.Ordinal);
        // {"status": "ERROR"}: the mapping's success condition fails → rejected, its credit released.
        await HttpAssertions.EventuallyAsync(async () => await StatusAsync(client, MessageId(accepted, 1)) == "rejected", TimeSpan.FromSeconds(20), "rejected");
        // An HTML page where JSON was expected: it may have taken the message, so it waits, pinned to this provider.
        await HttpAssertions.EventuallyAsync(async () => await ujumbe.Database.ScalarAsync<string>(
            "select pinned_provider from messages where id = $1", Guid.ParseExact(MessageId(accepted, 2)[4..], "N")) == "aggregator",
            TimeSpan.FromSeconds(20), "the uncertain message is pinned");
        Assert.Equal("queued", await StatusAsync(client, MessageId(accepted, 2)));
        await (await client.PostAsync($"/v1/batches/{accepted.GetProperty("batch_id").GetString()}/cancel", null)).AssertJsonAsync();

        // The aggregator's delivery report, in its own shape, with the token in a header.
        using var aggregator = ujumbe.Client();
        aggregator.DefaultRequestHeaders.Add("X-Callback-Token", ujumbe.CallbackToken);
        var answer = await (await aggregator.PostAsJsonAsync($"/v1/providers/{ujumbe.ProviderId}/dlr", new { @ref = MessageId(accepted), state = "DELIVRD" }))
            .AssertJsonAsync();
        Assert.Equal("accepted", answer.GetProperty("outcome").GetString());
        await HttpAssertions.EventuallyAsync(async () => await StatusAsync(client, MessageId(accepted)) == "delivered", TimeSpan.FromSeconds(20), "delivered");
        // A status the mapping does not name: acknowledged, counted, nothing changes.
        var unmapped = await (await aggregator.PostAsJsonAsync($"/v1/providers/{ujumbe.ProviderId}/dlr", new { @ref = MessageId(accepted), state = "WEIRD" }))
            .AssertJsonAsync();
        Assert.Equal("unmapped", unmapped.GetProperty("outcome").GetString());
        Assert.Equal("delivered", await StatusAsync(client, MessageId(accepted)));
    }

    [Fact]
    public async Task A_provider_that_cannot_be_reached_is_failed_over_then_skipped_by_its_open_circuit_and_never_both_send()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var dead = await (await admin.PostAsJsonAsync("/v1/admin/providers",
            AggregatorFixture.AggregatorProvider("dead", $"http://127.0.0.1:{TestStack.FreeLoopbackPort()}/send", maxPerSecond: null)))
            .AssertJsonAsync(HttpStatusCode.Created);
        var deadId = dead.GetProperty("id").GetString()!;
        await RouteAsync(new { prefix = "2557127", providers = new[] { deadId, ujumbe.ProviderId } });

        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 100));
        var numbers = Enumerable.Range(1, 4).Select(n => $"+2557127000{n:D2}").ToArray();
        foreach (var number in numbers)
        {
            var accepted = await SendAsync(client, "fail over", number);
            await HttpAssertions.EventuallyAsync(async () => await StatusAsync(client, MessageId(accepted)) == "sent", TimeSpan.FromSeconds(20), "sent by the next provider");
            Assert.Equal("aggregator", await ujumbe.Database.ScalarAsync<string>("select provider from messages where id = $1",
                Guid.ParseExact(MessageId(accepted)[4..], "N")));
            Assert.Single(ujumbe.Aggregator.To(number));
        }
        // Two failures opened the dead provider's circuit: it is skipped now, and the health endpoint says so.
        await HttpAssertions.EventuallyAsync(async () =>
        {
            var health = (await (await admin.GetAsync("/v1/admin/providers/health")).AssertJsonAsync()).GetProperty("data");
            return health.EnumerateArray().Any(h => h.GetProperty("id").GetString() == deadId && h.GetProperty("circuit").GetString() == "open");
        }, TimeSpan.FromSeconds(15), "the dead provider's circuit shows open");
    }

    [Fact]
    public async Task Route_changes_apply_without_a_restart_and_a_route_to_a_deleted_provider_is_skipped()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var other = await (await admin.PostAsJsonAsync("/v1/admin/providers",
            AggregatorFixture.AggregatorProvider("other", ujumbe.Aggregator.Url, maxPerSecond: null))).AssertJsonAsync(HttpStatusCode.Created);
        var otherId = other.GetProperty("id").GetString()!;
        var routeId = await RouteAsync(new { prefix = "2557128", providers = new[] { otherId } });
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 100));

        async Task<string> SentByAsync(string number)
        {
            var accepted = await SendAsync(client, "which way", number);
            await HttpAssertions.EventuallyAsync(async () => await StatusAsync(client, MessageId(accepted)) == "sent", TimeSpan.FromSeconds(20), "sent");
            return (await ujumbe.Database.ScalarAsync<string>("select provider from messages where id = $1", Guid.ParseExact(MessageId(accepted)[4..], "N")))!;
        }

        Assert.Equal("other", await SentByAsync("+255712800001"));
        await (await admin.PutAsJsonAsync($"/v1/admin/routes/{routeId}", new { prefix = "2557128", providers = new[] { otherId, ujumbe.ProviderId } }))
            .AssertJsonAsync();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/admin/providers/{otherId}")).StatusCode);
        var otherGuid = Guid.ParseExact(otherId[4..], "N");
        await ujumbe.WorkerSeesAsync(snapshot => !snapshot.Providers.ContainsKey(otherGuid)
            && snapshot.Routes.Any(r => r.ProviderIds.Count == 2 && r.ProviderIds[0] == otherGuid), "the changed route and the deleted provider");
        // The route still names the deleted provider first: it is skipped (logged, counted), the next one sends.
        Assert.Equal("aggregator", await SentByAsync("+255712800002"));
    }

    [Fact]
    public async Task A_provider_with_a_throughput_cap_is_never_sent_more_than_its_rate()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var capped = await (await admin.PostAsJsonAsync("/v1/admin/providers",
            AggregatorFixture.AggregatorProvider("capped", ujumbe.Aggregator.Url, maxPerSecond: 5))).AssertJsonAsync(HttpStatusCode.Created);
        await RouteAsync(new { prefix = "2557129", providers = new[] { capped.GetProperty("id").GetString()! } });
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 100));
        var numbers = Enumerable.Range(1, 11).Select(n => $"+2557129000{n:D2}").ToArray();
        var accepted = await SendAsync(client, "slowly", numbers);
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(numbers.All(n => ujumbe.Aggregator.To(n).Count == 1)), TimeSpan.FromSeconds(30), "all submitted");
        var times = numbers.Select(n => ujumbe.Aggregator.To(n)[0].At).Order().ToList();
        // 11 messages at 5 a second: at least 2 s from the first to the last (a little less for timer slack).
        Assert.True(times[^1] - times[0] >= TimeSpan.FromSeconds(1.8), $"11 submits took {(times[^1] - times[0]).TotalSeconds:0.00} s");
        Assert.NotNull(accepted.GetProperty("batch_id").GetString());
    }

    private async Task<AggregatorSubmit> WaitForSubmitAsync(string number)
    {
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(ujumbe.Aggregator.To(number).Count > 0), TimeSpan.FromSeconds(20), "the aggregator got it");
        return ujumbe.Aggregator.To(number)[0];
    }
}
