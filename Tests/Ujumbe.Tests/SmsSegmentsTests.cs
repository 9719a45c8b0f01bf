using System.Text;
using Ujumbe.Api.Messages;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Tests;

public sealed class SmsSegmentsTests
{
    // GSM 03.38 default alphabet by position (0x00-0x7F), written out as code points so the tests do not share the
    // production table. 0x1B is the escape to the extension table, not a character.
    private static readonly int[] BasicTable =
    [
        0x0040, 0x00A3, 0x0024, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x000A, 0x00D8, 0x00F8, 0x000D, 0x00C5, 0x00E5,
        0x0394, 0x005F, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3, 0x0398, 0x039E, -1, 0x00C6, 0x00E6, 0x00DF, 0x00C9,
        0x0020, 0x0021, 0x0022, 0x0023, 0x00A4, 0x0025, 0x0026, 0x0027, 0x0028, 0x0029, 0x002A, 0x002B, 0x002C, 0x002D, 0x002E, 0x002F,
        0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037, 0x0038, 0x0039, 0x003A, 0x003B, 0x003C, 0x003D, 0x003E, 0x003F,
        0x00A1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047, 0x0048, 0x0049, 0x004A, 0x004B, 0x004C, 0x004D, 0x004E, 0x004F,
        0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057, 0x0058, 0x0059, 0x005A, 0x00C4, 0x00D6, 0x00D1, 0x00DC, 0x00A7,
        0x00BF, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067, 0x0068, 0x0069, 0x006A, 0x006B, 0x006C, 0x006D, 0x006E, 0x006F,
        0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077, 0x0078, 0x0079, 0x007A, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
    ];

    // The extension table: form feed ^ { } \ [ ~ ] | €
    private static readonly int[] ExtensionTable = [0x000C, 0x005E, 0x007B, 0x007D, 0x005C, 0x005B, 0x007E, 0x005D, 0x007C, 0x20AC];

    private static readonly HashSet<char> Basic = [.. BasicTable.Where(c => c >= 0).Select(c => (char)c)];
    private static readonly HashSet<char> Extension = [.. ExtensionTable.Select(c => (char)c)];

    private const string Emoji = "\U0001F600"; // 😀, a surrogate pair

    private static string Gsm(int length) => new('a', length);

    private static string Ucs2(int length) => new('ж', length);

    // --- The alphabet -------------------------------------------------------------------------------------------

    [Fact]
    public void The_reference_tables_have_127_basic_and_10_extension_characters()
    {
        Assert.Equal(128, BasicTable.Length);
        Assert.Equal(127, Basic.Count);
        Assert.Equal(10, Extension.Count);
        Assert.Empty(Basic.Intersect(Extension));
    }

    [Fact]
    public void Every_character_of_the_basic_table_is_gsm_and_costs_one_septet()
    {
        foreach (var c in Basic)
        {
            var measured = SmsSegments.Measure(c.ToString());
            Assert.True(measured == new SegmentCount(SmsEncoding.Gsm7, 1, 1), $"U+{(int)c:X4} measured {measured}");
        }
    }

