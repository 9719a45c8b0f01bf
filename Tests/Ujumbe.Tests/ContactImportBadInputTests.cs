using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// Hostile CSV files through the gateway: each gets a clear 4xx that imports nothing, or a 200 whose report
/// names every row that was not imported, and what the report calls imported is exactly what is stored.
/// </summary>
public sealed class ContactImportBadInputTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, byte[] csv)
    {
        var content = new ByteArrayContent(csv);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        return await client.PostAsync("/v1/contacts/import", content);
    }

    private static Dictionary<int, string> Errors(JsonElement report) =>
        report.GetProperty("errors").EnumerateArray().ToDictionary(e => e.GetProperty("row").GetInt32(), e => e.GetProperty("error").GetString()!);

    private async Task<long> StoredAsync(string phonePrefix) =>
        await ujumbe.Database.ScalarAsync<long>($"select count(*) from contacts where phone like '{phonePrefix}%'");

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    [Fact]
    public async Task A_quote_that_is_never_closed_fails_its_row_and_says_the_rest_was_read_into_it()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));

        var report = await (await PostAsync(client, Utf8("name,phone\nAmina,0712310001\n\"Baraka,0712310002\nChausiku,0712310003\n"))).AssertJsonAsync();

        Assert.Equal(2, report.GetProperty("rows").GetInt32());
        Assert.Equal(1, report.GetProperty("created").GetInt32());
        var error = Assert.Single(Errors(report));
        Assert.Equal(3, error.Key);
        Assert.Contains("never closed", error.Value, StringComparison.Ordinal);
        Assert.Equal(1, await StoredAsync("+25571231"));
    }

    [Fact]
    public async Task Stray_quotes_inside_values_are_text_and_do_not_swallow_the_rows_after_them()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));

        var report = await (await PostAsync(client, Utf8("phone,name\n0712320001,Tall 6'2\" guy\n0712320002,Sam \"the man\n0712320003,\"Otieno\"x\n0712320004,Last\n")))
            .AssertJsonAsync();

        Assert.Equal(4, report.GetProperty("rows").GetInt32());
        Assert.Equal(3, report.GetProperty("created").GetInt32());
        var error = Assert.Single(Errors(report));
        Assert.Equal(4, error.Key);
        Assert.Contains("after a closing quote", error.Value, StringComparison.Ordinal);
        Assert.Equal("Tall 6'2\" guy", await ujumbe.Database.ScalarAsync<string>("select name from contacts where phone = '+255712320001'"));
        Assert.Equal("Sam \"the man", await ujumbe.Database.ScalarAsync<string>("select name from contacts where phone = '+255712320002'"));
        Assert.Equal(3, await StoredAsync("+25571232"));
    }

    [Fact]
    public async Task A_nul_byte_at_the_start_refuses_the_file_and_one_further_on_fails_only_its_row()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));

        var early = await (await PostAsync(client, [.. "name,phone\nA\0"u8, .. ",0712330001\n"u8])).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Contains("UTF-8", early.GetProperty("errors").GetProperty("file")[0].GetString()!, StringComparison.Ordinal);
        Assert.Equal(0, await StoredAsync("+25571233"));

        // Past the first 64 KB the file has been judged text: a NUL there is that row's problem (PostgreSQL text cannot hold it).
        var text = new StringBuilder("name,phone\n");
        for (var i = 0; i < 2_000; i++)
        {
            text.Append("Someone with a name long enough,+2557123").Append(i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }
        byte[] late = [.. Utf8(text.ToString()), .. "Nul\0Name,+255712340001\nAfter,+255712340002\n"u8];
        Assert.True(late.Length > 64 * 1024);

        var report = await (await PostAsync(client, late)).AssertJsonAsync();

        Assert.Equal(2_002, report.GetProperty("rows").GetInt32());
        Assert.Equal(2_001, report.GetProperty("created").GetInt32());
        var error = Assert.Single(Errors(report));
        Assert.Equal(2_002, error.Key);
        Assert.Contains("NUL", error.Value, StringComparison.Ordinal);
        Assert.Equal(0, await StoredAsync("+255712340001"));
        Assert.Equal(1, await StoredAsync("+255712340002"));
    }

    [Fact]
    public async Task Mixed_line_endings_and_quoted_line_breaks_keep_every_row_and_its_line_number()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var csv = "\uFEFFname,phone\r\n"                          // line 1, after a BOM
            + "Unix,0712350001\n"                                // 2
            + "Old Mac,0712350002\r"                             // 3
            + "\"Two\r\nlines\",0712350003\r\n"                  // 4-5
            + "\r\n"                                             // 6
            + "Bad,12\n"                                         // 7
            + "Last,0712350004";                                 // 8, no line break

        var report = await (await PostAsync(client, Utf8(csv))).AssertJsonAsync();

        Assert.Equal(5, report.GetProperty("rows").GetInt32());
        Assert.Equal(4, report.GetProperty("created").GetInt32());
        Assert.Equal([7], Errors(report).Keys);
        Assert.Equal("Two\r\nlines", await ujumbe.Database.ScalarAsync<string>("select name from contacts where phone = '+255712350003'"));
        Assert.Equal(4, await StoredAsync("+25571235"));
    }

    public static TheoryData<string, byte[]> NotUtf8Files() => new()
    {
        { "UTF-16 LE with BOM", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("name,phone\nA,0712360001\n")] },
        { "UTF-16 BE with BOM", [.. Encoding.BigEndianUnicode.GetPreamble(), .. Encoding.BigEndianUnicode.GetBytes("name,phone\nA,0712360001\n")] },
        { "UTF-16 LE without BOM", Encoding.Unicode.GetBytes("name,phone\nA,0712360001\n") },
        { "UTF-32 with BOM", [.. Encoding.UTF32.GetPreamble(), .. Encoding.UTF32.GetBytes("name,phone\nA,0712360001\n")] },
        { "Windows-1252", [.. "name,phone\nRen"u8, 0xE9, .. ",0712360001\n"u8] },
    };

    [Theory]
    [MemberData(nameof(NotUtf8Files))]
    public async Task A_file_that_is_not_UTF8_is_refused_whole_with_what_to_do(string what, byte[] csv)
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));

        var problem = await (await PostAsync(client, csv)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);

        Assert.Contains("CSV UTF-8", problem.GetProperty("errors").GetProperty("file")[0].GetString()!, StringComparison.Ordinal);
        Assert.Contains("Nothing was imported", problem.GetProperty("detail").GetString()!, StringComparison.Ordinal);
        Assert.True(await StoredAsync("+25571236") == 0, what);
    }

    [Fact]
    public async Task Ten_megabytes_of_one_line_is_refused_whole_and_never_buffered_whole()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));
        var header = "phone,name\n0712370001,ok\n"u8.ToArray();

        // Just under the 10 MB limit: a row no contact can have (an unclosed quote looks the same to a reader).
        var line = new byte[10 * 1024 * 1024 - header.Length - 16];
        line.AsSpan().Fill((byte)'x');
        var underLimit = await (await PostAsync(client, [.. header, .. "0712370002,"u8, .. line])).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var message = underLimit.GetProperty("errors").GetProperty("file")[0].GetString()!;
        Assert.Contains("Row 3", message, StringComparison.Ordinal);
        Assert.Contains("1 MB", message, StringComparison.Ordinal);

        var unclosed = await (await PostAsync(client, [.. header, .. "0712370002,\""u8, .. line])).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        Assert.Contains("Row 3", unclosed.GetProperty("errors").GetProperty("file")[0].GetString()!, StringComparison.Ordinal);

        // Over the limit, as one line: the size answer, not a row answer.
        var overLimit = new byte[10 * 1024 * 1024 + 1];
        overLimit.AsSpan().Fill((byte)'y');
        await (await PostAsync(client, [.. header, .. overLimit])).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, ErrorCodes.PayloadTooLarge);

        Assert.Equal(0, await StoredAsync("+25571237"));
    }

    [Fact]
    public async Task A_byte_order_mark_is_not_part_of_the_first_column_name()
    {
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 0));

        var report = await (await PostAsync(client, [0xEF, 0xBB, 0xBF, .. "phone,name\n0712380001,Zawadi\n"u8])).AssertJsonAsync();

        Assert.Equal(1, report.GetProperty("created").GetInt32());
        Assert.Equal("Zawadi", await ujumbe.Database.ScalarAsync<string>("select name from contacts where phone = '+255712380001'"));
    }
}
