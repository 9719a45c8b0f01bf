using System.Net;
using System.Text.Json;
using Ujumbe.Shared.Payments;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests.OpenApi;

/// <summary>
/// The OpenAPI document integrators get from the gateway: clean under redocly's recommended rules and
/// true to what the endpoints answer.
/// </summary>
public sealed class OpenApiDocumentTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "patch"];

    private async Task<(string Text, JsonElement Root)> FetchAsync()
    {
        using var client = ujumbe.Client(); // no credential: the document is public
        using var response = await client.GetAsync("/openapi/v1.json");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET /openapi/v1.json: {(int)response.StatusCode} {text}");
        return (text, JsonDocument.Parse(text).RootElement.Clone());
    }

    private static IEnumerable<(string Path, string Method, JsonElement Operation)> Operations(JsonElement document) =>
        from path in document.GetProperty("paths").EnumerateObject()
        from method in path.Value.EnumerateObject()
        where Methods.Contains(method.Name)
        select (path.Name, method.Name, method.Value);

    private static JsonElement Operation(JsonElement document, string path, string method) =>
        document.GetProperty("paths").GetProperty(path).GetProperty(method);

    [Fact]
    public async Task The_document_lints_clean_with_redocly_recommended_rules()
    {
        var (text, _) = await FetchAsync();
        var problems = await RedoclyLint.LintAsync(text);
        Assert.True(problems.Count == 0,
            $"redocly lint (Tests/openapi-lint/redocly.yaml) found {problems.Count} problems in /openapi/v1.json:\n{RedoclyLint.Describe(problems)}");
    }

    [Fact]
    public async Task The_server_is_the_gateway_not_the_api()
    {
        var (_, document) = await FetchAsync();
        var server = document.GetProperty("servers")[0].GetProperty("url").GetString();
        // Relative: the root of wherever the document was fetched, which is the gateway (OpenApi:ServerUrl may name it).
        Assert.Equal("/", server);
        Assert.DoesNotContain(ujumbe.Api.Address.Authority, document.GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/messages", "post", "202")]
    [InlineData("/v1/campaigns", "post", "201")]
    [InlineData("/v1/contacts", "post", "201")]
    [InlineData("/v1/api-keys", "post", "201")]
    [InlineData("/v1/webhooks", "post", "201")]
    [InlineData("/v1/contacts/{id}", "delete", "204")]
    [InlineData("/v1/messages/quote", "post", "200")]
    [InlineData("/v1/auth/login", "post", "200")]
    [InlineData("/v1/payments", "post", "202")]
    [InlineData("/v1/tenants/{id}/payments", "post", "202")]
    public async Task Success_statuses_are_what_the_endpoints_answer(string path, string method, string status)
    {
        var (_, document) = await FetchAsync();
        var successes = Operation(document, path, method).GetProperty("responses").EnumerateObject()
            .Select(response => response.Name).Where(name => name.StartsWith('2')).ToList();
        Assert.Equal([status], successes);
    }

    [Fact]
    public async Task A_send_really_answers_202_as_documented()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        using var response = await client.PostAsync("/v1/messages", new StringContent(
            """{"to": ["+255712345678"], "text": "Habari", "sender_id": "UJUMBE"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task Every_operation_has_an_id_a_summary_security_and_problem_answers()
    {
        var (_, document) = await FetchAsync();
        var ids = new HashSet<string>();
        var operations = Operations(document).ToList();
        Assert.True(operations.Count >= 50, $"only {operations.Count} operations documented");
        foreach (var (path, method, operation) in operations)
        {
            var name = $"{method.ToUpperInvariant()} {path}";
            Assert.True(ids.Add(operation.GetProperty("operationId").GetString()!), $"{name}: operationId not unique");
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), $"{name}: no summary");
            var security = operation.GetProperty("security");
            // Sign-in, accepting an invitation, the mobile-money aggregator's callbacks and providers' delivery reports take no credential of ours.
            var noCredentials = path is "/v1/auth/login" or "/v1/auth/invitations/accept" or MobileMoneyCallbacks.Path
                || (path.StartsWith("/v1/providers/", StringComparison.Ordinal) && path.EndsWith("/dlr", StringComparison.Ordinal));
            if (noCredentials)
            {
                Assert.Equal(0, security.GetArrayLength());
            }
            else
            {
                var schemes = security.EnumerateArray().SelectMany(requirement => requirement.EnumerateObject().Select(p => p.Name)).ToHashSet();
                Assert.True(schemes.SetEquals(["api_key", "api_key_header", "portal_token"]), $"{name}: security {security}");
            }
            var responses = operation.GetProperty("responses").EnumerateObject().ToList();
            Assert.Contains(responses, response => response.Name.StartsWith('2'));
            foreach (var status in new[] { "400", "429", "503" }.Concat(noCredentials ? [] : ["401", "403"]))
            {
                Assert.True(responses.Any(response => response.Name == status), $"{name}: no {status} answer");
            }
            foreach (var error in responses.Where(response => response.Name[0] is '4' or '5'))
            {
                var shared = error.Value.GetProperty("$ref").GetString()!;
                var component = document.GetProperty("components").GetProperty("responses").GetProperty(shared.Split('/')[^1]);
                Assert.Equal("#/components/schemas/Problem",
                    component.GetProperty("content").GetProperty("application/problem+json").GetProperty("schema").GetProperty("$ref").GetString());
            }
        }
    }

    [Fact]
    public async Task The_problem_schema_is_our_problem_shape()
    {
        var (_, document) = await FetchAsync();
        var problem = document.GetProperty("components").GetProperty("schemas").GetProperty("Problem");
        var properties = problem.GetProperty("properties").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.True(properties.SetEquals(["type", "title", "status", "detail", "code", "trace_id", "errors"]), string.Join(",", properties));
        Assert.Equal(["type", "title", "status", "code", "trace_id"], problem.GetProperty("required").EnumerateArray().Select(e => e.GetString()!));
    }

    [Fact]
    public async Task Scoped_endpoints_name_their_scope_and_credentials_are_the_gateways()
    {
        var (_, document) = await FetchAsync();
        var schemes = document.GetProperty("components").GetProperty("securitySchemes");
        Assert.Equal("bearer", schemes.GetProperty("api_key").GetProperty("scheme").GetString());
        Assert.Equal("X-API-Key", schemes.GetProperty("api_key_header").GetProperty("name").GetString());
        Assert.Equal("header", schemes.GetProperty("api_key_header").GetProperty("in").GetString());
        Assert.Equal("JWT", schemes.GetProperty("portal_token").GetProperty("bearerFormat").GetString());
        var send = Operation(document, "/v1/messages", "post").GetProperty("security")[0].GetProperty("api_key");
        Assert.Equal(["messages"], send.EnumerateArray().Select(e => e.GetString()!));
        var admin = Operation(document, "/v1/admin/accounts", "get").GetProperty("security")[0].GetProperty("api_key");
        Assert.Equal(["admin"], admin.EnumerateArray().Select(e => e.GetString()!));
    }

    [Fact]
    public async Task The_csv_import_documents_both_upload_forms()
    {
        var (_, document) = await FetchAsync();
        var body = Operation(document, "/v1/contacts/import", "post").GetProperty("requestBody");
        Assert.True(body.GetProperty("required").GetBoolean());
        var content = body.GetProperty("content");
        Assert.Equal("string", content.GetProperty("text/csv").GetProperty("schema").GetProperty("type").GetString());
        var form = content.GetProperty("multipart/form-data").GetProperty("schema");
        Assert.Equal("binary", form.GetProperty("properties").GetProperty("file").GetProperty("format").GetString());
        Assert.Equal(["file"], form.GetProperty("required").EnumerateArray().Select(e => e.GetString()!));
    }

    [Fact]
    public async Task Optional_request_fields_are_not_required_and_numbers_are_numbers()
    {
        var (_, document) = await FetchAsync();
        var schemas = document.GetProperty("components").GetProperty("schemas");
        // API.md: POST /v1/api-keys {name, scopes?, expires_in_days?}: none of them must be present to bind.
        Assert.False(schemas.GetProperty("CreateApiKeyRequest").TryGetProperty("required", out var required) && required.GetArrayLength() > 0,
            schemas.GetProperty("CreateApiKeyRequest").ToString());
        var balance = schemas.GetProperty("BalanceResponse").GetProperty("properties").GetProperty("balance");
        Assert.Equal("integer", balance.GetProperty("type").GetString());
        // Answers carry every field.
        Assert.Equal(3, schemas.GetProperty("BalanceResponse").GetProperty("required").GetArrayLength());
    }
}
