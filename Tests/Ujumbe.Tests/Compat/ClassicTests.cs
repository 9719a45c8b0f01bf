using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests.Compat;

/// <summary>A sending stack whose client address never locks sign-in (these tests fail passwords on purpose).</summary>
public sealed class ClassicFixture : SendingFixture
{
    protected override Dictionary<string, string?> ApiSettings()
    {
        var settings = base.ApiSettings();
        settings["SignIn:AddressFailuresBeforeLock"] = "1000";
        return settings;
    }
}

/// <summary>
/// The classic key/password API (seed 002) through the gateway, against the real stack: the seed's requests
/// (its curl lines and JavaScript, with only the base URL and the credentials changed; the send with its form
/// parameters), then each documented error and bad input, always in the seed's <c>{"error": …}</c> shape.
/// </summary>
public sealed class ClassicTests(ClassicFixture ujumbe) : IClassFixture<ClassicFixture>
{
    private const string Base = "/compat/classic";
    private const string KeyRequired = """{"error":"API key is required","help":"Provide X-API-Key header or api_key parameter"}""";
    private const string Unauthorized = """{"error":"Unauthorized."}""";

    /// <summary>A funded Kenyan account (the seed's numbers are 07…), UJUMBE approved, its owner's password set.</summary>
    private async Task<ClassicAccount> OpenAccountAsync(long credits = 100) =>
        await ClassicAccount.ForKeyAsync(ujumbe, await ujumbe.OpenFundedAccountAsync(credits, country: "KE"));

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        using var client = ujumbe.Client();
        using (request)
        {
            return await client.SendAsync(request);
        }
    }

    private static HttpRequestMessage Form(string path, params (string Name, string Value)[] fields) =>
        new(HttpMethod.Post, Base + path) { Content = new FormUrlEncodedContent(fields.Select(f => KeyValuePair.Create(f.Name, f.Value))) };

    private static HttpRequestMessage Json(HttpMethod method, string path, string? json = null)
    {
        // The seed's examples send both headers on every request, GETs without a body included.
        var request = new HttpRequestMessage(method, Base + path)
        {
            Content = new StringContent(json ?? "", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("Accept", "application/json");
        return request;
    }

    private static HttpRequestMessage WithKey(HttpRequestMessage request, string key)
    {
        request.Headers.Add("X-API-Key", key);
        return request;
    }

    /// <summary>The seed's send: numbers comma-separated, message_body, username and password as form parameters.</summary>
    private static HttpRequestMessage SeedSend(ClassicAccount account, string numbers = "0701234567, 0712345678", string text = "Hello, this is a test message.") =>
        Form("/v1/sms/send", ("numbers", numbers), ("message_body", text), ("username", account.Email), ("password", account.Password));

    // ---- POST /v1/sms/send with username and password ------------------------------------------------------

    [Fact]
    public async Task The_seed_send_with_form_credentials_is_an_ordinary_batch_costing_what_a_v1_send_costs()
    {
        var account = await OpenAccountAsync(credits: 10);
        using var response = await SendAsync(SeedSend(account));
        var sent = await response.AssertJsonAsync();
        Assert.True(sent.GetProperty("success").GetBoolean());
        Assert.Equal("Message sent successfully.", sent.GetProperty("message").GetString());
        Assert.Equal(2, sent.GetProperty("recipients").GetInt32());
        Assert.Equal(2, sent.GetProperty("credits").GetInt64());
        Assert.Equal(["+254701234567", "+254712345678"], sent.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("number").GetString()));
        Assert.True(response.Headers.Contains("X-RateLimit-Limit"));
        var classicBatch = sent.GetProperty("batch_id").GetString()!;

        // The same send through /v1: the same credits, the same ledger movements.
        using var v1 = ujumbe.Client(account.Key);
        var direct = await (await v1.PostAsJsonAsync("/v1/messages",
            new { to = new[] { "0701234567", "0712345678" }, text = "Hello, this is a test message.", sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal(direct.GetProperty("credits").GetInt64(), sent.GetProperty("credits").GetInt64());
        var v1Batch = direct.GetProperty("batch_id").GetString()!;

        var report = await SendingFixture.WaitForFinalizedAsync(v1, classicBatch);
        Assert.Equal("UJUMBE", report.GetProperty("sender_id").GetString()); // no sender_id given: the account's default
        Assert.Equal(["+254701234567", "+254712345678"], report.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("to").GetString()).Order());
        Assert.All(report.GetProperty("messages").EnumerateArray(), m => Assert.Equal("Hello, this is a test message.", m.GetProperty("text").GetString()));
        await SendingFixture.WaitForFinalizedAsync(v1, v1Batch);

        var messages = await (await v1.GetAsync("/v1/messages?batch_id=" + classicBatch)).AssertJsonAsync();
        Assert.Equal(2, messages.GetProperty("total").GetInt32());
        Assert.Equal(6, (await SendingFixture.WaitForSettledBalanceAsync(v1)).GetProperty("balance").GetInt64());
        var ledger = (await (await v1.GetAsync("/v1/ledger?page_size=100")).AssertJsonAsync()).GetProperty("data").EnumerateArray().ToList();
        string[] Movements(string batch) =>
            [.. ledger.Where(e => e.GetProperty("reference").GetString() == batch)
                .Select(e => $"{e.GetProperty("kind").GetString()} {e.GetProperty("amount").GetInt64()} {e.GetProperty("reserved_change").GetInt64()}").Order()];
        Assert.NotEmpty(Movements(classicBatch));
        Assert.Equal(Movements(v1Batch), Movements(classicBatch));
        Assert.Equal(-2, ledger.Where(e => e.GetProperty("reference").GetString() == classicBatch).Sum(e => e.GetProperty("amount").GetInt64()));
    }

    [Fact]
    public async Task Credentials_work_as_url_parameters_and_a_trailing_slash_is_tolerated()
    {
        var account = await OpenAccountAsync(credits: 10);
        var query = $"?username={Uri.EscapeDataString(account.Email)}&password={Uri.EscapeDataString(account.Password)}";
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Post, Base + "/v1/sms/send/" + query)
        {
            Content = new FormUrlEncodedContent([KeyValuePair.Create("numbers", "0701234567"), KeyValuePair.Create("message_body", "URL credentials")]),
        });
        Assert.Equal(1, (await response.AssertJsonAsync()).GetProperty("recipients").GetInt32());
    }

    [Fact]
    public async Task A_sender_id_may_be_given_and_the_email_is_not_case_sensitive()
    {
        var account = await OpenAccountAsync(credits: 10);
        await WasambazieAccount.ApproveSenderIdAsync(ujumbe, account.Key, "MYBRAND");
        using var response = await SendAsync(Form("/v1/sms/send", ("numbers", "0701234567"), ("message_body", "Branded"),
            ("sender_id", "MYBRAND"), ("username", account.Email.ToUpperInvariant()), ("password", account.Password)));
        var batch = (await response.AssertJsonAsync()).GetProperty("batch_id").GetString()!;
        using var v1 = ujumbe.Client(account.Key);
        Assert.Equal("MYBRAND", (await (await v1.GetAsync("/v1/batches/" + batch)).AssertJsonAsync()).GetProperty("sender_id").GetString());
    }

    [Fact]
    public async Task Missing_wrong_or_half_credentials_are_401_unauthorized_and_nothing_is_sent()
    {
        var account = await OpenAccountAsync(credits: 10);
        var attempts = new (string Name, string Value)[][]
        {
            [],
            [("username", account.Email)],
            [("password", account.Password)],
            [("username", account.Email), ("password", account.Password + "x")],
            [("username", "nobody-" + account.Email), ("password", account.Password)],
            [("username", account.Email), ("password", "")],
        };
        foreach (var credentials in attempts)
        {
            using var response = await SendAsync(Form("/v1/sms/send", [("numbers", "0701234567"), ("message_body", "Hi"), .. credentials]));
            await AssertErrorAsync(response, HttpStatusCode.Unauthorized, Unauthorized);
        }
        // An API key is not this path's credential.
        using var withKey = await SendAsync(WithKey(Form("/v1/sms/send", ("numbers", "0701234567"), ("message_body", "Hi")), account.Key));
        await AssertErrorAsync(withKey, HttpStatusCode.Unauthorized, Unauthorized);
        await AssertNothingSentAsync(account, credits: 10);
    }

    [Fact]
    public async Task Repeated_wrong_passwords_are_slowed_then_locked_like_a_sign_in_even_for_the_right_one()
    {
        var account = await OpenAccountAsync(credits: 10);
        var elapsed = new List<TimeSpan>();
        for (var attempt = 1; attempt <= 4; attempt++)
        {
            var watch = Stopwatch.StartNew();
            using var failed = await SendAsync(Form("/v1/sms/send", ("numbers", "0701234567"), ("message_body", "Hi"),
                ("username", account.Email), ("password", "guess " + attempt)));
            await AssertErrorAsync(failed, HttpStatusCode.Unauthorized, Unauthorized);
            elapsed.Add(watch.Elapsed);
        }
        // The sign-in slowdown (50 ms here, doubling): the fourth failure waits 400 ms.
        Assert.True(elapsed[3] >= TimeSpan.FromMilliseconds(400), $"fourth failure answered after {elapsed[3]}");

        using var fifth = await SendAsync(Form("/v1/sms/send", ("numbers", "0701234567"), ("message_body", "Hi"),
            ("username", account.Email), ("password", "guess 5")));
        await AssertErrorAsync(fifth, HttpStatusCode.TooManyRequests, """{"error":"Too Many Attempts."}""");
        Assert.True(fifth.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        using var right = await SendAsync(SeedSend(account));
        await AssertErrorAsync(right, HttpStatusCode.TooManyRequests, """{"error":"Too Many Attempts."}""");
        // The lock is /v1's: the portal's sign-in is locked as well.
        using var client = ujumbe.Client();
        Assert.Equal(HttpStatusCode.TooManyRequests,
            (await client.PostAsJsonAsync("/v1/auth/login", new { email = account.Email, password = account.Password })).StatusCode);
        await AssertNothingSentAsync(account, credits: 10);
    }

    [Fact]
    public async Task A_suspended_accounts_user_is_refused_403()
    {
        var account = await OpenAccountAsync(credits: 10);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.PostAsync($"/v1/admin/accounts/{account.AccountId}/suspend", null)).AssertJsonAsync();
        using var response = await SendAsync(SeedSend(account));
        await AssertErrorAsync(response, HttpStatusCode.Forbidden, """{"error":"The account is suspended. Contact support."}""");
    }

    [Theory]
    [InlineData("0701234567, 12ab")]
    [InlineData("+255123")]
    public async Task An_invalid_number_is_400_in_the_seed_words_and_nothing_is_sent(string numbers)
    {
        var account = await OpenAccountAsync(credits: 10);
        using var response = await SendAsync(SeedSend(account, numbers));
        var body = await AssertErrorBodyAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal("Invalid phone number format.", body.GetProperty("error").GetString());
        Assert.NotEmpty(body.GetProperty("errors").GetProperty("numbers").EnumerateArray());
        await AssertNothingSentAsync(account, credits: 10);
    }

    [Fact]
    public async Task Missing_or_empty_fields_are_400_naming_each_and_nothing_is_sent()
    {
        var account = await OpenAccountAsync(credits: 10);
        var cases = new (string Expected, (string, string)[] Fields)[]
        {
            ("The numbers field is required. The message body field is required.", []),
            ("The numbers field is required.", [("message_body", "Hi")]),
            ("The numbers field is required.", [("numbers", " , ,"), ("message_body", "Hi")]),
            ("The message body field is required.", [("numbers", "0701234567"), ("message_body", "  ")]),
        };
        foreach (var (expected, fields) in cases)
        {
            using var response = await SendAsync(Form("/v1/sms/send", [.. fields, ("username", account.Email), ("password", account.Password)]));
            var body = await AssertErrorBodyAsync(response, HttpStatusCode.BadRequest);
            Assert.Equal(expected, body.GetProperty("error").GetString());
        }
        // A JSON body that is no object, and a field of no text type.
        using (var notAnObject = await SendAsync(WithKey(Json(HttpMethod.Post, "/api/v2/sms/send", "[1, 2]"), account.Key)))
        {
            Assert.Equal("The request body is not a valid JSON object.", (await AssertErrorBodyAsync(notAnObject, HttpStatusCode.BadRequest)).GetProperty("error").GetString());
        }
        using var wrongType = await SendAsync(WithKey(Json(HttpMethod.Post, "/api/v2/sms/send", """{"numbers": {"a": 1}, "message_body": "Hi"}"""), account.Key));
        Assert.Equal("The numbers field must be a string.", (await AssertErrorBodyAsync(wrongType, HttpStatusCode.BadRequest)).GetProperty("error").GetString());
        await AssertNothingSentAsync(account, credits: 10);
    }

    [Fact]
    public async Task Not_enough_credits_is_402_and_nothing_is_queued_or_charged()
    {
        var account = await OpenAccountAsync(credits: 1);
        using var response = await SendAsync(SeedSend(account));
        var body = await AssertErrorBodyAsync(response, HttpStatusCode.PaymentRequired);
        Assert.Contains("credits", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        await AssertNothingSentAsync(account, credits: 1);
    }

    [Fact]
    public async Task Without_an_approved_sender_id_the_send_is_403_in_the_seed_shape()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts",
            new { name = "No sender", owner_email = $"{Guid.NewGuid():N}@example.com", default_country = "KE" })).AssertJsonAsync(HttpStatusCode.Created);
        await (await admin.PostAsJsonAsync($"/v1/admin/accounts/{created.GetProperty("id").GetString()}/credits", new { amount = 10, reason = "test" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var account = await ClassicAccount.ForKeyAsync(ujumbe, created.GetProperty("api_key").GetProperty("secret").GetString()!);

        using var response = await SendAsync(SeedSend(account));
        var body = await AssertErrorBodyAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("sender ID", body.GetProperty("error").GetString(), StringComparison.Ordinal);
        using var named = await SendAsync(Form("/v1/sms/send", ("numbers", "0701234567"), ("message_body", "Hi"), ("sender_id", "OTHER"),
            ("username", account.Email), ("password", account.Password)));
        await AssertErrorBodyAsync(named, HttpStatusCode.Forbidden);
        await AssertNothingSentAsync(account, credits: 10);
    }

    // ---- The /api/v2 routes with an API key -------------------------------------------------------------

    [Fact]
    public async Task Seed_curl_v2_routes_without_a_key_are_401_with_the_help_line_and_rate_limit_headers()
    {
        // curl --request GET --get "http://localhost/api/v2/sms/send" --header "Content-Type: application/json" --header "Accept: application/json"
        foreach (var path in new[] { "/api/v2/sms/send", "/api/v2/account/balance" })
        {
            using var response = await SendAsync(Json(HttpMethod.Get, path));
            await AssertErrorAsync(response, HttpStatusCode.Unauthorized, KeyRequired);
            Assert.True(response.Headers.Contains("x-ratelimit-limit"));
            Assert.True(response.Headers.Contains("x-ratelimit-remaining"));
        }
        using var post = await SendAsync(Json(HttpMethod.Post, "/api/v2/sms/send", """{"numbers": "0701234567", "message_body": "Hi"}"""));
        await AssertErrorAsync(post, HttpStatusCode.Unauthorized, KeyRequired);
    }

    [Fact]
    public async Task The_v2_balance_takes_the_key_as_header_or_parameter()
    {
        var account = await OpenAccountAsync(credits: 4250);
        using (var header = await SendAsync(WithKey(Json(HttpMethod.Get, "/api/v2/account/balance"), account.Key)))
        {
            Assert.Equal("""{"balance":4250}""", await header.Content.ReadAsStringAsync());
            Assert.True(header.Headers.Contains("X-RateLimit-Remaining"));
        }
        using (var query = await SendAsync(Json(HttpMethod.Get, "/api/v2/account/balance?api_key=" + account.Key)))
        {
            Assert.Equal("""{"balance":4250}""", await query.Content.ReadAsStringAsync());
        }
        using var slash = await SendAsync(WithKey(Json(HttpMethod.Get, "/api/v2/account/balance/"), account.Key));
        Assert.Equal(HttpStatusCode.OK, slash.StatusCode);
    }

    [Fact]
    public async Task The_v2_send_works_as_a_get_with_query_parameters_and_as_a_post()
    {
        var account = await OpenAccountAsync(credits: 10);
        using var get = await SendAsync(Json(HttpMethod.Get,
            $"/api/v2/sms/send?api_key={account.Key}&numbers=0701234567,0712345678&message_body={Uri.EscapeDataString("Hello by GET")}"));
        Assert.Equal(2, (await get.AssertJsonAsync()).GetProperty("recipients").GetInt32());

        using var post = await SendAsync(WithKey(Json(HttpMethod.Post, "/api/v2/sms/send",
            """{"numbers": ["0701234567", "0712345678"], "message_body": "Hello by POST"}"""), account.Key));
        var sent = await post.AssertJsonAsync();
        using var form = await SendAsync(Form("/api/v2/sms/send", ("numbers", "0701234567"), ("message_body", "Hello by form"), ("api_key", account.Key)));
        await form.AssertJsonAsync();

        using var v1 = ujumbe.Client(account.Key);
        var report = await SendingFixture.WaitForFinalizedAsync(v1, sent.GetProperty("batch_id").GetString()!);
        Assert.Equal("Hello by POST", report.GetProperty("messages")[0].GetProperty("text").GetString());
        Assert.Equal(5, (await (await v1.GetAsync("/v1/messages")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Wrong_ambiguous_or_foreign_keys_are_401_in_the_seed_shape()
    {
        var account = await OpenAccountAsync();
        var other = await OpenAccountAsync();
        using (var unknown = await SendAsync(WithKey(Json(HttpMethod.Get, "/api/v2/account/balance"), "sk_not-a-key")))
        {
            await AssertErrorAsync(unknown, HttpStatusCode.Unauthorized, """{"error":"Invalid API key"}""");
        }
        using (var wrongSecret = await SendAsync(WithKey(Json(HttpMethod.Get, "/api/v2/account/balance"), account.Key[..^1] + (account.Key[^1] == 'a' ? 'b' : 'a'))))
        {
            await AssertErrorAsync(wrongSecret, HttpStatusCode.Unauthorized, """{"error":"Invalid API key"}""");
        }
        using (var two = await SendAsync(WithKey(Json(HttpMethod.Get, "/api/v2/account/balance?api_key=" + other.Key), account.Key)))
        {
            await AssertErrorBodyAsync(two, HttpStatusCode.Unauthorized);
        }
        // /v1's Bearer form, or a username and password, are not the v2 routes' credential.
        using var bearer = ujumbe.Client(account.Key);
        await AssertErrorAsync(await bearer.GetAsync(Base + "/api/v2/account/balance"), HttpStatusCode.Unauthorized, KeyRequired);
        using var password = await SendAsync(Json(HttpMethod.Get,
            $"/api/v2/account/balance?username={Uri.EscapeDataString(account.Email)}&password={Uri.EscapeDataString(account.Password)}"));
        await AssertErrorAsync(password, HttpStatusCode.Unauthorized, KeyRequired);
    }

    [Fact]
    public async Task V2_sends_count_against_the_same_send_limit_as_v1()
    {
        var account = await OpenAccountAsync(credits: 100);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.PutAsJsonAsync($"/v1/admin/accounts/{account.AccountId}/rate-limits", new { messages_per_minute = 2 })).AssertJsonAsync();
        using var v1 = ujumbe.Client(account.Key);
        await (await v1.PostAsJsonAsync("/v1/messages", new { to = "0701234567", text = "one", sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);
        using (var second = await SendAsync(WithKey(Json(HttpMethod.Post, "/api/v2/sms/send", """{"numbers": "0701234567", "message_body": "two"}"""), account.Key)))
        {
            await second.AssertJsonAsync();
        }
        using var third = await SendAsync(WithKey(Json(HttpMethod.Post, "/api/v2/sms/send", """{"numbers": "0701234567", "message_body": "three"}"""), account.Key));
        await AssertErrorAsync(third, HttpStatusCode.TooManyRequests, """{"error":"Too Many Attempts."}""");
        Assert.NotNull(third.Headers.RetryAfter);
    }

    // ---- API keys ------------------------------------------------------------------------------------------

    [Fact]
    public async Task Seed_generate_key_with_credentials_as_url_parameters_form_or_json_fields()
    {
        var account = await OpenAccountAsync(credits: 7);
        var credentials = $"?username={Uri.EscapeDataString(account.Email)}&password={Uri.EscapeDataString(account.Password)}";

        // curl --request POST "http://localhost/api/generate-key" … --data "{\"expiry_days\": 3}", the credentials in the URL.
        using var fromUrl = await SendAsync(Json(HttpMethod.Post, "/api/generate-key" + credentials, "{\n    \"expiry_days\": 3\n}"));
        var generated = await fromUrl.AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal("API key generated successfully.", generated.GetProperty("message").GetString());
        var expiresAt = generated.GetProperty("expires_at").GetDateTime();
        Assert.InRange(expiresAt, DateTime.UtcNow.AddDays(3).AddMinutes(-5), DateTime.UtcNow.AddDays(3).AddMinutes(5));
        var key = generated.GetProperty("api_key").GetString()!;
        using (var balance = await SendAsync(WithKey(Json(HttpMethod.Get, "/api/v2/account/balance"), key)))
        {
            Assert.Equal("""{"balance":7}""", await balance.Content.ReadAsStringAsync());
        }

        using var fromJson = await SendAsync(Json(HttpMethod.Post, "/api/generate-key",
            JsonSerializer.Serialize(new { username = account.Email, password = account.Password })));
        var lasting = await fromJson.AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal(JsonValueKind.Null, lasting.GetProperty("expires_at").ValueKind); // no expiry_days: as /v1, no expiry
        using var fromForm = await SendAsync(Form("/api/generate-key", ("username", account.Email), ("password", account.Password), ("expiry_days", "365")));
        await fromForm.AssertJsonAsync(HttpStatusCode.Created);

        // Ordinary Ujumbe keys: listed in /v1 (never their secrets), hashed at rest.
        using var v1 = ujumbe.Client(account.Key);
        var keys = (await (await v1.GetAsync("/v1/api-keys")).AssertJsonAsync()).GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(3, keys.Count(k => k.GetProperty("name").GetString() == "Classic API key"));
        Assert.DoesNotContain(keys, k => k.TryGetProperty("secret", out _));
        Assert.Equal(1L, await ujumbe.Database.ScalarAsync<long>("select count(*) from api_keys where secret_hash = sha256(convert_to($1, 'UTF8'))", key));
    }

    [Fact]
    public async Task Generate_key_needs_the_username_and_password()
    {
        var account = await OpenAccountAsync();
        // The seed's own request, which carries no credentials.
        using (var none = await SendAsync(Json(HttpMethod.Post, "/api/generate-key", "{\n    \"expiry_days\": 3\n}")))
        {
            await AssertErrorAsync(none, HttpStatusCode.Unauthorized, Unauthorized);
        }
        using var withKey = await SendAsync(WithKey(Json(HttpMethod.Post, "/api/generate-key", """{"expiry_days": 3}"""), account.Key));
        await AssertErrorAsync(withKey, HttpStatusCode.Unauthorized, Unauthorized);
    }

    [Theory]
    [InlineData("0", "The expiry days field must be at least 1.")]
    [InlineData("366", "The expiry days field must not be greater than 365.")]
    [InlineData("\"soon\"", "The expiry days field must be an integer.")]
    [InlineData("2.5", "The expiry days field must be an integer.")]
    public async Task Expiry_days_outside_1_to_365_is_422_and_no_key_is_made(string expiryDays, string error)
    {
        var account = await OpenAccountAsync();
        using var generate = await SendAsync(Json(HttpMethod.Post, "/api/generate-key",
            $$"""{"username": {{JsonSerializer.Serialize(account.Email)}}, "password": {{JsonSerializer.Serialize(account.Password)}}, "expiry_days": {{expiryDays}}}"""));
        var body = await AssertErrorBodyAsync(generate, (HttpStatusCode)422);
        Assert.Equal(error, body.GetProperty("error").GetString());
        Assert.Equal(error, body.GetProperty("errors").GetProperty("expiry_days")[0].GetString());

        using var regenerate = await SendAsync(WithKey(Json(HttpMethod.Post, "/api/regenerate-key", $$"""{"expiry_days": {{expiryDays}}}"""), account.Key));
        Assert.Equal(error, (await AssertErrorBodyAsync(regenerate, (HttpStatusCode)422)).GetProperty("error").GetString());

        using var v1 = ujumbe.Client(account.Key);
        Assert.Single((await (await v1.GetAsync("/v1/api-keys")).AssertJsonAsync()).GetProperty("data").EnumerateArray());
    }

    [Fact]
    public async Task Seed_regenerate_key_gives_the_key_a_new_secret_and_the_old_one_stops_at_once()
    {
        var account = await OpenAccountAsync(credits: 5);
        var key = await GenerateUsedKeyAsync(account);
        // curl --request POST "http://localhost/api/regenerate-key" … --data "{\"expiry_days\": 9}"
        using var regenerated = await SendAsync(WithKey(Json(HttpMethod.Post, "/api/regenerate-key", "{\n    \"expiry_days\": 9\n}"), key));
        var body = await regenerated.AssertJsonAsync();
        Assert.Equal("API key regenerated successfully.", body.GetProperty("message").GetString());
        var newKey = body.GetProperty("api_key").GetString()!;
        Assert.NotEqual(key, newKey);
        Assert.InRange(body.GetProperty("expires_at").GetDateTime(), DateTime.UtcNow.AddDays(9).AddMinutes(-5), DateTime.UtcNow.AddDays(9).AddMinutes(5));

        using (var old = await SendAsync(WithKey(Json(HttpMethod.Get, "/api/v2/account/balance"), key)))
        {
            await AssertErrorAsync(old, HttpStatusCode.Unauthorized, """{"error":"Invalid API key"}""");
        }
        using var fresh = await SendAsync(Json(HttpMethod.Get, "/api/v2/account/balance?api_key=" + newKey));
        Assert.Equal("""{"balance":5}""", await fresh.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Seed_revoke_key_revokes_the_key_it_is_called_with()
    {
        var account = await OpenAccountAsync(credits: 5);
        var key = await GenerateUsedKeyAsync(account);
        // curl --request POST "http://localhost/api/revoke-key" --header "Content-Type: application/json" --header "Accept: application/json"
        using var revoked = await SendAsync(WithKey(Json(HttpMethod.Post, "/api/revoke-key"), key));
        Assert.Equal("""{"message":"API key revoked successfully."}""", await revoked.Content.ReadAsStringAsync());

        using (var after = await SendAsync(WithKey(Json(HttpMethod.Get, "/api/v2/account/balance"), key)))
        {
            await AssertErrorAsync(after, HttpStatusCode.Unauthorized, """{"error":"API key has been revoked"}""");
        }
        using var again = await SendAsync(Form("/api/revoke-key", ("api_key", key)));
        await AssertErrorAsync(again, HttpStatusCode.Unauthorized, """{"error":"API key has been revoked"}""");
        // Only that key: the account's own key still works.
        using var own = await SendAsync(WithKey(Json(HttpMethod.Get, "/api/v2/account/balance"), account.Key));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        using var noKey = await SendAsync(Json(HttpMethod.Post, "/api/revoke-key"));
        await AssertErrorAsync(noKey, HttpStatusCode.Unauthorized, KeyRequired);
    }

    // ---- The pages, and everything else in the seed's shape -----------------------------------------------

    [Fact]
    public async Task Seed_pages_are_served_without_credentials()
    {
        // curl --request GET --get "http://localhost/api/oauth2-callback" --header "Content-Type: application/json" --header "Accept: application/json"
        using (var callback = await SendAsync(Json(HttpMethod.Get, "/api/oauth2-callback")))
        {
            Assert.Equal(HttpStatusCode.OK, callback.StatusCode);
            Assert.Equal("text/html", callback.Content.Headers.ContentType?.MediaType);
            Assert.Equal("<!doctype html>\n<html lang=\"en-US\">\n<body>\n<script src=\"oauth2-redirect.js\"></script>\n</body>\n</html>\n",
                await callback.Content.ReadAsStringAsync());
        }
        // curl --request GET --get "http://localhost/api/v2" … (the seed's own example answers 500; here the page is there)
        using var swagger = await SendAsync(Json(HttpMethod.Get, "/api/v2"));
        Assert.Equal(HttpStatusCode.OK, swagger.StatusCode);
        Assert.Equal("text/html", swagger.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/openapi/compat-classic.json", await swagger.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_paths_wrong_methods_and_gateway_refusals_answer_in_the_seed_shape()
    {
        var account = await OpenAccountAsync(credits: 10);
        using (var unknown = await SendAsync(WithKey(Json(HttpMethod.Get, "/api/v2/nothing-here"), account.Key)))
        {
            await AssertErrorAsync(unknown, HttpStatusCode.NotFound, """{"error":"Not Found."}""");
        }
        using (var wrongMethod = await SendAsync(WithKey(Json(HttpMethod.Delete, "/api/v2/account/balance"), account.Key)))
        {
            await AssertErrorAsync(wrongMethod, HttpStatusCode.MethodNotAllowed, """{"error":"Method Not Allowed."}""");
        }
        using (var forged = WithKey(Json(HttpMethod.Get, "/api/v2/account/balance"), account.Key))
        {
            forged.Headers.Add("X-Ujumbe-Identity", "forged");
            using var refused = await SendAsync(forged);
            Assert.Contains("X-Ujumbe-Identity", (await AssertErrorBodyAsync(refused, HttpStatusCode.BadRequest)).GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        using (var huge = await SendAsync(Form("/v1/sms/send", ("numbers", "0701234567"), ("message_body", new string('a', 1_100_000)),
            ("username", account.Email), ("password", account.Password))))
        {
            await AssertErrorBodyAsync(huge, HttpStatusCode.RequestEntityTooLarge);
        }
        using (var tooLong = await SendAsync(SeedSend(account, text: new string('a', 2000))))
        {
            Assert.Contains("segments", (await AssertErrorBodyAsync(tooLong, HttpStatusCode.BadRequest)).GetProperty("error").GetString(), StringComparison.Ordinal);
        }
        await AssertNothingSentAsync(account, credits: 10);
    }

    // ---- Helpers ---------------------------------------------------------------------------------------------

    /// <summary>A key made by generate-key and used once, so the gateway holds it (what changes to it must reach at once).</summary>
    private async Task<string> GenerateUsedKeyAsync(ClassicAccount account)
    {
        using var response = await SendAsync(Form("/api/generate-key", ("username", account.Email), ("password", account.Password)));
        var key = (await response.AssertJsonAsync(HttpStatusCode.Created)).GetProperty("api_key").GetString()!;
        using var used = await SendAsync(WithKey(Json(HttpMethod.Get, "/api/v2/account/balance"), key));
        Assert.Equal(HttpStatusCode.OK, used.StatusCode);
        return key;
    }

    /// <summary>The exact body, as JSON (never problem+json).</summary>
    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string body)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(body, text);
    }

    /// <summary>An <c>{"error": "…"}</c> body (with <c>errors</c> at most beside it), never problem+json.</summary>
    private static async Task<JsonElement> AssertErrorBodyAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement;
        Assert.Equal(JsonValueKind.String, body.GetProperty("error").ValueKind);
        Assert.All(body.EnumerateObject(), p => Assert.Contains(p.Name, new[] { "error", "errors" }));
        return body;
    }

    private async Task AssertNothingSentAsync(ClassicAccount account, long credits)
    {
        using var v1 = ujumbe.Client(account.Key);
        Assert.Equal(0, (await (await v1.GetAsync("/v1/messages")).AssertJsonAsync()).GetProperty("total").GetInt32());
        var balance = await (await v1.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(credits, balance.GetProperty("balance").GetInt64());
        Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
    }
}

/// <summary>An account as the classic API's client knows it: its owner's email and password, and its API key.</summary>
public sealed record ClassicAccount(string Email, string Password, string Key, string AccountId)
{
    /// <summary>The account of <paramref name="key"/>, its owner given a password (as the invitation would).</summary>
    public static async Task<ClassicAccount> ForKeyAsync(UjumbeFixture ujumbe, string key)
    {
        using var v1 = ujumbe.Client(key);
        var accountId = (await (await v1.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString()!;
        var publicKey = string.Concat("pk_", key.AsSpan(3, 16));
        var email = await ujumbe.Database.ScalarAsync<string>(
            "select u.email from users u join api_keys k on k.account_id = u.account_id where k.public_key = $1 and u.role = 'owner'", publicKey);
        var password = "classic " + Guid.NewGuid().ToString("N")[..10];
        await ujumbe.Database.ExecuteAsync("update users set password_hash = $1 where email = $2",
            new Microsoft.AspNetCore.Identity.PasswordHasher<object>().HashPassword(null!, password), email!);
        return new ClassicAccount(email!, password, key, accountId);
    }
}
