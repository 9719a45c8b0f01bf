using System.Text;

using Ujumbe.Api.Contacts;

namespace Ujumbe.Tests;

public sealed class ContactCsvTests
{
    private static async Task<List<CsvItem>> ReadAllAsync(byte[] bytes, CsvReadLimits? limits = null, int maxBytesPerRead = int.MaxValue)
    {
        await using var stream = new TrickleStream(bytes, maxBytesPerRead);
        var items = new List<CsvItem>();
        await foreach (var item in ContactCsv.ReadAsync(stream, limits ?? new CsvReadLimits()))
        {
            items.Add(item);
        }

        return items;
    }

    private static Task<List<CsvItem>> ReadAllAsync(string text, CsvReadLimits? limits = null) =>
        ReadAllAsync(Encoding.UTF8.GetBytes(text), limits);

    private static List<CsvContactRow> Rows(List<CsvItem> items)
    {
        Assert.DoesNotContain(items, i => i is CsvHeaderProblem);
        return [.. items.OfType<CsvContactRow>()];
    }

    private static string HeaderProblem(List<CsvItem> items) => Assert.IsType<CsvHeaderProblem>(Assert.Single(items)).Message;

    [Fact]
    public async Task Reads_simple_rows_with_row_numbers_starting_at_two()
    {
        var items = await ReadAllAsync("name,phone,email\nAmina,0712345678,amina@example.com\nBaraka,0722000000,\n");

        Assert.Collection(Rows(items),
            r =>
            {
                Assert.Equal(2, r.RowNumber);
                Assert.Equal("Amina", r.Name);
                Assert.Equal("0712345678", r.Phone);
                Assert.Equal("amina@example.com", r.Email);
                Assert.Empty(r.Tags);
                Assert.Empty(r.Attributes);
            },
            r =>
            {
                Assert.Equal(3, r.RowNumber);
                Assert.Equal("Baraka", r.Name);
                Assert.Null(r.Email);
            });
        Assert.Equal(2, items.Count);
    }

    [Fact]
    public async Task Strips_utf8_bom_before_the_header()
    {
        var bytes = (byte[])[0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("phone,name\n0712,Zawadi\n")];

        var row = Assert.Single(Rows(await ReadAllAsync(bytes)));

        Assert.Equal("0712", row.Phone);
        Assert.Equal("Zawadi", row.Name);
    }

    [Fact]
    public async Task Header_is_case_insensitive_trimmed_and_accepts_phone_aliases()
    {
        var row = Assert.Single(Rows(await ReadAllAsync(" NAME , MSISDN ,Email\nJuma,255700,j@x.io\n")));

        Assert.Equal("Juma", row.Name);
        Assert.Equal("255700", row.Phone);
        Assert.Equal("j@x.io", row.Email);
    }

    [Theory]
    [InlineData("phone_number")]
    [InlineData("Phone Number")]
    [InlineData("number")]
    [InlineData("Mobile")]
    public async Task Accepts_each_phone_alias(string header)
    {
        var row = Assert.Single(Rows(await ReadAllAsync($"{header}\n0700111222\n")));

        Assert.Equal("0700111222", row.Phone);
    }

    [Fact]
    public async Task Quoted_field_may_contain_commas()
    {
        var row = Assert.Single(Rows(await ReadAllAsync("name,phone\n\"Otieno, Peter\",0712\n")));

        Assert.Equal("Otieno, Peter", row.Name);
        Assert.Equal("0712", row.Phone);
    }

    [Fact]
    public async Task Doubled_quotes_inside_quoted_field_become_one_quote()
    {
        var row = Assert.Single(Rows(await ReadAllAsync("name,phone\n\"Mama \"\"Njeri\"\" Kamau\",0712\n")));

        Assert.Equal("Mama \"Njeri\" Kamau", row.Name);
    }

    [Fact]
    public async Task Field_of_only_a_doubled_quote_is_one_quote_character()
    {
        var rows = Rows(await ReadAllAsync("name,phone\n\"\"\"\",0713\n"));

        Assert.Equal("\"", Assert.Single(rows).Name);
    }

