using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

public sealed class ApiKeysTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    [Fact]
    public async Task A_new_key_shows_its_secret_once_and_the_database_keeps_only_a_hash()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var created = await (await client.PostAsJsonAsync("/v1/api-keys", new { name = "billing system" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;
        var secret = created.GetProperty("secret").GetString()!;
        Assert.StartsWith("key_", id, StringComparison.Ordinal);
        Assert.StartsWith("pk_", created.GetProperty("public_key").GetString(), StringComparison.Ordinal);
        Assert.Equal(["messages", "contacts", "campaigns", "account"], Strings(created.GetProperty("scopes")));
        Assert.Equal(JsonValueKind.Null, created.GetProperty("expires_at").ValueKind);

        var list = await (await client.GetAsync("/v1/api-keys?page_size=100")).AssertJsonAsync();
        var listed = list.GetProperty("data").EnumerateArray().Single(k => k.GetProperty("id").GetString() == id);
        Assert.False(listed.TryGetProperty("secret", out _));
        Assert.DoesNotContain(secret, list.GetRawText(), StringComparison.Ordinal);

        PublicId.TryParse(PublicId.ApiKey, id, out var keyId);
        var row = await ujumbe.Database.ScalarAsync<string>("select row_to_json(k)::text from api_keys k where id = $1", keyId);
        Assert.NotNull(row);
        Assert.DoesNotContain(secret[3..], row, StringComparison.Ordinal);
        var hash = await ujumbe.Database.ScalarAsync<byte[]>("select secret_hash from api_keys where id = $1", keyId);
        Assert.Equal(ApiKeySecret.Hash(secret), hash);
    }

    [Fact]
    public async Task Scopes_and_expiry_are_kept_and_enforced()
    {
        using var owner = ujumbe.Client(ujumbe.DemoKey);
        var created = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "sender", scopes = new[] { "messages" }, expires_in_days = 30 }))
            .AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal(["messages"], Strings(created.GetProperty("scopes")));
        var expiresAt = created.GetProperty("expires_at").GetDateTime();
        Assert.InRange(expiresAt, DateTime.UtcNow.AddDays(30).AddMinutes(-5), DateTime.UtcNow.AddDays(30).AddMinutes(5));

        // A messages-only key cannot manage keys (that needs "account").
        using var sender = ujumbe.Client(created.GetProperty("secret").GetString());
        await (await sender.GetAsync("/v1/api-keys")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    [Fact]
    public async Task A_key_cannot_grant_more_than_its_creator_holds()
    {
        using var owner = ujumbe.Client(ujumbe.DemoKey);
        var problem = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "sneaky", scopes = new[] { "messages", "admin" } }))
            .AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        Assert.Contains("admin", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"name\":\"\"}", "name")]
    [InlineData("{}", "name")]
    [InlineData("{\"name\":\"x\",\"expires_in_days\":0}", "expires_in_days")]
    [InlineData("{\"name\":\"x\",\"expires_in_days\":366}", "expires_in_days")]
    [InlineData("{\"name\":\"x\",\"expires_in_days\":\"soon\"}", "expires_in_days")]
    [InlineData("{\"name\":\"x\",\"scopes\":[\"messages\",\"everything\"]}", "scopes")]
    [InlineData("{\"name\":\"x\",\"scopes\":[]}", "scopes")]
    [InlineData("{\"name\":\"x\",\"scopes\":\"messages\"}", "scopes")]
    public async Task Invalid_key_requests_get_field_errors(string body, string field)
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var response = await client.PostAsync("/v1/api-keys", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
    }

    [Fact]
    public async Task Unknown_scopes_are_listed_with_the_valid_ones()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var problem = await (await client.PostAsJsonAsync("/v1/api-keys", new { name = "x", scopes = new[] { "everything" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var message = problem.GetProperty("errors").GetProperty("scopes")[0].GetString()!;
        Assert.Contains("everything", message, StringComparison.Ordinal);
        Assert.Contains("messages, contacts, campaigns, account, partner, admin", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Last_used_at_is_recorded_without_a_write_per_request()
    {
        using var owner = ujumbe.Client(ujumbe.DemoKey);
        var created = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "usage" })).AssertJsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;
        PublicId.TryParse(PublicId.ApiKey, id, out var keyId);

        using var client = ujumbe.Client(created.GetProperty("secret").GetString());
        for (var i = 0; i < 20; i++)
        {
            await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
        }
        await HttpAssertions.EventuallyAsync(
            async () => await ujumbe.Database.ScalarAsync<DateTime?>("select last_used_at from api_keys where id = $1", keyId) is not null,
            because: "the gateway reports key use within its flush interval");

        var listed = await (await owner.GetAsync("/v1/api-keys?page_size=100")).AssertJsonAsync();
        var key = listed.GetProperty("data").EnumerateArray().Single(k => k.GetProperty("id").GetString() == id);
        Assert.InRange(key.GetProperty("last_used_at").GetDateTime(), DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
    }

    [Fact]
    public async Task Another_accounts_key_cannot_be_seen_revoked_or_regenerated()
    {
        using var operatorClient = ujumbe.Client(ujumbe.OperatorKey);
        var operatorKeys = await (await operatorClient.GetAsync("/v1/api-keys")).AssertJsonAsync();
        var operatorKeyId = operatorKeys.GetProperty("data")[0].GetProperty("id").GetString();

        using var demo = ujumbe.Client(ujumbe.DemoKey);
        var demoKeys = await (await demo.GetAsync("/v1/api-keys?page_size=100")).AssertJsonAsync();
        Assert.DoesNotContain(demoKeys.GetProperty("data").EnumerateArray(), k => k.GetProperty("id").GetString() == operatorKeyId);
        await (await demo.PostAsync($"/v1/api-keys/{operatorKeyId}/revoke", null)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await demo.PostAsJsonAsync($"/v1/api-keys/{operatorKeyId}/regenerate", new { })).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);

        // The operator's key still works.
        await (await operatorClient.GetAsync("/v1/balance")).AssertJsonAsync();
    }

    [Fact]
    public async Task Ids_that_are_not_key_ids_are_not_found()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        await (await client.PostAsync("/v1/api-keys/not-an-id/revoke", null)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await client.PostAsync($"/v1/api-keys/key_{Guid.NewGuid():N}/revoke", null)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }

    [Fact]
    public async Task A_revoked_key_cannot_be_regenerated_and_an_expired_one_needs_a_new_lifetime()
    {
        using var owner = ujumbe.Client(ujumbe.DemoKey);
        var revoked = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "gone" })).AssertJsonAsync(HttpStatusCode.Created);
        var revokedId = revoked.GetProperty("id").GetString();
        await (await owner.PostAsync($"/v1/api-keys/{revokedId}/revoke", null)).AssertJsonAsync();
        await (await owner.PostAsJsonAsync($"/v1/api-keys/{revokedId}/regenerate", new { })).AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);

        var expiring = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "old", expires_in_days = 1 })).AssertJsonAsync(HttpStatusCode.Created);
        var expiringId = expiring.GetProperty("id").GetString()!;
        PublicId.TryParse(PublicId.ApiKey, expiringId, out var keyId);
        await ujumbe.Database.ExecuteAsync("update api_keys set expires_at = now() - interval '1 day' where id = $1", keyId);
        await (await owner.PostAsJsonAsync($"/v1/api-keys/{expiringId}/regenerate", new { }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var renewed = await (await owner.PostAsJsonAsync($"/v1/api-keys/{expiringId}/regenerate", new { expires_in_days = 7 })).AssertJsonAsync();
        using var client = ujumbe.Client(renewed.GetProperty("secret").GetString());
        await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();
}
