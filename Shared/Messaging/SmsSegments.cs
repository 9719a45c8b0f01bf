using System.Collections.Frozen;
using System.Diagnostics;
using System.Text;

namespace Ujumbe.Shared.Messaging;

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
    /// Returns the text in Unicode NFC, the canonically equivalent composed form, which is often cheaper:
    /// <c>"e\u0301"</c> becomes <c>"é"</c> (GSM-7 instead of UCS-2), <c>"c\u0327"</c> becomes <c>"ç"</c> (1 unit instead of 2),
    /// the ohm sign becomes Greek Ω. The recipient's phone shows the same text either way. Returns the same instance
    /// when the text is already normalized (almost always).
    /// </summary>
    /// <remarks>Needs ICU: the Api runs without invariant globalization (see Api.csproj).</remarks>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.IsNormalized(NormalizationForm.FormC) ? text : text.Normalize(NormalizationForm.FormC);
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
