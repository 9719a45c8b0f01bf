using System.Net;
using System.Text;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Bad input always gets a clear problem+json answer: never a 500, never a stack trace.</summary>
public sealed class BadInputTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("{\"name\": ")]
    [InlineData("not json at all")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"name\":\"a\",\"name\":\"b\"}")]
    public async Task Malformed_json_is_a_validation_error(string body)
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        await (await client.PostAsync("/v1/api-keys", Json(body))).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }

    [Fact]
    public async Task A_missing_body_is_a_validation_error()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        await (await client.PostAsync("/v1/api-keys", Json(""))).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }

    [Fact]
    public async Task A_body_that_is_not_json_gets_415()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        await (await client.PostAsync("/v1/api-keys", new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded")))
            .AssertProblemAsync(HttpStatusCode.UnsupportedMediaType, ErrorCodes.UnsupportedMediaType);
    }

    [Fact]
    public async Task A_body_over_one_mebibyte_is_refused_with_413_at_the_gateway()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var body = "{\"name\":\"" + new string('x', 1024 * 1024) + "\"}";
        // Expect: 100-continue, as a well-behaved client sends a large body: the refusal comes before the
        // body is sent (without it the gateway may close the connection while the client is still writing).
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/api-keys") { Content = Json(body) };
        request.Headers.ExpectContinue = true;
        await (await client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, ErrorCodes.PayloadTooLarge);
    }

    [Fact]
    public async Task A_chunked_body_over_one_mebibyte_is_refused_with_413()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes("{\"name\":\"" + new string('x', 1024 * 1024) + "\"}")));
        content.Headers.ContentType = new("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/api-keys") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        await (await client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, ErrorCodes.PayloadTooLarge);
    }

    [Fact]
    public async Task A_body_over_one_mebibyte_is_refused_by_the_api_too()
    {
        using var api = ujumbe.Api.CreateSocketClient();
        var body = "{\"name\":\"" + new string('x', 1024 * 1024) + "\"}";
        // Unsigned, so 401 or 413 are both right; what matters is that it is not read in full or a 500.
        var response = await api.PostAsync("/v1/api-keys", Json(body));
        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.RequestEntityTooLarge, response.StatusCode.ToString());
    }

    [Theory]
    [InlineData("/nothing-here")]
    [InlineData("/v2/messages")]
    [InlineData("/favicon.ico")]
    public async Task Unknown_routes_outside_v1_are_404_problems(string path)
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        await (await client.GetAsync(path)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }

    [Fact]
    public async Task Unknown_routes_under_v1_are_404_problems()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        await (await client.GetAsync("/v1/no-such-thing")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }

    [Fact]
    public async Task A_wrong_method_is_a_405_problem()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        await (await client.DeleteAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.MethodNotAllowed, ErrorCodes.MethodNotAllowed);
    }

    [Fact]
    public async Task The_openapi_document_is_served_through_the_gateway_without_a_key()
    {
        using var client = ujumbe.Client();
        var document = await (await client.GetAsync("/openapi/v1.json")).AssertJsonAsync();
        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/api-keys", out _));
        Assert.True(paths.TryGetProperty("/v1/balance", out _));
        Assert.False(paths.TryGetProperty("/internal/keys/{publicKey}", out _));
    }
}
