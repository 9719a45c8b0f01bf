using System.Net;
using System.Text.Json;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests.Compat;

/// <summary>Each dialect's own OpenAPI document, public through the gateway, so an integrator can diff it against what they use.</summary>
public sealed class DialectOpenApiTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    private async Task<(string Text, JsonElement Root)> FetchAsync(string name)
    {
        using var client = ujumbe.Client();
        using var response = await client.GetAsync($"/openapi/{name}.json");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /openapi/{name}.json: {(int)response.StatusCode} {text}");
        return (text, JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task The_wasambazie_document_has_the_seed_paths_key_pair_and_errors()
    {
        var (_, document) = await FetchAsync("compat-wasambazie");
        Assert.Equal("/compat/wasambazie/v1", document.GetProperty("servers")[0].GetProperty("url").GetString());
        var paths = document.GetProperty("paths");
        Assert.Equal(["/balance/", "/sms/delivery-reports/{batch_id}", "/sms/send"], paths.EnumerateObject().Select(p => p.Name).Order());

        var send = paths.GetProperty("/sms/send").GetProperty("post");
        Assert.Equal(["201", "400", "401", "402", "403", "404", "422", "429", "502"], send.GetProperty("responses").EnumerateObject().Select(r => r.Name).Order());
        Assert.Equal("#/components/schemas/WasambazieFieldErrors",
            send.GetProperty("responses").GetProperty("422").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        var body = send.GetProperty("requestBody").GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString()!;
        var fields = document.GetProperty("components").GetProperty("schemas").GetProperty(body.Split('/')[^1]).GetProperty("properties");
        Assert.Equal(["message", "sender_id", "to_number"], fields.EnumerateObject().Select(p => p.Name).Order());

        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("X-API-PUBLIC-KEY", schemes.GetProperty("public_key").GetProperty("name").GetString());
        Assert.Equal("X-API-SECRET-KEY", schemes.GetProperty("secret_key").GetProperty("name").GetString());
        // One requirement naming both headers: the pair, not either one.
        var requirement = Assert.Single(document.GetProperty("security").EnumerateArray());
        Assert.Equal(["public_key", "secret_key"], requirement.EnumerateObject().Select(p => p.Name).Order());
    }

    [Theory]
    [InlineData("compat-wasambazie")]
    [InlineData("compat-mifumo")]
    [InlineData("compat-smspop")]
    [InlineData("compat-classic")]
    public async Task Each_dialect_document_lints_clean(string name)
    {
        var (text, _) = await FetchAsync(name);
        // Except what the seeds' own paths are: with a trailing slash ("/balance/"), and Mifumo's
        // /contacts/{id}/update/ beside /contacts/segments/{id}/ (a literal wins in routing; the linter cannot know).
        var problems = (await RedoclyLint.LintAsync(text)).Where(p => p.Rule is not ("no-path-trailing-slash" or "no-ambiguous-paths")).ToList();
        Assert.True(problems.Count == 0, $"redocly lint found {problems.Count} problems in {name}:\n{RedoclyLint.Describe(problems)}");
    }

    [Fact]
    public async Task The_v1_document_has_no_dialect_paths()
    {
        var (_, v1) = await FetchAsync("v1");
        Assert.DoesNotContain(v1.GetProperty("paths").EnumerateObject(), p => p.Name.StartsWith("/compat", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_mifumo_document_has_the_seed_paths_bearer_key_and_envelope()
    {
        var (_, document) = await FetchAsync("compat-mifumo");
        Assert.Equal("/compat/mifumo", document.GetProperty("servers")[0].GetProperty("url").GetString());
        // Seed 001's layout: the base URL is the host, the paths are the seed's full paths.
        string[] seedPaths =
        [
            "/api/auth/login/",
            .. new[]
            {
                "/sms/send/", "/sms/status/{id}/", "/sms/delivery-reports/", "/sms/balance/",
                "/contacts/create/", "/contacts/{id}/", "/contacts/{id}/update/", "/contacts/{id}/delete/", "/contacts/search/",
                "/contacts/segments/create/", "/contacts/segments/{id}/", "/contacts/segments/{id}/update/", "/contacts/segments/{id}/delete/",
                "/partner/tenants/create/", "/partner/tenants/", "/partner/tenants/{id}/", "/partner/tenants/{id}/payments/initiate/",
                "/partner/tenants/{id}/payments/{paymentId}/",
            }.Select(path => "/api/integration/v1" + path),
        ];
        Assert.Equal(seedPaths.Order(StringComparer.Ordinal), document.GetProperty("paths").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal("bearer", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("api_key").GetProperty("scheme").GetString());
        // The login needs no credentials: its one requirement names no scheme.
        var login = document.GetProperty("paths").GetProperty("/api/auth/login/").GetProperty("post");
        Assert.Empty(Assert.Single(login.GetProperty("security").EnumerateArray()).EnumerateObject());
    }

    [Fact]
    public async Task The_smspop_document_has_the_campaigns_path()
    {
        var (_, document) = await FetchAsync("compat-smspop");
        Assert.Equal("/compat/smspop/api", document.GetProperty("servers")[0].GetProperty("url").GetString());
        var campaigns = document.GetProperty("paths").GetProperty("/campaigns");
        Assert.True(campaigns.TryGetProperty("post", out _));
        Assert.True(campaigns.TryGetProperty("get", out _));
    }

    [Fact]
    public async Task The_classic_document_has_every_seed_path_and_each_ones_credential_form()
    {
        var (_, document) = await FetchAsync("compat-classic");
        Assert.Equal("/compat/classic", document.GetProperty("servers")[0].GetProperty("url").GetString());
        var paths = document.GetProperty("paths");
        string[] seedPaths =
        [
            "/v1/sms/send", "/api/v2", "/api/oauth2-callback", "/api/v2/sms/send", "/api/v2/account/balance",
            "/api/generate-key", "/api/revoke-key", "/api/regenerate-key",
        ];
        Assert.Equal(seedPaths.Order(StringComparer.Ordinal), paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var v2Send = paths.GetProperty("/api/v2/sms/send");
        Assert.True(v2Send.TryGetProperty("get", out _));
        Assert.True(v2Send.TryGetProperty("post", out _));

        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("X-API-Key", schemes.GetProperty("api_key_header").GetProperty("name").GetString());
        Assert.Equal("api_key", schemes.GetProperty("api_key_parameter").GetProperty("name").GetString());
        // The key routes: the header or the parameter (either one); the send of /v1 and generate-key: username and password together.
        Assert.Equal([["api_key_header"], ["api_key_parameter"]], Forms(document.GetProperty("security")));
        foreach (var path in new[] { "/v1/sms/send", "/api/generate-key" })
        {
            Assert.Equal([["password", "username"]], Forms(paths.GetProperty(path).GetProperty("post").GetProperty("security")));
        }
        Assert.Equal([[]], Forms(paths.GetProperty("/api/oauth2-callback").GetProperty("get").GetProperty("security")));
        Assert.Equal(["200", "400", "401", "402", "403", "429"],
            paths.GetProperty("/v1/sms/send").GetProperty("post").GetProperty("responses").EnumerateObject().Select(r => r.Name).Order());
    }

    private static string[][] Forms(JsonElement security) =>
        [.. security.EnumerateArray().Select(requirement => requirement.EnumerateObject().Select(p => p.Name).Order().ToArray())];
}
