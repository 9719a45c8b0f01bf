using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// A real Kannel (bearerbox and smsbox, bound over SMPP to a test SMSC) as the provider every route goes to,
/// configured through the operators' API; a second provider on the same Kannel that asks for no delivery reports
/// takes the numbers starting 2557139 (the longer prefix wins).
/// </summary>
public sealed class KannelFixture : SendingFixture
{
    public TemporaryKannel Kannel { get; private set; } = null!;
    public WebhookReceiver Receiver { get; private set; } = null!;
    public string ProviderId { get; private set; } = "";
    public string CallbackToken { get; private set; } = "";
    public string QuietProviderId { get; private set; } = "";
    public string QuietCallbackToken { get; private set; } = "";

    public override Dictionary<string, string?> WorkerSettings => new()
    {
        ["Providers:CallbackBaseUrl"] = Gateway.Address.ToString(),
        ["Providers:RefreshInterval"] = "00:00:00.200",
        // One test stops Kannel on purpose: a circuit opened then would only hold the messages longer.
        ["Providers:CircuitBreaker:MinimumThroughput"] = "100000",
        ["Webhooks:Delivery:PollInterval"] = "00:00:00.050",
    };

    public override async Task InitializeAsync()
    {
        Kannel = await TemporaryKannel.StartAsync(smpp: true);
        await base.InitializeAsync();
        Receiver = await WebhookReceiver.StartAsync();
        using var admin = Client(OperatorKey);
        (ProviderId, CallbackToken) = await AddKannelAsync(admin, "kannel", dlrMask: 31);
        (QuietProviderId, QuietCallbackToken) = await AddKannelAsync(admin, "kannel-quiet", dlrMask: 0);
        await (await admin.PostAsJsonAsync("/v1/admin/routes", new { prefix = "", providers = new[] { ProviderId } }))
            .AssertJsonAsync(HttpStatusCode.Created);
        await (await admin.PostAsJsonAsync("/v1/admin/routes", new { prefix = "+2557139", providers = new[] { QuietProviderId } }))
            .AssertJsonAsync(HttpStatusCode.Created);
        await WorkerSeesAsync(snapshot => snapshot.Routes.Count == 2, "both routes");
    }

    private async Task<(string Id, string Token)> AddKannelAsync(HttpClient admin, string name, int dlrMask)
    {
        var created = await (await admin.PostAsJsonAsync("/v1/admin/providers", new
        {
            name,
            kind = "kannel",
            settings = new { url = Kannel.SendSmsUrl, username = Kannel.Username, dlr_mask = dlrMask },
            secrets = new { password = Kannel.Password },
        })).AssertJsonAsync(HttpStatusCode.Created);
        return (created.GetProperty("id").GetString()!, created.GetProperty("callback_token").GetString()!);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Receiver.DisposeAsync();
        await Kannel.DisposeAsync();
    }
}

public sealed class KannelProviderTests(KannelFixture ujumbe) : IClassFixture<KannelFixture>
{
    private static async Task<JsonElement> SendAsync(HttpClient client, string text, params string[] to) =>
        await (await client.PostAsJsonAsync("/v1/messages", new { to, text, sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);

    private static async Task<JsonElement> MessageAsync(HttpClient client, JsonElement accepted, int index) =>
        await (await client.GetAsync($"/v1/messages/{accepted.GetProperty("messages")[index].GetProperty("id").GetString()}")).AssertJsonAsync();

    private static string Dlr(string providerId, string token, string messageId, string type, string? answer = null) =>
        $"/v1/providers/{providerId}/dlr?token={Uri.EscapeDataString(token)}&msg={messageId}&type={type}"
        + (answer is null ? "" : "&answer=" + Uri.EscapeDataString(answer));

    [Fact]
    public async Task A_send_goes_through_Kannel_to_the_handset_and_its_delivery_report_makes_it_delivered_with_a_webhook()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 100));
        var hook = "kannel-" + Guid.NewGuid().ToString("N")[..8];
        await (await client.PostAsJsonAsync("/v1/webhooks", new { url = ujumbe.Receiver.Url(hook), events = new[] { "message.delivered" } }))
            .AssertJsonAsync(HttpStatusCode.Created);

