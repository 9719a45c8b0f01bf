using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Contacts, opt-outs, CSV import and segments, through the gateway.</summary>
public sealed class ContactsTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    private static async Task<JsonElement> CreateAsync(HttpClient client, object contact) =>
        await (await client.PostAsJsonAsync("/v1/contacts", contact)).AssertJsonAsync(HttpStatusCode.Created);

    private static async Task<JsonElement> SearchAsync(HttpClient client, string query) =>
        await (await client.GetAsync("/v1/contacts" + query)).AssertJsonAsync();

    private static string[] Phones(JsonElement page) =>
        [.. page.GetProperty("data").EnumerateArray().Select(c => c.GetProperty("phone_number").GetString()!)];

    private static async Task<JsonElement> ImportAsync(HttpClient client, string csv, HttpStatusCode expected = HttpStatusCode.OK) =>
        await (await client.PostAsync("/v1/contacts/import", new StringContent(csv, Encoding.UTF8, "text/csv"))).AssertJsonAsync(expected);

    [Fact]
    public async Task A_contact_is_created_read_updated_and_deleted_with_its_number_in_E164()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var created = await CreateAsync(client, new
        {
            name = "Amina Hassan", phone_number = "0712 345 678", email = "amina@example.com", tags = new[] { "VIP", " customers ", "vip" },
            attributes = new { city = "Arusha", visits = 3, member = true },
        });
        var id = created.GetProperty("id").GetString()!;
        Assert.StartsWith("con_", id, StringComparison.Ordinal);
        Assert.Equal("+255712345678", created.GetProperty("phone_number").GetString());
        Assert.Equal(["customers", "vip"], created.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("Arusha", created.GetProperty("attributes").GetProperty("city").GetString());
        Assert.Equal(3, created.GetProperty("attributes").GetProperty("visits").GetInt32());
        Assert.False(created.GetProperty("opted_out").GetBoolean());

        var read = await (await client.GetAsync($"/v1/contacts/{id}")).AssertJsonAsync();
        Assert.Equal("Amina Hassan", read.GetProperty("name").GetString());

        var updated = await (await client.PutAsJsonAsync($"/v1/contacts/{id}", new { name = "Amina H.", phone_number = "+255 712 345 679", tags = new[] { "lead" } }))
            .AssertJsonAsync();
        Assert.Equal("+255712345679", updated.GetProperty("phone_number").GetString());
        Assert.Equal(JsonValueKind.Null, updated.GetProperty("email").ValueKind);   // replaced: not given, so cleared
        Assert.Equal(["lead"], updated.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/v1/contacts/{id}")).StatusCode);
        await (await client.GetAsync($"/v1/contacts/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }

    [Fact]
    public async Task A_number_is_unique_per_account_in_any_format()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        await CreateAsync(client, new { name = "First", phone_number = "+255712000001" });
        var problem = await (await client.PostAsJsonAsync("/v1/contacts", new { name = "Second", phone_number = "0712 000 001" }))
            .AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        Assert.Contains("+255712000001", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var other = await CreateAsync(client, new { name = "Other", phone_number = "+255712000002" });
        await (await client.PutAsJsonAsync($"/v1/contacts/{other.GetProperty("id").GetString()}", new { name = "Other", phone_number = "0712000001" }))
            .AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);

        // Another account may have the same number.
        using var stranger = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        await CreateAsync(stranger, new { name = "Same number", phone_number = "+255712000001" });
    }

    [Fact]
    public async Task Bad_fields_are_refused_together_with_reasons()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var problem = await (await client.PostAsJsonAsync("/v1/contacts", new
        {
            phone_number = "12345", email = "not-an-email", tags = new[] { new string('t', 51) }, attributes = new { nested = new { x = 1 } },
        })).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var errors = problem.GetProperty("errors");
        foreach (var field in new[] { "name", "phone_number", "email", "tags", "attributes" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"{field} is reported: {errors}");
        }
        Assert.Equal(0, (await SearchAsync(client, "")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Search_finds_by_name_email_or_number_and_filters_by_tag_with_pages()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        await CreateAsync(client, new { name = "Baraka Mwangi", phone_number = "+255712100001", email = "baraka@shop.co.tz", tags = new[] { "retail" } });
        await CreateAsync(client, new { name = "Neema Baraka", phone_number = "+255712100002", tags = new[] { "retail", "vip" } });
        await CreateAsync(client, new { name = "Juma 100%", phone_number = "+255712100003", email = "juma@farm.co.tz", tags = new[] { "farm" } });

        Assert.Equal(["+255712100002", "+255712100001"], Phones(await SearchAsync(client, "?q=BARAKA")));   // newest first
        Assert.Equal(["+255712100003"], Phones(await SearchAsync(client, "?q=farm.co")));
        Assert.Equal(["+255712100002"], Phones(await SearchAsync(client, "?q=0712%20100%20002")));           // a number, as typed locally
        Assert.Equal(["+255712100003"], Phones(await SearchAsync(client, "?q=100%25")));                    // % is a character, not a wildcard
        Assert.Empty(Phones(await SearchAsync(client, "?q=xyz")));
        Assert.Equal(["+255712100002"], Phones(await SearchAsync(client, "?q=baraka&tag=VIP")));
        Assert.Equal(2, (await SearchAsync(client, "?tag=retail")).GetProperty("total").GetInt32());

        var firstPage = await SearchAsync(client, "?page_size=2");
        Assert.Equal(3, firstPage.GetProperty("total").GetInt32());
        Assert.True(firstPage.GetProperty("total_exact").GetBoolean());
        Assert.Equal(2, firstPage.GetProperty("data").GetArrayLength());
        Assert.Equal(["+255712100001"], Phones(await SearchAsync(client, "?page=2&page_size=2")));
    }

    [Fact]
    public async Task Another_accounts_contacts_cannot_be_read_changed_searched_or_opted_out()
    {
        using var owner = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        using var stranger = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var id = (await CreateAsync(owner, new { name = "Private Person", phone_number = "+255712200001", tags = new[] { "secret" } })).GetProperty("id").GetString()!;

        await (await stranger.GetAsync($"/v1/contacts/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await stranger.PutAsJsonAsync($"/v1/contacts/{id}", new { name = "Taken", phone_number = "+255712200009" })).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await stranger.DeleteAsync($"/v1/contacts/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await stranger.PostAsync($"/v1/contacts/{id}/opt-out", null)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        Assert.Empty(Phones(await SearchAsync(stranger, "?q=private")));
        Assert.Empty(Phones(await SearchAsync(stranger, "?tag=secret")));
        Assert.Empty(Phones(await SearchAsync(stranger, "?q=0712200001")));

        var segment = await (await owner.PostAsJsonAsync("/v1/segments", new { name = "Secret", tags_any = new[] { "secret" } })).AssertJsonAsync(HttpStatusCode.Created);
        var segmentId = segment.GetProperty("id").GetString()!;
        await (await stranger.GetAsync($"/v1/segments/{segmentId}/contacts")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await stranger.PutAsJsonAsync($"/v1/segments/{segmentId}", new { name = "Mine now" })).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        // A stranger's own segment over the same tag finds none of the owner's contacts.
        var strangers = await (await stranger.PostAsJsonAsync("/v1/segments", new { name = "Fishing", tags_any = new[] { "secret" } })).AssertJsonAsync(HttpStatusCode.Created);
        Assert.Empty(Phones(await (await stranger.GetAsync($"/v1/segments/{strangers.GetProperty("id").GetString()}/contacts")).AssertJsonAsync()));

        var read = await (await owner.GetAsync($"/v1/contacts/{id}")).AssertJsonAsync();
        Assert.Equal("Private Person", read.GetProperty("name").GetString());
        Assert.False(read.GetProperty("opted_out").GetBoolean());
    }

    [Fact]
    public async Task An_opt_out_written_at_the_same_time_as_another_for_the_same_number_is_not_an_error()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var first = (await CreateAsync(client, new { name = "First", phone_number = "+255712250001" })).GetProperty("id").GetString()!;
        var second = (await CreateAsync(client, new { name = "Second", phone_number = "+255712250002" })).GetProperty("id").GetString()!;
        var accountId = await ujumbe.Database.ScalarAsync<Guid>("select account_id from contacts where phone = '+255712250001'");

        // An inbound STOP for each number is being recorded, not yet committed, when the API's opt-outs arrive.
        await using var stop = await ujumbe.Database.OpenAsync();
        await using var transaction = await stop.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("""
            insert into opt_outs (account_id, phone, source, created_at)
            select $1, phone, 'inbound STOP', now() from unnest(array['+255712250001', '+255712250002', '+255712250003']) as phone
            """, stop, transaction))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = accountId });
            await insert.ExecuteNonQueryAsync();
        }
        var byAction = client.PostAsync($"/v1/contacts/{first}/opt-out", null);
        var byUpdate = client.PutAsJsonAsync($"/v1/contacts/{second}", new { name = "Second", phone_number = "+255712250002", opted_out = true });
        var byCreate = client.PostAsJsonAsync("/v1/contacts", new { name = "Third", phone_number = "+255712250003", opted_out = true });
        await HttpAssertions.EventuallyAsync(
            async () => await ujumbe.Database.ScalarAsync<long>("select count(*) from pg_stat_activity where $1 = any(pg_blocking_pids(pid))", stop.ProcessID) == 3,
            because: "the three opt-outs wait for the uncommitted ones");
        await transaction.CommitAsync();

        Assert.True((await (await byAction).AssertJsonAsync()).GetProperty("opted_out").GetBoolean());
        Assert.True((await (await byUpdate).AssertJsonAsync()).GetProperty("opted_out").GetBoolean());
        Assert.True((await (await byCreate).AssertJsonAsync(HttpStatusCode.Created)).GetProperty("opted_out").GetBoolean());
        var optOuts = (await (await client.GetAsync("/v1/opt-outs")).AssertJsonAsync()).GetProperty("data").EnumerateArray().ToList();
        Assert.Equal(3, optOuts.Count);
        Assert.All(optOuts, o => Assert.Equal("inbound STOP", o.GetProperty("source").GetString()));   // the first record stays
    }

    [Fact]
    public async Task Sends_skip_numbers_that_opted_out_and_do_not_charge_for_them()
    {
        var key = await ujumbe.OpenFundedAccountAsync(credits: 10);
        using var client = ujumbe.Client(key);
        var contact = await CreateAsync(client, new { name = "Stop Me", phone_number = "+255712300001" });
        var optedOut = await (await client.PostAsync($"/v1/contacts/{contact.GetProperty("id").GetString()}/opt-out", null)).AssertJsonAsync();
        Assert.True(optedOut.GetProperty("opted_out").GetBoolean());
        // An inbound STOP from a number that is not a contact.
        var byNumber = await (await client.PostAsJsonAsync("/v1/opt-outs", new { phone_number = "0712 300 002", source = "inbound STOP" })).AssertJsonAsync();
        Assert.Equal("+255712300002", byNumber.GetProperty("phone_number").GetString());

        var accepted = await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "+255712300001", "+255712300002", "+255712300003" }, text = "Offer", sender_id = "UJUMBE" }))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        Assert.Equal(1, accepted.GetProperty("recipients").GetInt32());
        Assert.Equal(1, accepted.GetProperty("credits").GetInt64());
        Assert.Equal(["+255712300003"], accepted.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("to").GetString()));
        Assert.Equal(["+255712300001", "+255712300002"], accepted.GetProperty("skipped").EnumerateArray().Select(s => s.GetProperty("to").GetString()).Order());
        Assert.All(accepted.GetProperty("skipped").EnumerateArray(), s => Assert.Equal("opted_out", s.GetProperty("reason").GetString()));

        await SendingFixture.WaitForFinalizedAsync(client, accepted.GetProperty("batch_id").GetString()!);
        var balance = await SendingFixture.WaitForSettledBalanceAsync(client);
        Assert.Equal(9, balance.GetProperty("balance").GetInt64());
        var messages = await (await client.GetAsync("/v1/messages?to=%2B255712300001")).AssertJsonAsync();
        Assert.Equal(0, messages.GetProperty("total").GetInt32());

        await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "+255712300001" }, text = "Offer", sender_id = "UJUMBE" }))
            .AssertProblemAsync(HttpStatusCode.UnprocessableEntity, ErrorCodes.AllRecipientsOptedOut);

        // Opting back in makes the number reachable again.
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/v1/opt-outs/%2B255712300002")).StatusCode);
        var again = await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "+255712300002" }, text = "Welcome back", sender_id = "UJUMBE" }))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        Assert.Empty(again.GetProperty("skipped").EnumerateArray());
    }

    [Fact]
    public async Task A_number_that_opts_out_after_a_send_was_scheduled_is_not_messaged_and_its_credits_come_back()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 5));
        var accepted = await (await client.PostAsJsonAsync("/v1/messages", new
        {
            to = new[] { "+255712400001", "+255712400002" }, text = "Later", sender_id = "UJUMBE", scheduled_at = DateTimeOffset.UtcNow.AddSeconds(2),
        })).AssertJsonAsync(HttpStatusCode.Accepted);
        await (await client.PostAsJsonAsync("/v1/opt-outs", new { phone_number = "+255712400001" })).AssertJsonAsync();

        var report = await SendingFixture.WaitForFinalizedAsync(client, accepted.GetProperty("batch_id").GetString()!);
        var messages = await (await client.GetAsync($"/v1/messages?batch_id={accepted.GetProperty("batch_id").GetString()}")).AssertJsonAsync();
        var optedOut = messages.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("to").GetString() == "+255712400001");
        Assert.Equal("canceled", optedOut.GetProperty("status").GetString());
        Assert.Equal("OPTED_OUT", optedOut.GetProperty("error_code").GetString());
        Assert.Equal("delivered", messages.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("to").GetString() == "+255712400002").GetProperty("status").GetString());
        Assert.Equal("finalized", report.GetProperty("status").GetString());
        var balance = await SendingFixture.WaitForSettledBalanceAsync(client);
        Assert.Equal(4, balance.GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task A_csv_import_upserts_by_number_and_reports_bad_rows_by_line()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var csv = "\uFEFFName,Phone,Email,Tags,City,opted_out\r\n"
            + "\"Mwangi, Baraka\",0712500001,baraka@example.com,vip;retail,Arusha,\r\n"
            + "\r\n"
            + "Neema,+255712500002,,retail,\"Dar es Salaam\",no\r\n"
            + "Broken,12345,,,,\r\n"
            + "Bad Email,0712500003,not-an-email,,,\r\n"
            + "Too,Many,Fields,Here,And,More,Extra\r\n"
            + "Stopper,0712500004,,,,yes\r\n"
            + "Neema Again,0712500002,,new,,\r\n";
        var report = await ImportAsync(client, csv);
        Assert.Equal(7, report.GetProperty("rows").GetInt32());
        Assert.Equal(3, report.GetProperty("created").GetInt32());
        Assert.Equal(0, report.GetProperty("updated").GetInt32());
        Assert.Equal(1, report.GetProperty("opted_out").GetInt32());
        var errors = report.GetProperty("errors").EnumerateArray().ToDictionary(e => e.GetProperty("row").GetInt32(), e => e.GetProperty("error").GetString()!);
        Assert.Equal([4, 5, 6, 7], errors.Keys.Order());
        Assert.Contains("phone_number", errors[5], StringComparison.Ordinal);
        Assert.Contains("email", errors[6], StringComparison.Ordinal);
        Assert.Contains("fields", errors[7], StringComparison.Ordinal);
        Assert.Contains("row 9", errors[4], StringComparison.Ordinal);   // the same number again later: the later row wins

        var baraka = (await SearchAsync(client, "?q=0712500001")).GetProperty("data")[0];
        Assert.Equal("Mwangi, Baraka", baraka.GetProperty("name").GetString());
        Assert.Equal(["retail", "vip"], baraka.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("Arusha", baraka.GetProperty("attributes").GetProperty("City").GetString());
        var neema = (await SearchAsync(client, "?q=0712500002")).GetProperty("data")[0];
        Assert.Equal("Neema Again", neema.GetProperty("name").GetString());
        Assert.True((await SearchAsync(client, "?q=0712500004")).GetProperty("data")[0].GetProperty("opted_out").GetBoolean());

        // Again, as a multipart upload: existing numbers are updated, tags added, empty cells change nothing.
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes("phone,tags,email\n0712500001,winner,\n0712500009,,\n"));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", "more.csv");
        var second = await (await client.PostAsync("/v1/contacts/import", form)).AssertJsonAsync();
        Assert.Equal(1, second.GetProperty("created").GetInt32());
        Assert.Equal(1, second.GetProperty("updated").GetInt32());
        baraka = (await SearchAsync(client, "?q=0712500001")).GetProperty("data")[0];
        Assert.Equal(["retail", "vip", "winner"], baraka.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal("baraka@example.com", baraka.GetProperty("email").GetString());
        Assert.Equal("Mwangi, Baraka", baraka.GetProperty("name").GetString());
    }

    [Fact]
    public async Task An_import_row_that_would_take_a_contact_past_50_tags_is_reported_and_changes_nothing_but_its_opt_out()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var tags = Enumerable.Range(1, 49).Select(i => $"t{i}").ToArray();
        await (await client.PostAsJsonAsync("/v1/contacts", new { name = "Full", phone_number = "0712560001", tags })).AssertJsonAsync(HttpStatusCode.Created);

        var report = await ImportAsync(client, "phone,tags,opted_out\n0712560001,extra1;extra2,yes\n0712560002,fresh,\n");

        Assert.Equal(1, report.GetProperty("created").GetInt32());
        Assert.Equal(0, report.GetProperty("updated").GetInt32());
        var error = Assert.Single(report.GetProperty("errors").EnumerateArray());
        Assert.Equal(2, error.GetProperty("row").GetInt32());
        Assert.Contains("50 tags", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        var full = (await SearchAsync(client, "?q=0712560001")).GetProperty("data")[0];
        Assert.Equal(49, full.GetProperty("tags").GetArrayLength());
        // The row's opt-out is not lost with it: a "stop" always counts.
        Assert.Equal(1, report.GetProperty("opted_out").GetInt32());
        Assert.True(full.GetProperty("opted_out").GetBoolean());
    }

    [Theory]
    [InlineData("Opted Out")]
    [InlineData("opt-out")]
    [InlineData("UNSUBSCRIBED")]
    public async Task An_opt_out_column_is_recognised_however_the_spreadsheet_spells_it(string header)
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var report = await ImportAsync(client, $"Name,Phone Number,{header}\nStops,0712550001,Yes\nStays,0712550002,no\nQuiet,0712550003,\n");
        Assert.Equal(3, report.GetProperty("created").GetInt32());
        Assert.Equal(1, report.GetProperty("opted_out").GetInt32());
        Assert.Equal(["+255712550001"], (await (await client.GetAsync("/v1/opt-outs")).AssertJsonAsync()).GetProperty("data").EnumerateArray()
            .Select(o => o.GetProperty("phone_number").GetString()));
        var stops = (await SearchAsync(client, "?q=0712550001")).GetProperty("data")[0];
        Assert.True(stops.GetProperty("opted_out").GetBoolean());
        Assert.Empty(stops.GetProperty("attributes").EnumerateObject());   // the column is not an attribute
        Assert.False((await SearchAsync(client, "?q=0712550002")).GetProperty("data")[0].GetProperty("opted_out").GetBoolean());
    }

    [Theory]
    [InlineData("name;phone\nAmina;0712600001\n", "delimiter")]
    [InlineData("name\tphone\nAmina\t0712600001\n", "delimiter")]
    [InlineData("name,email\nAmina,a@example.com\n", "phone")]
    [InlineData("", "empty")]
    [InlineData("name,phone,phone\nA,0712600001,0712600002\n", "phone")]
    public async Task A_file_that_is_not_contact_csv_is_refused_whole(string csv, string reason)
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var problem = await (await client.PostAsync("/v1/contacts/import", new StringContent(csv, Encoding.UTF8, "text/csv")))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Contains(reason, problem.GetProperty("errors").GetProperty("file")[0].GetString()!, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, (await SearchAsync(client, "")).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Junk_and_oversized_files_import_nothing()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var junk = new byte[200_000];
        new Random(7).NextBytes(junk);
        var content = new ByteArrayContent(junk);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        var problem = await (await client.PostAsync("/v1/contacts/import", content)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Contains("UTF-8", problem.GetProperty("errors").GetProperty("file")[0].GetString()!, StringComparison.Ordinal);

        // 11 MB of valid-looking rows: refused whole, not imported up to the limit.
        var big = new StringBuilder("name,phone\n");
        for (var i = 0; big.Length < 11 * 1024 * 1024; i++)
        {
            big.Append("Someone with a fairly long name to fill the file,+2557126").Append((i % 100000).ToString("D5", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/contacts/import") { Content = new StringContent(big.ToString(), Encoding.UTF8, "text/csv") };
        request.Headers.ExpectContinue = true;
        await (await client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, ErrorCodes.PayloadTooLarge);

        // Within what the server accepts for an upload but over the import limit: the reader stops there, nothing is imported.
        var justOver = new StringBuilder("name,phone\n");
        for (var i = 0; justOver.Length <= 10 * 1024 * 1024; i++)
        {
            justOver.Append("Someone with a fairly long name to fill the file,+2557127").Append((i % 100000).ToString("D5", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }
        await (await client.PostAsync("/v1/contacts/import", new StringContent(justOver.ToString(), Encoding.UTF8, "text/csv")))
            .AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, ErrorCodes.PayloadTooLarge);
        var tooManyRows = new StringBuilder("phone\n");
        for (var i = 0; i <= 200_000; i++)
        {
            tooManyRows.Append("+2557128").Append((i % 100000).ToString("D5", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }
        var rowsProblem = await (await client.PostAsync("/v1/contacts/import", new StringContent(tooManyRows.ToString(), Encoding.UTF8, "text/csv")))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Equal("The file has more than 200,000 rows.", rowsProblem.GetProperty("errors").GetProperty("file")[0].GetString());
        Assert.Equal(0, (await SearchAsync(client, "")).GetProperty("total").GetInt32());

        // Over the 1 MiB of other requests but under the import limit: accepted.
        var medium = new StringBuilder("name,phone\n");
        for (var i = 0; medium.Length < 2 * 1024 * 1024; i++)
        {
            medium.Append("Someone with a fairly long name to fill the file,+2557129").Append(i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }
        var report = await ImportAsync(client, medium.ToString());
        Assert.Equal(0, report.GetProperty("failed").GetInt32());
        Assert.Equal(report.GetProperty("rows").GetInt32(), report.GetProperty("created").GetInt32());
        Assert.Equal(report.GetProperty("rows").GetInt32(), await ujumbe.Database.ScalarAsync<long>("select count(*) from contacts where phone like '+2557129%'"));
        var page = await SearchAsync(client, "");
        Assert.Equal(report.GetProperty("rows").GetInt32(), page.GetProperty("total").GetInt32());
        Assert.True(page.GetProperty("total_exact").GetBoolean());
    }

    [Fact]
    public async Task Segments_select_by_tags_when_used_so_new_contacts_join()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        await CreateAsync(client, new { name = "A", phone_number = "+255712700001", tags = new[] { "retail", "arusha" } });
        await CreateAsync(client, new { name = "B", phone_number = "+255712700002", tags = new[] { "retail" } });
        await CreateAsync(client, new { name = "C", phone_number = "+255712700003", tags = new[] { "wholesale", "arusha" } });
        await CreateAsync(client, new { name = "D", phone_number = "+255712700004" });

        var segment = await (await client.PostAsJsonAsync("/v1/segments", new { name = "Arusha shops", tags_any = new[] { "Retail", "wholesale" }, tags_all = new[] { "arusha" } }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var id = segment.GetProperty("id").GetString()!;
        Assert.Equal(["retail", "wholesale"], segment.GetProperty("tags_any").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(["+255712700003", "+255712700001"], Phones(await (await client.GetAsync($"/v1/segments/{id}/contacts")).AssertJsonAsync()));

        await CreateAsync(client, new { name = "E", phone_number = "+255712700005", tags = new[] { "retail", "arusha" } });
        var members = await (await client.GetAsync($"/v1/segments/{id}/contacts?page_size=2")).AssertJsonAsync();
        Assert.Equal(3, members.GetProperty("total").GetInt32());
        Assert.Equal(["+255712700005", "+255712700003"], Phones(members));

        var everyone = await (await client.PutAsJsonAsync($"/v1/segments/{id}", new { name = "Everyone" })).AssertJsonAsync();
        Assert.Empty(everyone.GetProperty("tags_all").EnumerateArray());
        Assert.Equal(5, (await (await client.GetAsync($"/v1/segments/{id}/contacts")).AssertJsonAsync()).GetProperty("total").GetInt32());
        Assert.Equal(1, (await (await client.GetAsync("/v1/segments")).AssertJsonAsync()).GetProperty("total").GetInt32());

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/v1/segments/{id}")).StatusCode);
        await (await client.GetAsync($"/v1/segments/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await client.PostAsJsonAsync("/v1/segments", new { tags_any = new[] { "x" } })).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }
}
