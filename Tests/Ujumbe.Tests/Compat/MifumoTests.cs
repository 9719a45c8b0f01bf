using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ujumbe.Tests.Infrastructure;
using static Ujumbe.Tests.Compat.MifumoAssert;

namespace Ujumbe.Tests.Compat;

/// <summary>What the Mifumo tests share: JSON bodies as the seed writes them, and the envelope on every answer.</summary>
public static class MifumoAssert
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>Asserts the envelope: success, message, data, error_code and details, in that order, nothing else.</summary>
    public static async Task<JsonElement> EnvelopeAsync(HttpResponseMessage response, HttpStatusCode status, bool success)
    {
        var body = await response.AssertJsonAsync(status);
        // Never /v1's problem+json, whatever went wrong.
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["success", "message", "data", "error_code", "details"], body.EnumerateObject().Select(p => p.Name));
        Assert.Equal(success, body.GetProperty("success").GetBoolean());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        if (success)
        {
            Assert.Equal(JsonValueKind.Null, body.GetProperty("error_code").ValueKind);
            Assert.Equal(JsonValueKind.Null, body.GetProperty("details").ValueKind);
        }
        else
        {
            Assert.Equal(JsonValueKind.Null, body.GetProperty("data").ValueKind);
        }
        return body;
    }

    public static async Task<string> ErrorCodeAsync(HttpResponseMessage response, HttpStatusCode status) =>
        (await EnvelopeAsync(response, status, success: false)).GetProperty("error_code").GetString()!;
}

