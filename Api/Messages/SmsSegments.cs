using System.Collections.Frozen;
using System.Diagnostics;

namespace Ujumbe.Api.Messages;

/// <summary>The character set a message travels in; chosen per message, never per part.</summary>
public enum SmsEncoding
{
    /// <summary>GSM 03.38 default alphabet plus its extension table, 7 bits per septet.</summary>
    Gsm7,

    /// <summary>UCS-2 (UTF-16 code units on the wire), used as soon as one character is not GSM-7.</summary>
    Ucs2,
}

/// <summary>What a carrier bills for one message.</summary>
/// <param name="Encoding">The encoding the whole message is sent in.</param>
/// <param name="Segments">How many SMS parts are sent (0 only for empty text).</param>
/// <param name="Units">Septets for GSM-7 (an extension character counts 2), UTF-16 code units for UCS-2.</param>
public readonly record struct SegmentCount(SmsEncoding Encoding, int Segments, int Units);

/// <summary>
/// Counts and splits SMS segments the way carriers bill them.
/// </summary>
/// <remarks>
/// <para>
/// GSM-7: a message of up to 160 septets is one segment; a longer one is sent in parts of at most 153 septets
/// (7 septets of every part go to the concatenation header). An extension character (<c>^ { } \ [ ~ ] | €</c> and form
/// feed) costs 2 septets (escape + character) and is never split across parts: if it does not fit, it starts the next part.
/// </para>
/// <para>
/// UCS-2: up to 70 UTF-16 code units is one segment; a longer message is sent in parts of at most 67 units. A surrogate
/// pair (e.g. most emoji) is never split across parts.
/// </para>
/// <para>
/// Parts are filled greedily, as carriers do, so <c>Measure(t).Segments == Split(t).Count</c> and
/// <c>string.Concat(Split(t)) == t</c> for every text.
/// </para>
/// </remarks>
public static class SmsSegments
{
    private const int Gsm7SingleLimit = 160;
    private const int Gsm7PartLimit = 153;
    private const int Ucs2SingleLimit = 70;
    private const int Ucs2PartLimit = 67;

    // GSM 03.38 default alphabet in table order, 0x00 to 0x7F. 0x1B is the escape to the extension table, not a
    // character; its slot holds U+001B, which BuildLatin1Costs skips.
    private const string BasicTable =
        "@£$¥èéùìòÇ\nØø\rÅå" +
        "Δ_ΦΓΛΩΠΨΣΘΞ\u001BÆæßÉ" +
        " !\"#¤%&'()*+,-./" +
        "0123456789:;<=>?" +
        "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§" +
        "¿abcdefghijklmnopqrstuvwxyzäöñüà";

    // The extension table: each is sent as escape (0x1B) + a septet, so it costs 2.
    private const string ExtensionTable = "\f^{}\\[]~|€";

    // Septet cost of every char below U+0100: 0 = not GSM-7, 1 = basic table, 2 = extension table.
    private static readonly byte[] Latin1Costs = BuildLatin1Costs();

