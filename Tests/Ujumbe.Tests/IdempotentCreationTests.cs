using System.Net;
using System.Net.Http.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// Idempotency-Key on the POSTs that create something besides sends (API.md "Conventions"): a retry after a
/// lost answer gets the first answer back instead of a second contact, campaign or credit adjustment.
/// </summary>
public sealed class IdempotentCreationTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    private static HttpRequestMessage Post(string path, string? key, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }
        return request;
    }

    private static async Task<long> ContactsWithAsync(HttpClient client, string phone) =>
        (await (await client.GetAsync($"/v1/contacts?q={Uri.EscapeDataString(phone)}")).AssertJsonAsync()).GetProperty("total").GetInt64();

    [Fact]
    public async Task A_repeated_creation_replays_the_first_answer_and_creates_one_contact()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var key = Guid.NewGuid().ToString();
        var body = new { name = "Asha", phone_number = "+255713000101" };

        var first = await client.SendAsync(Post("/v1/contacts", key, body));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        var again = await client.SendAsync(Post("/v1/contacts", key, body));

        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(await first.Content.ReadAsStringAsync(), await again.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, again.Headers.Location);
        Assert.Equal("application/json", again.Content.Headers.ContentType?.MediaType);
        Assert.Equal(1, await ContactsWithAsync(client, "+255713000101"));

        // Without a key the same request is a second attempt at creating it, and the duplicate is refused.
        await (await client.SendAsync(Post("/v1/contacts", null, body))).AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
    }

    [Fact]
    public async Task The_same_key_with_another_request_is_422_and_creates_nothing()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var key = Guid.NewGuid().ToString();
        await (await client.SendAsync(Post("/v1/contacts", key, new { name = "Baraka", phone_number = "+255713000111" }))).AssertJsonAsync(HttpStatusCode.Created);

        await (await client.SendAsync(Post("/v1/contacts", key, new { name = "Baraka", phone_number = "+255713000112" })))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, ErrorCodes.IdempotencyKeyReused);
        await (await client.SendAsync(Post("/v1/segments", key, new { name = "VIP", tags = new[] { "vip" } })))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, ErrorCodes.IdempotencyKeyReused);
        await (await client.SendAsync(Post("/v1/messages", key, new { to = new[] { "+255713000113" }, text = "hi", sender_id = "UJUMBE" })))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, ErrorCodes.IdempotencyKeyReused);

        Assert.Equal(0, await ContactsWithAsync(client, "+255713000112"));
        Assert.Equal(0, (await (await client.GetAsync("/v1/segments")).AssertJsonAsync()).GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task A_refused_request_gives_its_key_back_for_the_corrected_retry()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var key = Guid.NewGuid().ToString();
        await (await client.SendAsync(Post("/v1/contacts", key, new { name = "Baraka", phone_number = "not a number" })))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);

        await (await client.SendAsync(Post("/v1/contacts", key, new { name = "Baraka", phone_number = "+255713000121" }))).AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal(1, await ContactsWithAsync(client, "+255713000121"));
    }

    [Fact]
    public async Task Racing_retries_of_a_credit_adjustment_move_the_credits_once()
    {
        using var owner = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var accountId = (await (await owner.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString();
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var key = Guid.NewGuid().ToString();

        var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ =>
            admin.SendAsync(Post($"/v1/admin/accounts/{accountId}/credits", key, new { amount = 250, reason = "top-up paid by bank transfer" }))));

        // Each retry either gets the adjustment's answer (the first, or its replay) or hears it is still in flight.
        Assert.All(answers, answer => Assert.Contains(answer.StatusCode, new[] { HttpStatusCode.Created, HttpStatusCode.Conflict }));
        var created = answers.Where(a => a.StatusCode == HttpStatusCode.Created).ToList();
        Assert.NotEmpty(created);
        Assert.Single(created, a => !a.Headers.Contains("Idempotent-Replayed"));
        Assert.Single((await Task.WhenAll(created.Select(a => a.Content.ReadAsStringAsync()))).Distinct());
        var balance = await (await owner.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(250, balance.GetProperty("balance").GetInt64());
        var ledger = await (await owner.GetAsync("/v1/ledger")).AssertJsonAsync();
        Assert.Equal(1, ledger.GetProperty("total").GetInt64());
    }

    [Fact]
    public async Task Keys_belong_to_the_account_that_used_them()
    {
        using var first = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        using var second = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var key = Guid.NewGuid().ToString();
        var body = new { name = "Baraka", phone_number = "+255713000131" };

        await (await first.SendAsync(Post("/v1/contacts", key, body))).AssertJsonAsync(HttpStatusCode.Created);
        var other = await second.SendAsync(Post("/v1/contacts", key, body));

        await other.AssertJsonAsync(HttpStatusCode.Created);
        Assert.False(other.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(1, await ContactsWithAsync(second, "+255713000131"));
    }

    [Fact]
    public async Task A_malformed_key_is_refused_before_anything_is_created()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var problem = await (await client.SendAsync(Post("/v1/contacts", new string('k', 256), new { name = "Baraka", phone_number = "+255713000141" })))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(problem.GetProperty("errors").TryGetProperty("Idempotency-Key", out _));
        Assert.Equal(0, await ContactsWithAsync(client, "+255713000141"));
    }

    [Fact]
    public async Task A_key_held_by_a_request_that_never_answered_is_in_flight_then_taken_over_after_five_minutes()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var name = (await (await client.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("name").GetString()!;
        var accountId = await ujumbe.Database.ScalarAsync<Guid>("select id from accounts where name = $1", name);
        var key = Guid.NewGuid().ToString();
        var body = new { name = "Baraka", phone_number = "+255713000151" };
        // What a crash between doing the work and recording its answer leaves: a claim with no answer.
        await ujumbe.Database.ExecuteAsync(
            "insert into idempotency_keys (account_id, key, request_hash, created_at) values ($1, $2, '\\x00'::bytea, now() - interval '1 minute')",
            accountId, key);

        await (await client.SendAsync(Post("/v1/contacts", key, body))).AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        await ujumbe.Database.ExecuteAsync("update idempotency_keys set created_at = now() - interval '6 minutes' where key = $1", key);
        await (await client.SendAsync(Post("/v1/contacts", key, body))).AssertJsonAsync(HttpStatusCode.Created);
    }
}
