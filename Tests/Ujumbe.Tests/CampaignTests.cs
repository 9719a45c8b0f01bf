using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ujumbe.Api.Messages;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Messaging;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Campaigns: audiences, personalisation, credits, skipping, live summaries; through the gateway.</summary>
public sealed class CampaignTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    private static async Task<string> ContactAsync(HttpClient client, object contact) =>
        (await (await client.PostAsJsonAsync("/v1/contacts", contact)).AssertJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;

    private static async Task<JsonElement> WaitForCompletedAsync(HttpClient client, string campaignId)
    {
        JsonElement campaign = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            campaign = await (await client.GetAsync($"/v1/campaigns/{campaignId}")).AssertJsonAsync();
            return campaign.GetProperty("status").GetString() == "completed";
        }, TimeSpan.FromSeconds(30), "the campaign completes");
        return campaign;
    }

    private static async Task<Dictionary<string, JsonElement>> MessagesAsync(HttpClient client, string batchId) =>
        (await (await client.GetAsync($"/v1/messages?batch_id={batchId}&page_size=100")).AssertJsonAsync())
            .GetProperty("data").EnumerateArray().ToDictionary(m => m.GetProperty("to").GetString()!);

    [Fact]
    public async Task A_segment_campaign_personalises_each_message_charges_per_rendered_text_and_skips_opt_outs()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 100));
        await ContactAsync(client, new { name = "Asha", phone_number = "+255713000001", tags = new[] { "club" }, attributes = new { city = "Moshi" } });
        var longName = "Bwana " + new string('M', 150);   // renders past 160 characters: two segments
        await ContactAsync(client, new { name = longName, phone_number = "+255713000002", tags = new[] { "club" }, attributes = new { city = "Tanga" } });
        await ContactAsync(client, new { name = "Juma", phone_number = "+255713000003", tags = new[] { "club" } });
        await ContactAsync(client, new { name = "Stopped", phone_number = "+255713000004", tags = new[] { "club" }, opted_out = true });
        await ContactAsync(client, new { name = "Not in it", phone_number = "+255713000005", tags = new[] { "other" } });
        var segment = await (await client.PostAsJsonAsync("/v1/segments", new { name = "Club", tags_any = new[] { "club" } })).AssertJsonAsync(HttpStatusCode.Created);

        var created = await (await client.PostAsJsonAsync("/v1/campaigns", new
        {
            name = "Club night", text = "Habari {{ name }}! Karibu {{attributes.city}}.", sender_id = "ujumbe",
            audience = new { segment_id = segment.GetProperty("id").GetString() },
        })).AssertJsonAsync(HttpStatusCode.Created);
        Assert.StartsWith("cmp_", created.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("sending", created.GetProperty("status").GetString());
        Assert.Equal(4, created.GetProperty("credits").GetInt64());   // 1 + 2 + 1
        var summary = created.GetProperty("summary");
        Assert.Equal(4, summary.GetProperty("total").GetInt32());
        Assert.Equal(3, summary.GetProperty("queued").GetInt32());
        Assert.Equal(1, summary.GetProperty("skipped").GetInt32());
        Assert.Equal(["+255713000004"], created.GetProperty("skipped_numbers").EnumerateArray().Select(n => n.GetString()));

        var done = await WaitForCompletedAsync(client, created.GetProperty("id").GetString()!);
        Assert.Equal(3, done.GetProperty("summary").GetProperty("delivered").GetInt32());
        Assert.Equal(0, done.GetProperty("summary").GetProperty("queued").GetInt32());
        Assert.Equal(1, done.GetProperty("summary").GetProperty("skipped").GetInt32());
        Assert.Equal("segment", done.GetProperty("audience").GetProperty("type").GetString());

        var messages = await MessagesAsync(client, created.GetProperty("batch_id").GetString()!);
        Assert.Equal(["+255713000001", "+255713000002", "+255713000003"], messages.Keys.Order());
        Assert.Equal("Habari Asha! Karibu Moshi.", messages["+255713000001"].GetProperty("text").GetString());
        Assert.Equal($"Habari {longName}! Karibu Tanga.", messages["+255713000002"].GetProperty("text").GetString());
        Assert.Equal(2, messages["+255713000002"].GetProperty("segments").GetInt32());
        Assert.Equal("Habari Juma! Karibu .", messages["+255713000003"].GetProperty("text").GetString());

        var balance = await SendingFixture.WaitForSettledBalanceAsync(client);
        Assert.Equal(96, balance.GetProperty("balance").GetInt64());
        var listed = await (await client.GetAsync("/v1/campaigns")).AssertJsonAsync();
        Assert.Equal(1, listed.GetProperty("total").GetInt32());
        Assert.Equal("Club night", listed.GetProperty("data")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Typed_in_numbers_are_personalised_when_they_are_contacts_and_picked_contacts_work_too()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 100));
        var neema = await ContactAsync(client, new { name = "Neema", phone_number = "+255713100001" });
        var baraka = await ContactAsync(client, new { name = "Baraka", phone_number = "+255713100002" });

        var typed = await (await client.PostAsJsonAsync("/v1/campaigns", new
        {
            name = "Typed", text = "Hi {{name}}", sender_id = "UJUMBE", audience = new { numbers = "0713 100 001, +255713100003;0713100001\n+255713100004" },
        })).AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal(3, typed.GetProperty("summary").GetProperty("total").GetInt32());   // the repeated number once
        await WaitForCompletedAsync(client, typed.GetProperty("id").GetString()!);
        var messages = await MessagesAsync(client, typed.GetProperty("batch_id").GetString()!);
        Assert.Equal("Hi Neema", messages["+255713100001"].GetProperty("text").GetString());
        Assert.Equal("Hi", messages["+255713100003"].GetProperty("text").GetString());   // not a contact: no name

        var picked = await (await client.PostAsJsonAsync("/v1/campaigns", new
        {
            name = "Picked", text = "Karibu {{name}}", sender_id = "UJUMBE", audience = new { contact_ids = new[] { neema, baraka } },
        })).AssertJsonAsync(HttpStatusCode.Created);
        await WaitForCompletedAsync(client, picked.GetProperty("id").GetString()!);
        messages = await MessagesAsync(client, picked.GetProperty("batch_id").GetString()!);
        Assert.Equal(["Karibu Baraka", "Karibu Neema"], messages.Values.Select(m => m.GetProperty("text").GetString()).Order());
    }

    [Fact]
    public async Task A_campaign_without_placeholders_is_charged_for_exactly_the_text_it_sends()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var text = new string('A', 160);   // one GSM segment; with the trailing space it would be two
        var created = await (await client.PostAsJsonAsync("/v1/campaigns", new
        {
            name = "Trailing space", text = text + " ", sender_id = "UJUMBE", audience = new { numbers = "+255713250001,+255713250002" },
        })).AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal(2, created.GetProperty("credits").GetInt64());
        var reserve = (await (await client.GetAsync("/v1/ledger")).AssertJsonAsync()).GetProperty("data").EnumerateArray()
            .Single(e => e.GetProperty("kind").GetString() == "reserve");
        Assert.Equal(2, reserve.GetProperty("reserved_change").GetInt64());

        await WaitForCompletedAsync(client, created.GetProperty("id").GetString()!);
        var messages = await MessagesAsync(client, created.GetProperty("batch_id").GetString()!);
        Assert.Equal(2, messages.Count);
        Assert.All(messages.Values, m =>
        {
            var sent = m.GetProperty("text").GetString()!;
            Assert.Equal(text, sent);
            Assert.Equal(SmsSegments.Measure(sent).Segments, m.GetProperty("segments").GetInt32());
            Assert.Equal(1, m.GetProperty("credits").GetInt32());
        });
        Assert.Equal(8, (await SendingFixture.WaitForSettledBalanceAsync(client)).GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task Typed_in_numbers_skip_both_opted_out_contacts_and_numbers_opted_out_without_a_contact()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        await ContactAsync(client, new { name = "Neema", phone_number = "+255713150001", opted_out = true });
        await (await client.PostAsJsonAsync("/v1/opt-outs", new { phone_number = "+255713150002" })).AssertJsonAsync();

        var created = await (await client.PostAsJsonAsync("/v1/campaigns", new
        {
            name = "Typed", text = "Hi {{name}}", sender_id = "UJUMBE", audience = new { numbers = "+255713150001, +255713150002, +255713150003" },
        })).AssertJsonAsync(HttpStatusCode.Created);

        Assert.Equal(["+255713150001", "+255713150002"], created.GetProperty("skipped_numbers").EnumerateArray().Select(n => n.GetString()));
        Assert.Equal(1, created.GetProperty("credits").GetInt64());
    }

    [Fact]
    public async Task A_campaign_is_accepted_whole_or_not_at_all()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 2));
        var problem = await (await client.PostAsJsonAsync("/v1/campaigns", new
        {
            name = "Too big", text = "Hello", sender_id = "UJUMBE", audience = new { numbers = "+255713200001,+255713200002,+255713200003" },
        })).AssertProblemAsync(HttpStatusCode.PaymentRequired, ErrorCodes.InsufficientBalance);
        Assert.Equal(3, problem.GetProperty("credits_required").GetInt64());
        Assert.Equal(0, (await (await client.GetAsync("/v1/campaigns")).AssertJsonAsync()).GetProperty("total").GetInt32());
        Assert.Equal(0, (await (await client.GetAsync("/v1/messages")).AssertJsonAsync()).GetProperty("total").GetInt32());
        var balance = await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
        Assert.Equal(2, balance.GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task Bad_campaigns_are_refused_with_reasons()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var unknown = await (await client.PostAsJsonAsync("/v1/campaigns", new
        {
            name = "Typo", text = "Hi {{nmae}}", sender_id = "UJUMBE", audience = new { numbers = "+255713300001" },
        })).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Contains("{{name}}", unknown.GetProperty("errors").GetProperty("text")[0].GetString(), StringComparison.Ordinal);

        var twoAudiences = await (await client.PostAsJsonAsync("/v1/campaigns", new
        {
            name = "Both", text = "Hi", sender_id = "UJUMBE", audience = new { numbers = "+255713300001", contact_ids = new[] { "con_x" } },
        })).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.True(twoAudiences.GetProperty("errors").TryGetProperty("audience", out _));

        await (await client.PostAsJsonAsync("/v1/campaigns", new { name = "Bad", text = "Hi", sender_id = "UJUMBE", audience = new { numbers = "12345, +255713300001" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.InvalidPhone);
        await (await client.PostAsJsonAsync("/v1/campaigns", new { name = "Nobody", text = "Hi", sender_id = "UJUMBE", audience = new { segment_id = "seg_01a200e98aa17f5faed83f005b5ca5db" } }))
            .AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        Assert.Equal(0, (await (await client.GetAsync("/v1/campaigns")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_campaigns_sending_fields_and_numbers_are_judged_as_a_sends_are()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        async Task<JsonElement> ErrorsAsync(string path, object body, string code) =>
            (await (await client.PostAsJsonAsync(path, body)).AssertProblemAsync(HttpStatusCode.BadRequest, code)).GetProperty("errors");

        var past = DateTimeOffset.UtcNow.AddDays(-1);
        var reference = new string('r', 256);
        foreach (var (sender, callback) in new[] { ("U!", "ftp://example.com/hook"), ("", "/relative") })
        {
            var send = await ErrorsAsync("/v1/messages",
                new { to = "+255713350001", text = "Hi", sender_id = sender, callback_url = callback, scheduled_at = past, reference }, ErrorCodes.ValidationFailed);
            var campaign = await ErrorsAsync("/v1/campaigns",
                new { name = "Bad", text = "Hi", sender_id = sender, callback_url = callback, scheduled_at = past, reference, audience = new { numbers = "+255713350001" } },
                ErrorCodes.ValidationFailed);
            foreach (var field in new[] { "sender_id", "callback_url", "scheduled_at", "reference" })
            {
                Assert.Equal(send.GetProperty(field).ToString(), campaign.GetProperty(field).ToString());
            }
        }

        var badNumbers = "+255713350001, 12345, 0713 350 002, 0713350002, +999";
        var sendPhones = await ErrorsAsync("/v1/messages", new { to = badNumbers, text = "Hi", sender_id = "UJUMBE" }, ErrorCodes.InvalidPhone);
        var campaignPhones = await ErrorsAsync("/v1/campaigns",
            new { name = "Bad", text = "Hi", sender_id = "UJUMBE", audience = new { numbers = badNumbers } }, ErrorCodes.InvalidPhone);
        Assert.Equal(2, sendPhones.GetProperty("to").GetArrayLength());
        Assert.Equal(sendPhones.GetProperty("to").ToString(), campaignPhones.GetProperty("audience.numbers").ToString());
        Assert.Equal(0, (await (await client.GetAsync("/v1/campaigns")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task A_scheduled_campaign_waits_and_shows_as_scheduled()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var created = await (await client.PostAsJsonAsync("/v1/campaigns", new
        {
            name = "Tomorrow", text = "Soon", sender_id = "UJUMBE", audience = new { numbers = "+255713400001" }, scheduled_at = DateTimeOffset.UtcNow.AddDays(1),
        })).AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal("scheduled", created.GetProperty("status").GetString());
        var read = await (await client.GetAsync($"/v1/campaigns/{created.GetProperty("id").GetString()}")).AssertJsonAsync();
        Assert.Equal("scheduled", read.GetProperty("status").GetString());
        Assert.Equal(1, read.GetProperty("summary").GetProperty("queued").GetInt32());
        Assert.Equal(1, (await (await client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("reserved").GetInt64());
    }

    [Fact]
    public async Task Another_accounts_segments_contacts_and_campaigns_are_not_found()
    {
        using var owner = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        using var stranger = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var contact = await ContactAsync(owner, new { name = "Mine", phone_number = "+255713500001", tags = new[] { "mine" } });
        var segment = (await (await owner.PostAsJsonAsync("/v1/segments", new { name = "Mine", tags_any = new[] { "mine" } })).AssertJsonAsync(HttpStatusCode.Created))
            .GetProperty("id").GetString();
        var campaign = (await (await owner.PostAsJsonAsync("/v1/campaigns", new { name = "Mine", text = "Hi", sender_id = "UJUMBE", audience = new { contact_ids = new[] { contact } } }))
            .AssertJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString();

        await (await stranger.PostAsJsonAsync("/v1/campaigns", new { name = "Steal", text = "Hi", sender_id = "UJUMBE", audience = new { segment_id = segment } }))
            .AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await stranger.PostAsJsonAsync("/v1/campaigns", new { name = "Steal", text = "Hi", sender_id = "UJUMBE", audience = new { contact_ids = new[] { contact } } }))
            .AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await stranger.GetAsync($"/v1/campaigns/{campaign}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        Assert.Equal(0, (await (await stranger.GetAsync("/v1/campaigns")).AssertJsonAsync()).GetProperty("total").GetInt32());
        Assert.Equal(0, (await (await stranger.GetAsync("/v1/messages")).AssertJsonAsync()).GetProperty("total").GetInt32());
        Assert.Equal(10, (await (await stranger.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("balance").GetInt64());
    }
}

/// <summary>The operators' content policy. Its own fixture (database): the rules apply platform-wide.</summary>
public sealed class ContentPolicyApiTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    [Fact]
    public async Task Blocked_categories_refuse_sends_and_campaigns_on_whole_words_ignoring_case_and_accents()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var rule = await (await admin.PostAsJsonAsync("/v1/admin/content-rules", new { category = "gambling", phrase = "  Bet   NOW! " })).AssertJsonAsync(HttpStatusCode.Created);
        Assert.Equal("bet now", rule.GetProperty("phrase").GetString());
        await (await admin.PostAsJsonAsync("/v1/admin/content-rules", new { category = "gambling", phrase = "casino" })).AssertJsonAsync(HttpStatusCode.Created);
        await (await admin.PostAsJsonAsync("/v1/admin/content-rules", new { category = "political", phrase = "kura" })).AssertJsonAsync(HttpStatusCode.Created);
        await (await admin.PostAsJsonAsync("/v1/admin/content-rules", new { category = "gambling", phrase = "bet now" })).AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);

        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 20));
        async Task<JsonElement> RefusedAsync(string text)
        {
            var problem = await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "+255713600001" }, text, sender_id = "UJUMBE" }))
                .AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.ContentRejected);
            return problem;
        }
        Assert.Equal("gambling", (await RefusedAsync("BET... now and win!")).GetProperty("category").GetString());
        Assert.Equal("gambling", (await RefusedAsync("Karibu CASÍNO yetu")).GetProperty("category").GetString());
        Assert.Equal("political", (await RefusedAsync("Piga kura leo")).GetProperty("category").GetString());
        // Not whole words: allowed (the Scunthorpe problem).
        foreach (var text in new[] { "Better now than never", "Alphabet now", "Casinos? No: casinofree zone", "Kurasa mpya" })
        {
            await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "+255713600001" }, text, sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);
        }

        await (await client.PostAsJsonAsync("/v1/campaigns", new { name = "Promo", text = "Bet now {{name}}", sender_id = "UJUMBE", audience = new { numbers = "+255713600002" } }))
            .AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.ContentRejected);
        // A contact's attribute can carry the phrase into the rendered text: refused too.
        await (await client.PostAsJsonAsync("/v1/contacts", new { name = "Player", phone_number = "+255713600003", attributes = new { offer = "casino bonus" } }))
            .AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostAsJsonAsync("/v1/campaigns", new { name = "Offer", text = "Your offer: {{attributes.offer}}", sender_id = "UJUMBE", audience = new { numbers = "+255713600003" } }))
            .AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.ContentRejected);
        Assert.Equal(0, (await (await client.GetAsync("/v1/campaigns")).AssertJsonAsync()).GetProperty("total").GetInt32());
        // What is judged is the text sent: "bet" and "now" around a placeholder are not the phrase "bet now"
        // ("betnow"), and "casino" glued to a name is not the word casino ("casinoPlayer").
        await (await client.PostAsJsonAsync("/v1/campaigns", new { name = "Glued", text = "bet{{name}}now", sender_id = "UJUMBE", audience = new { numbers = "+255713600004" } }))
            .AssertJsonAsync(HttpStatusCode.Created);
        await (await client.PostAsJsonAsync("/v1/campaigns", new { name = "Glued name", text = "casino{{name}}", sender_id = "UJUMBE", audience = new { numbers = "+255713600003" } }))
            .AssertJsonAsync(HttpStatusCode.Created);

        // Only operators keep the rules; removing one lifts it at once.
        await (await client.GetAsync("/v1/admin/content-rules")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/admin/content-rules/{rule.GetProperty("id").GetString()}")).StatusCode);
        await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "+255713600001" }, text = "Bet now", sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal(2, (await (await admin.GetAsync("/v1/admin/content-rules")).AssertJsonAsync()).GetProperty("total").GetInt32());
    }
}
