using System.Net;
using System.Net.Http.Json;
using System.Text;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>What a send is refused for, and that a refused send queues and charges nothing.</summary>
public sealed class SendRulesTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private async Task<(HttpClient Client, Func<Task> AssertNothingHappened)> FundedAsync(long credits = 50)
    {
        var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits));
        async Task Nothing()
        {
            var balance = await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
            Assert.Equal(credits, balance.GetProperty("available").GetInt64());
            Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
            var messages = await (await client.GetAsync("/v1/messages")).AssertJsonAsync();
            Assert.Equal(0, messages.GetProperty("total").GetInt32());
        }
        return (client, Nothing);
    }

    [Theory]
    [InlineData("{\"text\":\"hi\",\"sender_id\":\"UJUMBE\"}", "to")]
    [InlineData("{\"to\":[],\"text\":\"hi\",\"sender_id\":\"UJUMBE\"}", "to")]
    [InlineData("{\"to\":\"\",\"text\":\"hi\",\"sender_id\":\"UJUMBE\"}", "to")]
    [InlineData("{\"to\":[\"+255712345678\"],\"sender_id\":\"UJUMBE\"}", "text")]
    [InlineData("{\"to\":[\"+255712345678\"],\"text\":\"\",\"sender_id\":\"UJUMBE\"}", "text")]
    [InlineData("{\"to\":[\"+255712345678\"],\"text\":\"hi\"}", "sender_id")]
    [InlineData("{\"to\":[\"+255712345678\"],\"text\":\"hi\",\"sender_id\":\"AB\"}", "sender_id")]
    [InlineData("{\"to\":[\"+255712345678\"],\"text\":\"hi\",\"sender_id\":\"TOO-LONG-NAME\"}", "sender_id")]
    [InlineData("{\"to\":[\"+255712345678\"],\"text\":\"hi\",\"sender_id\":\"UJUMBE\",\"callback_url\":\"ftp://example.com/x\"}", "callback_url")]
    [InlineData("{\"to\":[\"+255712345678\"],\"text\":\"hi\",\"sender_id\":\"UJUMBE\",\"callback_url\":\"/relative\"}", "callback_url")]
    [InlineData("{\"to\":[\"+255712345678\"],\"text\":\"hi\",\"sender_id\":\"UJUMBE\",\"scheduled_at\":\"2001-01-01T00:00:00Z\"}", "scheduled_at")]
    [InlineData("{\"to\":[\"+255712345678\"],\"text\":\"hi\",\"sender_id\":\"UJUMBE\",\"scheduled_at\":\"2099-01-01T00:00:00Z\"}", "scheduled_at")]
    [InlineData("{\"to\":[\"+255712345678\"],\"text\":\"hi\",\"sender_id\":\"UJUMBE\",\"scheduled_at\":\"next tuesday\"}", "scheduled_at")]
    [InlineData("{\"to\":[255712345678],\"text\":\"hi\",\"sender_id\":\"UJUMBE\"}", "to")]
    [InlineData("{\"to\":{\"a\":1},\"text\":\"hi\",\"sender_id\":\"UJUMBE\"}", "to")]
    [InlineData("{\"to\":[\"+255712345678\"],\"text\":42,\"sender_id\":\"UJUMBE\"}", "text")]
    [InlineData("{\"to\":[\"+255712345678\"],\"text\":\"hi\",\"sender_id\":[\"UJUMBE\"]}", "sender_id")]
    public async Task Invalid_sends_get_field_errors_and_change_nothing(string body, string field)
    {
        var (client, nothingHappened) = await FundedAsync();
        var problem = await (await client.PostAsync("/v1/messages", Json(body))).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
        await nothingHappened();
    }

    [Fact]
    public async Task More_than_ten_thousand_recipients_are_refused()
    {
        var (client, nothingHappened) = await FundedAsync();
        var to = Enumerable.Range(0, 10_001).Select(i => $"+2557{i:D8}").ToArray();
        var problem = await (await client.PostAsJsonAsync("/v1/messages", new { to, text = "hi", sender_id = "UJUMBE" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Contains("10000", problem.GetProperty("errors").GetProperty("to")[0].GetString(), StringComparison.Ordinal);
        await nothingHappened();
    }

    [Fact]
    public async Task One_bad_number_refuses_the_whole_send_and_every_bad_one_is_listed()
    {
        var (client, nothingHappened) = await FundedAsync();
        var problem = await (await client.PostAsJsonAsync("/v1/messages",
            new { to = new[] { "+255712345678", "0712", "hello", "+255221234567" }, text = "hi", sender_id = "UJUMBE" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.InvalidPhone);
        var errors = problem.GetProperty("errors").GetProperty("to").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains("0712", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("hello", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("+255221234567", StringComparison.Ordinal));
        await nothingHappened();
    }

    [Fact]
    public async Task A_text_longer_than_the_accounts_segment_limit_is_refused()
    {
        var (client, nothingHappened) = await FundedAsync();
        var text = new string('a', 153 * 10 + 1); // 11 GSM-7 segments; the default limit is 10
        var problem = await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "+255712345678" }, text, sender_id = "UJUMBE" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.MessageTooLong);
        Assert.Contains("11", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await nothingHappened();

        var fits = await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "+255712345678" }, text = text[..^1], sender_id = "UJUMBE" }))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal(10, fits.GetProperty("segments").GetInt32());
        Assert.Equal(10, fits.GetProperty("credits").GetInt64());
    }

    [Fact]
    public async Task The_402_states_what_the_send_needs_without_its_opted_out_numbers()
    {
        var (client, nothingHappened) = await FundedAsync(credits: 3);
        await (await client.PostAsJsonAsync("/v1/opt-outs", new { phone_number = "+255712000003" })).AssertJsonAsync();
        var problem = await (await client.PostAsJsonAsync("/v1/messages",
            new { to = new[] { "+255712000001", "+255712000002", "+255712000003" }, text = new string('x', 161), sender_id = "UJUMBE" }))
            .AssertProblemAsync(HttpStatusCode.PaymentRequired, ErrorCodes.InsufficientBalance);
        Assert.Equal(4, problem.GetProperty("credits_required").GetInt64()); // 2 numbers x 2 segments
        Assert.Contains("needs 4 credits", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await nothingHappened();
    }

    [Fact]
    public async Task Credits_are_segments_times_unique_recipients_and_short_funds_get_402_with_nothing_queued()
    {
        var (client, nothingHappened) = await FundedAsync(credits: 5);
        var text = new string('x', 161); // 2 segments
        var problem = await (await client.PostAsJsonAsync("/v1/messages",
            new { to = new[] { "+255712000001", "+255712000002", "+255712000003" }, text, sender_id = "UJUMBE" }))
            .AssertProblemAsync(HttpStatusCode.PaymentRequired, ErrorCodes.InsufficientBalance);
        Assert.Equal(6, problem.GetProperty("credits_required").GetInt64());
        Assert.Equal(5, problem.GetProperty("credits_available").GetInt64());
        await nothingHappened();

        var quote = await (await client.PostAsJsonAsync("/v1/messages/quote",
            new { to = new[] { "+255712000001", "+255712000002" }, text, sender_id = "UJUMBE" })).AssertJsonAsync();
        Assert.Equal(2, quote.GetProperty("recipients").GetInt32());
        Assert.Equal(2, quote.GetProperty("segments").GetInt32());
        Assert.Equal(4, quote.GetProperty("credits").GetInt64());
        Assert.Equal(5, quote.GetProperty("balance").GetInt64());
        Assert.Equal(1, quote.GetProperty("balance_after").GetInt64());
        Assert.True(quote.GetProperty("sufficient").GetBoolean());
        await nothingHappened(); // a quote changes nothing
    }

    [Fact]
    public async Task A_sender_id_must_be_approved_for_the_account_before_use()
    {
        var (client, _) = await FundedAsync();
        var send = new { to = new[] { "+255712345678" }, text = "hi", sender_id = "duka" };
        await (await client.PostAsJsonAsync("/v1/messages", send)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.SenderIdNotApproved);

        var requested = await (await client.PostAsJsonAsync("/v1/sender-ids", new { name = "duka", purpose = "order updates" })).AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal("DUKA", requested.GetProperty("name").GetString());
        Assert.Equal("pending", requested.GetProperty("status").GetString());
        await (await client.PostAsJsonAsync("/v1/sender-ids", new { name = "DUKA", purpose = "again" })).AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        await (await client.PostAsJsonAsync("/v1/messages", send)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.SenderIdNotApproved);

        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var id = requested.GetProperty("id").GetString();
        var pending = await (await admin.GetAsync("/v1/admin/sender-ids?status=pending&page_size=100")).AssertJsonAsync();
        Assert.Contains(pending.GetProperty("data").EnumerateArray(), s => s.GetProperty("id").GetString() == id);
        await (await admin.PostAsync($"/v1/admin/sender-ids/{id}/approve", null)).AssertJsonAsync();
        await (await client.PostAsJsonAsync("/v1/messages", send)).AssertJsonAsync(HttpStatusCode.Accepted);

        // Approval is per account: another account cannot send as DUKA.
        var (other, _) = await FundedAsync();
        await (await other.PostAsJsonAsync("/v1/messages", send)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.SenderIdNotApproved);
    }

    [Fact]
    public async Task A_rejected_sender_id_carries_its_reason_and_can_be_asked_for_again()
    {
        var (client, _) = await FundedAsync();
        var requested = await (await client.PostAsJsonAsync("/v1/sender-ids", new { name = "PROMO1", purpose = "ads" })).AssertJsonAsync(HttpStatusCode.Created);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var id = requested.GetProperty("id").GetString();
        await (await admin.PostAsJsonAsync($"/v1/admin/sender-ids/{id}/reject", new { })).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await admin.PostAsJsonAsync($"/v1/admin/sender-ids/{id}/reject", new { reason = "Generic names are not allowed" })).AssertJsonAsync();

        var listed = await (await client.GetAsync("/v1/sender-ids")).AssertJsonAsync();
        var rejected = listed.GetProperty("data").EnumerateArray().Single(s => s.GetProperty("id").GetString() == id);
        Assert.Equal("rejected", rejected.GetProperty("status").GetString());
        Assert.Equal("Generic names are not allowed", rejected.GetProperty("rejection_reason").GetString());

        var again = await (await client.PostAsJsonAsync("/v1/sender-ids", new { name = "PROMO1", purpose = "order promotions for customers" })).AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal("pending", again.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Twenty_concurrent_sends_racing_for_ten_credits_leave_exactly_ten_accepted()
    {
        var (client, _) = await FundedAsync(credits: 10);
        var sends = Enumerable.Range(0, 20).Select(i => client.PostAsJsonAsync("/v1/messages",
            new { to = new[] { $"+2557120{i:D5}" }, text = "race", sender_id = "UJUMBE" }));
        var responses = await Task.WhenAll(sends);
        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.Accepted));
        Assert.Equal(10, responses.Count(r => r.StatusCode == HttpStatusCode.PaymentRequired));

        var balance = await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(0, balance.GetProperty("available").GetInt64());
        await AssertLedgerExplainsBalanceAsync(ujumbe, client);
        var batches = await ujumbe.Database.ScalarAsync<long>("select count(*) from batches where text = 'race'");
        Assert.Equal(10, batches);
    }

    [Fact]
    public async Task An_operator_adjusts_credits_up_and_down_to_what_is_available_and_the_ledger_says_why()
    {
        var (client, _) = await FundedAsync(credits: 20);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var accountId = (await (await client.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString();
        await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "+255712345678" }, text = new string('a', 200), sender_id = "UJUMBE", scheduled_at = DateTime.UtcNow.AddHours(1) }))
            .AssertJsonAsync(HttpStatusCode.Accepted); // 2 credits reserved

        var tooMuch = await (await admin.PostAsJsonAsync($"/v1/admin/accounts/{accountId}/credits", new { amount = -19, reason = "refund" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(tooMuch.GetProperty("errors").TryGetProperty("amount", out _));
        var down = await (await admin.PostAsJsonAsync($"/v1/admin/accounts/{accountId}/credits", new { amount = -18, reason = "refund of unused credits" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal("adjustment", down.GetProperty("kind").GetString());
        Assert.Equal(2, down.GetProperty("balance_after").GetInt64());
        Assert.Equal(0, down.GetProperty("available_after").GetInt64());
        await (await admin.PostAsJsonAsync($"/v1/admin/accounts/{accountId}/credits", new { amount = 0, reason = "x" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await admin.PostAsJsonAsync($"/v1/admin/accounts/{accountId}/credits", new { amount = 5 }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await client.PostAsJsonAsync($"/v1/admin/accounts/{accountId}/credits", new { amount = 1000, reason = "free money" }))
            .AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        var ledger = await (await client.GetAsync("/v1/ledger")).AssertJsonAsync();
        Assert.Equal("refund of unused credits", ledger.GetProperty("data")[0].GetProperty("reference").GetString());
        await AssertLedgerExplainsBalanceAsync(ujumbe, client);
    }

    /// <summary>
    /// The balance row equals the sum of the account's ledger entries (both figures), read in one
    /// statement so the Worker capturing meanwhile cannot make the check race.
    /// </summary>
    internal static async Task AssertLedgerExplainsBalanceAsync(UjumbeFixture ujumbe, HttpClient client)
    {
        var account = (await (await client.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString()!;
        var accountId = Guid.ParseExact(account["acct_".Length..], "N");
        var consistent = await ujumbe.Database.ScalarAsync<bool>("""
            select b.balance = (select coalesce(sum(amount), 0) from ledger_entries where account_id = b.account_id)
               and b.reserved = (select coalesce(sum(reserved_change), 0) from ledger_entries where account_id = b.account_id)
              from balances b where b.account_id = $1
            """, accountId);
        Assert.True(consistent, "the ledger sums to the balance and the reservations");
    }
}
