using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests.Compat;

/// <summary>
/// SMSPop's campaigns API (seed 003) through the gateway, against the real stack: the seed's request body and its
/// JavaScript/PHP/Python snippets with only the base URL and the token changed, and each error it documents.
/// </summary>
public sealed class SmsPopTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    private const string Campaigns = "/compat/smspop/api/campaigns";

    /// <summary>The snippets' body (JSON.stringify, json_encode and requests' json= all write it so).</summary>
    private const string SnippetBody = """
        {"name":"Welcome Campaign","message":"Hello! Welcome to our service.","sender_id":"BRAND1","contact_import_method":"manual","manual_contacts":"263771234567, 263772345678"}
        """;

    /// <summary>A Zimbabwean account (the seed's numbers are 2637…) with credits and the seed's sender ID BRAND1 approved.</summary>
    private async Task<string> OpenAccountAsync(long credits = 100)
    {
        var key = await ujumbe.OpenFundedAccountAsync(credits, country: "ZW");
        await WasambazieAccount.ApproveSenderIdAsync(ujumbe, key, "BRAND1");
        return key;
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string message)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(JsonSerializer.Serialize(new { success = false, message }), text);
    }

    [Fact]
    public async Task The_snippets_create_and_send_a_campaign_and_get_each_contacts_status()
    {
        var key = await OpenAccountAsync(credits: 10);
        using var client = ujumbe.Client(key); // 'Authorization': `Bearer ${token}`
        using var response = await client.PostAsync(Campaigns, Json(SnippetBody));
        var result = await response.AssertJsonAsync();
        Assert.Equal(["success", "message", "campaign", "summary", "contacts"], result.EnumerateObject().Select(p => p.Name));
        Assert.True(result.GetProperty("success").GetBoolean());
        Assert.Equal("Successfully imported 2 contacts and SMS sending completed.", result.GetProperty("message").GetString());
        var campaign = result.GetProperty("campaign");
        Assert.Equal("Welcome Campaign", campaign.GetProperty("name").GetString());
        Assert.Equal("Hello! Welcome to our service.", campaign.GetProperty("message").GetString());
        Assert.Equal("BRAND1", campaign.GetProperty("sender_id").GetString());
        Assert.Equal("approved", campaign.GetProperty("status").GetString());
        Assert.Equal("""{"sent":2,"failed":0}""", result.GetProperty("summary").GetRawText());
        Assert.Equal(["""{"phone_number":"263771234567","status":"sent"}""", """{"phone_number":"263772345678","status":"sent"}"""],
            result.GetProperty("contacts").EnumerateArray().Select(c => c.GetRawText()).Order(StringComparer.Ordinal));

        // The same campaign through /v1, and two credits spent once delivered.
        var campaigns = await (await client.GetAsync("/v1/campaigns")).AssertJsonAsync();
        Assert.Equal(campaign.GetProperty("id").GetString(), campaigns.GetProperty("data")[0].GetProperty("id").GetString());
        Assert.Equal(8, (await SendingFixture.WaitForSettledBalanceAsync(client)).GetProperty("balance").GetInt64());

        // GET /api/campaigns: the campaigns of the authenticated user.
        var listed = await (await client.GetAsync(Campaigns)).AssertJsonAsync();
        Assert.True(listed.GetProperty("success").GetBoolean());
        var first = listed.GetProperty("campaigns")[0];
        Assert.Equal("Welcome Campaign", first.GetProperty("name").GetString());
        Assert.Equal(2, first.GetProperty("summary").GetProperty("sent").GetInt32());
    }

    [Fact]
    public async Task The_documented_request_body_is_taken_as_written_trailing_comma_and_all()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        using var response = await client.PostAsync(Campaigns, Json("""
            {
              "name": "Welcome Campaign",
              "message": "Hello, welcome to our service!",
              "sender_id": "BRAND1",
              "contact_import_method":"manual",
              "manual_contacts": "263771234567, 263772345678",
            }
            """));
        var result = await response.AssertJsonAsync();
        Assert.Equal(2, result.GetProperty("summary").GetProperty("sent").GetInt32());
    }

    [Fact]
    public async Task A_missing_field_is_422_validation_failed_with_laravels_message()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        using var response = await client.PostAsync(Campaigns, Json("""{"name":"W","message":"Hi","sender_id":"BRAND1","manual_contacts":"263771234567"}"""));
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        Assert.Equal("""{"success":false,"message":"Validation failed","errors":{"contact_import_method":["The contact import method field is required."]}}""",
            await response.Content.ReadAsStringAsync());

        using var other = await client.PostAsync(Campaigns, Json("""{"name":"W","message":"Hi","sender_id":"BRAND1","contact_import_method":"csv"}"""));
        var body = await other.AssertJsonAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("The selected contact import method is invalid.", body.GetProperty("errors").GetProperty("contact_import_method")[0].GetString());

        using var badNumbers = await client.PostAsync(Campaigns, Json("""{"name":"W","message":"Hi","sender_id":"BRAND1","contact_import_method":"manual","manual_contacts":"26377, abc"}"""));
        var numbers = await badNumbers.AssertJsonAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Equal("Validation failed", numbers.GetProperty("message").GetString());
        Assert.True(numbers.GetProperty("errors").TryGetProperty("manual_contacts", out _));
        Assert.Equal(0, (await (await client.GetAsync("/v1/campaigns")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Too_few_credits_is_402_and_nothing_is_sent()
    {
        var key = await OpenAccountAsync(credits: 1);
        using var client = ujumbe.Client(key);
        using var response = await client.PostAsync(Campaigns, Json(SnippetBody));
        await AssertErrorAsync(response, HttpStatusCode.PaymentRequired, "Insufficient credits. Please purchase more SMS credits");
        Assert.Equal(0, (await (await client.GetAsync("/v1/messages")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task An_unapproved_or_malformed_sender_id_is_422_invalid_sender_id()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        foreach (var sender in new[] { "OTHER1", "NO SUCH!" })
        {
            using var response = await client.PostAsync(Campaigns, Json(SnippetBody.Replace("BRAND1", sender, StringComparison.Ordinal)));
            await AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, "Invalid sender ID");
        }
    }

    [Fact]
    public async Task Blocked_content_is_403_naming_the_category()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.PostAsJsonAsync("/v1/admin/content-rules", new { category = "political", phrase = "kura yako" })).AssertJsonAsync(HttpStatusCode.Created);
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        using var response = await client.PostAsync(Campaigns, Json(SnippetBody.Replace("Hello! Welcome to our service.", "Piga kura yako leo", StringComparison.Ordinal)));
        await AssertErrorAsync(response, HttpStatusCode.Forbidden, "Campaign rejected: Content classified as political is not allowed");
    }

    [Fact]
    public async Task An_inactive_account_is_403_and_no_token_is_401()
    {
        var key = await OpenAccountAsync();
        using var client = ujumbe.Client(key);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var accountId = (await (await client.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString();
        await (await admin.PostAsync($"/v1/admin/accounts/{accountId}/suspend", null)).AssertJsonAsync();
        using (var inactive = await client.PostAsync(Campaigns, Json(SnippetBody)))
        {
            await AssertErrorAsync(inactive, HttpStatusCode.Forbidden, "Your account is inactive. Please contact support.");
        }
        using var anonymous = ujumbe.Client();
        using var missing = await anonymous.PostAsync(Campaigns, Json(SnippetBody));
        await AssertErrorAsync(missing, HttpStatusCode.Unauthorized, "Unauthenticated.");
    }

    private static async Task<JsonElement> AssertFailureAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.AssertJsonAsync(status);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(body.GetProperty("success").GetBoolean());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("message").GetString()));
        return body;
    }

    [Fact]
    public async Task A_wrong_revoked_or_malformed_token_is_401_unauthenticated()
    {
        using var wrong = ujumbe.Client("sk_" + new string('A', 48));
        using (var response = await wrong.GetAsync(Campaigns))
        {
            Assert.Equal("Unauthenticated.", (await AssertFailureAsync(response, HttpStatusCode.Unauthorized)).GetProperty("message").GetString());
        }
        var key = await ujumbe.OpenFundedAccountAsync(0);
        using var owner = ujumbe.Client(key);
        var issued = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "to revoke" })).AssertJsonAsync(HttpStatusCode.Created);
        await (await owner.PostAsync($"/v1/api-keys/{issued.GetProperty("id").GetString()}/revoke", null)).AssertJsonAsync();
        using var revoked = ujumbe.Client(issued.GetProperty("secret").GetString()!);
        using (var response = await revoked.GetAsync(Campaigns))
        {
            Assert.Equal("Unauthenticated.", (await AssertFailureAsync(response, HttpStatusCode.Unauthorized)).GetProperty("message").GetString());
        }
        using var basic = ujumbe.Client();
        basic.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", "dXNlcjpwYXNz");
        using var malformed = await basic.GetAsync(Campaigns);
        Assert.Equal("Unauthenticated.", (await AssertFailureAsync(malformed, HttpStatusCode.Unauthorized)).GetProperty("message").GetString());
    }

    [Fact]
    public async Task Fields_of_the_wrong_type_or_an_unreadable_body_are_422_validation_failed()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(10));
        using (var array = await client.PostAsync(Campaigns, Json("""{"name":"W","message":"Hi","sender_id":"UJUMBE","contact_import_method":"manual","manual_contacts":["255712345678"]}""")))
        {
            Assert.Equal("""{"success":false,"message":"Validation failed","errors":{"manual_contacts":["The manual contacts field must be a string."]}}""",
                await array.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.UnprocessableEntity, array.StatusCode);
        }
        using (var empty = await client.PostAsync(Campaigns, Json("{}")))
        {
            var errors = (await AssertFailureAsync(empty, HttpStatusCode.UnprocessableEntity)).GetProperty("errors");
            // Laravel's order: the rules' order.
            Assert.Equal(["name", "message", "sender_id", "contact_import_method"], errors.EnumerateObject().Select(p => p.Name));
        }
        foreach (var unreadable in new[] { "{ not json", "[]", "", """{"name":"A","name":"B"}""" })
        {
            using var response = await client.PostAsync(Campaigns, Json(unreadable));
            var body = await AssertFailureAsync(response, HttpStatusCode.UnprocessableEntity);
            Assert.Equal("Validation failed", body.GetProperty("message").GetString());
            Assert.True(body.GetProperty("errors").TryGetProperty("body", out _));
        }
        using (var tooLong = await client.PostAsync(Campaigns, Json($$"""{"name":"W","message":"{{new string('x', 2000)}}","sender_id":"UJUMBE","contact_import_method":"manual","manual_contacts":"255712345678"}""")))
        {
            var body = await AssertFailureAsync(tooLong, HttpStatusCode.UnprocessableEntity);
            Assert.True(body.GetProperty("errors").TryGetProperty("message", out _));
        }
        using (var paging = await client.GetAsync(Campaigns + "?page=0"))
        {
            var body = await AssertFailureAsync(paging, HttpStatusCode.UnprocessableEntity);
            Assert.True(body.GetProperty("errors").TryGetProperty("page", out _));
        }
        Assert.Equal(0, (await (await client.GetAsync("/v1/campaigns")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Form_fields_are_taken_like_json_as_laravel_takes_them()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(10));
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["name"] = "Form Campaign", ["message"] = "Hello", ["sender_id"] = "UJUMBE", ["contact_import_method"] = "manual",
            ["manual_contacts"] = "255712345678, 0722345678",
        });
        using var response = await client.PostAsync(Campaigns, form);
        var result = await response.AssertJsonAsync();
        Assert.True(result.GetProperty("success").GetBoolean());
        Assert.Equal(2, result.GetProperty("contacts").GetArrayLength());
        Assert.Equal(["255712345678", "255722345678"], result.GetProperty("contacts").EnumerateArray().Select(c => c.GetProperty("phone_number").GetString()).Order());
    }

    [Fact]
    public async Task Scopes_paths_and_methods_are_refused_in_the_seed_shape()
    {
        using var owner = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(10));
        var narrow = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "sms only", scopes = new[] { "messages" } }))
            .AssertJsonAsync(HttpStatusCode.Created);
        using var smsOnly = ujumbe.Client(narrow.GetProperty("secret").GetString()!);
        using (var forbidden = await smsOnly.GetAsync(Campaigns))
        {
            await AssertFailureAsync(forbidden, HttpStatusCode.Forbidden);
        }
        using (var unknown = await owner.GetAsync("/compat/smspop/api/contacts"))
        {
            await AssertFailureAsync(unknown, HttpStatusCode.NotFound);
        }
        using (var outside = await owner.GetAsync("/compat/smspop/other"))
        {
            await AssertFailureAsync(outside, HttpStatusCode.NotFound);
        }
        using (var method = await owner.DeleteAsync(Campaigns))
        {
            await AssertFailureAsync(method, HttpStatusCode.MethodNotAllowed);
        }
        // The seed writes no trailing slash; one is tolerated.
        using var slash = await owner.GetAsync(Campaigns + "/");
        Assert.True((await slash.AssertJsonAsync()).GetProperty("success").GetBoolean());
    }

    [Fact]
    public async Task Too_many_sends_is_429_with_retry_after()
    {
        var key = await ujumbe.OpenFundedAccountAsync(10);
        using var client = ujumbe.Client(key);
        await ujumbe.SetRateLimitsAsync(key, new { messages_per_minute = 1 });
        const string body = """{"name":"W","message":"Hi","sender_id":"UJUMBE","contact_import_method":"manual","manual_contacts":"255712345678"}""";
        using (var first = await client.PostAsync(Campaigns, Json(body)))
        {
            await first.AssertJsonAsync();
        }
        using var second = await client.PostAsync(Campaigns, Json(body));
        Assert.Equal("Too Many Attempts.", (await AssertFailureAsync(second, HttpStatusCode.TooManyRequests)).GetProperty("message").GetString());
        Assert.NotNull(second.Headers.RetryAfter);
    }
}

