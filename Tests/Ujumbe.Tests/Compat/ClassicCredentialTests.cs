using System.Text;
using Microsoft.AspNetCore.Http;
using Ujumbe.Shared.Compat;
using Ujumbe.Shared.Compat.Classic;

namespace Ujumbe.Tests.Compat;

/// <summary>
/// What the gateway does with the classic API's credentials before it forwards a request: reads them wherever the
/// seed lets them travel, and takes every one of them out of the query string and the body, so the Api never
/// receives a password or a key.
/// </summary>
public sealed class ClassicCredentialTests
{
    private static HttpRequest Request(string path, string query, string? contentType = null, string body = "", string? apiKeyHeader = null)
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = "POST";
        request.Path = path;
        request.QueryString = new QueryString(query);
        var bytes = Encoding.UTF8.GetBytes(body);
        request.Body = new MemoryStream(bytes);
        request.ContentLength = bytes.Length;
        if (contentType is not null)
        {
            request.ContentType = contentType;
        }
        if (apiKeyHeader is not null)
        {
            request.Headers["X-API-Key"] = apiKeyHeader;
        }
        return request;
    }

    private static async Task<string> BodyAsync(HttpRequest request)
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }

    [Fact]
    public async Task Form_and_url_credentials_are_read_and_taken_out_of_both()
    {
        var request = Request("/compat/classic/v1/sms/send", "?username=owner%40example.com&x=1",
            "application/x-www-form-urlencoded", "numbers=0701234567&message_body=Hi+there&password=p%40ss+word&api_key=sk_other");
        var credential = await ClassicDialect.Instance.TakeCredentialAsync(request);

        Assert.Equal(new DialectCredential(DialectCredentialKind.Password, "owner@example.com", "p@ss word"), credential);
        Assert.Equal("?x=1", request.QueryString.Value);
        Assert.Equal("numbers=0701234567&message_body=Hi%20there", await BodyAsync(request));
        Assert.Equal<long?>(Encoding.UTF8.GetByteCount("numbers=0701234567&message_body=Hi%20there"), request.ContentLength);
    }

    [Fact]
    public async Task Json_body_credentials_are_read_and_the_body_is_written_again_without_them()
    {
        var request = Request("/compat/classic/api/generate-key", "", "application/json",
            """{"username": "owner@example.com", "password": "secret", "expiry_days": 3}""");
        var credential = await ClassicDialect.Instance.TakeCredentialAsync(request);

        Assert.Equal(DialectCredentialKind.Password, credential.Kind);
        Assert.Equal("secret", credential.Password);
        Assert.Equal("""{"expiry_days":3}""", await BodyAsync(request));
    }

    [Fact]
    public async Task A_key_route_takes_the_header_or_the_parameter_and_strips_any_password_too()
    {
        var request = Request("/compat/classic/api/v2/sms/send", "?password=leaked&numbers=0701234567", "application/json",
            """{"api_key": "sk_abc", "message_body": "Hi"}""", apiKeyHeader: "sk_abc");
        var credential = await ClassicDialect.Instance.TakeCredentialAsync(request);

        Assert.Equal(new DialectCredential(DialectCredentialKind.Secret, "sk_abc"), credential);
        Assert.Equal("?numbers=0701234567", request.QueryString.Value);
        Assert.Equal("""{"message_body":"Hi"}""", await BodyAsync(request));
    }

    [Theory]
    [InlineData("/compat/classic/v1/sms/send", "?username=a%40b.c", "username=a%40b.c&password=x", null)] // username twice
    [InlineData("/compat/classic/v1/sms/send", "?username=a%40b.c", "numbers=1", null)]                    // half a pair
    [InlineData("/compat/classic/api/v2/sms/send", "?api_key=sk_one", "", "sk_two")]                       // two different keys
    [InlineData("/compat/classic/api/revoke-key", "?api_key=sk_one&api_key=sk_one", "", null)]             // a parameter repeated
    public async Task Credentials_given_twice_or_by_half_are_invalid_never_guessed(string path, string query, string form, string? header)
    {
        var request = Request(path, query, "application/x-www-form-urlencoded", form, header);
        Assert.Equal(DialectCredentialKind.Invalid, (await ClassicDialect.Instance.TakeCredentialAsync(request)).Kind);
    }

    [Fact]
    public async Task The_public_pages_need_no_credential_and_one_sent_there_is_not_forwarded_either()
    {
        var request = Request("/compat/classic/api/v2/", "?api_key=sk_abc");
        Assert.Equal(DialectCredentialKind.None, (await ClassicDialect.Instance.TakeCredentialAsync(request)).Kind);
        Assert.Equal("", request.QueryString.Value ?? "");
    }
}