    /// <summary>
    /// Returns the text in a canonically equivalent, composed form (NFC-style), which is often cheaper:
    /// <c>"e\u0301"</c> becomes <c>"é"</c> (GSM-7 instead of UCS-2), <c>"c\u0327"</c> becomes <c>"ç"</c> (1 unit instead of 2),
    /// the ohm sign becomes Greek Ω. Returns the same instance when nothing changes.
    /// </summary>
    /// <remarks>
    /// The platform runs with invariant globalization, where <see cref="string.Normalize()"/> leaves non-ASCII text as it
    /// is, so composition is done here from Unicode data: every canonical composition pair in the Basic Multilingual
    /// Plane (Latin, Greek, Cyrillic, Arabic, Indic, kana...), Hangul jamo, and the canonical singletons outside the CJK
    /// compatibility ideographs. The result is always canonically equivalent to the input and never longer. It equals
    /// NFC for text whose combining marks are in canonical order and come from the Combining Diacritical Marks block or
    /// the composition table; otherwise (marks out of order, marks from other blocks between a base and its accent,
    /// composition exclusions such as U+0958, CJK compatibility ideographs) it may compose less than NFC would.
    /// </remarks>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return CanonicalComposition.Compose(text);
    }

    /// <summary>
    /// Measures the text as given (callers <see cref="Normalize"/> first): its encoding, segment count and units.
    /// Allocation-free.
    /// </summary>
    /// <remarks>Empty text measures as GSM-7 with 0 units and 0 segments; callers reject empty messages.</remarks>
    public static SegmentCount Measure(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var span = text.AsSpan();

        var septets = 0;
        foreach (var c in span)
        {
            var cost = GsmCost(c);
            if (cost == 0)
            {
                return new SegmentCount(SmsEncoding.Ucs2, CountSegments(span, SmsEncoding.Ucs2, span.Length), span.Length);
            }

            septets += cost;
        }

        return new SegmentCount(SmsEncoding.Gsm7, CountSegments(span, SmsEncoding.Gsm7, septets), septets);
    }

    /// <summary>
    /// The parts a carrier would send, in order; concatenated they give back the text. One part (the text itself) when
    /// the text fits a single segment, none for empty text.
    /// </summary>
    public static IReadOnlyList<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var measured = Measure(text);
        switch (measured.Segments)
        {
            case 0:
                return [];
            case 1:
                return [text];
        }

        var span = text.AsSpan();
        var limit = PartLimit(measured.Encoding);
        var parts = new string[measured.Segments];
        var start = 0;
        for (var i = 0; i < parts.Length; i++)
        {
            var end = PartEnd(span, start, measured.Encoding, limit);
            parts[i] = text[start..end];
            start = end;
        }

        Debug.Assert(start == text.Length, "Split and Measure disagree on the part count.");
        return parts;
    }

    /// <summary>The API's name for an encoding: "GSM-7" or "UCS-2".</summary>
    public static string EncodingName(SmsEncoding encoding) => encoding switch
    {
        SmsEncoding.Gsm7 => "GSM-7",
        SmsEncoding.Ucs2 => "UCS-2",
        _ => throw new ArgumentOutOfRangeException(nameof(encoding), encoding, "Unknown SMS encoding."),
    };

    /// <summary>Septets for a char in GSM-7: 1 (basic table), 2 (extension table) or 0 (not GSM-7).</summary>
    private static int GsmCost(char c)
    {
        if (c < 0x100)
        {
            return Latin1Costs[c];
        }

        return c switch
        {
            'Δ' or 'Φ' or 'Γ' or 'Λ' or 'Ω' or 'Π' or 'Ψ' or 'Σ' or 'Θ' or 'Ξ' => 1,
            '€' => 2,
            _ => 0,
        };
    }

    private static int CountSegments(ReadOnlySpan<char> text, SmsEncoding encoding, int units)
    {
        if (units == 0)
        {
            return 0;
        }

        if (units <= SingleLimit(encoding))
        {
            return 1;
        }

        var limit = PartLimit(encoding);
        var segments = 0;
        for (var start = 0; start < text.Length; start = PartEnd(text, start, encoding, limit))
        {
            segments++;
        }

        return segments;
    }

    /// <summary>
    /// Where the part that starts at <paramref name="start"/> ends: as many whole characters as fit in
    /// <paramref name="limit"/> septets or units. An extension character or a surrogate pair is never cut.
    /// </summary>
    private static int PartEnd(ReadOnlySpan<char> text, int start, SmsEncoding encoding, int limit)
    {
        var used = 0;
        var i = start;
        while (i < text.Length)
        {
            int width;
            int cost;
            if (encoding == SmsEncoding.Gsm7)
            {
                width = 1;
                cost = GsmCost(text[i]);
            }
            else
            {
                width = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
                cost = width;
            }

            if (used + cost > limit)
            {
                break;
            }

            used += cost;
            i += width;
        }

        return i;
    }

    private static int SingleLimit(SmsEncoding encoding) => encoding == SmsEncoding.Gsm7 ? Gsm7SingleLimit : Ucs2SingleLimit;

    private static int PartLimit(SmsEncoding encoding) => encoding == SmsEncoding.Gsm7 ? Gsm7PartLimit : Ucs2PartLimit;

    private static byte[] BuildLatin1Costs()
    {
        Debug.Assert(BasicTable.Length == 128, "The GSM 03.38 basic table has 128 positions.");
        var costs = new byte[0x100];
        foreach (var c in BasicTable)
        {
            if (c < 0x100 && c != '\u001B')
            {
                costs[c] = 1;
            }
        }

        foreach (var c in ExtensionTable)
        {
            if (c < 0x100)
            {
                costs[c] = 2;
            }
        }

        return costs;
    }
}

