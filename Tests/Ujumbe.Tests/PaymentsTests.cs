using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Payments;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// A running Ujumbe with the mobile-money simulator answering within 0.3 s and calling back through the gateway,
/// and a Worker that reconciles a payment whose callback is 1 s late (expiry far away: see <see cref="PaymentExpiryTests"/>).
/// </summary>
public class PaymentsFixture : SendingFixture
{
    public const string PendingLifetime = "00:10:00";

    protected override Dictionary<string, string?> ApiSettings()
    {
        var settings = base.ApiSettings();
        settings["MobileMoneySimulator:Delay"] = "00:00:00.300";
        settings["Payments:PendingLifetime"] = PendingLifetime;
        return settings;
    }

    public override Dictionary<string, string?> WorkerSettings => new()
    {
        ["Payments:ReconcileAfter"] = "00:00:01",
        ["Payments:RecheckInterval"] = "00:00:00.500",
        ["Payments:PollInterval"] = "00:00:00.200",
    };
}

/// <summary>What the payment tests share: numbers of each network, paying, waiting, and the aggregator's signed callbacks.</summary>
public static class PaymentSteps
{
    /// <summary>A random Vodacom number ending in <paramref name="ending"/> (the simulator's test endings: 0000 declines, 9999 never answers, 8888 loses its callback; others succeed).</summary>
    public static string VodacomNumber(string ending = "5") =>
        "+25575" + Random.Shared.Next(0, 10_000_000).ToString("D7", CultureInfo.InvariantCulture)[..(7 - ending.Length)] + ending;

    public static async Task<JsonElement> PayAsync(this HttpClient client, long credits, string phone, string provider = "vodacom", string path = "/v1/payments")
    {
        var response = await client.PostAsJsonAsync(path, new { credits, phone_number = phone, provider });
        var payment = await response.AssertJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal($"/v1/payments/{payment.GetProperty("payment_id").GetString()}", response.Headers.Location?.ToString());
        return payment;
    }

