extern alias ApiApp;

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Ujumbe.Api.Auth;
using Ujumbe.Api.Seeding;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// Text PostgreSQL or a carrier cannot take (NUL, other control characters, unpaired surrogates,
/// invalid UTF-8) is refused the same way in every field of every body and every query value:
/// 400 VALIDATION_FAILED naming the field, never a 500. Bodies that cannot be read at all get a
/// 400/415 with the project's own words.
/// </summary>
public sealed class HostileTextTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    private const string Nul = "\\u0000"; // as a JSON escape, inside the bodies below

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    public static TheoryData<string, string, string, string> FieldsOfEveryBody() => new()
    {
        // key, path, body, the field the answer must name
        { "demo", "/v1/messages", $$"""{"to": ["0712345678"], "text": "Habari{{Nul}}", "sender_id": "UJUMBE"}""", "text" },
        { "demo", "/v1/messages/quote", $$"""{"to": ["0712345678"], "text": "Habari{{Nul}}", "sender_id": "UJUMBE"}""", "text" },
        { "demo", "/v1/messages", $$"""{"to": ["0712345678"], "text": "Habari", "sender_id": "UJUMBE", "reference": "r{{Nul}}"}""", "reference" },
        { "demo", "/v1/messages", $$"""{"to": ["0712345678"], "text": "Habari", "sender_id": "UJUMBE", "callback_url": "https://example.com/{{Nul}}"}""", "callback_url" },
        { "demo", "/v1/messages", """{"to": ["0712345678"], "text": "bell \u0007", "sender_id": "UJUMBE"}""", "text" },
        { "demo", "/v1/messages/quote", """{"to": ["0712345678"], "text": "half \ud83d a smile", "sender_id": "UJUMBE"}""", "text" },
        { "demo", "/v1/messages", """{"to": ["0712345678"], "text": "del \u007f", "sender_id": "UJUMBE"}""", "text" },
        { "demo", "/v1/messages", $$"""{"to": ["0712345678", "07123{{Nul}}"], "text": "Habari", "sender_id": "UJUMBE"}""", "to[1]" },
        { "demo", "/v1/campaigns", $$$"""{"name": "c{{{Nul}}}", "text": "Hi", "sender_id": "UJUMBE", "audience": {"numbers": "0712345678"}}""", "name" },
        { "demo", "/v1/campaigns", $$$"""{"name": "c", "text": "Hi", "sender_id": "UJUMBE", "audience": {"numbers": "0712345678{{{Nul}}}"}}""", "audience.numbers" },
        { "demo", "/v1/contacts", $$"""{"name": "n{{Nul}}", "phone_number": "0712345678"}""", "name" },
        { "demo", "/v1/contacts", $$$"""{"name": "n", "phone_number": "0712345678", "attributes": {"colour": "red{{{Nul}}}"}}""", "attributes.colour" },
        { "demo", "/v1/contacts", """{"name": "n", "phone_number": "0712345678", "attributes": {"colour": "\udc00"}}""", "attributes.colour" },
        { "demo", "/v1/contacts", $$"""{"name": "n", "phone_number": "0712345678", "tags": ["ok", "b{{Nul}}"]}""", "tags[1]" },
        { "demo", "/v1/segments", $$"""{"name": "s{{Nul}}", "tags_any": ["vip"]}""", "name" },
        { "demo", "/v1/opt-outs", $$"""{"phone_number": "0712345678", "source": "s{{Nul}}"}""", "source" },
        { "demo", "/v1/webhooks", $$"""{"url": "https://example.com/{{Nul}}"}""", "url" },
        { "demo", "/v1/api-keys", $$"""{"name": "k{{Nul}}"}""", "name" },
        { "demo", "/v1/sender-ids", $$"""{"name": "ABC", "purpose": "p{{Nul}}"}""", "purpose" },
        { "operator", "/v1/admin/content-rules", $$"""{"category": "spam", "phrase": "x{{Nul}}"}""", "phrase" },
        { "operator", "/v1/admin/accounts", $$"""{"name": "A{{Nul}}", "owner_email": "a@example.com", "default_country": "KE"}""", "name" },
        { "none", "/v1/auth/login", $$"""{"email": "a{{Nul}}@example.com", "password": "x"}""", "email" },
    };

    [Theory]
    [MemberData(nameof(FieldsOfEveryBody))]
    public async Task Unacceptable_text_in_any_body_field_is_a_validation_error_naming_it(string key, string path, string body, string field)
    {
        using var client = ujumbe.Client(key switch { "demo" => ujumbe.DemoKey, "operator" => ujumbe.OperatorKey, _ => null });
        var problem = await (await client.PostAsync(path, Json(body))).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Theory]
    [InlineData("demo", "/v1/contacts?q=a%00b", "q")]
    [InlineData("demo", "/v1/contacts?tag=%00", "tag")]
    [InlineData("demo", "/v1/contacts?q=%01", "q")]
    [InlineData("demo", "/v1/messages?to=0712%00", "to")]
    [InlineData("operator", "/v1/admin/accounts?q=%00", "q")]
    [InlineData("operator", "/v1/admin/content-rules?category=%00", "category")]
    public async Task Unacceptable_text_in_a_query_parameter_is_a_validation_error_naming_it(string key, string path, string field)
    {
        using var client = ujumbe.Client(key == "demo" ? ujumbe.DemoKey : ujumbe.OperatorKey);
        var problem = await (await client.GetAsync(path)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Tabs_line_breaks_and_form_feeds_are_still_welcome()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var quote = await (await client.PostAsync("/v1/messages/quote",
            Json("""{"to": ["0712345678"], "text": "Line one\r\nLine two\tend\f😀", "sender_id": "UJUMBE"}"""))).AssertJsonAsync();
        Assert.Equal(1, quote.GetProperty("recipients").GetInt32());
    }

    [Theory]
    [InlineData("/v1/api-keys", """{"name": "k"}""")]
    [InlineData("/v1/messages", """{"to": ["0712345678"], "text": "Hi", "sender_id": "UJUMBE"}""")]
    [InlineData("/v1/contacts", """{"name": "n", "phone_number": "0712345678"}""")]
    public async Task A_json_body_in_an_unknown_charset_is_415(string path, string body)
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=klingon");
        var problem = await (await client.PostAsync(path, content)).AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, ErrorCodes.UnsupportedMediaType);
        AssertOwnTitle(problem);
    }

    [Fact]
    public async Task Invalid_utf8_in_contact_attributes_is_a_validation_error()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var body = Encoding.UTF8.GetBytes("""{"name": "n", "phone_number": "0712345678", "attributes": {"colour": "r?d"}}""");
        body[Array.IndexOf(body, (byte)'?')] = 0xff;
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        var problem = await (await client.PostAsync("/v1/contacts", content)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        AssertOwnTitle(problem);
    }

    [Theory]
    [InlineData("multipart/form-data")]
    [InlineData("multipart/form-data; boundary=not-the-one-used")]
    public async Task An_unreadable_multipart_import_is_a_validation_error(string contentType)
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes("--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\n\r\nphone_number\r\n0712345678\r\n--xyz--\r\n"));
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        var problem = await (await client.PostAsync("/v1/contacts/import", content)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        AssertOwnTitle(problem);
    }

    /// <summary>
    /// Sign-ins with text PostgreSQL refuses (NUL in the email, handed straight to the sign-in code, past
    /// the HTTP validation) fail as wrong credentials and leave no pooled connection broken for the next
    /// caller (they used to leave a half-prepared statement: the next sign-in there got "unexpected DataRow").
    /// </summary>
    [Fact]
    public async Task Failed_sign_in_queries_leave_no_broken_connection_for_the_next_caller()
    {
        var failures = Enumerable.Range(0, 24).Select(async i =>
        {
            await using var scope = ujumbe.Api.Services.CreateAsyncScope();
            var outcome = await scope.ServiceProvider.GetRequiredService<SignIn>()
                .SignInAsync($"nul{i}\0@example.com", "wrong", "10.9.8.7", CancellationToken.None);
            Assert.Equal(SignInResult.InvalidCredentials, outcome.Result);
        });
        await Task.WhenAll(failures);

        using var client = ujumbe.Client();
        var logins = Enumerable.Range(0, 8).Select(_ => client.PostAsJsonAsync("/v1/auth/login",
            new { email = SeededKeys.DemoEmail, password = ujumbe.DemoPassword }));
        foreach (var login in await Task.WhenAll(logins))
        {
            await login.AssertJsonAsync();
        }
    }

    [Fact]
    public async Task Concurrent_nul_logins_are_refused_and_the_next_login_works()
    {
        using var client = ujumbe.Client();
        var bad = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            client.PostAsync("/v1/auth/login", Json($$"""{"email": "x{{i}}{{Nul}}@example.com", "password": "p"}"""))));
        foreach (var response in bad)
        {
            await response.AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        }
        await (await client.PostAsJsonAsync("/v1/auth/login", new { email = SeededKeys.DemoEmail, password = ujumbe.DemoPassword }))
            .AssertJsonAsync();
    }

    private static void AssertOwnTitle(System.Text.Json.JsonElement problem)
    {
        var title = problem.GetProperty("title").GetString()!;
        Assert.DoesNotContain("Exception", title, StringComparison.Ordinal);
        Assert.DoesNotContain("Microsoft.", problem.ToString(), StringComparison.Ordinal);
    }
}