/// <summary>
/// Canonical composition (the composing half of Unicode NFC) from a table of the Unicode Character Database's canonical
/// decompositions. See <see cref="SmsSegments.Normalize"/> for what it covers.
/// </summary>
internal static class CanonicalComposition
{
    // Canonical combining classes of U+0300..U+036F (Combining Diacritical Marks), from UnicodeData.txt.
    private static ReadOnlySpan<byte> DiacriticalMarkClasses =>
    [
        230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230,  // U+0300
        230, 230, 230, 230, 230, 232, 220, 220, 220, 220, 232, 216, 220, 220, 220, 220,  // U+0310
        220, 202, 202, 220, 220, 220, 220, 202, 202, 220, 220, 220, 220, 220, 220, 220,  // U+0320
        220, 220, 220, 220, 1, 1, 1, 1, 1, 220, 220, 220, 220, 230, 230, 230,  // U+0330
        230, 230, 230, 230, 230, 240, 230, 220, 220, 220, 230, 230, 230, 220, 220, 0,  // U+0340
        230, 230, 230, 220, 220, 220, 220, 230, 232, 220, 220, 230, 233, 234, 234, 233,  // U+0350
        234, 234, 233, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230, 230,  // U+0360
    ];

    // Every primary composite in the BMP whose canonical decomposition is two BMP characters, grouped by the second
    // (combining) character: the mark, its canonical combining class, then pairs of base + composite. Composition
    // exclusions are left out. Generated from the Unicode Character Database (Unicode 14).
    private static readonly (char Mark, byte Class, string Pairs)[] CompositionTable =
    [
        ('\u0300', 230, "AÀEÈIÌOÒUÙaàeèiìoòuùÜǛüǜNǸnǹЕЀИЍеѐиѝĒḔēḕŌṐōṑWẀwẁÂẦâầĂẰăằÊỀêềÔỒôồ"
            + "ƠỜơờƯỪưừYỲyỳἀἂἁἃἈἊἉἋἐἒἑἓἘἚἙἛἠἢἡἣἨἪἩἫἰἲἱἳἸἺἹἻὀὂὁὃὈὊὉὋὐὒὑὓὙὛὠὢὡὣὨὪ"
            + "ὩὫαὰεὲηὴιὶοὸυὺωὼΑᾺΕῈΗῊ\u1FBF\u1FCDϊῒΙῚ\u1FFE\u1FDDϋῢΥῪ"
            + "\u00A8\u1FEDΟῸΩῺ"),
        ('\u0301', 230, "AÁEÉIÍOÓUÚYÝaáeéiíoóuúyýCĆcćLĹlĺNŃnńRŔrŕSŚsśZŹzźÜǗüǘGǴgǵÅǺåǻÆǼæǽ"
            + "ØǾøǿ\u00A8\u0385ΑΆΕΈΗΉΙΊΟΌΥΎΩΏϊΐαάεέηήιίϋΰοόυύωώ\u03D2\u03D3ГЃКЌ"
            + "гѓкќÇḈçḉĒḖēḗÏḮïḯKḰkḱMḾmḿÕṌõṍŌṒōṓPṔpṕŨṸũṹWẂwẃÂẤâấĂẮăắÊẾêếÔỐôốƠỚơớ"
            + "ƯỨưứἀἄἁἅἈἌἉἍἐἔἑἕἘἜἙἝἠἤἡἥἨἬἩἭἰἴἱἵἸἼἹἽὀὄὁὅὈὌὉὍὐὔὑὕὙὝὠὤὡὥὨὬὩὭ"
            + "\u1FBF\u1FCE\u1FFE\u1FDE"),
        ('\u0302', 230, "AÂEÊIÎOÔUÛaâeêiîoôuûCĈcĉGĜgĝHĤhĥJĴjĵSŜsŝWŴwŵYŶyŷZẐzẑẠẬạậẸỆẹệỌỘọộ"),
        ('\u0303', 230, "AÃNÑOÕaãnñoõIĨiĩUŨuũVṼvṽÂẪâẫĂẴăẵEẼeẽÊỄêễÔỖôỗƠỠơỡƯỮưữYỸyỹ"),
        ('\u0304', 230, "AĀaāEĒeēIĪiīOŌoōUŪuūÜǕüǖÄǞäǟȦǠȧǡÆǢæǣǪǬǫǭÖȪöȫÕȬõȭȮȰȯȱYȲyȳИӢиӣУӮуӯ"
            + "GḠgḡḶḸḷḹṚṜṛṝαᾱΑᾹιῑΙῙυῡΥῩ"),
        ('\u0306', 230, "AĂaăEĔeĕGĞgğIĬiĭOŎoŏUŬuŭУЎИЙийуўЖӁжӂАӐаӑЕӖеӗȨḜȩḝẠẶạặαᾰΑᾸιῐΙῘυῠΥῨ"),
        ('\u0307', 230, "CĊcċEĖeėGĠgġIİZŻzżAȦaȧOȮoȯBḂbḃDḊdḋFḞfḟHḢhḣMṀmṁNṄnṅPṖpṗRṘrṙSṠsṡŚṤ"
            + "śṥŠṦšṧṢṨṣṩTṪtṫWẆwẇXẊxẋYẎyẏ\u017F\u1E9B"),
        ('\u0308', 230, "AÄEËIÏOÖUÜaäeëiïoöuüyÿYŸΙΪΥΫιϊυϋ\u03D2\u03D4ЕЁІЇеёіїАӒаӓӘӚәӛЖӜжӝ"
            + "ЗӞзӟИӤиӥОӦоӧӨӪөӫЭӬэӭУӰуӱЧӴчӵЫӸыӹHḦhḧÕṎõṏŪṺūṻWẄwẅXẌxẍtẗ"),
        ('\u0309', 230, "AẢaảÂẨâẩĂẲăẳEẺeẻÊỂêểIỈiỉOỎoỏÔỔôổƠỞơởUỦuủƯỬưửYỶyỷ"),
        ('\u030A', 230, "AÅaåUŮuůwẘyẙ"),
        ('\u030B', 230, "OŐoőUŰuűУӲуӳ"),
        ('\u030C', 230, "CČcčDĎdďEĚeěLĽlľNŇnňRŘrřSŠsšTŤtťZŽzžAǍaǎIǏiǐOǑoǒUǓuǔÜǙüǚGǦgǧKǨkǩ"
            + "ƷǮʒǯjǰHȞhȟ"),
        ('\u030F', 230, "AȀaȁEȄeȅIȈiȉOȌoȍRȐrȑUȔuȕѴѶѵѷ"),
        ('\u0311', 230, "AȂaȃEȆeȇIȊiȋOȎoȏRȒrȓUȖuȗ"),
        ('\u0313', 230, "αἀΑἈεἐΕἘηἠΗἨιἰΙἸοὀΟὈυὐωὠΩὨρῤ"),
        ('\u0314', 230, "αἁΑἉεἑΕἙηἡΗἩιἱΙἹοὁΟὉυὑΥὙωὡΩὩρῥΡῬ"),
        ('\u031B', 216, "OƠoơUƯuư"),
        ('\u0323', 220, "BḄbḅDḌdḍHḤhḥKḲkḳLḶlḷMṂmṃNṆnṇRṚrṛSṢsṣTṬtṭVṾvṿWẈwẉZẒzẓAẠaạEẸeẹIỊiị"
            + "OỌoọƠỢơợUỤuụƯỰưựYỴyỵ"),
        ('\u0324', 220, "UṲuṳ"),
        ('\u0325', 220, "AḀaḁ"),
        ('\u0326', 220, "SȘsșTȚtț"),
        ('\u0327', 202, "CÇcçGĢgģKĶkķLĻlļNŅnņRŖrŗSŞsşTŢtţEȨeȩDḐdḑHḨhḩ"),
        ('\u0328', 202, "AĄaąEĘeęIĮiįUŲuųOǪoǫ"),
        ('\u032D', 220, "DḒdḓEḘeḙLḼlḽNṊnṋTṰtṱUṶuṷ"),
        ('\u032E', 220, "HḪhḫ"),
        ('\u0330', 220, "EḚeḛIḬiḭUṴuṵ"),
        ('\u0331', 220, "BḆbḇDḎdḏKḴkḵLḺlḻNṈnṉRṞrṟTṮtṯZẔzẕhẖ"),
        ('\u0338', 1, "←↚→↛↔↮⇐⇍⇔⇎⇒⇏∃∄∈∉∋∌∣∤∥∦∼≁≃≄≅≇≈≉=≠≡≢≍≭<≮>≯≤≰≥≱≲≴≳≵≶≸≷≹≺⊀≻⊁⊂⊄⊃⊅⊆⊈⊇⊉"
            + "⊢⊬⊨⊭⊩⊮⊫⊯≼⋠≽⋡⊑⋢⊒⋣⊲⋪⊳⋫⊴⋬⊵⋭"),
        ('\u0342', 230, "ἀἆἁἇἈἎἉἏἠἦἡἧἨἮἩἯἰἶἱἷἸἾἹἿὐὖὑὗὙὟὠὦὡὧὨὮὩὯαᾶ\u00A8\u1FC1ηῆ"
            + "\u1FBF\u1FCFιῖϊῗ\u1FFE\u1FDFυῦϋῧωῶ"),
        ('\u0345', 240, "ἀᾀἁᾁἂᾂἃᾃἄᾄἅᾅἆᾆἇᾇἈᾈἉᾉἊᾊἋᾋἌᾌἍᾍἎᾎἏᾏἠᾐἡᾑἢᾒἣᾓἤᾔἥᾕἦᾖἧᾗἨᾘἩᾙἪᾚἫᾛἬᾜἭᾝἮᾞἯᾟ"
            + "ὠᾠὡᾡὢᾢὣᾣὤᾤὥᾥὦᾦὧᾧὨᾨὩᾩὪᾪὫᾫὬᾬὭᾭὮᾮὯᾯὰᾲαᾳάᾴᾶᾷΑᾼὴῂηῃήῄῆῇΗῌὼῲωῳώῴῶῷΩῼ"),
        ('\u0653', 230, "اآ"),
        ('\u0654', 230, "اأوؤيئەۀہۂےۓ"),
        ('\u0655', 220, "اإ"),
        ('\u093C', 7, "नऩरऱळऴ"),
        ('\u09BE', 0, "\u09C7\u09CB"),
        ('\u09D7', 0, "\u09C7\u09CC"),
        ('\u0B3E', 0, "\u0B47\u0B4B"),
        ('\u0B56', 0, "\u0B47\u0B48"),
        ('\u0B57', 0, "\u0B47\u0B4C"),
        ('\u0BBE', 0, "\u0BC6\u0BCA\u0BC7\u0BCB"),
        ('\u0BD7', 0, "ஒஔ\u0BC6\u0BCC"),
        ('\u0C56', 91, "\u0C46\u0C48"),
        ('\u0CC2', 0, "\u0CC6\u0CCA"),
        ('\u0CD5', 0, "\u0CBF\u0CC0\u0CC6\u0CC7\u0CCA\u0CCB"),
        ('\u0CD6', 0, "\u0CC6\u0CC8"),
        ('\u0D3E', 0, "\u0D46\u0D4A\u0D47\u0D4B"),
        ('\u0D57', 0, "\u0D46\u0D4C"),
        ('\u0DCA', 9, "\u0DD9\u0DDA\u0DDC\u0DDD"),
        ('\u0DCF', 0, "\u0DD9\u0DDC"),
        ('\u0DDF', 0, "\u0DD9\u0DDE"),
        ('\u102E', 0, "ဥဦ"),
        ('\u1B35', 0, "ᬅᬆᬇᬈᬉᬊᬋᬌᬍᬎᬑᬒ\u1B3A\u1B3B\u1B3C\u1B3D\u1B3E\u1B40\u1B3F\u1B41"
            + "\u1B42\u1B43"),
        ('\u3099', 8, "かがきぎくぐけげこごさざしじすずせぜそぞただちぢつづてでとどはばひびふぶへべほぼうゔゝゞカガキギクグケゲコゴサザシジスズセゼソゾ"
            + "タダチヂツヅテデトドハバヒビフブヘベホボウヴワヷヰヸヱヹヲヺヽヾ"),
        ('\u309A', 8, "はぱひぴふぷへぺほぽハパヒピフプヘペホポ"),
    ];