    [Fact]
    public async Task Quoted_field_may_contain_newlines_and_later_rows_keep_their_line_numbers()
    {
        var items = await ReadAllAsync("name,phone\n\"Line one\nLine two\r\nLine three\",0712\nNext,0713\n");

        var rows = Rows(items);
        Assert.Equal(2, rows.Count);
        Assert.Equal("Line one\nLine two\r\nLine three", rows[0].Name);
        Assert.Equal(2, rows[0].RowNumber);
        Assert.Equal("Next", rows[1].Name);
        Assert.Equal(5, rows[1].RowNumber);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    public async Task Line_endings_are_all_accepted(string newline)
    {
        var text = string.Join(newline, "name,phone", "A,1", "B,2", "C,3") + newline;

        var rows = Rows(await ReadAllAsync(text));

        Assert.Equal(["A", "B", "C"], rows.Select(r => r.Name));
        Assert.Equal(["1", "2", "3"], rows.Select(r => r.Phone));
        Assert.Equal([2, 3, 4], rows.Select(r => r.RowNumber));
    }

    [Fact]
    public async Task Line_endings_mixed_in_one_file_each_end_a_row()
    {
        var rows = Rows(await ReadAllAsync("name,phone\r\nA,1\nB,2\rC,3\r\n\rD,4"));

        Assert.Equal(["A", "B", "C", "D"], rows.Select(r => r.Name));
        Assert.Equal([2, 3, 4, 6], rows.Select(r => r.RowNumber));
    }

    [Fact]
    public async Task Last_row_without_trailing_newline_is_read()
    {
        var row = Assert.Single(Rows(await ReadAllAsync("name,phone\r\nA,1")));

        Assert.Equal("1", row.Phone);
    }

    [Fact]
    public async Task Empty_and_whitespace_lines_are_skipped_but_counted()
    {
        var items = await ReadAllAsync("name,phone\r\n\r\nA,1\r\n   \r\n\t\r\nB,2\r\n\r\n");

        var rows = Rows(items);
        Assert.Equal(2, items.Count);
        Assert.Equal([3, 6], rows.Select(r => r.RowNumber));
    }

    [Fact]
    public async Task Blank_lines_before_the_header_are_skipped()
    {
        var row = Assert.Single(Rows(await ReadAllAsync("\n\nname,phone\nA,1\n")));

        Assert.Equal(4, row.RowNumber);
    }

    [Fact]
    public async Task Row_with_wrong_field_count_is_reported_and_skipped()
    {
        var items = await ReadAllAsync("name,phone,email\nA,1\nB,2,b@x.io,extra\nC,3,\n");

        Assert.Equal(3, items.Count);
        var tooFew = Assert.IsType<CsvRowError>(items[0]);
        Assert.Equal(2, tooFew.RowNumber);
        Assert.Contains("has 2 fields; the header has 3", tooFew.Error, StringComparison.Ordinal);
        var tooMany = Assert.IsType<CsvRowError>(items[1]);
        Assert.Equal(3, tooMany.RowNumber);
        Assert.Contains("has 4 fields; the header has 3", tooMany.Error, StringComparison.Ordinal);
        Assert.Equal("C", Assert.IsType<CsvContactRow>(items[2]).Name);
    }

    [Fact]
    public async Task Row_with_only_commas_is_not_blank_and_needs_a_phone()
    {
        var items = await ReadAllAsync("name,phone\n,\nA,  \n");

        Assert.Equal(2, items.Count);
        Assert.All(items, i => Assert.Equal("Phone is required.", Assert.IsType<CsvRowError>(i).Error));
        Assert.Equal([2, 3], items.Cast<CsvRowError>().Select(e => e.RowNumber));
    }

    [Fact]
    public async Task Empty_name_becomes_null()
    {
        var row = Assert.Single(Rows(await ReadAllAsync("name,phone\n  ,0712\n")));

        Assert.Null(row.Name);
    }

    [Fact]
    public async Task Phone_values_are_not_validated_or_normalised()
    {
        var row = Assert.Single(Rows(await ReadAllAsync("phone\n  +254 (712) 000-111 x  \n")));

        Assert.Equal("+254 (712) 000-111 x", row.Phone);
    }

    [Fact]
    public async Task Opt_out_columns_are_recognised_like_the_phone_column_and_carried_as_a_flag()
    {
        foreach (var header in new[] { "opted_out", "Opted Out", "opt-out", "OptOut", "Unsubscribed" })
        {
            var rows = Rows(await ReadAllAsync($"phone,{header}\n1,yes\n2,TRUE\n3,y\n4,1\n5,no\n6,\n"));

            Assert.Equal([true, true, true, true, false, false], rows.Select(r => r.OptedOut));
            Assert.All(rows, r => Assert.Empty(r.Attributes));
        }
    }

    [Fact]
    public async Task Two_opt_out_columns_are_the_same_column()
    {
        var message = HeaderProblem(await ReadAllAsync("phone,opted_out,Unsubscribed\n1,yes,no\n"));

        Assert.Contains("same column", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_phone_column_refuses_the_file_and_lists_accepted_names()
    {
        var message = HeaderProblem(await ReadAllAsync("name,email\nA,a@x.io\n"));

        foreach (var accepted in ContactCsv.PhoneColumnNames)
        {
            Assert.Contains(accepted, message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Semicolon_delimited_file_is_recognised()
    {
        var message = HeaderProblem(await ReadAllAsync("name;phone;email\nA;0712;a@x.io\n"));

        Assert.Contains("';'", message, StringComparison.Ordinal);
        Assert.Contains("use commas", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tab_delimited_file_is_recognised()
    {
        var message = HeaderProblem(await ReadAllAsync("name\tphone\temail\nA\t0712\ta@x.io\n"));

        Assert.Contains("tab", message, StringComparison.Ordinal);
        Assert.Contains("use commas", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Semicolon_in_a_comma_header_with_a_phone_column_is_just_a_column_name()
    {
        var row = Assert.Single(Rows(await ReadAllAsync("phone,notes;misc\n0712,x\n")));

        Assert.Equal("x", row.Attributes["notes;misc"]);
    }

    [Theory]
    [InlineData("name,phone,Name\n", "'Name'")]
    [InlineData("phone,msisdn\n", "'msisdn'")]
    [InlineData("phone,city,attributes.City\n", "'attributes.City'")]
    public async Task Duplicate_columns_refuse_the_file_and_name_the_column(string header, string expected)
    {
        var message = HeaderProblem(await ReadAllAsync(header + "a,b,c\n"));

        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\r\n\r\n   \n")]
    public async Task Empty_file_is_refused(string text)
    {
        Assert.Equal("The file is empty.", HeaderProblem(await ReadAllAsync(text)));
    }

    [Fact]
    public async Task File_with_only_a_bom_is_empty()
    {
        Assert.Equal("The file is empty.", HeaderProblem(await ReadAllAsync([0xEF, 0xBB, 0xBF])));
    }

    [Fact]
    public async Task Header_only_file_yields_nothing()
    {
        Assert.Empty(await ReadAllAsync("name,phone\n"));
    }

    [Fact]
    public async Task Binary_junk_with_nul_bytes_is_refused()
    {
        var bytes = new byte[8192];
        new Random(1234).NextBytes(bytes);
        bytes[10] = 0;
        bytes[500] = 0;

        var message = HeaderProblem(await ReadAllAsync(bytes));

        Assert.Equal(ContactCsv.NotUtf8Message, message);
    }

    [Fact]
    public async Task Nul_byte_in_otherwise_ascii_text_is_refused()
    {
        var bytes = Encoding.UTF8.GetBytes("name,phone\nA,0712\n");
        bytes[13] = 0;

        Assert.Equal(ContactCsv.NotUtf8Message, HeaderProblem(await ReadAllAsync(bytes)));
    }

    [Fact]
    public async Task Windows_1252_text_is_refused()
    {
        // "René" in Windows-1252: é is the single byte 0xE9, which is invalid UTF-8.
        var bytes = (byte[])[.. "name,phone\nRen"u8, 0xE9, .. ",0712\n"u8];

        Assert.Equal(ContactCsv.NotUtf8Message, HeaderProblem(await ReadAllAsync(bytes)));
    }

    [Theory]
    [InlineData("utf-16", true)]
    [InlineData("utf-16", false)]
    [InlineData("utf-16BE", true)]
    [InlineData("utf-32", true)]
    public async Task Utf16_and_utf32_text_is_refused(string encodingName, bool withBom)
    {
        // CsvHelper would transcode these after their byte order mark; the import takes UTF-8 only, and says so.
        var encoding = Encoding.GetEncoding(encodingName);
        var bytes = (withBom ? encoding.GetPreamble() : []).Concat(encoding.GetBytes("name,phone\nA,1\n")).ToArray();

        Assert.Equal(ContactCsv.NotUtf8Message, HeaderProblem(await ReadAllAsync(bytes)));
    }

    [Fact]
    public async Task Invalid_utf8_after_the_sniffed_start_fails_only_that_row()
    {
        var text = new StringBuilder("name,phone\n");
        for (var i = 0; i < 10_000; i++)
        {
            text.Append("Name ").Append(i).Append(",07").Append(i).Append('\n');
        }

        var bytes = (byte[])[.. Encoding.UTF8.GetBytes(text.ToString()), .. "Ren"u8, 0xE9, .. ",0799\nLast,0798\n"u8];
        Assert.True(bytes.Length > ContactCsv.SniffBytes);

        var items = await ReadAllAsync(bytes);

        Assert.Equal(10_002, items.Count);
        var error = Assert.IsType<CsvRowError>(items[^2]);
        Assert.Equal(10_002, error.RowNumber);
        Assert.Contains("UTF-8", error.Error, StringComparison.Ordinal);
        Assert.Equal("Last", Assert.IsType<CsvContactRow>(items[^1]).Name);
    }

    [Fact]
    public async Task Multibyte_characters_decode_correctly()
    {
        var row = Assert.Single(Rows(await ReadAllAsync("name,phone\n\"Wanjirũ 🌍 Ñandú\",0712\n")));

        Assert.Equal("Wanjirũ 🌍 Ñandú", row.Name);
    }

    [Fact]
    public async Task Unterminated_quote_at_end_of_file_is_a_row_error()
    {
        var items = await ReadAllAsync("name,phone\nA,1\n\"B,2\nC,3\n");

        Assert.Equal(2, items.Count);
        Assert.Equal("A", Assert.IsType<CsvContactRow>(items[0]).Name);
        var error = Assert.IsType<CsvRowError>(items[1]);
        Assert.Equal(3, error.RowNumber);
        Assert.Contains("never closed", error.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unterminated_quote_in_header_is_a_header_problem()
    {
        Assert.Contains("never closed", HeaderProblem(await ReadAllAsync("name,\"phone\nA,1\n")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Text_after_a_closing_quote_is_a_row_error()
    {
        var items = await ReadAllAsync("name,phone\n\"A\"B,1\n\"C\"  ,2\n");

        Assert.Equal(2, items.Count);
        Assert.Contains("after a closing quote", Assert.IsType<CsvRowError>(items[0]).Error, StringComparison.Ordinal);
        Assert.Equal("C", Assert.IsType<CsvContactRow>(items[1]).Name);
    }

    [Fact]
    public async Task Blanks_before_an_opening_quote_are_tolerated()
    {
        var row = Assert.Single(Rows(await ReadAllAsync("phone,name\n0712, \"Otieno, Peter\"\n")));

        Assert.Equal("Otieno, Peter", row.Name);
    }

    [Fact]
    public async Task Stray_quote_inside_an_unquoted_value_is_kept()
    {
        var row = Assert.Single(Rows(await ReadAllAsync("phone,name\n0712,Tall 6'2\" guy\n")));

        Assert.Equal("Tall 6'2\" guy", row.Name);
    }

    [Fact]
    public async Task Stray_quotes_do_not_swallow_the_rows_after_them()
    {
        // A reader that counts quotes anywhere in a field would read the rest of the file into the first name.
        var rows = Rows(await ReadAllAsync("phone,name\n0712,Tall 6'2\" guy\n0713,Sam \"the man\n0714,Last\n"));

        Assert.Equal(["Tall 6'2\" guy", "Sam \"the man", "Last"], rows.Select(r => r.Name));
        Assert.Equal([2, 3, 4], rows.Select(r => r.RowNumber));
    }

    [Fact]
    public async Task Nul_byte_after_the_sniffed_start_fails_only_that_row()
    {
        var text = new StringBuilder("name,phone\n");
        for (var i = 0; i < 10_000; i++)
        {
            text.Append("Name ").Append(i).Append(",07").Append(i).Append('\n');
        }

        var bytes = (byte[])[.. Encoding.UTF8.GetBytes(text.ToString()), .. "A\0B,0799\nLast,0798\n"u8];
        Assert.True(bytes.Length > ContactCsv.SniffBytes);

        var items = await ReadAllAsync(bytes);

        var error = Assert.IsType<CsvRowError>(items[^2]);
        Assert.Equal(10_002, error.RowNumber);
        Assert.Contains("NUL", error.Error, StringComparison.Ordinal);
        Assert.Null(error.StoppedBy);
        Assert.Equal("Last", Assert.IsType<CsvContactRow>(items[^1]).Name);
    }

    [Fact]
    public async Task A_row_larger_than_the_row_limit_stops_the_reader_with_its_line()
    {
        var big = new string('x', 5_000);
        var items = await ReadAllAsync($"phone,name\n1,a\n2,b{big}\n3,c\n", new CsvReadLimits(MaxRowBytes: 1024));

        Assert.Equal("a", Assert.IsType<CsvContactRow>(items[0]).Name);
        var error = Assert.IsType<CsvRowError>(items[^1]);
        Assert.Equal(CsvStopReason.RowTooLarge, error.StoppedBy);
        Assert.Equal(3, error.RowNumber);
        Assert.Contains("Row 3 is larger than 1,024 bytes", error.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unclosed_quote_that_runs_past_the_row_limit_stops_the_reader()
    {
        var rest = string.Concat(Enumerable.Repeat("4,d\n", 1_000));
        var items = await ReadAllAsync($"phone,name\n1,a\n2,\"b\n{rest}", new CsvReadLimits(MaxRowBytes: 1024));

        Assert.Equal(2, items.Count);
        var error = Assert.IsType<CsvRowError>(items[1]);
        Assert.Equal(CsvStopReason.RowTooLarge, error.StoppedBy);
        Assert.Equal(3, error.RowNumber);
    }

    [Fact]
    public async Task A_header_larger_than_the_row_limit_is_a_header_problem()
    {
        var items = await ReadAllAsync("phone," + new string('h', 5_000) + "\n1,a\n", new CsvReadLimits(MaxRowBytes: 1024));

        Assert.Equal(CsvStopReason.RowTooLarge, Assert.IsType<CsvHeaderProblem>(Assert.Single(items)).StoppedBy);
    }

    [Fact]
    public async Task Tags_are_split_on_semicolon_and_pipe_trimmed_and_empty_ones_dropped()
    {
        var rows = Rows(await ReadAllAsync("phone,tags\n1,\" VIP ; nairobi|| Church Choir ;;\"\n2,\n3,vip;VIP\n"));

        Assert.Equal(["VIP", "nairobi", "Church Choir"], rows[0].Tags);
        Assert.Empty(rows[1].Tags);
        Assert.Equal(["vip"], rows[2].Tags);
    }

    [Fact]
    public async Task Attribute_and_unknown_columns_go_into_attributes()
    {
        var rows = Rows(await ReadAllAsync("phone,attributes.County,Plan ,attributes.score\n1,Kisumu,gold,\n2,,,7\n"));

        Assert.Equal(2, rows.Count);
        Assert.Equal(2, rows[0].Attributes.Count);
        Assert.Equal("Kisumu", rows[0].Attributes["County"]);
        Assert.Equal("gold", rows[0].Attributes["Plan"]);
        Assert.False(rows[0].Attributes.ContainsKey("score"));
        Assert.Equal("7", Assert.Single(rows[1].Attributes).Value);
        Assert.Equal("score", Assert.Single(rows[1].Attributes).Key);
    }

    [Fact]
    public async Task Columns_without_a_name_are_ignored_but_still_counted()
    {
        var items = await ReadAllAsync("name,phone,,\nA,1,,\nB,2\n");

        Assert.Equal(2, items.Count);
        var row = Assert.IsType<CsvContactRow>(items[0]);
        Assert.Empty(row.Attributes);
        Assert.Contains("has 2 fields; the header has 4", Assert.IsType<CsvRowError>(items[1]).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Attribute_prefix_without_a_key_is_a_header_problem()
    {
        Assert.Contains("'attributes.'", HeaderProblem(await ReadAllAsync("phone,attributes.\n1,x\n")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Field_longer_than_1000_characters_is_a_row_error()
    {
        var exactly = new string('a', 1000);
        var tooLong = new string('b', 1001);
        var wayTooLong = new string('c', 50_000);
        var items = await ReadAllAsync($"phone,name\n1,{exactly}\n2,\"{tooLong}\"\n3,{wayTooLong}\n4,ok\n");

        Assert.Equal(4, items.Count);
        Assert.Equal(exactly, Assert.IsType<CsvContactRow>(items[0]).Name);
        Assert.Contains("longer than 1,000 characters", Assert.IsType<CsvRowError>(items[1]).Error, StringComparison.Ordinal);
        Assert.Contains("'name'", ((CsvRowError)items[1]).Error, StringComparison.Ordinal);
        Assert.Equal(4, Assert.IsType<CsvRowError>(items[2]).RowNumber);
        Assert.Equal("ok", Assert.IsType<CsvContactRow>(items[3]).Name);
    }

    [Fact]
    public async Task Field_length_counts_characters_not_bytes()
    {
        var name = new string('ũ', 1000);

        var row = Assert.Single(Rows(await ReadAllAsync($"phone,name\n1,{name}\n")));

        Assert.Equal(name, row.Name);
    }

    [Fact]
    public async Task Row_limit_stops_with_one_final_error()
    {
        var text = new StringBuilder("phone\n");
        for (var i = 0; i < 20; i++)
        {
            text.Append(i).Append('\n');
            if (i == 2)
            {
                text.Append('\n');
            }
        }

        var items = await ReadAllAsync(text.ToString(), new CsvReadLimits(MaxRows: 5));

        Assert.Equal(6, items.Count);
        Assert.Equal(["0", "1", "2", "3", "4"], items.Take(5).Cast<CsvContactRow>().Select(r => r.Phone));
        var error = Assert.IsType<CsvRowError>(items[^1]);
        Assert.Equal(8, error.RowNumber);
        Assert.Equal("The file has more than 5 rows; the rest was not read.", error.Error);
        Assert.Equal(CsvStopReason.TooManyRows, error.StoppedBy);
    }

    [Fact]
    public async Task Row_limit_counts_rows_with_errors_and_allows_exactly_the_limit()
    {
        var items = await ReadAllAsync("phone,name\n1,a\n,b\n3,c\n", new CsvReadLimits(MaxRows: 3));

        Assert.Equal(3, items.Count);
        Assert.IsType<CsvRowError>(items[1]);
        Assert.DoesNotContain(items, i => i is CsvRowError e && e.Error.Contains("rest was not read", StringComparison.Ordinal));
        Assert.DoesNotContain(items, i => i is CsvRowError { StoppedBy: not null });
    }

    [Fact]
    public void Default_row_limit_message_uses_the_real_limit()
    {
        Assert.Equal(200_000, ContactCsv.MaxRows);
        Assert.Equal(10 * 1024 * 1024, ContactCsv.MaxBytes);
        Assert.Equal("10 MB", ContactCsv.FormatSize(ContactCsv.MaxBytes));
    }

    [Fact]
    public async Task Size_limit_stops_reading_with_a_row_error()
    {
        var text = new StringBuilder("name,phone\n");
        for (var i = 0; i < 1000; i++)
        {
            text.Append("Name").Append(i).Append(",07").Append(i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture)).Append('\n');
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        var countingStream = new TrickleStream(bytes, int.MaxValue);
        var items = new List<CsvItem>();
        await foreach (var item in ContactCsv.ReadAsync(countingStream, new CsvReadLimits(MaxBytes: 1000)))
        {
            items.Add(item);
        }

        var error = Assert.IsType<CsvRowError>(items[^1]);
        Assert.Equal("The file is larger than 1,000 bytes; the rest was not read.", error.Error);
        Assert.Equal(CsvStopReason.TooLarge, error.StoppedBy);
        var rows = items.Take(items.Count - 1).Cast<CsvContactRow>().ToList();
        Assert.NotEmpty(rows);
        Assert.Equal(Enumerable.Range(2, rows.Count), rows.Select(r => r.RowNumber));
        Assert.Equal(rows.Count + 2, error.RowNumber);
        Assert.True(countingStream.BytesRead <= 1001, $"read {countingStream.BytesRead} bytes");
        var lastRowEnd = text.ToString().IndexOf('\n', text.ToString().IndexOf(rows[^1].Phone, StringComparison.Ordinal)) + 1;
        Assert.InRange(lastRowEnd, 1000 - 30, 1000);
    }

    [Fact]
    public async Task File_of_exactly_the_size_limit_is_read_completely()
    {
        var bytes = Encoding.UTF8.GetBytes("phone\n1\n2\n");

        var items = await ReadAllAsync(bytes, new CsvReadLimits(MaxBytes: bytes.Length));

        Assert.Equal(["1", "2"], Rows(items).Select(r => r.Phone));
        Assert.Equal(2, items.Count);
    }

    [Fact]
    public async Task Header_larger_than_the_size_limit_is_a_header_problem()
    {
        var items = await ReadAllAsync("name,phone,email\n1,2,3\n", new CsvReadLimits(MaxBytes: 8));

        Assert.Equal("The file is larger than 8 bytes.", HeaderProblem(items));
        Assert.Equal(CsvStopReason.TooLarge, ((CsvHeaderProblem)items[0]).StoppedBy);
    }

    [Fact]
    public async Task Small_reads_and_chunks_give_the_same_result_as_one_big_read()
    {
        // Blank lines push the interesting rows past the sniffed start, which the reader gets in one piece.
        var padding = new string('\n', ContactCsv.SniffBytes + 10);
        var text = "\uFEFFname,phone,tags\r\n" + padding + "\"Otieno,\r\n Peter\",0712,a;b\r\n\r\nWanjirũ 🌍,\"07\"\"13\",\r\n\"x\",\"1\"\r";
        var bytes = Encoding.UTF8.GetBytes(text);
        var expected = await ReadAllAsync(bytes);
        var rows = Rows(expected);
        Assert.Equal(2, rows.Count);
        Assert.Equal("Otieno,\r\n Peter", rows[0].Name);
        Assert.Equal(padding.Length + 2, rows[0].RowNumber);
        Assert.Equal("07\"13", rows[1].Phone);
        Assert.Equal(padding.Length + 5, rows[1].RowNumber);
        Assert.Contains("has 2 fields", Assert.IsType<CsvRowError>(expected[^1]).Error, StringComparison.Ordinal);

        foreach (var bytesPerRead in new[] { 1, 2, 3, 5, 7, 16, 4096 })
        {
            var actual = await ReadAllAsync(bytes, maxBytesPerRead: bytesPerRead);
            Assert.Equal(Describe(expected), Describe(actual));
        }

        static string Describe(List<CsvItem> items) => string.Join("\n", items.Select(i => i switch
        {
            CsvContactRow r => $"{r.RowNumber}|{r.Name}|{r.Phone}|{string.Join(';', r.Tags)}",
            _ => i.ToString(),
        }));
    }

    [Fact]
    public async Task Reads_100000_rows()
    {
        const int count = 100_000;
        var text = new StringBuilder("name,phone,email,tags,attributes.county\n");
        for (var i = 0; i < count; i++)
        {
            text.Append("\"Contact ").Append(i).Append("\",+2547").Append(i.ToString("D8", System.Globalization.CultureInfo.InvariantCulture))
                .Append(",c").Append(i).Append("@example.com,vip;nairobi,Kiambu\n");
        }

        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        Assert.InRange(bytes.Length, 4_000_000, (int)ContactCsv.MaxBytes);

        var items = await ReadAllAsync(bytes);

        Assert.Equal(count, items.Count);
        var rows = Rows(items);
        Assert.Equal(count, rows.Count);
        Assert.Equal(count + 1, rows[^1].RowNumber);
        Assert.Equal("Contact 99999", rows[^1].Name);
        Assert.Equal("+254700099999", rows[^1].Phone);
        Assert.Equal(["vip", "nairobi"], rows[^1].Tags);
        Assert.Equal("Kiambu", rows[^1].Attributes["county"]);
    }

    [Fact]
    public async Task Cancellation_is_honoured()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes("phone\n1\n"));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in ContactCsv.ReadAsync(stream, cts.Token))
            {
            }
        });
    }

    /// <summary>A non-seekable stream that returns at most a few bytes per read, like a network body.</summary>
    private sealed class TrickleStream(byte[] data, int maxBytesPerRead) : Stream
    {
        private int _position;

        public long BytesRead => _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(Math.Min(buffer.Length, maxBytesPerRead), data.Length - _position);
            data.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(Read(buffer.Span));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