/// <summary>
/// Mifumo's integration API (seed 000 and the sending parts of 001) through the gateway, against the real
/// stack: the seed's curl and payloads with only the base URL and the key changed, the envelope on every
/// answer, and each documented error code.
/// </summary>
public sealed class MifumoTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    private const string Base = "/compat/mifumo/api/integration/v1";

    /// <summary>A funded account with the approved sender ID UJUMBE; its key goes as Authorization: Bearer YOUR_API_KEY, as the seed says.</summary>
    private Task<string> OpenAccountAsync(long credits = 100) => ujumbe.OpenFundedAccountAsync(credits);

    // ---- Seed 000: "Send Your First SMS" -----------------------------------------------------------------

    [Fact]
    public async Task The_quick_start_curl_is_answered_in_the_envelope()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        // The seed's own body, byte for byte. Its number (+255 12 …) is no Tanzanian mobile, so it is INVALID_PHONE.
        using var seedNumber = await client.PostAsync(Base + "/sms/send/", Json("""{ "message": "Hello from Mifumo SMS!", "recipients": ["+255123456789"] }"""));
        var refused = await EnvelopeAsync(seedNumber, HttpStatusCode.BadRequest, success: false);
        Assert.Equal("INVALID_PHONE", refused.GetProperty("error_code").GetString());
        Assert.Equal("Invalid phone format", refused.GetProperty("message").GetString());
        Assert.Contains("+255123456789", refused.GetProperty("details").GetProperty("recipients")[0].GetString(), StringComparison.Ordinal);

        // The same with a real number: sent from the account's approved sender ID, no sender_id needed.
        using var sent = await client.PostAsync(Base + "/sms/send/", Json("""{ "message": "Hello from Mifumo SMS!", "recipients": ["+255712345678"] }"""));
        var data = (await EnvelopeAsync(sent, HttpStatusCode.OK, success: true)).GetProperty("data");
        Assert.Equal("UJUMBE", data.GetProperty("sender_id").GetString());
        Assert.Equal(1, data.GetProperty("recipients").GetInt32());
        var batch = await SendingFixture.WaitForFinalizedAsync(client, data.GetProperty("batch_id").GetString()!);
        Assert.Equal(1, batch.GetProperty("summary").GetProperty("delivered").GetInt32());
        Assert.Equal(99, (await SendingFixture.WaitForSettledBalanceAsync(client)).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task The_send_payload_with_a_sender_id_and_every_documented_phone_format()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        await WasambazieAccount.ApproveSenderIdAsync(ujumbe, key, "MIFUMO");
        // "Use E.164 format: +255…, 07…, 255…" — three ways to write numbers, all taken.
        using var sent = await client.PostAsync(Base + "/sms/send/",
            Json("""{ "message": "Your message here", "recipients": ["+255712345678", "0722345678", "255732345679"], "sender_id": "MIFUMO" }"""));
        var data = (await EnvelopeAsync(sent, HttpStatusCode.OK, success: true)).GetProperty("data");
        Assert.Equal("MIFUMO", data.GetProperty("sender_id").GetString());
        Assert.Equal(["+255712345678", "+255722345678", "+255732345679"],
            data.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("recipient").GetString()));

        // GET /v1/sms/status/{id}/: each message's status, until delivered.
        var messageId = data.GetProperty("messages")[0].GetProperty("id").GetString()!;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            using var status = await client.GetAsync($"{Base}/sms/status/{messageId}/");
            var message = (await EnvelopeAsync(status, HttpStatusCode.OK, success: true)).GetProperty("data");
            Assert.Equal("+255712345678", message.GetProperty("to").GetString());
            return message.GetProperty("status").GetString() == "delivered";
        }, TimeSpan.FromSeconds(30), "the message is delivered");

        // GET /v1/sms/delivery-reports/: the messages with their statuses.
        var batchId = data.GetProperty("batch_id").GetString()!;
        await SendingFixture.WaitForFinalizedAsync(client, batchId);
        using var reports = await client.GetAsync($"{Base}/sms/delivery-reports/?batch_id={batchId}&page=1&page_size=2");
        var page = (await EnvelopeAsync(reports, HttpStatusCode.OK, success: true)).GetProperty("data");
        Assert.Equal(3, page.GetProperty("count").GetInt32());
        Assert.Equal(2, page.GetProperty("results").GetArrayLength());
        Assert.All(page.GetProperty("results").EnumerateArray(), m => Assert.Equal("delivered", m.GetProperty("status").GetString()));

        // A batch id works for status too.
        using var batchStatus = await client.GetAsync($"{Base}/sms/status/{batchId}/");
        Assert.Equal("finalized", (await EnvelopeAsync(batchStatus, HttpStatusCode.OK, success: true)).GetProperty("data").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Balance_is_the_v1_balance_in_the_envelope()
    {
        var key = await OpenAccountAsync(credits: 250);
        using var client = ujumbe.Client(key);
        using var response = await client.GetAsync(Base + "/sms/balance/");
        var data = (await EnvelopeAsync(response, HttpStatusCode.OK, success: true)).GetProperty("data");
        Assert.Equal(250, data.GetProperty("balance").GetInt64());
        Assert.Equal(250, data.GetProperty("available").GetInt64());
        using var noSlash = await client.GetAsync(Base + "/sms/balance");
        await EnvelopeAsync(noSlash, HttpStatusCode.OK, success: true);
    }

    // ---- Errors -----------------------------------------------------------------------------------------------

    [Fact]
    public async Task A_missing_or_wrong_key_is_invalid_credentials()
    {
        using var anonymous = ujumbe.Client();
        using (var none = await anonymous.GetAsync(Base + "/sms/balance/"))
        {
            Assert.Equal("INVALID_CREDENTIALS", await ErrorCodeAsync(none, HttpStatusCode.Unauthorized));
        }
        using var wrong = ujumbe.Client("sk_" + new string('A', 48));
        using (var response = await wrong.GetAsync(Base + "/sms/balance/"))
        {
            var body = await EnvelopeAsync(response, HttpStatusCode.Unauthorized, success: false);
            Assert.Equal("INVALID_CREDENTIALS", body.GetProperty("error_code").GetString());
            Assert.Equal("Invalid API key", body.GetProperty("message").GetString());
        }
        // /v1's other header is not Mifumo's form.
        var key = await OpenAccountAsync();
        using var apiKeyHeader = ujumbe.Client();
        apiKeyHeader.DefaultRequestHeaders.Add("X-API-Key", key);
        using var refused = await apiKeyHeader.GetAsync(Base + "/sms/balance/");
        Assert.Equal("INVALID_CREDENTIALS", await ErrorCodeAsync(refused, HttpStatusCode.Unauthorized));
    }

    [Fact]
    public async Task Low_balance_is_insufficient_balance_and_nothing_is_sent()
    {
        var key = await OpenAccountAsync(credits: 1);
        using var client = ujumbe.Client(key);
        using var response = await client.PostAsync(Base + "/sms/send/",
            Json("""{ "message": "Two", "recipients": ["+255712345678", "+255722345678"] }"""));
        var body = await EnvelopeAsync(response, HttpStatusCode.PaymentRequired, success: false);
        Assert.Equal("INSUFFICIENT_BALANCE", body.GetProperty("error_code").GetString());
        Assert.Equal("Low account balance", body.GetProperty("message").GetString());
        Assert.Equal(0, (await (await client.GetAsync("/v1/messages")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Without_any_approved_sender_id_a_send_needs_one()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        // An account whose only sender ID is pending: nothing to default to.
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts",
            new { name = "No sender", owner_email = $"{Guid.NewGuid():N}@example.com" })).AssertJsonAsync(HttpStatusCode.Created);
        await (await admin.PostAsJsonAsync($"/v1/admin/accounts/{created.GetProperty("id").GetString()}/credits", new { amount = 10, reason = "test" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        using var bare = ujumbe.Client(created.GetProperty("api_key").GetProperty("secret").GetString()!);
        using var response = await bare.PostAsync(Base + "/sms/send/", Json("""{ "message": "Hi", "recipients": ["+255712345678"] }"""));
        Assert.Equal("SENDER_ID_NOT_APPROVED", await ErrorCodeAsync(response, HttpStatusCode.Forbidden));
        using var named = await client.PostAsync(Base + "/sms/send/", Json("""{ "message": "Hi", "recipients": ["+255712345678"], "sender_id": "NOTOURS" }"""));
        Assert.Equal("SENDER_ID_NOT_APPROVED", await ErrorCodeAsync(named, HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task Bad_bodies_are_invalid_parameters_naming_the_seed_fields()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        using var missing = await client.PostAsync(Base + "/sms/send/", Json("""{ "recipients": ["+255712345678"] }"""));
        var body = await EnvelopeAsync(missing, HttpStatusCode.BadRequest, success: false);
        Assert.Equal("VALIDATION_FAILED", body.GetProperty("error_code").GetString());
        Assert.True(body.GetProperty("details").TryGetProperty("message", out _));

        using var notJson = await client.PostAsync(Base + "/sms/send/", Json("{ not json"));
        Assert.Equal("VALIDATION_FAILED", await ErrorCodeAsync(notJson, HttpStatusCode.BadRequest));

        using var badWebhook = await client.PostAsync(Base + "/sms/send/",
            Json("""{ "message": "Hello!", "recipients": ["+255123456789"], "webhook_url": "ftp://example.com/hook" }"""));
        var webhook = await EnvelopeAsync(badWebhook, HttpStatusCode.BadRequest, success: false);
        Assert.True(webhook.GetProperty("details").TryGetProperty("webhook_url", out _));
    }

    [Fact]
    public async Task Unknown_paths_and_ids_are_not_found_in_the_envelope()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        using (var path = await client.GetAsync(Base + "/sms/nothing/"))
        {
            Assert.Equal("NOT_FOUND", await ErrorCodeAsync(path, HttpStatusCode.NotFound));
        }
        using (var message = await client.GetAsync(Base + "/sms/status/msg_0193f1c2d3e4f5a6b7c8d9e0f1a2b3c4/"))
        {
            Assert.Equal("NOT_FOUND", await ErrorCodeAsync(message, HttpStatusCode.NotFound));
        }
        using var outside = await client.GetAsync("/compat/mifumo/api/other/");
        Assert.Equal("NOT_FOUND", await ErrorCodeAsync(outside, HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task A_suspended_account_and_blocked_content_are_forbidden_in_the_envelope()
    {
        using var operators = ujumbe.Client(ujumbe.OperatorKey);
        await (await operators.PostAsJsonAsync("/v1/admin/content-rules", new { category = "gambling", phrase = "bet na sisi" })).AssertJsonAsync(HttpStatusCode.Created);
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        using (var blocked = await client.PostAsync(Base + "/sms/send/", Json("""{ "message": "Bet na sisi leo", "recipients": ["+255712345678"] }""")))
        {
            var body = await EnvelopeAsync(blocked, HttpStatusCode.Forbidden, success: false);
            Assert.Equal("CONTENT_REJECTED", body.GetProperty("error_code").GetString());
        }
        Assert.Equal(0, (await (await client.GetAsync("/v1/messages")).AssertJsonAsync()).GetProperty("total").GetInt32());
        var accountId = (await (await client.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString();
        await (await operators.PostAsync($"/v1/admin/accounts/{accountId}/suspend", null)).AssertJsonAsync();
        using var suspended = await client.GetAsync(Base + "/sms/balance/");
        Assert.Equal("ACCOUNT_SUSPENDED", await ErrorCodeAsync(suspended, HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task Sends_and_contacts_requests_have_the_keys_v1_limits_and_429_is_rate_limit_exceeded()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        // Seed 000: "SMS: 100/minute", "Contacts: 500/hour" are the /v1 defaults; here 1 and 2, shared by /v1 and Mifumo.
        await ujumbe.SetRateLimitsAsync(key, new { messages_per_minute = 1, contacts_per_hour = 2 });
        using (var first = await client.PostAsync(Base + "/sms/send/", Json("""{ "message": "1", "recipients": ["+255712345678"] }""")))
        {
            await EnvelopeAsync(first, HttpStatusCode.OK, success: true);
        }
        await (await client.GetAsync("/v1/contacts")).AssertJsonAsync();
        using (var second = await client.GetAsync(Base + "/contacts/search/"))
        {
            await EnvelopeAsync(second, HttpStatusCode.OK, success: true);
        }
        foreach (var over in new[]
        {
            await client.PostAsync(Base + "/sms/send/", Json("""{ "message": "2", "recipients": ["+255712345678"] }""")),
            await client.GetAsync(Base + "/contacts/segments/seg_0193f1c2d3e4f5a6b7c8d9e0f1a2b3c4/"),
        })
        {
            using (over)
            {
                var body = await EnvelopeAsync(over, HttpStatusCode.TooManyRequests, success: false);
                Assert.Equal("RATE_LIMIT_EXCEEDED", body.GetProperty("error_code").GetString());
                Assert.Equal("Too many requests", body.GetProperty("message").GetString());
                Assert.NotNull(over.Headers.RetryAfter);
            }
        }
        // Anything else is neither bucket.
        using var balance = await client.GetAsync(Base + "/sms/balance/");
        await EnvelopeAsync(balance, HttpStatusCode.OK, success: true);
    }

    // ---- Contacts and segments --------------------------------------------------------------------------

    [Fact]
    public async Task Contacts_create_get_update_search_and_delete_as_the_seed_lists_them()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        using var created = await client.PostAsync(Base + "/contacts/create/",
            Json("""{ "name": "John Doe", "phone_number": "+255712345678", "email": "john@example.com", "tags": ["customer"] }"""));
        var contact = (await EnvelopeAsync(created, HttpStatusCode.Created, success: true)).GetProperty("data");
        var id = contact.GetProperty("id").GetString()!;
        Assert.Equal("John Doe", contact.GetProperty("name").GetString());
        Assert.Equal(["customer"], contact.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        using (var duplicate = await client.PostAsync(Base + "/contacts/create/",
            Json("""{ "name": "Jane", "phone_number": "0712345678" }""")))
        {
            Assert.Equal("CONFLICT", await ErrorCodeAsync(duplicate, HttpStatusCode.Conflict));
        }
        using (var got = await client.GetAsync($"{Base}/contacts/{id}/"))
        {
            Assert.Equal("john@example.com", (await EnvelopeAsync(got, HttpStatusCode.OK, success: true)).GetProperty("data").GetProperty("email").GetString());
        }
        using (var updated = await client.PutAsync($"{Base}/contacts/{id}/update/",
            Json("""{ "name": "John Doe", "phone_number": "+255712345678", "email": "john@new.example.com", "tags": ["vip"] }""")))
        {
            Assert.Equal("john@new.example.com", (await EnvelopeAsync(updated, HttpStatusCode.OK, success: true)).GetProperty("data").GetProperty("email").GetString());
        }
        using (var search = await client.GetAsync($"{Base}/contacts/search/?q=john"))
        {
            var page = (await EnvelopeAsync(search, HttpStatusCode.OK, success: true)).GetProperty("data");
            Assert.Equal(1, page.GetProperty("count").GetInt32());
            Assert.Equal(id, page.GetProperty("results")[0].GetProperty("id").GetString());
        }
        using (var byTag = await client.GetAsync($"{Base}/contacts/search/?tag=vip"))
        {
            Assert.Equal(1, (await EnvelopeAsync(byTag, HttpStatusCode.OK, success: true)).GetProperty("data").GetProperty("count").GetInt32());
        }
        using (var deleted = await client.DeleteAsync($"{Base}/contacts/{id}/delete/"))
        {
            Assert.Equal(JsonValueKind.Null, (await EnvelopeAsync(deleted, HttpStatusCode.OK, success: true)).GetProperty("data").ValueKind);
        }
        using var gone = await client.GetAsync($"{Base}/contacts/{id}/");
        Assert.Equal("NOT_FOUND", await ErrorCodeAsync(gone, HttpStatusCode.NotFound));

        // The same contacts as /v1's.
        Assert.Equal(0, (await (await client.GetAsync("/v1/contacts")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task An_invalid_contact_phone_is_refused_with_the_field()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        using var response = await client.PostAsync(Base + "/contacts/create/", Json("""{ "name": "Nobody", "phone_number": "12ab" }"""));
        var body = await EnvelopeAsync(response, HttpStatusCode.BadRequest, success: false);
        // The seed's code for a bad number, wherever it is given.
        Assert.Equal("INVALID_PHONE", body.GetProperty("error_code").GetString());
        Assert.Equal("Invalid phone format", body.GetProperty("message").GetString());
        Assert.True(body.GetProperty("details").TryGetProperty("phone_number", out _));

        // Other faults besides the number: invalid parameters, each named.
        using var more = await client.PostAsync(Base + "/contacts/create/", Json("""{ "phone_number": "12ab", "email": "not an email" }"""));
        var fields = (await EnvelopeAsync(more, HttpStatusCode.BadRequest, success: false));
        Assert.Equal("VALIDATION_FAILED", fields.GetProperty("error_code").GetString());
        Assert.Equal(["email", "name", "phone_number"], fields.GetProperty("details").EnumerateObject().Select(p => p.Name).Order());

        // The seed's three formats are taken for a contact too: 0751234567 is +255751234567.
        using var national = await client.PostAsync(Base + "/contacts/create/", Json("""{ "name": "Asha", "phone_number": "0751234567" }"""));
        Assert.Equal("+255751234567", (await EnvelopeAsync(national, HttpStatusCode.Created, success: true)).GetProperty("data").GetProperty("phone_number").GetString());
        using var digits = await client.PostAsync(Base + "/contacts/create/", Json("""{ "name": "Baraka", "phone_number": "255761234567" }"""));
        Assert.Equal("+255761234567", (await EnvelopeAsync(digits, HttpStatusCode.Created, success: true)).GetProperty("data").GetProperty("phone_number").GetString());
    }

    [Fact]
    public async Task Wrong_methods_missing_bodies_and_bad_paging_are_answered_in_the_envelope()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        using (var get = await client.GetAsync(Base + "/sms/send/"))
        {
            Assert.Equal("METHOD_NOT_ALLOWED", await ErrorCodeAsync(get, HttpStatusCode.MethodNotAllowed));
        }
        using (var empty = await client.PostAsync(Base + "/sms/send/", Json("")))
        {
            Assert.Equal("VALIDATION_FAILED", await ErrorCodeAsync(empty, HttpStatusCode.BadRequest));
        }
        using (var array = await client.PostAsync(Base + "/contacts/create/", Json("[]")))
        {
            Assert.Equal("VALIDATION_FAILED", await ErrorCodeAsync(array, HttpStatusCode.BadRequest));
        }
        using (var paging = await client.GetAsync(Base + "/sms/delivery-reports/?page=0&page_size=101"))
        {
            var body = await EnvelopeAsync(paging, HttpStatusCode.BadRequest, success: false);
            Assert.Equal(["page", "page_size"], body.GetProperty("details").EnumerateObject().Select(p => p.Name).Order());
        }
        using (var search = await client.GetAsync(Base + "/contacts/search/?page_size=101"))
        {
            Assert.Equal("VALIDATION_FAILED", await ErrorCodeAsync(search, HttpStatusCode.BadRequest));
        }
        using var segment = await client.PostAsync(Base + "/contacts/segments/create/", Json("""{ "tags_any": ["customer"] }"""));
        var missingName = await EnvelopeAsync(segment, HttpStatusCode.BadRequest, success: false);
        Assert.True(missingName.GetProperty("details").TryGetProperty("name", out _));
    }

    [Fact]
    public async Task Every_seed_path_answers_without_its_trailing_slash_too()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        using var created = await client.PostAsync(Base + "/contacts/create", Json("""{ "name": "No Slash", "phone_number": "+255712345670" }"""));
        var id = (await EnvelopeAsync(created, HttpStatusCode.Created, success: true)).GetProperty("data").GetProperty("id").GetString()!;
        foreach (var path in new[] { $"/contacts/{id}", "/contacts/search", "/sms/delivery-reports", "/sms/balance" })
        {
            using var response = await client.GetAsync(Base + path);
            await EnvelopeAsync(response, HttpStatusCode.OK, success: true);
        }
        using var updated = await client.PutAsync($"{Base}/contacts/{id}/update", Json("""{ "name": "Still No Slash", "phone_number": "+255712345670" }"""));
        await EnvelopeAsync(updated, HttpStatusCode.OK, success: true);
        using var sent = await client.PostAsync(Base + "/sms/send", Json("""{ "message": "Hi", "recipients": ["+255712345678"] }"""));
        var messageId = (await EnvelopeAsync(sent, HttpStatusCode.OK, success: true)).GetProperty("data").GetProperty("messages")[0].GetProperty("id").GetString();
        using var status = await client.GetAsync($"{Base}/sms/status/{messageId}");
        await EnvelopeAsync(status, HttpStatusCode.OK, success: true);
        using var deleted = await client.DeleteAsync($"{Base}/contacts/{id}/delete");
        await EnvelopeAsync(deleted, HttpStatusCode.OK, success: true);
    }

    [Fact]
    public async Task Segments_create_get_update_and_delete()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        using var created = await client.PostAsync(Base + "/contacts/segments/create/", Json("""{ "name": "Customers", "tags_any": ["customer"] }"""));
        var segment = (await EnvelopeAsync(created, HttpStatusCode.Created, success: true)).GetProperty("data");
        var id = segment.GetProperty("id").GetString()!;
        using (var got = await client.GetAsync($"{Base}/contacts/segments/{id}/"))
        {
            Assert.Equal("Customers", (await EnvelopeAsync(got, HttpStatusCode.OK, success: true)).GetProperty("data").GetProperty("name").GetString());
        }
        using (var updated = await client.PutAsync($"{Base}/contacts/segments/{id}/update/", Json("""{ "name": "VIPs", "tags_all": ["vip"] }""")))
        {
            var data = (await EnvelopeAsync(updated, HttpStatusCode.OK, success: true)).GetProperty("data");
            Assert.Equal("VIPs", data.GetProperty("name").GetString());
            Assert.Equal(["vip"], data.GetProperty("tags_all").EnumerateArray().Select(t => t.GetString()));
        }
        using (var deleted = await client.DeleteAsync($"{Base}/contacts/segments/{id}/delete/"))
        {
            await EnvelopeAsync(deleted, HttpStatusCode.OK, success: true);
        }
        using var gone = await client.GetAsync($"{Base}/contacts/segments/{id}/");
        Assert.Equal("NOT_FOUND", await ErrorCodeAsync(gone, HttpStatusCode.NotFound));
    }

    [Fact]
    public async Task A_key_without_the_contacts_scope_is_forbidden()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        var created = await (await client.PostAsJsonAsync("/v1/api-keys", new { name = "sms only", scopes = new[] { "messages" } }))
            .AssertJsonAsync(HttpStatusCode.Created);
        using var smsOnly = ujumbe.Client(created.GetProperty("secret").GetString()!);
        using var response = await smsOnly.GetAsync(Base + "/contacts/search/");
        Assert.Equal("FORBIDDEN", await ErrorCodeAsync(response, HttpStatusCode.Forbidden));
    }
}

/// <summary>A per-send webhook_url receives the send's delivery events, signed as /v1's callbacks are.</summary>
public sealed class MifumoWebhookTests(WebhookFixture ujumbe) : IClassFixture<WebhookFixture>
{
    [Fact]
    public async Task The_webhook_url_of_a_send_receives_its_delivery_events()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var url = ujumbe.Receiver.Url("mifumo-send");
        // The seed's webhook example, with a number that exists and a receiver that does.
        using var response = await client.PostAsync("/compat/mifumo/api/integration/v1/sms/send/",
            new StringContent($$"""{ "message": "Hello!", "recipients": ["+255712345678"], "webhook_url": "{{url}}" }""", Encoding.UTF8, "application/json"));
        var body = await response.AssertJsonAsync();
        Assert.True(body.GetProperty("success").GetBoolean());

        await HttpAssertions.EventuallyAsync(() => Task.FromResult(ujumbe.Receiver.At("mifumo-send").Count >= 3), TimeSpan.FromSeconds(30),
            "message.sent, message.delivered and batch.finalized arrive");
        var events = ujumbe.Receiver.At("mifumo-send").Select(r => r.Json.GetProperty("event").GetString()).Order().ToList();
        Assert.Equal(["batch.finalized", "message.delivered", "message.sent"], events);
        Assert.All(ujumbe.Receiver.At("mifumo-send"), r => Assert.StartsWith("v1,", r.Headers["webhook-signature"], StringComparison.Ordinal));
    }
}