    // Canonical singletons outside the CJK compatibility ideographs, as pairs of char + its canonical equivalent.
    private const string SingletonTable =
        "\u0340\u0300\u0341\u0301\u0343\u0313\u0374\u02B9\u037E\u003B\u0387\u00B7" +
        "\u1F71\u03AC\u1F73\u03AD\u1F75\u03AE\u1F77\u03AF\u1F79\u03CC\u1F7B\u03CD" +
        "\u1F7D\u03CE\u1FBB\u0386\u1FBE\u03B9\u1FC9\u0388\u1FCB\u0389\u1FD3\u0390" +
        "\u1FDB\u038A\u1FE3\u03B0\u1FEB\u038E\u1FEE\u0385\u1FEF\u0060\u1FF9\u038C" +
        "\u1FFB\u038F\u1FFD\u00B4\u2000\u2002\u2001\u2003\u2126\u03A9\u212A\u004B" +
        "\u212B\u00C5\u2329\u3008\u232A\u3009";

    private const int HangulBase = 0xAC00;
    private const int HangulCount = 11172;
    private const int LeadingBase = 0x1100;
    private const int LeadingCount = 19;
    private const int VowelBase = 0x1161;
    private const int VowelCount = 21;
    private const int TrailingBase = 0x11A7; // one before the first trailing consonant: index 0 means "none"
    private const int TrailingCount = 28;

