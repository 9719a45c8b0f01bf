using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Each message records its recipient's country and mobile operator; the list filters by them.</summary>
public sealed class MessageOriginTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    private static async Task<Dictionary<string, JsonElement>> SendAsync(HttpClient client, string[] to, DateTimeOffset? scheduledAt = null)
    {
        var accepted = await (await client.PostAsJsonAsync("/v1/messages",
            new { to, text = "Habari", sender_id = "UJUMBE", scheduled_at = scheduledAt })).AssertJsonAsync(HttpStatusCode.Accepted);
        var byNumber = new Dictionary<string, JsonElement>();
        foreach (var message in accepted.GetProperty("messages").EnumerateArray())
        {
            var read = await (await client.GetAsync($"/v1/messages/{message.GetProperty("id").GetString()}")).AssertJsonAsync();
            byNumber[read.GetProperty("to").GetString()!] = read;
        }
        return byNumber;
    }

    private static string? Text(JsonElement message, string field) =>
        message.GetProperty(field).ValueKind == JsonValueKind.Null ? null : message.GetProperty(field).GetString();

    [Fact]
    public async Task A_message_shows_the_country_and_operator_of_its_number()
    {
        var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(100));

        var messages = await SendAsync(client, ["+255712345678", "0754123456", "+254712345678", "+27821234567", "+12015550123"]);

        Assert.Equal(("TZ", "Yas"), (Text(messages["+255712345678"], "country"), Text(messages["+255712345678"], "operator")));
        Assert.Equal(("TZ", "Vodacom"), (Text(messages["+255754123456"], "country"), Text(messages["+255754123456"], "operator")));
        Assert.Equal(("KE", "Safaricom"), (Text(messages["+254712345678"], "country"), Text(messages["+254712345678"], "operator")));
        Assert.Equal(("ZA", "Vodacom"), (Text(messages["+27821234567"], "country"), Text(messages["+27821234567"], "operator")));
        // The carrier data has no operators for the North American plan: the country alone.
        Assert.Equal(("US", null), (Text(messages["+12015550123"], "country"), Text(messages["+12015550123"], "operator")));
    }

    [Fact]
    public async Task A_large_send_written_by_COPY_and_a_scheduled_one_record_them_too()
    {
        var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(5_000));
        // Over the writer's COPY threshold (2,000 messages in a group).
        var to = Enumerable.Range(0, 2_500).Select(i => $"+25575{1_000_000 + i}").ToArray();
        var accepted = await (await client.PostAsJsonAsync("/v1/messages", new { to, text = "Habari", sender_id = "UJUMBE" }))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        var batch = accepted.GetProperty("batch_id").GetString();
        var vodacom = await (await client.GetAsync($"/v1/messages?batch_id={batch}&country=TZ&operator=vodacom&page_size=1")).AssertJsonAsync();
        Assert.Equal(2_500, vodacom.GetProperty("total").GetInt32());

        var scheduled = await SendAsync(client, ["+256772123456"], DateTimeOffset.UtcNow.AddDays(1));
        Assert.Equal(("UG", "MTN"), (Text(scheduled["+256772123456"], "country"), Text(scheduled["+256772123456"], "operator")));
    }

    [Fact]
    public async Task The_list_filters_by_country_and_operator()
    {
        var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(100));
        await SendAsync(client, ["+255712345678", "+255754123456", "+255684123456", "+254712345678", "+27821234567"]);

        async Task<string[]> ListAsync(string query)
        {
            var page = await (await client.GetAsync("/v1/messages?" + query)).AssertJsonAsync();
            return [.. page.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("to").GetString()!).Order()];
        }

        Assert.Equal(["+255684123456", "+255712345678", "+255754123456"], await ListAsync("country=TZ"));
        Assert.Equal(["+255684123456", "+255712345678", "+255754123456"], await ListAsync("country=tz"));
        Assert.Equal(["+255754123456", "+27821234567"], await ListAsync("operator=Vodacom"));
        Assert.Equal(["+255754123456"], await ListAsync("country=TZ&operator=VODACOM"));
        Assert.Equal(["+255684123456"], await ListAsync("operator=Airtel"));
        Assert.Empty(await ListAsync("country=GB"));
        Assert.Empty(await ListAsync("operator=Voda%25"));   // a % is a character, not a wildcard
    }

    [Theory]
    [InlineData("country=XX", "country")]
    [InlineData("country=Tanzania", "country")]
    [InlineData("country=", "country")]
    [InlineData("operator=", "operator")]
    public async Task A_bad_filter_is_a_validation_error(string query, string field)
    {
        var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(10));
        var problem = await (await client.GetAsync("/v1/messages?" + query)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
    }

    [Fact]
    public async Task An_operator_name_longer_than_any_is_a_validation_error()
    {
        var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(10));
        var problem = await (await client.GetAsync("/v1/messages?operator=" + new string('a', 101))).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(problem.GetProperty("errors").TryGetProperty("operator", out _));
    }
}
