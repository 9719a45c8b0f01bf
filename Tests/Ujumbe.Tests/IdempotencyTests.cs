using System.Net;
using System.Net.Http.Json;
using Ujumbe.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Ujumbe.Tests.Infrastructure;
using Ujumbe.Worker.Housekeeping;

namespace Ujumbe.Tests;

/// <summary>An Idempotency-Key makes a send safe to retry: one batch and one charge, whatever the network does.</summary>
public sealed class IdempotencyTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    private static HttpRequestMessage Send(string key, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return request;
    }

    [Fact]
    public async Task Keys_past_their_24_hours_are_deleted_with_their_stored_answers()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var (fresh, old) = (Guid.NewGuid().ToString(), Guid.NewGuid().ToString());
        foreach (var key in new[] { fresh, old })
        {
            Assert.Equal(HttpStatusCode.Accepted, (await client.SendAsync(Send(key, new { to = new[] { "+255712000012" }, text = key, sender_id = "UJUMBE" }))).StatusCode);
        }
        await ujumbe.Database.ExecuteAsync("update idempotency_keys set created_at = now() - interval '24 hours 1 minute' where key = $1", old);

        var sweeper = ujumbe.Worker.Services.GetServices<IHostedService>().OfType<ExpiredRowsSweeper>().Single();
        Assert.True(await sweeper.SweepAsync(CancellationToken.None) >= 1);

        Assert.Equal(0L, await ujumbe.Database.ScalarAsync<long>("select count(*) from idempotency_keys where key = $1", old));
        Assert.Equal(1L, await ujumbe.Database.ScalarAsync<long>("select count(*) from idempotency_keys where key = $1 and response_body is not null", fresh));
    }

    [Fact]
    public async Task Failed_sign_ins_idle_for_a_day_are_forgotten_unless_locked()
    {
        var (idle, locked, recent) = ($"idle-{Guid.NewGuid():N}", $"locked-{Guid.NewGuid():N}", $"recent-{Guid.NewGuid():N}");
        await ujumbe.Database.ExecuteAsync("""
            insert into sign_in_failures (email, failures, last_failure_at, locked_until) values
                ($1, 2, now() - interval '25 hours', null),
                ($2, 0, now() - interval '25 hours', now() + interval '1 hour'),
                ($3, 2, now() - interval '1 hour', null)
            """, idle, locked, recent);
        await ujumbe.Database.ExecuteAsync("""
            insert into login_failures (client_ip, failures, window_start, locked_until) values
                ($1, 3, now() - interval '25 hours', null), ($2, 3, now() - interval '1 hour', null)
            """, idle, recent);

        var sweeper = ujumbe.Worker.Services.GetServices<IHostedService>().OfType<ExpiredRowsSweeper>().Single();
        await sweeper.SweepAsync(CancellationToken.None);

        Assert.Equal([locked, recent], (await ReadColumnAsync("select email from sign_in_failures where email = any($1) order by email", [idle, locked, recent])).Order());
        Assert.Equal([recent], await ReadColumnAsync("select client_ip from login_failures where client_ip = any($1)", [idle, recent]));
    }

    private async Task<List<string>> ReadColumnAsync(string sql, string[] values)
    {
        await using var connection = await ujumbe.Database.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        command.Parameters.Add(new() { Value = values });
        var read = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            read.Add(reader.GetString(0));
        }
        return read;
    }

    [Fact]
    public async Task The_same_key_and_body_replays_the_original_answer_and_charges_once()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var key = Guid.NewGuid().ToString();
        var body = new { to = new[] { "+255712000010", "+255712000011" }, text = "once only", sender_id = "UJUMBE" };

        var first = await client.SendAsync(Send(key, body));
        var original = await first.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));

        // Same meaning, different spelling: a comma-separated string and national numbers.
        var again = await client.SendAsync(Send(key, new { to = "0712000010,0712000011", text = "once only", sender_id = "ujumbe" }));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(original, await again.Content.ReadAsStringAsync());

        var balance = await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(8, balance.GetProperty("available").GetInt64());
        var messages = await (await client.GetAsync("/v1/messages")).AssertJsonAsync();
        Assert.Equal(2, messages.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task The_same_key_with_a_different_body_is_422()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var key = Guid.NewGuid().ToString();
        await (await client.SendAsync(Send(key, new { to = new[] { "+255712000020" }, text = "first", sender_id = "UJUMBE" })))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        await (await client.SendAsync(Send(key, new { to = new[] { "+255712000020" }, text = "second", sender_id = "UJUMBE" })))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, ErrorCodes.IdempotencyKeyReused);
        var balance = await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(9, balance.GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task Concurrent_duplicates_make_exactly_one_batch()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var key = Guid.NewGuid().ToString();
        var body = new { to = new[] { "+255712000030" }, text = "concurrent", sender_id = "UJUMBE" };
        var responses = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ => client.SendAsync(Send(key, body))));

        var accepted = responses.Where(r => r.StatusCode == HttpStatusCode.Accepted).ToList();
        Assert.All(responses, r => Assert.True(r.StatusCode is HttpStatusCode.Accepted or HttpStatusCode.Conflict, r.StatusCode.ToString()));
        var batchIds = new HashSet<string>();
        foreach (var response in accepted)
        {
            batchIds.Add((await response.AssertJsonAsync(HttpStatusCode.Accepted)).GetProperty("batch_id").GetString()!);
        }
        Assert.Single(batchIds);
        Assert.Single(accepted, r => !r.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(1L, await ujumbe.Database.ScalarAsync<long>("select count(*) from batches where text = 'concurrent'"));
    }

    [Fact]
    public async Task A_key_whose_send_was_refused_for_funds_can_succeed_after_a_top_up()
    {
        var secret = await ujumbe.OpenFundedAccountAsync(credits: 0);
        using var client = ujumbe.Client(secret);
        var key = Guid.NewGuid().ToString();
        var body = new { to = new[] { "+255712000040" }, text = "after top-up", sender_id = "UJUMBE" };
        await (await client.SendAsync(Send(key, body))).AssertProblemAsync(HttpStatusCode.PaymentRequired, ErrorCodes.InsufficientBalance);

        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var accountId = (await (await client.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString();
        await (await admin.PostAsJsonAsync($"/v1/admin/accounts/{accountId}/credits", new { amount = 1, reason = "top-up" })).AssertJsonAsync(HttpStatusCode.Created);
        var accepted = await client.SendAsync(Send(key, body));
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.False(accepted.Headers.Contains("Idempotent-Replayed"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("ключ")]
    public async Task A_malformed_key_is_refused(string key)
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 1));
        using var utf8 = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 })
        {
            BaseAddress = client.BaseAddress,
        };
        utf8.DefaultRequestHeaders.Authorization = client.DefaultRequestHeaders.Authorization;
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/messages")
        {
            Content = JsonContent.Create(new { to = new[] { "+255712000050" }, text = "x", sender_id = "UJUMBE" }),
        };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        var response = await utf8.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task A_key_longer_than_255_characters_is_refused()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 1));
        var problem = await (await client.SendAsync(Send(new string('k', 256), new { to = new[] { "+255712000060" }, text = "x", sender_id = "UJUMBE" })))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(problem.GetProperty("errors").TryGetProperty("Idempotency-Key", out _));
    }
}