    private static readonly FrozenDictionary<int, char> Composites = BuildComposites();
    private static readonly FrozenDictionary<char, byte> MarkClasses = BuildMarkClasses();
    private static readonly FrozenDictionary<char, char> Singletons = BuildSingletons();

    // One bit per BMP char: set for chars that can change under composition (marks, jamo vowels and trailing
    // consonants, singletons). Text without any of them is returned as it is.
    private static readonly ulong[] Candidates = BuildCandidates();

    public static string Compose(string text)
    {
        var first = 0;
        while (first < text.Length && !IsCandidate(text[first]))
        {
            first++;
        }

        if (first == text.Length)
        {
            return text;
        }

        // Every char before `first` is a starter (class 0) as far as this table knows, so the last of them is the
        // starter the next marks may compose with.
        var buffer = new char[text.Length];
        text.AsSpan(0, first).CopyTo(buffer);
        var length = first;
        var starter = first - 1;
        var highestClassSinceStarter = 0;
        var changed = false;

        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (Singletons.TryGetValue(c, out var equivalent))
            {
                c = equivalent;
                changed = true;
            }

            var combiningClass = CombiningClass(c);

            // A mark composes with the last starter unless blocked: something between them with class 0 or a class at
            // least its own. A starter composes only when it directly follows the last starter.
            var adjacent = starter == length - 1;
            var unblocked = adjacent || (combiningClass != 0 && highestClassSinceStarter < combiningClass);
            if (starter >= 0 && unblocked && TryCompose(buffer[starter], c, out var composite))
            {
                buffer[starter] = composite;
                changed = true;
                continue;
            }

            if (combiningClass == 0)
            {
                starter = length;
                highestClassSinceStarter = 0;
            }
            else if (combiningClass > highestClassSinceStarter)
            {
                highestClassSinceStarter = combiningClass;
            }

            buffer[length++] = c;
        }

