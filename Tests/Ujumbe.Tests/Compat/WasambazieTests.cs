using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests.Compat;

/// <summary>
/// Wasambazie's API (seed 004) through the gateway, against the real stack: the seed's own curl lines and
/// JavaScript/Python/PHP snippets, byte for byte, with only the base URL and the keys changed; then each
/// documented error in the seed's shape.
/// </summary>
public sealed class WasambazieTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    private const string Base = WasambazieAccount.Base;

    /// <summary>An account with credits, the seed's sender ID MYBRAND approved, and its key as the seed's pair.</summary>
    private async Task<WasambazieAccount> OpenAccountAsync(long credits = 100)
    {
        var key = await ujumbe.OpenFundedAccountAsync(credits);
        await WasambazieAccount.ApproveSenderIdAsync(ujumbe, key, "MYBRAND");
        return new WasambazieAccount(key);
    }

    private static HttpRequestMessage Request(HttpMethod method, string path, WasambazieAccount account, string? json = null)
    {
        var request = new HttpRequestMessage(method, Base + path);
        account.AddHeaders(request);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        return request;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        using var client = ujumbe.Client();
        using (request)
        {
            return await client.SendAsync(request);
        }
    }

    // ---- The seed's curl lines -------------------------------------------------------------------------

    [Fact]
    public async Task Curl_check_balance_answers_the_credits_as_the_seed_writes_them()
    {
        var account = await OpenAccountAsync(credits: 4250);
        // curl -X GET 'https://wasambazie.co.tz/v1/balance/' -H 'X-API-PUBLIC-KEY: …' -H 'X-API-SECRET-KEY: …'
        using var response = await SendAsync(Request(HttpMethod.Get, "/balance/", account));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"balance\":4250.0}", await response.Content.ReadAsStringAsync());
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.Contains("X-RateLimit-Limit"));
    }

    [Fact]
    public async Task Curl_send_a_single_sms_answers_201_and_charges_one_credit_like_v1()
    {
        var account = await OpenAccountAsync(credits: 10);
        using var response = await SendAsync(Request(HttpMethod.Post, "/sms/send", account, """
            {
                "to_number":  "+255712345678",
                "message":    "Hello from Wasambazie!",
                "sender_id":  "MYBRAND"
              }
            """));
        var sent = await response.AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal(201, sent.GetProperty("status_code").GetInt32());
        Assert.True(sent.GetProperty("success").GetBoolean());
        Assert.Equal("Message submitted successfully.", sent.GetProperty("message").GetString());
        var batchId = sent.GetProperty("message_batch_id").GetString()!;
        Assert.Equal(["status_code", "success", "message_batch_id", "message"], sent.EnumerateObject().Select(p => p.Name));

        // The same send, seen through /v1 with the same key: one batch, one message, one credit.
        using var v1 = ujumbe.Client(account.Secret);
        var report = await SendingFixture.WaitForFinalizedAsync(v1, batchId);
        Assert.Equal("+255712345678", report.GetProperty("messages")[0].GetProperty("to").GetString());
        Assert.Equal("MYBRAND", report.GetProperty("sender_id").GetString());
        Assert.Equal("Hello from Wasambazie!", report.GetProperty("messages")[0].GetProperty("text").GetString());
        var balance = await SendingFixture.WaitForSettledBalanceAsync(v1);
        Assert.Equal(9, balance.GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task Curl_send_to_multiple_recipients_then_poll_the_delivery_report()
    {
        var account = await OpenAccountAsync(credits: 10);
        using var response = await SendAsync(Request(HttpMethod.Post, "/sms/send", account, """
            {
                "to_number":  "+255712345678,+255722345678,+255732345679",
                "message":    "Your order has been confirmed.",
                "sender_id":  "MYBRAND"
              }
            """));
        var batchId = (await response.AssertJsonAsync(HttpStatusCode.Created)).GetProperty("message_batch_id").GetString()!;

        // curl -X GET 'https://wasambazie.co.tz/v1/sms/delivery-reports/abc123xyz' …
        JsonElement report = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            using var poll = await SendAsync(Request(HttpMethod.Get, "/sms/delivery-reports/" + batchId, account));
            if (poll.StatusCode == HttpStatusCode.NotFound)
            {
                var waiting = await poll.AssertJsonAsync(HttpStatusCode.NotFound);
                Assert.Equal("Report not yet available — the batch is still being processed.", waiting.GetProperty("detail").GetString());
                return false;
            }
            report = await poll.AssertJsonAsync();
            return report.GetProperty("summary").GetProperty("delivered").GetInt32() == 3;
        }, TimeSpan.FromSeconds(30), "every message is delivered");

        Assert.Equal(batchId, report.GetProperty("message_batch_id").GetString());
        var summary = report.GetProperty("summary");
        Assert.Equal(3, summary.GetProperty("total").GetInt32());
        Assert.Equal(0, summary.GetProperty("failed").GetInt32());
        var messages = report.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["+255712345678", "+255722345678", "+255732345679"], messages.Select(m => m.GetProperty("to_number").GetString()).Order());
        Assert.All(messages, m =>
        {
            Assert.Equal("delivered", m.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.String, m.GetProperty("delivered_at").ValueKind);
        });
        using var v1 = ujumbe.Client(account.Secret);
        Assert.Equal(7, (await SendingFixture.WaitForSettledBalanceAsync(v1)).GetProperty("balance").GetInt64());
    }

    // ---- The seed's JavaScript (axios), Python (requests) and PHP (curl) snippets ------------------------

    public static TheoryData<string> Snippets => new() { "javascript", "python", "php" };

    /// <summary>
    /// Each snippet's "example usage": balance, send, then the report. They differ in what they send: axios and
    /// PHP put Content-Type on every request (a GET with a JSON content type and no body), Python only on the send.
    /// </summary>
    [Theory]
    [MemberData(nameof(Snippets))]
    public async Task A_snippet_gets_the_balance_sends_and_reads_the_report(string snippet)
    {
        var account = await OpenAccountAsync(credits: 50);
        using var client = ujumbe.Client();
        client.DefaultRequestHeaders.Add("X-API-PUBLIC-KEY", account.PublicKey);
        client.DefaultRequestHeaders.Add("X-API-SECRET-KEY", account.Secret);

        HttpRequestMessage Get(string path)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, Base + path);
            if (snippet != "python")
            {
                request.Content = new ByteArrayContent([]);
                request.Content.Headers.ContentType = new("application/json");
            }
            return request;
        }

        // getBalance() / get_balance() / apiRequest('GET', '/balance/')
        using (var balance = await client.SendAsync(Get("/balance/")))
        {
            Assert.Equal(50.0, (await balance.AssertJsonAsync()).GetProperty("balance").GetDouble());
        }

        // sendSMS('+255712345678', 'Hello!', 'MYBRAND') / send_sms(…) / apiRequest('POST', '/sms/send', […])
        var text = snippet == "javascript" ? "Hello!" : "Hello from Wasambazie!";
        using var sent = await client.PostAsJsonAsync(Base + "/sms/send", new Dictionary<string, string>
        {
            ["to_number"] = "+255712345678",
            ["message"] = text,
            ["sender_id"] = "MYBRAND",
        });
        var batchId = (await sent.AssertJsonAsync(HttpStatusCode.Created)).GetProperty("message_batch_id").GetString()!;

        // getReport(batchId) / get_report(batch_id) / apiRequest('GET', '/sms/delivery-reports/' . $id); polled, not slept.
        await HttpAssertions.EventuallyAsync(async () =>
        {
            using var report = await client.SendAsync(Get("/sms/delivery-reports/" + batchId));
            return report.StatusCode == HttpStatusCode.OK
                && (await report.AssertJsonAsync()).GetProperty("summary").GetProperty("delivered").GetInt32() == 1;
        }, TimeSpan.FromSeconds(30), "the report shows the message delivered");
    }

    // ---- Paths, with and without the trailing slash ----------------------------------------------------

    [Fact]
    public async Task Paths_work_with_and_without_the_trailing_slash()
    {
        var account = await OpenAccountAsync(credits: 5);
        using (var balance = await SendAsync(Request(HttpMethod.Get, "/balance", account)))
        {
            Assert.Equal("{\"balance\":5.0}", await balance.Content.ReadAsStringAsync());
        }
        using var sent = await SendAsync(Request(HttpMethod.Post, "/sms/send/", account,
            """{"to_number": "+255712345678", "message": "Slash", "sender_id": "MYBRAND"}"""));
        var batchId = (await sent.AssertJsonAsync(HttpStatusCode.Created)).GetProperty("message_batch_id").GetString()!;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            using var report = await SendAsync(Request(HttpMethod.Get, $"/sms/delivery-reports/{batchId}/", account));
            return report.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30), "the report is there with a trailing slash too");
    }

    // ---- Credentials ----------------------------------------------------------------------------------

    [Fact]
    public async Task Missing_partial_or_mismatched_keys_are_401_with_the_seed_detail()
    {
        var account = await OpenAccountAsync();
        var other = await OpenAccountAsync();
        var attempts = new (string? Public, string? Secret)[]
        {
            (null, null),
            (account.PublicKey, null),
            (null, account.Secret),
            (other.PublicKey, account.Secret),                        // two real keys, not one pair
            (account.PublicKey, account.Secret[..^1] + (account.Secret[^1] == 'a' ? 'b' : 'a')), // wrong secret
            (account.PublicKey, "sk_not-a-key"),
        };
        foreach (var (publicKey, secret) in attempts)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Base + "/balance/");
            if (publicKey is not null)
            {
                request.Headers.Add("X-API-PUBLIC-KEY", publicKey);
            }
            if (secret is not null)
            {
                request.Headers.Add("X-API-SECRET-KEY", secret);
            }
            using var response = await SendAsync(request);
            await AssertDetailAsync(response, HttpStatusCode.Unauthorized, "Invalid or missing API credentials");
            Assert.Empty(response.Headers.WwwAuthenticate);
        }
    }

    [Fact]
    public async Task Only_the_key_pair_counts_here_v1_bearer_credentials_do_not()
    {
        var account = await OpenAccountAsync();
        using var client = ujumbe.Client(account.Secret);
        using var response = await client.GetAsync(Base + "/balance/");
        await AssertDetailAsync(response, HttpStatusCode.Unauthorized, "Invalid or missing API credentials");
    }

    [Fact]
    public async Task A_revoked_key_is_refused_at_once()
    {
        var account = await OpenAccountAsync();
        using var v1 = ujumbe.Client(account.Secret);
        var created = await (await v1.PostAsJsonAsync("/v1/api-keys", new { name = "second" })).AssertJsonAsync(HttpStatusCode.Created);
        var second = new WasambazieAccount(created.GetProperty("secret").GetString()!);
        using (var ok = await SendAsync(Request(HttpMethod.Get, "/balance/", second)))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        await (await v1.PostAsync($"/v1/api-keys/{created.GetProperty("id").GetString()}/revoke", null)).AssertJsonAsync();
        using var refused = await SendAsync(Request(HttpMethod.Get, "/balance/", second));
        await AssertDetailAsync(refused, HttpStatusCode.Unauthorized, "Invalid or missing API credentials");
    }

    [Fact]
    public async Task A_key_without_the_messages_scope_cannot_send()
    {
        var account = await OpenAccountAsync();
        using var v1 = ujumbe.Client(account.Secret);
        var created = await (await v1.PostAsJsonAsync("/v1/api-keys", new { name = "read only", scopes = new[] { "account" } }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var readOnly = new WasambazieAccount(created.GetProperty("secret").GetString()!);
        using var response = await SendAsync(Request(HttpMethod.Post, "/sms/send", readOnly,
            """{"to_number": "+255712345678", "message": "Hi", "sender_id": "MYBRAND"}"""));
        var body = await response.AssertJsonAsync(HttpStatusCode.Forbidden);
        Assert.Equal(JsonValueKind.String, body.GetProperty("detail").ValueKind);
        Assert.False(body.TryGetProperty("code", out _));
    }

    // ---- The documented errors -------------------------------------------------------------------------

    [Fact]
    public async Task A_missing_field_is_422_with_fastapi_field_errors()
    {
        var account = await OpenAccountAsync();
        using var response = await SendAsync(Request(HttpMethod.Post, "/sms/send", account,
            """{"message": "Hello", "sender_id": "MYBRAND"}"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("""{"detail":[{"loc":["body","to_number"],"msg":"field required","type":"value_error.missing"}]}""",
            await response.Content.ReadAsStringAsync());

        using var wrongType = await SendAsync(Request(HttpMethod.Post, "/sms/send", account,
            """{"to_number": ["+255712345678"], "sender_id": "MYBRAND"}"""));
        var errors = (await wrongType.AssertJsonAsync(HttpStatusCode.UnprocessableEntity)).GetProperty("detail").EnumerateArray().ToList();
        Assert.Equal(["to_number", "message"], errors.Select(e => e.GetProperty("loc")[1].GetString()));
        Assert.Equal(["type_error.str", "value_error.missing"], errors.Select(e => e.GetProperty("type").GetString()));

        using var notJson = await SendAsync(Request(HttpMethod.Post, "/sms/send", account, "to_number=+255712345678"));
        Assert.Equal("value_error.jsondecode",
            (await notJson.AssertJsonAsync(HttpStatusCode.UnprocessableEntity)).GetProperty("detail")[0].GetProperty("type").GetString());
    }

    [Fact]
    public async Task A_missing_sender_id_is_400_sender_id_is_required()
    {
        var account = await OpenAccountAsync();
        using var response = await SendAsync(Request(HttpMethod.Post, "/sms/send", account,
            """{"to_number": "+255712345678", "message": "Hello"}"""));
        await AssertDetailAsync(response, HttpStatusCode.BadRequest, "Sender ID is required");
    }

    [Fact]
    public async Task An_unapproved_or_malformed_sender_id_is_404_and_nothing_is_sent()
    {
        var account = await OpenAccountAsync(credits: 10);
        foreach (var sender in new[] { "OTHERBRAND", "MY BRAND!" })
        {
            using var response = await SendAsync(Request(HttpMethod.Post, "/sms/send", account,
                $$"""{"to_number": "+255712345678", "message": "Hello", "sender_id": "{{sender}}"}"""));
            await AssertDetailAsync(response, HttpStatusCode.NotFound, "Sender ID not found or not approved");
        }
        await AssertNothingSentAsync(account, credits: 10);
    }

    [Fact]
    public async Task The_sender_id_is_normalised_to_upper_case()
    {
        var account = await OpenAccountAsync();
        using var response = await SendAsync(Request(HttpMethod.Post, "/sms/send", account,
            """{"to_number": "+255712345678", "message": "Hello", "sender_id": "mybrand"}"""));
        await response.AssertJsonAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Not_enough_credits_is_402_and_nothing_is_queued_or_charged()
    {
        var account = await OpenAccountAsync(credits: 2);
        using var response = await SendAsync(Request(HttpMethod.Post, "/sms/send", account,
            """{"to_number": "+255712345678,+255722345678,+255732345679", "message": "Three", "sender_id": "MYBRAND"}"""));
        await AssertDetailAsync(response, HttpStatusCode.PaymentRequired, "Insufficient SMS credits");
        await AssertNothingSentAsync(account, credits: 2);
    }

    [Fact]
    public async Task An_invalid_number_is_400_naming_it_and_nothing_is_sent()
    {
        var account = await OpenAccountAsync(credits: 10);
        using var response = await SendAsync(Request(HttpMethod.Post, "/sms/send", account,
            """{"to_number": "+255712345678,12ab", "message": "Hello", "sender_id": "MYBRAND"}"""));
        var body = await response.AssertJsonAsync(HttpStatusCode.BadRequest);
        var detail = body.GetProperty("detail").GetString()!;
        Assert.StartsWith("Invalid phone number: ", detail, StringComparison.Ordinal);
        Assert.Contains("12ab", detail, StringComparison.Ordinal);
        await AssertNothingSentAsync(account, credits: 10);
    }

    [Fact]
    public async Task A_message_over_the_segment_limit_is_400_in_the_seed_shape()
    {
        var account = await OpenAccountAsync(credits: 100);
        using var response = await SendAsync(Request(HttpMethod.Post, "/sms/send", account,
            JsonSerializer.Serialize(new Dictionary<string, string> { ["to_number"] = "+255712345678", ["message"] = new string('a', 2000), ["sender_id"] = "MYBRAND" })));
        var body = await response.AssertJsonAsync(HttpStatusCode.BadRequest);
        Assert.Contains("segments", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Single(body.EnumerateObject());
    }

    [Fact]
    public async Task Unknown_batches_paths_and_methods_answer_in_the_seed_shape()
    {
        var account = await OpenAccountAsync();
        using (var unknownBatch = await SendAsync(Request(HttpMethod.Get, "/sms/delivery-reports/bat_0193f1c2d3e4f5a6b7c8d9e0f1a2b3c4", account)))
        {
            await AssertDetailAsync(unknownBatch, HttpStatusCode.NotFound, "Batch not found");
        }
        using (var notAnId = await SendAsync(Request(HttpMethod.Get, "/sms/delivery-reports/abc123xyz", account)))
        {
            await AssertDetailAsync(notAnId, HttpStatusCode.NotFound, "Batch not found");
        }
        using (var unknownPath = await SendAsync(Request(HttpMethod.Get, "/sms/nothing-here", account)))
        {
            await AssertDetailAsync(unknownPath, HttpStatusCode.NotFound, "Not Found");
        }
        using (var outside = new HttpRequestMessage(HttpMethod.Get, "/compat/wasambazie/v2/balance/"))
        {
            // Not under the dialect's /v1 at all: the gateway answers itself, still in the dialect's shape.
            account.AddHeaders(outside);
            using var outsideV1 = await SendAsync(outside);
            await AssertDetailAsync(outsideV1, HttpStatusCode.NotFound, "Not Found");
        }
        using var wrongMethod = await SendAsync(Request(HttpMethod.Get, "/sms/send", account));
        await AssertDetailAsync(wrongMethod, HttpStatusCode.MethodNotAllowed, "Method Not Allowed");
    }

    [Fact]
    public async Task Another_accounts_batch_is_not_found()
    {
        var owner = await OpenAccountAsync();
        var stranger = await OpenAccountAsync();
        using var sent = await SendAsync(Request(HttpMethod.Post, "/sms/send", owner,
            """{"to_number": "+255712345678", "message": "Mine", "sender_id": "MYBRAND"}"""));
        var batchId = (await sent.AssertJsonAsync(HttpStatusCode.Created)).GetProperty("message_batch_id").GetString()!;
        using var response = await SendAsync(Request(HttpMethod.Get, "/sms/delivery-reports/" + batchId, stranger));
        await AssertDetailAsync(response, HttpStatusCode.NotFound, "Batch not found");
    }

    [Fact]
    public async Task Sends_count_against_the_same_send_limit_as_v1_and_429_is_in_the_seed_shape()
    {
        var account = await OpenAccountAsync(credits: 100);
        await ujumbe.SetRateLimitsAsync(account.Secret, new { messages_per_minute = 2 });
        using var v1 = ujumbe.Client(account.Secret);

        // One send through /v1, one through the dialect: the third, through either, is over the limit.
        await (await v1.PostAsJsonAsync("/v1/messages", new { to = "+255712345678", text = "one", sender_id = "MYBRAND" }))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        const string body = """{"to_number": "+255712345678", "message": "two", "sender_id": "MYBRAND"}""";
        using (var second = await SendAsync(Request(HttpMethod.Post, "/sms/send", account, body)))
        {
            await second.AssertJsonAsync(HttpStatusCode.Created);
            Assert.Equal("0", second.Headers.GetValues("X-RateLimit-Remaining").Single());
        }
        using var third = await SendAsync(Request(HttpMethod.Post, "/sms/send", account, body));
        var refused = await third.AssertJsonAsync(HttpStatusCode.TooManyRequests);
        Assert.Equal(JsonValueKind.String, refused.GetProperty("detail").ValueKind);
        Assert.Single(refused.EnumerateObject());
        Assert.NotNull(third.Headers.RetryAfter);
    }

    [Fact]
    public async Task Gateway_refusals_are_in_the_seed_shape_too()
    {
        var account = await OpenAccountAsync();
        using var request = Request(HttpMethod.Post, "/sms/send", account, "{}");
        request.Headers.Add("X-Ujumbe-Identity", "forged");
        using var response = await SendAsync(request);
        var body = await response.AssertJsonAsync(HttpStatusCode.BadRequest);
        Assert.Contains("X-Ujumbe-Identity", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Single(body.EnumerateObject());

        using var huge = Request(HttpMethod.Post, "/sms/send", account,
            JsonSerializer.Serialize(new Dictionary<string, string> { ["to_number"] = "+255712345678", ["message"] = new string('a', 1_100_000), ["sender_id"] = "MYBRAND" }));
        using var tooLarge = await SendAsync(huge);
        var refused = await tooLarge.AssertJsonAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(JsonValueKind.String, refused.GetProperty("detail").ValueKind);
        Assert.Single(refused.EnumerateObject());
        await AssertNothingSentAsync(account, credits: 100);
    }

    internal static async Task AssertDetailAsync(HttpResponseMessage response, HttpStatusCode status, string detail)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(JsonSerializer.Serialize(new { detail }), text);
    }

    private async Task AssertNothingSentAsync(WasambazieAccount account, long credits)
    {
        using var v1 = ujumbe.Client(account.Secret);
        var messages = await (await v1.GetAsync("/v1/messages")).AssertJsonAsync();
        Assert.Equal(0, messages.GetProperty("total").GetInt32());
        var balance = await (await v1.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(credits, balance.GetProperty("balance").GetInt64());
        Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
    }
}

/// <summary>
/// A simulator that rejects some numbers and reports delivery only after an hour (so reports stay pending). A dialect
/// send waits up to 20 s for the provider's answer and, while the Api listens, reads its batch unprompted only every
/// 10 minutes: it answers sooner only if the Worker's notification woke it (decision 0031).
/// </summary>
public sealed class RejectingSlowReportsFixture : SendingFixture
{
    public static readonly TimeSpan ProviderAnswerWait = TimeSpan.FromSeconds(20);

    protected override Dictionary<string, string?> ApiSettings() =>
        ProviderWaitFixture.WokenOrAtTheDeadline(base.ApiSettings(), ProviderAnswerWait);

    public override Dictionary<string, string?> SimulatorSettings => new()
    {
        ["Providers:Simulator:AcceptanceRate"] = "0.5",
        ["Providers:Simulator:DeliveryRate"] = "1",
        ["Providers:Simulator:DeliveryReportDelay"] = "01:00:00",
        ["Providers:Simulator:Seed"] = "11",
    };
}

/// <summary>What the provider's answer means for a Wasambazie send: 502 and nothing charged, or a report still pending.</summary>
public sealed class WasambazieProviderTests(RejectingSlowReportsFixture ujumbe) : IClassFixture<RejectingSlowReportsFixture>
{
    private string PickNumber(bool accepted)
    {
        for (var n = 0; n < 10_000; n++)
        {
            var number = $"+2557123{n:D5}";
            if (ujumbe.Simulator.Predict(number).Accepted == accepted)
            {
                return number;
            }
        }
        throw new InvalidOperationException("No such number under this seed.");
    }

    [Fact]
    public async Task A_provider_rejection_is_502_and_no_credits_are_charged()
    {
        var key = await ujumbe.OpenFundedAccountAsync(credits: 10);
        using var client = ujumbe.Client();
        var sending = Stopwatch.StartNew();
        using var response = await new WasambazieAccount(key).SendAsync(client, PickNumber(accepted: false), "Refused", "UJUMBE");
        await WasambazieTests.AssertDetailAsync(response, HttpStatusCode.BadGateway, "Provider rejected the message");
        // At the deadline the answer would be the same: only its time tells that the Worker's notification woke the request.
        Assert.True(sending.Elapsed < RejectingSlowReportsFixture.ProviderAnswerWait / 2, $"answered after {sending.Elapsed}: not woken by the Worker");

        using var v1 = ujumbe.Client(key);
        var balance = await SendingFixture.WaitForSettledBalanceAsync(v1);
        Assert.Equal(10, balance.GetProperty("balance").GetInt64());
        var ledger = await (await v1.GetAsync("/v1/ledger")).AssertJsonAsync();
        Assert.DoesNotContain(ledger.GetProperty("data").EnumerateArray(), e => e.GetProperty("kind").GetString() == "capture");
    }

    [Fact]
    public async Task A_report_is_not_available_while_no_message_is_final()
    {
        var account = new WasambazieAccount(await ujumbe.OpenFundedAccountAsync(credits: 10));
        using var client = ujumbe.Client();
        using var sent = await account.SendAsync(client, PickNumber(accepted: true), "Pending", "UJUMBE");
        var batchId = (await sent.AssertJsonAsync(HttpStatusCode.Created)).GetProperty("message_batch_id").GetString()!;

        using var report = await account.GetAsync(client, "/sms/delivery-reports/" + batchId);
        await WasambazieTests.AssertDetailAsync(report, HttpStatusCode.NotFound, "Report not yet available — the batch is still being processed.");
    }

    [Fact]
    public async Task Partly_rejected_is_201_and_the_report_counts_the_rejected_as_failed()
    {
        var account = new WasambazieAccount(await ujumbe.OpenFundedAccountAsync(credits: 10));
        using var client = ujumbe.Client();
        var accepted = PickNumber(accepted: true);
        var rejected = PickNumber(accepted: false);
        using var sent = await account.SendAsync(client, accepted + "," + rejected, "Half", "UJUMBE");
        var batchId = (await sent.AssertJsonAsync(HttpStatusCode.Created)).GetProperty("message_batch_id").GetString()!;

        using var response = await account.GetAsync(client, "/sms/delivery-reports/" + batchId);
        var report = await response.AssertJsonAsync();
        Assert.Equal(2, report.GetProperty("summary").GetProperty("total").GetInt32());
        Assert.Equal(1, report.GetProperty("summary").GetProperty("failed").GetInt32());
        var statuses = report.GetProperty("messages").EnumerateArray()
            .ToDictionary(m => m.GetProperty("to_number").GetString()!, m => m.GetProperty("status").GetString());
        Assert.Equal("sent", statuses[accepted]);
        Assert.Equal("failed", statuses[rejected]);
    }
}

/// <summary>An account's API key as Wasambazie's pair: the public key is the secret's own public part.</summary>
public sealed record WasambazieAccount(string Secret)
{
    public string PublicKey => string.Concat("pk_", Secret.AsSpan(3, 16));

    public const string Base = "/compat/wasambazie/v1";

    public void AddHeaders(HttpRequestMessage request)
    {
        request.Headers.Add("X-API-PUBLIC-KEY", PublicKey);
        request.Headers.Add("X-API-SECRET-KEY", Secret);
    }

    /// <summary>POST /sms/send with the seed's three fields, through <paramref name="gateway"/>.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpClient gateway, string toNumber, string message, string senderId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Base + "/sms/send")
        {
            Content = JsonContent.Create(new { to_number = toNumber, message, sender_id = senderId }),
        };
        AddHeaders(request);
        return await gateway.SendAsync(request);
    }

    public async Task<HttpResponseMessage> GetAsync(HttpClient gateway, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Base + path);
        AddHeaders(request);
        return await gateway.SendAsync(request);
    }

    public static async Task ApproveSenderIdAsync(UjumbeFixture ujumbe, string key, string name)
    {
        using var owner = ujumbe.Client(key);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var sender = await (await owner.PostAsJsonAsync("/v1/sender-ids", new { name, purpose = "tests" })).AssertJsonAsync(HttpStatusCode.Created);
        await (await admin.PostAsync($"/v1/admin/sender-ids/{sender.GetProperty("id").GetString()}/approve", null)).AssertJsonAsync();
    }
}