        var gsm = await SendAsync(client, "Habari! Your code is 4711", "+255712400011", "+255712400012");
        // Not GSM-7: Kannel gets coding=2 and UTF-8, and the handset gets UCS-2.
        const string nonGsmText = "Karibu sana — asante ✓";
        var ucs2 = await SendAsync(client, nonGsmText, "+255712400013");
        Assert.Equal("UCS-2", ucs2.GetProperty("encoding").GetString());

        foreach (var batch in new[] { gsm, ucs2 })
        {
            var report = await SendingFixture.WaitForFinalizedAsync(client, batch.GetProperty("batch_id").GetString()!, TimeSpan.FromSeconds(60));
            var summary = report.GetProperty("summary");
            Assert.True(summary.GetProperty("total").GetInt32() == summary.GetProperty("delivered").GetInt32(), report.GetRawText() + "\n" + ujumbe.Kannel.Log[^Math.Min(4000, ujumbe.Kannel.Log.Length)..]);
        }
        var message = await MessageAsync(client, gsm, 0);
        Assert.Equal("delivered", message.GetProperty("status").GetString());
        Assert.True(message.GetProperty("sent_at").GetDateTime() <= message.GetProperty("delivered_at").GetDateTime());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("failed_at").ValueKind);

        // What the handsets got: each message once, the UCS-2 one intact.
        Assert.Equal(1, ujumbe.Kannel.ReceivedBy("+255712400011"));
        Assert.Equal(1, ujumbe.Kannel.ReceivedBy("+255712400012"));
        Assert.Equal([nonGsmText], ujumbe.Kannel.TextsTo("+255712400013"));
        Assert.Equal(["Habari! Your code is 4711"], ujumbe.Kannel.TextsTo("+255712400011"));

        // message.delivered, for each of the three.
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(ujumbe.Receiver.At(hook).Count >= 3), TimeSpan.FromSeconds(20), "three message.delivered webhooks");
        var events = ujumbe.Receiver.At(hook).Select(w => w.Json).ToList();
        Assert.All(events, e => Assert.Equal("message.delivered", e.GetProperty("event").GetString()));
        Assert.Contains(events, e => e.GetRawText().Contains(gsm.GetProperty("messages")[0].GetProperty("id").GetString()!, StringComparison.Ordinal));

        // Provider health: Kannel took them, and reported on them.
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await HttpAssertions.EventuallyAsync(async () =>
        {
            var health = (await (await admin.GetAsync("/v1/admin/providers/health")).AssertJsonAsync()).GetProperty("data")
                .EnumerateArray().Single(h => h.GetProperty("name").GetString() == "kannel");
            return health.GetProperty("circuit").GetString() == "closed" && health.GetProperty("accepted").GetInt64() >= 3
                && health.GetProperty("reports").GetInt64() >= 3 && health.GetProperty("dlr_rate").ValueKind == JsonValueKind.Number
                && health.GetProperty("latency_ms_avg").GetDouble() > 0;
        }, TimeSpan.FromSeconds(15), "the provider health shows Kannel's submissions and reports");
    }

    [Fact]
    public async Task The_carriers_failure_reports_through_Kannel_fail_messages_with_the_carriers_codes()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        // The SMSC answers …02 with an UNDELIV receipt (err:034, Kannel's DLR 2) and refuses …16 (0x0000000B, DLR 16).
        var accepted = await SendAsync(client, "will not arrive", "+255712400202", "+255712400216");
        var report = await SendingFixture.WaitForFinalizedAsync(client, accepted.GetProperty("batch_id").GetString()!, TimeSpan.FromSeconds(60));
        Assert.Equal(2, report.GetProperty("summary").GetProperty("failed").GetInt32());
        var undelivered = await MessageAsync(client, accepted, 0);
        var refused = await MessageAsync(client, accepted, 1);
        Assert.Equal("UNDELIVERED:034", undelivered.GetProperty("error_code").GetString());
        Assert.Equal("SMSC_REJECTED:0x0000000b", refused.GetProperty("error_code").GetString(), ignoreCase: true);
        foreach (var message in new[] { undelivered, refused })
        {
            Assert.Equal("failed", message.GetProperty("status").GetString());
            Assert.NotEqual(JsonValueKind.Null, message.GetProperty("sent_at").ValueKind);
            Assert.NotEqual(JsonValueKind.Null, message.GetProperty("failed_at").ValueKind);
        }
    }

    [Fact]
    public async Task Delivery_reports_are_authenticated_idempotent_and_never_move_a_status_backwards()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var accepted = await SendAsync(client, "report me", "+255712400101");
        await SendingFixture.WaitForFinalizedAsync(client, accepted.GetProperty("batch_id").GetString()!, TimeSpan.FromSeconds(60));
        var messageId = accepted.GetProperty("messages")[0].GetProperty("id").GetString()!;
        using var kannel = ujumbe.Client(); // the provider's side: no API key

        // A forged report (wrong token, or another provider's): 401, nothing changes.
        await (await kannel.GetAsync(Dlr(ujumbe.ProviderId, "not-the-token", messageId, "16")))
            .AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        await (await kannel.GetAsync(Dlr(ujumbe.ProviderId, ujumbe.QuietCallbackToken, messageId, "16")))
            .AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        // Malformed: a type Kannel never sends, or no message id: 400, never a 500.
        await (await kannel.GetAsync(Dlr(ujumbe.ProviderId, ujumbe.CallbackToken, messageId, "3")))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await kannel.GetAsync(Dlr(ujumbe.ProviderId, ujumbe.CallbackToken, "nonsense", "1")))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        // An unknown message: acknowledged, so the provider stops, and ignored.
        var unknown = await (await kannel.GetAsync(Dlr(ujumbe.ProviderId, ujumbe.CallbackToken, $"msg_{Guid.NewGuid():N}", "1"))).AssertJsonAsync();
        Assert.Equal("unknown_message", unknown.GetProperty("outcome").GetString());
        // Another provider's message, reported with this provider's valid token: ignored too.
        var other = await (await kannel.GetAsync(Dlr(ujumbe.QuietProviderId, ujumbe.QuietCallbackToken, messageId, "1"))).AssertJsonAsync();
        Assert.Equal("unknown_message", other.GetProperty("outcome").GetString());

        // Delivered already: a repeated report, or a late failure, changes nothing.
        foreach (var type in new[] { "1", "2", "16" })
        {
            var again = await (await kannel.GetAsync(Dlr(ujumbe.ProviderId, ujumbe.CallbackToken, messageId, type, "id:x stat:UNDELIV err:034"))).AssertJsonAsync();
            Assert.Equal("duplicate", again.GetProperty("outcome").GetString());
        }
        var intermediate = await (await kannel.GetAsync(Dlr(ujumbe.ProviderId, ujumbe.CallbackToken, messageId, "8"))).AssertJsonAsync();
        Assert.Equal("intermediate", intermediate.GetProperty("outcome").GetString());
        var message = await MessageAsync(client, accepted, 0);
        Assert.Equal("delivered", message.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, message.GetProperty("error_code").ValueKind);
    }

    [Fact]
    public async Task While_Kannel_is_down_messages_wait_and_go_out_once_when_it_is_back_and_an_early_report_waits_for_its_message()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 100));
        var before = await SendAsync(client, "before the outage", "+255712500001", "+255712500002");
        await SendingFixture.WaitForFinalizedAsync(client, before.GetProperty("batch_id").GetString()!, TimeSpan.FromSeconds(60));
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var failedBefore = await FailedSubmissionsAsync(admin);

        await ujumbe.Kannel.StopServersAsync();
        var during = await SendAsync(client, "during the outage", "+255712500003", "+255712500004", "+255712500005");
        // The quiet provider asks Kannel for no reports: this one's only report is the early one sent below.
        var quiet = await SendAsync(client, "never reported by Kannel", "+255713900006");

        // The first tries find Kannel unreachable (the Workers report it): the messages wait, queued.
        await HttpAssertions.EventuallyAsync(async () => await FailedSubmissionsAsync(admin) >= failedBefore + 4, TimeSpan.FromSeconds(30),
            "the Worker tried Kannel and found it down");
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("queued", (await MessageAsync(client, during, i)).GetProperty("status").GetString());
        }
        // A report that outruns the submission's record (here: before it was even submitted) is taken and held.
        var quietId = quiet.GetProperty("messages")[0].GetProperty("id").GetString()!;
        using var kannel = ujumbe.Client();
        var early = await (await kannel.GetAsync(Dlr(ujumbe.QuietProviderId, ujumbe.QuietCallbackToken, quietId, "2", "id:1 sub:001 dlvrd:000 stat:UNDELIV err:034")))
            .AssertJsonAsync();
        Assert.Equal("accepted", early.GetProperty("outcome").GetString());

        await ujumbe.Kannel.StartServersAsync();
        var report = await SendingFixture.WaitForFinalizedAsync(client, during.GetProperty("batch_id").GetString()!, TimeSpan.FromSeconds(90));
        Assert.Equal(3, report.GetProperty("summary").GetProperty("delivered").GetInt32());
        var quietReport = await SendingFixture.WaitForFinalizedAsync(client, quiet.GetProperty("batch_id").GetString()!, TimeSpan.FromSeconds(120));
        Assert.Equal(1, quietReport.GetProperty("summary").GetProperty("failed").GetInt32());
        var failed = await MessageAsync(client, quiet, 0);
        Assert.Equal("UNDELIVERED:034", failed.GetProperty("error_code").GetString());
        Assert.NotEqual(JsonValueKind.Null, failed.GetProperty("sent_at").ValueKind);

        // None lost, none sent twice (the messages from before the outage were not sent again either).
        foreach (var number in new[] { "+255712500001", "+255712500002", "+255712500003", "+255712500004", "+255712500005", "+255713900006" })
        {
            Assert.Equal(1, ujumbe.Kannel.ReceivedBy(number));
        }
    }

    [Fact]
    public async Task Operators_see_providers_without_their_secrets_and_routes_with_their_failover_order()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var providersText = await (await admin.GetAsync("/v1/admin/providers")).Content.ReadAsStringAsync();
        Assert.DoesNotContain(ujumbe.Kannel.Password, providersText, StringComparison.Ordinal);
        Assert.DoesNotContain(ujumbe.CallbackToken, providersText, StringComparison.Ordinal);
        var provider = (await (await admin.GetAsync($"/v1/admin/providers/{ujumbe.ProviderId}")).AssertJsonAsync());
        Assert.Equal(["password"], provider.GetProperty("secrets_set").EnumerateArray().Select(s => s.GetString()!).ToArray());
        Assert.Equal(ujumbe.Kannel.SendSmsUrl, provider.GetProperty("settings").GetProperty("url").GetString());

        // Stored sealed, never in clear.
        var stored = await ujumbe.Database.ScalarAsync<byte[]>("select secrets from providers where name = 'kannel'");
        Assert.DoesNotContain(ujumbe.Kannel.Password, System.Text.Encoding.UTF8.GetString(stored!), StringComparison.Ordinal);

        var routes = (await (await admin.GetAsync("/v1/admin/routes")).AssertJsonAsync()).GetProperty("data");
        Assert.Contains(routes.EnumerateArray(), r => r.GetProperty("prefix").GetString() == "2557139"
            && r.GetProperty("providers")[0].GetString() == ujumbe.QuietProviderId);

        // Bad input: clear errors, nothing written.
        await (await admin.PostAsJsonAsync("/v1/admin/providers", new { name = "x", kind = "smpp" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await admin.PostAsJsonAsync("/v1/admin/providers", new { name = "k2", kind = "kannel", settings = new { url = "not a url" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await admin.PostAsJsonAsync("/v1/admin/routes", new { country = "XX", providers = new[] { ujumbe.ProviderId } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await admin.PostAsJsonAsync("/v1/admin/routes", new { prefix = "255", providers = new[] { $"prv_{Guid.NewGuid():N}" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await admin.PostAsJsonAsync("/v1/admin/routes", new { prefix = "", providers = new[] { ujumbe.ProviderId } }))
            .AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        // Not for account keys.
        using var owner = ujumbe.Client(ujumbe.DemoKey);
        Assert.Equal(HttpStatusCode.Forbidden, (await owner.GetAsync("/v1/admin/providers")).StatusCode);

        var health = (await (await admin.GetAsync("/v1/admin/providers/health")).AssertJsonAsync()).GetProperty("data");
        Assert.Contains(health.EnumerateArray(), h => h.GetProperty("name").GetString() == "kannel");
    }

    private static async Task<long> FailedSubmissionsAsync(HttpClient admin)
    {
        var health = (await (await admin.GetAsync("/v1/admin/providers/health")).AssertJsonAsync()).GetProperty("data");
        return health.EnumerateArray().Sum(h => h.GetProperty("failed").GetInt64());
    }
}