        return changed ? new string(buffer, 0, length) : text;
    }

    private static bool IsCandidate(char c) => (Candidates[c >> 6] & (1UL << (c & 63))) != 0;

    private static int CombiningClass(char c)
    {
        if (c is >= '\u0300' and <= '\u036F')
        {
            return DiacriticalMarkClasses[c - 0x0300];
        }

        // Marks outside the table count as class 0 (starters): they block composition across them, which keeps the
        // result canonically equivalent.
        return MarkClasses.TryGetValue(c, out var combiningClass) ? combiningClass : 0;
    }

    private static bool TryCompose(char first, char second, out char composite)
    {
        var leading = first - LeadingBase;
        var vowel = second - VowelBase;
        if (leading is >= 0 and < LeadingCount && vowel is >= 0 and < VowelCount)
        {
            composite = (char)(HangulBase + (((leading * VowelCount) + vowel) * TrailingCount));
            return true;
        }

        var syllable = first - HangulBase;
        var trailing = second - TrailingBase;
        if (syllable is >= 0 and < HangulCount && syllable % TrailingCount == 0 && trailing is > 0 and < TrailingCount)
        {
            composite = (char)(first + trailing);
            return true;
        }

        return Composites.TryGetValue((first << 16) | second, out composite);
    }

    private static FrozenDictionary<int, char> BuildComposites()
    {
        var composites = new Dictionary<int, char>();
        foreach (var (mark, _, pairs) in CompositionTable)
        {
            Debug.Assert(pairs.Length % 2 == 0, "Composition pairs come in twos.");
            for (var i = 0; i < pairs.Length; i += 2)
            {
                composites.Add((pairs[i] << 16) | mark, pairs[i + 1]);
            }
        }

        return composites.ToFrozenDictionary();
    }

    private static FrozenDictionary<char, byte> BuildMarkClasses()
    {
        var classes = new Dictionary<char, byte>();
        foreach (var (mark, combiningClass, _) in CompositionTable)
        {
            classes[mark] = combiningClass;
        }

        return classes.ToFrozenDictionary();
    }

    private static FrozenDictionary<char, char> BuildSingletons()
    {
        var singletons = new Dictionary<char, char>();
        for (var i = 0; i < SingletonTable.Length; i += 2)
        {
            singletons.Add(SingletonTable[i], SingletonTable[i + 1]);
        }

        return singletons.ToFrozenDictionary();
    }

    private static ulong[] BuildCandidates()
    {
        var bits = new ulong[0x10000 / 64];
        void Set(int c) => bits[c >> 6] |= 1UL << (c & 63);

        for (var c = 0x0300; c <= 0x036F; c++)
        {
            Set(c);
        }

        foreach (var mark in MarkClasses.Keys)
        {
            Set(mark);
        }

        foreach (var singleton in Singletons.Keys)
        {
            Set(singleton);
        }

        for (var c = VowelBase; c < VowelBase + VowelCount; c++)
        {
            Set(c);
        }

        for (var c = TrailingBase + 1; c < TrailingBase + TrailingCount; c++)
        {
            Set(c);
        }

        return bits;
    }
}