/// <summary>A campaign some of whose contacts the provider refuses: each contact's status says which.</summary>
public sealed class SmsPopProviderTests(RejectingSlowReportsFixture ujumbe) : IClassFixture<RejectingSlowReportsFixture>
{
    [Fact]
    public async Task Refused_contacts_are_failed_and_counted_so()
    {
        string? accepted = null, rejected = null;
        for (var n = 0; n < 10_000 && (accepted is null || rejected is null); n++)
        {
            var number = $"+2557123{n:D5}";
            if (ujumbe.Simulator.Predict(number).Accepted)
            {
                accepted ??= number;
            }
            else
            {
                rejected ??= number;
            }
        }
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        using var response = await client.PostAsJsonAsync("/compat/smspop/api/campaigns", new Dictionary<string, string>
        {
            ["name"] = "Mixed", ["message"] = "Hello", ["sender_id"] = "UJUMBE", ["contact_import_method"] = "manual",
            ["manual_contacts"] = accepted + ", " + rejected,
        });
        var result = await response.AssertJsonAsync();
        Assert.Equal("""{"sent":1,"failed":1}""", result.GetProperty("summary").GetRawText());
        var statuses = result.GetProperty("contacts").EnumerateArray()
            .ToDictionary(c => c.GetProperty("phone_number").GetString()!, c => c.GetProperty("status").GetString());
        Assert.Equal("sent", statuses[accepted![1..]]);
        Assert.Equal("failed", statuses[rejected![1..]]);
    }
}