    public static async Task<JsonElement> WaitForPaymentAsync(this HttpClient client, string paymentId, string status, TimeSpan? within = null)
    {
        JsonElement payment = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            payment = await (await client.GetAsync($"/v1/payments/{paymentId}")).AssertJsonAsync();
            return payment.GetProperty("status").GetString() == status;
        }, within ?? TimeSpan.FromSeconds(15), $"payment {paymentId} is {status}");
        return payment;
    }

    public static async Task<long> AvailableAsync(this HttpClient client) =>
        (await (await client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64();

    /// <summary>The aggregator's callback body for a payment, as it would send it.</summary>
    public static byte[] CallbackBody(string paymentId, string status, string? transactionId, decimal? amount, string? reason = null) =>
        JsonSerializer.SerializeToUtf8Bytes(new MobileMoneyCallback(paymentId, transactionId, status, amount, "TZS", reason), JsonDefaults.Options);

    /// <summary>POSTs <paramref name="body"/> to the public callback route, signed with <paramref name="secret"/> at <paramref name="timestamp"/> (null secret: unsigned).</summary>
    public static async Task<HttpResponseMessage> DeliverAsync(this UjumbeFixture ujumbe, byte[] body, string? secret, long? timestamp = null, string? signature = null)
    {
        using var client = ujumbe.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, MobileMoneyCallbacks.Path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var at = timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (secret is not null || signature is not null)
        {
            request.Headers.Add(SimulatorSignature.TimestampHeader, at.ToString(CultureInfo.InvariantCulture));
            request.Headers.Add(SimulatorSignature.SignatureHeader, signature ?? SimulatorSignature.Sign(Convert.FromBase64String(secret!), at, body));
        }
        return await client.SendAsync(request);
    }

    /// <summary>A signed callback's outcome (200 expected).</summary>
    public static async Task<string> DeliverSignedAsync(this UjumbeFixture ujumbe, byte[] body)
    {
        using var response = await ujumbe.DeliverAsync(body, ujumbe.MobileMoneySecret);
        return (await response.AssertJsonAsync()).GetProperty("outcome").GetString()!;
    }

    public static Guid Uuid(string publicId) => Guid.ParseExact(publicId[(publicId.IndexOf('_', StringComparison.Ordinal) + 1)..], "N");

    /// <summary>Credits postings (ledger top-ups) a payment made.</summary>
    public static Task<long> CreditPostingsAsync(this UjumbeFixture ujumbe, string paymentId) =>
        ujumbe.Database.ScalarAsync<long>("select count(*) from ledger_entries where kind = 'topup' and reference = $1", paymentId);
}

/// <summary>Issue 12 items 3 and 5: mobile-money payments credit exactly once, whatever the callbacks do.</summary>
public sealed class PaymentsTests(PaymentsFixture ujumbe) : IClassFixture<PaymentsFixture>
{
    [Fact]
    public async Task Paying_for_itself_credits_the_account_once_in_the_ledger_and_sends_payment_completed()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(0));
        await (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url("/pay"), events = new[] { "payment.completed", "payment.failed" } }))
            .AssertJsonAsync(HttpStatusCode.Created);

        var phone = PaymentSteps.VodacomNumber();
        var payment = await client.PayAsync(100, "0" + phone[4..]); // national form, as a payer types it
        var id = payment.GetProperty("payment_id").GetString()!;
        Assert.StartsWith("pay_", id, StringComparison.Ordinal);
        Assert.Equal("pending", payment.GetProperty("status").GetString());
        Assert.Equal(2500m, payment.GetProperty("amount").GetDecimal()); // 100 credits at the default 25 TZS
        Assert.Equal("TZS", payment.GetProperty("currency").GetString());
        Assert.Equal(phone, payment.GetProperty("phone_number").GetString());
        Assert.Contains("vodacom", payment.GetProperty("instructions").GetString()!, StringComparison.Ordinal);
        Assert.Contains(phone, payment.GetProperty("instructions").GetString()!, StringComparison.Ordinal);

        var completed = await client.WaitForPaymentAsync(id, "completed");
        Assert.StartsWith("SIMTX", completed.GetProperty("provider_transaction_id").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, completed.GetProperty("instructions").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, completed.GetProperty("completed_at").ValueKind);
        Assert.Equal(100, await client.AvailableAsync());
        var ledger = (await (await client.GetAsync("/v1/ledger")).AssertJsonAsync()).GetProperty("data").EnumerateArray().ToList();
        var topUp = Assert.Single(ledger);
        Assert.Equal("topup", topUp.GetProperty("kind").GetString());
        Assert.Equal(100, topUp.GetProperty("amount").GetInt64());
        Assert.Equal(id, topUp.GetProperty("reference").GetString());

        await HttpAssertions.EventuallyAsync(() => Task.FromResult(receiver.At("/pay").Count > 0), TimeSpan.FromSeconds(15), "payment.completed is delivered");
        var hook = Assert.Single(receiver.At("/pay")).Json;
        Assert.Equal("payment.completed", hook.GetProperty("event").GetString());
        Assert.Equal(id, hook.GetProperty("payment_id").GetString());
        Assert.Equal(100, hook.GetProperty("credits").GetInt64());

        var listed = await (await client.GetAsync("/v1/payments")).AssertJsonAsync();
        Assert.Equal(1, listed.GetProperty("total").GetInt32());
        Assert.Equal(id, listed.GetProperty("data")[0].GetProperty("payment_id").GetString());
        Assert.Equal(1, (await (await client.GetAsync("/v1/payments?status=completed")).AssertJsonAsync()).GetProperty("total").GetInt32());
        Assert.Equal(0, (await (await client.GetAsync("/v1/payments?status=pending")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_partner_pays_for_its_tenant_who_alone_is_credited_and_only_they_see_the_payment()
    {
        using var partner = await ujumbe.OpenPartnerAsync();
        var tenantId = await partner.CreateTenantAsync("Paying tenant");
        using var rival = await ujumbe.OpenPartnerAsync();
        var rivalsTenant = await rival.CreateTenantAsync("Rival's tenant");

        var payment = await partner.Client.PayAsync(40, PaymentSteps.VodacomNumber(), path: $"/v1/tenants/{tenantId}/payments");
        var id = payment.GetProperty("payment_id").GetString()!;
        Assert.Equal(tenantId, payment.GetProperty("account_id").GetString());
        await partner.Client.WaitForPaymentAsync(id, "completed");

        using var acting = partner.ActingFor(ujumbe, tenantId);
        Assert.Equal(40, await acting.AvailableAsync());
        Assert.Equal(0, await partner.Client.AvailableAsync());
        Assert.Equal(id, (await (await acting.GetAsync($"/v1/payments/{id}")).AssertJsonAsync()).GetProperty("payment_id").GetString());
        Assert.Equal(1, (await (await acting.GetAsync("/v1/payments")).AssertJsonAsync()).GetProperty("total").GetInt32());
        Assert.Equal(1, (await (await partner.Client.GetAsync("/v1/payments")).AssertJsonAsync()).GetProperty("total").GetInt32());

        // Nobody else sees it, and nobody else can pay into the tenant.
        using var rivalActing = rival.ActingFor(ujumbe, rivalsTenant);
        using var demo = ujumbe.Client(ujumbe.DemoKey);
        foreach (var other in new[] { rival.Client, rivalActing, demo })
        {
            await (await other.GetAsync($"/v1/payments/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
            Assert.Equal(0, (await (await other.GetAsync("/v1/payments")).AssertJsonAsync()).GetProperty("total").GetInt32());
        }
        var body = new { credits = 10, phone_number = PaymentSteps.VodacomNumber(), provider = "vodacom" };
        await (await rival.Client.PostAsJsonAsync($"/v1/tenants/{tenantId}/payments", body)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        foreach (var notMine in new[] { rivalsTenant, partner.AccountId, $"acct_{Guid.NewGuid():N}", "garbage" })
        {
            await (await partner.Client.PostAsJsonAsync($"/v1/tenants/{notMine}/payments", body)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        }
        // A key of the partner's account without the partner scope, and the partner acting for its tenant (scope dropped).
        var narrowKey = await IssueKeyAsync(partner.Client, ["account"]);
        using var ownKey = ujumbe.Client(narrowKey);
        await (await ownKey.PostAsJsonAsync($"/v1/tenants/{tenantId}/payments", body)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        using var narrowActing = ujumbe.Client(narrowKey);
        narrowActing.DefaultRequestHeaders.Add("X-Tenant-Id", tenantId);
        await (await narrowActing.PostAsJsonAsync("/v1/payments", body)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await acting.PostAsJsonAsync($"/v1/tenants/{tenantId}/payments", body)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        Assert.Equal(1, await ujumbe.Database.ScalarAsync<long>("select count(*) from payments where account_id = $1", PaymentSteps.Uuid(tenantId)));
        Assert.Equal(0, await ujumbe.Database.ScalarAsync<long>("select count(*) from payments where account_id = $1", PaymentSteps.Uuid(rivalsTenant)));
    }

    [Fact]
    public async Task Duplicated_replayed_and_concurrent_callbacks_credit_exactly_once()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(0));
        // The payer never answers (9999): no callback of the simulator's, and reconciliation finds it pending.
        var payment = await client.PayAsync(30, PaymentSteps.VodacomNumber("9999"));
        var id = payment.GetProperty("payment_id").GetString()!;
        var amount = payment.GetProperty("amount").GetDecimal();
        var success = PaymentSteps.CallbackBody(id, "SUCCESS", "MPX123456789", amount);

        // 40 deliveries of the same success at once, half of them the very same signed request.
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var response = i % 2 == 0
                ? await ujumbe.DeliverAsync(success, ujumbe.MobileMoneySecret, timestamp)
                : await ujumbe.DeliverAsync(success, ujumbe.MobileMoneySecret);
            return (await response.AssertJsonAsync()).GetProperty("outcome").GetString();
        }));
        Assert.Equal(1, outcomes.Count(o => o == "completed"));
        Assert.Equal(39, outcomes.Count(o => o == "duplicate"));
        Assert.Equal(30, await client.AvailableAsync());
        Assert.Equal(1, await ujumbe.CreditPostingsAsync(id));

        // Later, reordered or contradicting callbacks change nothing.
        Assert.Equal("duplicate", await ujumbe.DeliverSignedAsync(success));
        Assert.Equal("already_completed", await ujumbe.DeliverSignedAsync(PaymentSteps.CallbackBody(id, "SUCCESS", "MPXOTHER", amount)));
        Assert.Equal("already_completed", await ujumbe.DeliverSignedAsync(PaymentSteps.CallbackBody(id, "FAILED", null, amount, "declined")));
        var completed = await client.WaitForPaymentAsync(id, "completed");
        Assert.Equal("MPX123456789", completed.GetProperty("provider_transaction_id").GetString());

        // One provider transaction never pays two payments.
        var second = (await client.PayAsync(5, PaymentSteps.VodacomNumber("9999"))).GetProperty("payment_id").GetString()!;
        Assert.Equal("transaction_used", await ujumbe.DeliverSignedAsync(PaymentSteps.CallbackBody(second, "SUCCESS", "MPX123456789", 125m)));
        // Nor does a transaction for less money than asked.
        Assert.Equal("amount_mismatch", await ujumbe.DeliverSignedAsync(PaymentSteps.CallbackBody(second, "SUCCESS", "MPXSHORT", 100m)));
        Assert.Equal("pending", (await (await client.GetAsync($"/v1/payments/{second}")).AssertJsonAsync()).GetProperty("status").GetString());
        Assert.Equal(30, await client.AvailableAsync());
        Assert.Equal(0, await ujumbe.CreditPostingsAsync(second));
    }

    [Fact]
    public async Task Unsigned_forged_tampered_and_stale_callbacks_are_refused_and_credit_nothing()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(0));
        var payment = await client.PayAsync(20, PaymentSteps.VodacomNumber("9999"));
        var id = payment.GetProperty("payment_id").GetString()!;
        var success = PaymentSteps.CallbackBody(id, "SUCCESS", "MPXFORGED", payment.GetProperty("amount").GetDecimal());
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var someoneElses = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var signedOther = SimulatorSignature.Sign(Convert.FromBase64String(ujumbe.MobileMoneySecret), now,
            PaymentSteps.CallbackBody(id, "FAILED", null, null, "declined"));

        var refused = new List<HttpResponseMessage>
        {
            await ujumbe.DeliverAsync(success, secret: null),                                       // unsigned
            await ujumbe.DeliverAsync(success, someoneElses),                                       // another key
            await ujumbe.DeliverAsync(success, secret: null, now, signedOther),                     // signature of another body
            await ujumbe.DeliverAsync(success, ujumbe.MobileMoneySecret, now - 3600),               // an hour old
            await ujumbe.DeliverAsync(success, secret: null, now, "sha256=" + new string('0', 64)), // made up
            await ujumbe.DeliverAsync(success, secret: null, now, "garbage"),
        };
        foreach (var response in refused)
        {
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
            response.Dispose();
        }
        // An API key is no signature either.
        using var withKey = ujumbe.Client(ujumbe.DemoKey);
        using var content = new ByteArrayContent(success);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await (await withKey.PostAsync(MobileMoneyCallbacks.Path, content)).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);

        Assert.Equal("pending", (await (await client.GetAsync($"/v1/payments/{id}")).AssertJsonAsync()).GetProperty("status").GetString());
        Assert.Equal(0, await client.AvailableAsync());
        Assert.Equal(0, await ujumbe.CreditPostingsAsync(id));

        // The genuine one still works afterwards.
        Assert.Equal("completed", await ujumbe.DeliverSignedAsync(success));
        Assert.Equal(20, await client.AvailableAsync());
    }

    [Fact]
    public async Task A_declined_payment_fails_with_payment_failed_and_a_later_success_or_unknown_payment_changes_nothing()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(0));
        await (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url("/failed"), events = new[] { "payment.failed" } }))
            .AssertJsonAsync(HttpStatusCode.Created);

        var payment = await client.PayAsync(10, PaymentSteps.VodacomNumber("0000"));
        var id = payment.GetProperty("payment_id").GetString()!;
        var failed = await client.WaitForPaymentAsync(id, "failed");
        Assert.Equal("declined by the payer", failed.GetProperty("failure_reason").GetString());
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(receiver.At("/failed").Count > 0), TimeSpan.FromSeconds(15), "payment.failed is delivered");
        var hook = Assert.Single(receiver.At("/failed")).Json;
        Assert.Equal("payment.failed", hook.GetProperty("event").GetString());
        Assert.Equal(id, hook.GetProperty("payment_id").GetString());

        Assert.Equal("already_failed", await ujumbe.DeliverSignedAsync(PaymentSteps.CallbackBody(id, "SUCCESS", "MPXLATE", payment.GetProperty("amount").GetDecimal())));
        Assert.Equal("failed", (await (await client.GetAsync($"/v1/payments/{id}")).AssertJsonAsync()).GetProperty("status").GetString());
        Assert.Equal(0, await client.AvailableAsync());
        Assert.Equal(0, await ujumbe.CreditPostingsAsync(id));

        var ledgerBefore = await ujumbe.Database.ScalarAsync<long>("select count(*) from ledger_entries");
        Assert.Equal("unknown", await ujumbe.DeliverSignedAsync(PaymentSteps.CallbackBody($"pay_{Guid.NewGuid():N}", "SUCCESS", "MPXNOBODY", 100m)));
        Assert.Equal("unknown", await ujumbe.DeliverSignedAsync(PaymentSteps.CallbackBody("ORDER-77", "SUCCESS", "MPXNOBODY2", 100m)));
        Assert.Equal(ledgerBefore, await ujumbe.Database.ScalarAsync<long>("select count(*) from ledger_entries"));
        Assert.Single(receiver.At("/failed"));

        // Signed but meaningless: a clear 400, nothing changes.
        foreach (var body in new[] { "{}", """{"reference":"x","status":"MAYBE"}""", "not json", $$"""{"reference":"{{id}}","status":"SUCCESS"}""" })
        {
            using var response = await ujumbe.DeliverAsync(System.Text.Encoding.UTF8.GetBytes(body), ujumbe.MobileMoneySecret);
            await response.AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        }
    }

    [Fact]
    public async Task A_payment_whose_callback_never_comes_is_completed_by_reconciliation_once()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(0));
        // 8888: the payer pays, but the simulator never calls back; only asking the provider finds it.
        var payment = await client.PayAsync(15, PaymentSteps.VodacomNumber("8888"));
        var id = payment.GetProperty("payment_id").GetString()!;
        var completed = await client.WaitForPaymentAsync(id, "completed");
        Assert.Equal(MobileMoneySimulator.TransactionIdOf(PaymentSteps.Uuid(id)), completed.GetProperty("provider_transaction_id").GetString());
        Assert.Equal(15, await client.AvailableAsync());

        // The callback turning up after all credits nothing more.
        Assert.Equal("duplicate", await ujumbe.DeliverSignedAsync(PaymentSteps.CallbackBody(id, "SUCCESS",
            MobileMoneySimulator.TransactionIdOf(PaymentSteps.Uuid(id)), payment.GetProperty("amount").GetDecimal())));
        Assert.Equal(15, await client.AvailableAsync());
        Assert.Equal(1, await ujumbe.CreditPostingsAsync(id));
    }

    [Fact]
    public async Task Bad_payment_input_gets_field_errors_and_creates_or_credits_nothing()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(0));
        var accountId = (await (await client.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString()!;
        var phone = PaymentSteps.VodacomNumber();
        var cases = new (object Body, string Field)[]
        {
            (new { credits = 10, phone_number = phone, provider = "mpesa" }, "provider"),
            (new { credits = 10, phone_number = phone }, "provider"),
            (new { credits = 0, phone_number = phone, provider = "vodacom" }, "credits"),
            (new { credits = -5, phone_number = phone, provider = "vodacom" }, "credits"),
            (new { credits = 5_000_000, phone_number = phone, provider = "vodacom" }, "credits"),       // absurd
            (new { credits = 300_000, phone_number = phone, provider = "vodacom" }, "credits"),         // 7.5M TZS: over a wallet's limit
            (new { phone_number = phone, provider = "vodacom" }, "credits"),
            (new { credits = 10, phone_number = "+255712345678", provider = "vodacom" }, "phone_number"), // a Tigo number
            (new { credits = 10, phone_number = "+254712345678", provider = "airtel" }, "phone_number"),  // a Kenyan number
            (new { credits = 10, phone_number = "12345", provider = "vodacom" }, "phone_number"),
            (new { credits = 10, provider = "vodacom" }, "phone_number"),
        };
        foreach (var (body, field) in cases)
        {
            var problem = await (await client.PostAsJsonAsync("/v1/payments", body)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{JsonSerializer.Serialize(body)}: {problem}");
        }
        foreach (var raw in new[] { """{"credits":"ten","phone_number":"0754000001","provider":"vodacom"}""", """{"credits":1.5,"phone_number":"0754000001","provider":"vodacom"}""", "[]" })
        {
            using var content = new StringContent(raw, System.Text.Encoding.UTF8, "application/json");
            await (await client.PostAsync("/v1/payments", content)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        }
        await (await client.GetAsync("/v1/payments?status=lost")).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await client.GetAsync("/v1/payments?page_size=1000")).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await client.GetAsync("/v1/payments/pay_nothing")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);

        Assert.Equal(0, await ujumbe.Database.ScalarAsync<long>("select count(*) from payments where account_id = $1", PaymentSteps.Uuid(accountId)));
        Assert.Equal(0, await client.AvailableAsync());
    }

    [Fact]
    public async Task A_repeated_idempotency_key_answers_with_the_same_payment_and_a_different_request_with_422()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(0));
        var phone = PaymentSteps.VodacomNumber("9999");
        async Task<HttpResponseMessage> PostAsync(long credits)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/payments")
            {
                Content = JsonContent.Create(new { credits, phone_number = phone, provider = "vodacom" }),
            };
            request.Headers.Add("Idempotency-Key", "order-42");
            return await client.SendAsync(request);
        }
        var first = await (await PostAsync(12)).AssertJsonAsync(HttpStatusCode.Accepted);
        using var again = await PostAsync(12);
        var replayed = await again.AssertJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal(first.GetProperty("payment_id").GetString(), replayed.GetProperty("payment_id").GetString());
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        await (await PostAsync(13)).AssertProblemAsync(HttpStatusCode.UnprocessableEntity, ErrorCodes.IdempotencyKeyReused);
        Assert.Equal(1, (await (await client.GetAsync("/v1/payments")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Operators_set_an_accounts_tariff_and_its_payments_are_priced_by_it()
    {
        var key = await ujumbe.OpenFundedAccountAsync(0);
        using var client = ujumbe.Client(key);
        var accountId = (await (await client.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString()!;
        using var admin = ujumbe.Client(ujumbe.OperatorKey);

        var tariff = await (await admin.PutAsJsonAsync($"/v1/admin/accounts/{accountId}/tariff", new { price_per_credit = 18.5m }))
            .AssertJsonAsync();
        Assert.Equal(18.5m, tariff.GetProperty("price_per_credit").GetDecimal());
        Assert.Equal("TZS", tariff.GetProperty("currency").GetString());
        Assert.False(tariff.GetProperty("is_default").GetBoolean());
        // 3 × 18.5 = 55.5: wallets move whole shillings, so 56.
        Assert.Equal(56m, (await client.PayAsync(3, PaymentSteps.VodacomNumber("9999"))).GetProperty("amount").GetDecimal());

        foreach (var bad in new object[] { new { price_per_credit = -1 }, new { price_per_credit = 0.001 }, new { price_per_credit = 0 }, new { currency = "shillings" } })
        {
            await (await admin.PutAsJsonAsync($"/v1/admin/accounts/{accountId}/tariff", bad)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        }
        await (await admin.PutAsJsonAsync($"/v1/admin/accounts/acct_{Guid.NewGuid():N}/tariff", new { price_per_credit = 10 }))
            .AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await client.PutAsJsonAsync($"/v1/admin/accounts/{accountId}/tariff", new { price_per_credit = 1 }))
            .AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        var back = await (await admin.PutAsJsonAsync($"/v1/admin/accounts/{accountId}/tariff", new { price_per_credit = (decimal?)null })).AssertJsonAsync();
        Assert.True(back.GetProperty("is_default").GetBoolean());
        Assert.Equal(75m, (await client.PayAsync(3, PaymentSteps.VodacomNumber("9999"))).GetProperty("amount").GetDecimal());
    }

    private static async Task<string> IssueKeyAsync(HttpClient owner, string[] scopes)
    {
        var created = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "narrow", scopes })).AssertJsonAsync(HttpStatusCode.Created);
        return created.GetProperty("secret").GetString()!;
    }
}

/// <summary>Payments pending for 2 s expire; this fixture's simulator takes longer than that for no one.</summary>
public sealed class PaymentExpiryFixture : PaymentsFixture
{
    protected override Dictionary<string, string?> ApiSettings()
    {
        var settings = base.ApiSettings();
        settings["Payments:PendingLifetime"] = "00:00:02";
        return settings;
    }
}

/// <summary>Issue 12 item 3: pending payments expire after the configured time; a late success then changes nothing.</summary>
public sealed class PaymentExpiryTests(PaymentExpiryFixture ujumbe) : IClassFixture<PaymentExpiryFixture>
{
    [Fact]
    public async Task A_payment_the_payer_never_confirms_expires_with_payment_failed_and_a_late_success_credits_nothing()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(0));
        await (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url("/failed"), events = new[] { "payment.failed" } }))
            .AssertJsonAsync(HttpStatusCode.Created);

        var payment = await client.PayAsync(10, PaymentSteps.VodacomNumber("9999"));
        var id = payment.GetProperty("payment_id").GetString()!;
        Assert.Equal(TimeSpan.FromSeconds(2), payment.GetProperty("expires_at").GetDateTime() - payment.GetProperty("created_at").GetDateTime());

        var failed = await client.WaitForPaymentAsync(id, "failed", TimeSpan.FromSeconds(20));
        Assert.Contains("expired", failed.GetProperty("failure_reason").GetString()!, StringComparison.Ordinal);
        Assert.True(failed.GetProperty("failed_at").GetDateTime() >= failed.GetProperty("expires_at").GetDateTime());
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(receiver.At("/failed").Count > 0), TimeSpan.FromSeconds(15), "payment.failed is delivered");

        Assert.Equal("already_failed", await ujumbe.DeliverSignedAsync(PaymentSteps.CallbackBody(id, "SUCCESS", "MPXTOOLATE", payment.GetProperty("amount").GetDecimal())));
        Assert.Equal(0, await client.AvailableAsync());
        Assert.Equal(0, await ujumbe.CreditPostingsAsync(id));
    }

    [Fact]
    public async Task A_payment_confirmed_in_time_does_not_expire()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(0));
        var id = (await client.PayAsync(7, PaymentSteps.VodacomNumber())).GetProperty("payment_id").GetString()!;
        await client.WaitForPaymentAsync(id, "completed");
        Assert.Equal(7, await client.AvailableAsync());
    }
}