    [Fact]
    public void The_whole_basic_table_in_one_message_is_gsm()
    {
        var all = string.Concat(Basic);
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 1, 127), SmsSegments.Measure(all));
    }

    [Fact]
    public void Every_extension_character_is_gsm_and_costs_two_septets()
    {
        foreach (var c in Extension)
        {
            var measured = SmsSegments.Measure(c.ToString());
            Assert.True(measured == new SegmentCount(SmsEncoding.Gsm7, 1, 2), $"U+{(int)c:X4} measured {measured}");
        }
    }

    [Fact]
    public void No_other_bmp_character_is_gsm()
    {
        for (var code = 0; code <= 0xFFFF; code++)
        {
            var c = (char)code;
            if (Basic.Contains(c) || Extension.Contains(c))
            {
                continue;
            }

            var measured = SmsSegments.Measure(c.ToString());
            Assert.True(measured == new SegmentCount(SmsEncoding.Ucs2, 1, 1), $"U+{code:X4} measured {measured}");
        }
    }

    [Theory]
    [InlineData("`")]               // backtick is not in GSM-7
    [InlineData("ç")]               // only upper-case Ç is
    [InlineData("á")]
    [InlineData("\u2126")]          // ohm sign, not Greek capital omega
    [InlineData("\u00A0")]          // no-break space
    [InlineData("\u2019")]          // right single quotation mark
    [InlineData("\t")]
    [InlineData("\u001B")]          // the escape itself is not a character
    [InlineData("Habari ya asubuhi`")]
    public void A_character_outside_gsm_forces_ucs2_for_the_whole_message(string text)
    {
        var measured = SmsSegments.Measure(text);
        Assert.Equal(SmsEncoding.Ucs2, measured.Encoding);
        Assert.Equal(text.Length, measured.Units);
    }

    [Fact]
    public void Upper_case_c_cedilla_is_gsm_but_lower_case_is_not()
    {
        Assert.Equal(SmsEncoding.Gsm7, SmsSegments.Measure("Ç").Encoding);
        Assert.Equal(SmsEncoding.Ucs2, SmsSegments.Measure("ç").Encoding);
    }

    [Fact]
    public void Extension_characters_count_twice()
    {
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 1, 2), SmsSegments.Measure("€"));
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 1, 6), SmsSegments.Measure("a{b}"));
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 1, 18), SmsSegments.Measure("^{}\\[~]|€"));
    }

    [Fact]
    public void Crlf_counts_as_two_septets()
    {
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 1, 2), SmsSegments.Measure("\r\n"));
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 1, 7), SmsSegments.Measure("Hi\r\nYou"));
    }

    // --- GSM-7 boundaries ---------------------------------------------------------------------------------------

    [Fact]
    public void A_160_character_gsm_text_is_one_segment()
    {
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 1, 160), SmsSegments.Measure(Gsm(160)));
        Assert.Single(SmsSegments.Split(Gsm(160)));
    }

    [Fact]
    public void A_161_character_gsm_text_is_two_segments_of_153_and_8()
    {
        var text = Gsm(161);
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 2, 161), SmsSegments.Measure(text));
        Assert.Equal([153, 8], SmsSegments.Split(text).Select(p => p.Length));
    }

    [Theory]
    [InlineData(306, 2)] // 2 × 153
    [InlineData(307, 3)]
    [InlineData(459, 3)] // 3 × 153
    [InlineData(460, 4)]
    [InlineData(1, 1)]
    public void Long_gsm_texts_are_sent_in_parts_of_153_septets(int length, int segments)
    {
        var text = Gsm(length);
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, segments, length), SmsSegments.Measure(text));
        Assert.Equal(segments, SmsSegments.Split(text).Count);
    }

    [Fact]
    public void Eighty_euro_signs_fill_one_segment_exactly()
    {
        var text = new string('€', 80);
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 1, 160), SmsSegments.Measure(text));
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 2, 161), SmsSegments.Measure(text + "a"));
    }

    [Fact]
    public void A_text_of_159_septets_plus_a_euro_sign_is_two_segments()
    {
        var text = Gsm(159) + "€";
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 2, 161), SmsSegments.Measure(text));
    }

    [Fact]
    public void An_extension_character_that_would_straddle_the_153_septet_boundary_starts_the_next_part()
    {
        var text = Gsm(152) + "€" + Gsm(10);
        var parts = SmsSegments.Split(text);

        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 2, 164), SmsSegments.Measure(text));
        Assert.Equal(Gsm(152), parts[0]);
        Assert.Equal("€" + Gsm(10), parts[1]);
    }

    [Fact]
    public void An_extension_character_that_exactly_fills_the_first_part_stays_in_it()
    {
        var text = Gsm(151) + "€" + Gsm(10);
        var parts = SmsSegments.Split(text);

        Assert.Equal(Gsm(151) + "€", parts[0]);
        Assert.Equal(Gsm(10), parts[1]);
    }

    [Fact]
    public void Pushed_extension_characters_can_add_a_segment_the_plain_septet_count_would_not()
    {
        // 306 septets would be exactly 2 × 153, but each part can only take 152 + the euro sign does not fit.
        var text = Gsm(152) + "€" + Gsm(150) + "€";
        Assert.Equal(306, SmsSegments.Measure(text).Units);
        Assert.Equal(3, SmsSegments.Measure(text).Segments);
        Assert.Equal([Gsm(152), "€" + Gsm(150), "€"], SmsSegments.Split(text));
    }

    [Fact]
    public void A_text_of_only_extension_characters_is_split_between_them()
    {
        var text = new string('{', 100); // 200 septets
        var parts = SmsSegments.Split(text);

        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 2, 200), SmsSegments.Measure(text));
        Assert.Equal([76, 24], parts.Select(p => p.Length)); // 152 + 48 septets
    }

    // --- UCS-2 boundaries ---------------------------------------------------------------------------------------

    [Fact]
    public void A_70_unit_ucs2_text_is_one_segment()
    {
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 1, 70), SmsSegments.Measure(Ucs2(70)));
    }

    [Fact]
    public void A_71_unit_ucs2_text_is_two_segments_of_67_and_4()
    {
        var text = Ucs2(71);
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 2, 71), SmsSegments.Measure(text));
        Assert.Equal([67, 4], SmsSegments.Split(text).Select(p => p.Length));
    }

    [Theory]
    [InlineData(134, 2)] // 2 × 67
    [InlineData(135, 3)]
    [InlineData(201, 3)] // 3 × 67
    [InlineData(202, 4)]
    public void Long_ucs2_texts_are_sent_in_parts_of_67_units(int length, int segments)
    {
        var text = Ucs2(length);
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, segments, length), SmsSegments.Measure(text));
        Assert.Equal(segments, SmsSegments.Split(text).Count);
    }

    [Fact]
    public void One_non_gsm_character_makes_a_long_gsm_text_ucs2()
    {
        var text = Gsm(100) + "ç";
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 2, 101), SmsSegments.Measure(text));
    }

    [Fact]
    public void An_emoji_counts_as_two_units()
    {
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 1, 2), SmsSegments.Measure(Emoji));
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 1, 70), SmsSegments.Measure(string.Concat(Enumerable.Repeat(Emoji, 35))));
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 2, 72), SmsSegments.Measure(string.Concat(Enumerable.Repeat(Emoji, 36))));
    }

    [Fact]
    public void An_emoji_ending_exactly_at_70_units_is_one_segment_and_at_71_two()
    {
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 1, 70), SmsSegments.Measure(Ucs2(68) + Emoji));
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 2, 71), SmsSegments.Measure(Ucs2(69) + Emoji));
    }

    [Fact]
    public void An_emoji_that_would_straddle_the_67_unit_boundary_starts_the_next_part()
    {
        var text = Ucs2(66) + Emoji + Ucs2(10);
        var parts = SmsSegments.Split(text);

        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 2, 78), SmsSegments.Measure(text));
        Assert.Equal(Ucs2(66), parts[0]);
        Assert.Equal(Emoji + Ucs2(10), parts[1]);
    }

    [Fact]
    public void An_emoji_that_exactly_fills_the_first_part_stays_in_it()
    {
        var text = Ucs2(65) + Emoji + Ucs2(10);
        var parts = SmsSegments.Split(text);

        Assert.Equal(Ucs2(65) + Emoji, parts[0]);
        Assert.Equal(Ucs2(10), parts[1]);
    }

    [Fact]
    public void Pushed_emoji_can_add_a_segment_the_plain_unit_count_would_not()
    {
        // 134 units would be exactly 2 × 67, but the emoji at the boundary moves to the next part.
        var text = Ucs2(66) + Emoji + Ucs2(66);
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 3, 134), SmsSegments.Measure(text));
        Assert.Equal([66, 67, 1], SmsSegments.Split(text).Select(p => p.Length));
    }

    [Fact]
    public void Lone_surrogates_count_as_one_unit_each()
    {
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 1, 1), SmsSegments.Measure("\uD83D"));
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 1, 2), SmsSegments.Measure("\uDE00\uD83D"));

        var text = Ucs2(66) + "\uDE00" + Ucs2(10); // a low surrogate with no high one before it is not a pair
        Assert.Equal(67, SmsSegments.Split(text)[0].Length);
    }

    // --- Empty text, names, arguments ---------------------------------------------------------------------------

    [Fact]
    public void Empty_text_is_gsm_with_no_units_and_no_segments()
    {
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 0, 0), SmsSegments.Measure(""));
        Assert.Empty(SmsSegments.Split(""));
        Assert.Equal("", SmsSegments.Normalize(""));
    }

    [Fact]
    public void A_text_that_fits_one_segment_is_split_into_itself()
    {
        const string text = "Habari! Your code is 4711.";
        Assert.Same(text, Assert.Single(SmsSegments.Split(text)));
    }

    [Fact]
    public void Encodings_have_the_api_names()
    {
        Assert.Equal("GSM-7", SmsSegments.EncodingName(SmsEncoding.Gsm7));
        Assert.Equal("UCS-2", SmsSegments.EncodingName(SmsEncoding.Ucs2));
        Assert.Throws<ArgumentOutOfRangeException>(() => SmsSegments.EncodingName((SmsEncoding)42));
    }

    [Fact]
    public void Null_text_is_rejected()
    {
        Assert.Throws<ArgumentNullException>(() => SmsSegments.Measure(null!));
        Assert.Throws<ArgumentNullException>(() => SmsSegments.Split(null!));
        Assert.Throws<ArgumentNullException>(() => SmsSegments.Normalize(null!));
    }

    [Fact]
    public void Measure_does_not_allocate()
    {
        string[] texts = [Gsm(1000), Gsm(152) + "€" + Gsm(500), Ucs2(1000), Ucs2(66) + Emoji + Ucs2(300), "", "ç"];
        foreach (var text in texts)
        {
            SmsSegments.Measure(text); // warm up
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var total = 0;
        foreach (var text in texts)
        {
            total += SmsSegments.Measure(text).Segments;
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(total > 0);
    }

    // --- Normalization ------------------------------------------------------------------------------------------

    [Fact]
    public void A_decomposed_e_acute_normalizes_to_the_gsm_e_acute()
    {
        var normalized = SmsSegments.Normalize("e\u0301");

        Assert.Equal("é", normalized);
        Assert.Equal(SmsEncoding.Ucs2, SmsSegments.Measure("e\u0301").Encoding);
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 1, 1), SmsSegments.Measure(normalized));
    }

    [Fact]
    public void Normalizing_a_long_decomposed_french_text_makes_it_gsm_and_cheaper()
    {
        var decomposed = string.Concat(Enumerable.Repeat("Cafe\u0301 a\u0300 Ne\u0300gre, ", 10)); // 170 units
        var normalized = SmsSegments.Normalize(decomposed);

        Assert.Equal(string.Concat(Enumerable.Repeat("Café à Nègre, ", 10)), normalized);
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 3, 170), SmsSegments.Measure(decomposed));
        Assert.Equal(new SegmentCount(SmsEncoding.Gsm7, 1, 140), SmsSegments.Measure(normalized));
    }

    [Theory]
    [InlineData("A\u030A", "Å")]
    [InlineData("U\u0308ber", "Über")]
    [InlineData("n\u0303", "ñ")]
    [InlineData("C\u0327", "Ç")]
    [InlineData("\u2126", "Ω")]       // ohm sign is canonically Greek capital omega
    [InlineData("\u212B", "Å")]       // angstrom sign
    [InlineData("\u212A", "K")]       // kelvin sign
    [InlineData("\u037E", ";")]       // Greek question mark
    [InlineData("e\u0341", "é")]      // acute tone mark is canonically the acute accent
    public void Normalizing_turns_canonical_equivalents_into_gsm_characters(string text, string expected)
    {
        var normalized = SmsSegments.Normalize(text);
        Assert.Equal(expected, normalized);
        Assert.Equal(SmsEncoding.Gsm7, SmsSegments.Measure(normalized).Encoding);
    }

    [Theory]
    [InlineData("c\u0327", "ç")]                     // composed but still not GSM: 1 unit instead of 2
    [InlineData("e\u0323\u0302", "ệ")]              // Vietnamese: dot below then circumflex
    [InlineData("a\u0328\u0301", "ą\u0301")]        // no precomposed a-ogonek-acute: the acute stays
    [InlineData("e\u0301\u0301", "é\u0301")]        // the second acute is blocked by the first
    [InlineData("\u0418\u0306", "Й")]
    [InlineData("\u0627\u0653", "\u0622")]          // Arabic alef + madda above
    [InlineData("\u304B\u3099", "が")]
    [InlineData("\u1100\u1161\u11A8", "각")]        // Hangul jamo
    public void Normalizing_composes_other_scripts_too(string text, string expected)
    {
        var normalized = SmsSegments.Normalize(text);
        Assert.Equal(expected, normalized);
        Assert.Equal(SmsEncoding.Ucs2, SmsSegments.Measure(normalized).Encoding);
    }

    [Theory]
    [InlineData("a\u0305\u0301", "a\u0305\u0301")]  // an overline (same class as the acute) blocks it
    [InlineData("a\u034F\u0301", "a\u034F\u0301")]  // so does the combining grapheme joiner (class 0)
    [InlineData("a\u0316\u0301", "á\u0316")]        // a mark below (lower class) does not
    [InlineData("\u1100\u0301\u1161", "\u1100\u0301\u1161")] // jamo compose only when adjacent
    [InlineData("\uAC01\u11A8", "\uAC01\u11A8")] // a syllable that has a final consonant takes no second
    public void Normalizing_never_composes_across_a_blocking_mark(string text, string expected)
    {
        Assert.Equal(expected, SmsSegments.Normalize(text));
    }

    [Theory]
    [InlineData("x\u0301")]           // no precomposed x-acute
    [InlineData("\u0301e")]           // a mark with no base before it
    [InlineData("q\u0307")]
    public void A_combining_mark_with_no_precomposed_form_stays_and_the_text_stays_ucs2(string text)
    {
        var normalized = SmsSegments.Normalize(text);
        Assert.Equal(text, normalized);
        Assert.Equal(new SegmentCount(SmsEncoding.Ucs2, 1, 2), SmsSegments.Measure(normalized));
    }

    [Theory]
    [InlineData("Habari ya asubuhi! Code 4711.")]
    [InlineData("Café à Nègre")]
    [InlineData("Привет 😀 中文")]
    [InlineData("ç")]
    public void Already_composed_text_is_returned_as_it_is(string text)
    {
        Assert.Same(text, SmsSegments.Normalize(text));
    }

    // --- Invariants over random text ----------------------------------------------------------------------------

    [Fact]
    public void Random_texts_keep_every_invariant()
    {
        var gsm = string.Concat(Basic);
        var extension = string.Concat(Extension);
        string[] other = ["ç", "á", "`", "ж", "中", "\u2019", "\u0301", "\u00A0"];
        string[] emoji = [Emoji, "\U0001F44D", "\U0001F44D\U0001F3FD", "\U0001F1F0\U0001F1EA"];

        var random = new Random(20_261_121);
        for (var n = 0; n < 4000; n++)
        {
            var gsmOnly = random.Next(2) == 0;
            var length = random.Next(0, 420);
            var builder = new StringBuilder();
            for (var i = 0; i < length; i++)
            {
                var pick = random.Next(gsmOnly ? 10 : 12);
                builder.Append(pick switch
                {
                    < 7 => gsm[random.Next(gsm.Length)].ToString(),
                    < 10 => extension[random.Next(extension.Length)].ToString(),
                    10 => other[random.Next(other.Length)],
                    _ => emoji[random.Next(emoji.Length)],
                });
            }

            AssertInvariants(builder.ToString());
        }
    }

    private static void AssertInvariants(string text)
    {
        var measured = SmsSegments.Measure(text);
        var parts = SmsSegments.Split(text);

        Assert.Equal(text, string.Concat(parts));
        Assert.Equal(measured.Segments, parts.Count);

        var isGsm = text.All(c => Basic.Contains(c) || Extension.Contains(c));
        Assert.Equal(isGsm ? SmsEncoding.Gsm7 : SmsEncoding.Ucs2, measured.Encoding);

        int Cost(string part) => isGsm ? part.Sum(c => Extension.Contains(c) ? 2 : 1) : part.Length;
        Assert.Equal(Cost(text), measured.Units);

        var (single, limit) = isGsm ? (160, 153) : (70, 67);
        if (text.Length == 0)
        {
            Assert.Equal(0, measured.Segments);
            return;
        }

        if (measured.Units <= single)
        {
            Assert.Equal(1, measured.Segments);
            return;
        }

        Assert.True(measured.Segments >= 2);
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            Assert.NotEmpty(part);
            Assert.True(Cost(part) <= limit, $"part {i} costs {Cost(part)}");
            Assert.False(char.IsLowSurrogate(part[0]), $"part {i} starts with a low surrogate");
            Assert.False(char.IsHighSurrogate(part[^1]), $"part {i} ends with a high surrogate");

            // Greedy filling: the next part's first character (or surrogate pair) did not fit in this one.
            if (i + 1 < parts.Count)
            {
                var next = parts[i + 1];
                var first = char.IsHighSurrogate(next[0]) ? next[..2] : next[..1];
                Assert.True(Cost(part) + Cost(first) > limit, $"part {i} could have taken more");
            }
        }
    }
}
