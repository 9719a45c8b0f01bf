namespace Ujumbe.Api.Phones;

/// <summary>
/// What a mobile number looks like in one country: the digits after the country calling code
/// (the national significant number, NSN) and the leading digits that mobile networks hold.
/// </summary>
/// <remarks>
/// Prefixes are plain leading digits, 1 to 3 of them: <c>"7"</c> covers 700–799, <c>"772"</c> only 772.
/// The plan is compiled once into a table of the NSN's first three digits, so a check costs one array read.
/// </remarks>
public sealed record MobileNumberingPlan
{
    private const int PrefixDigits = 3;
    private readonly bool[] _mobileByFirstThreeDigits = new bool[1000];
    private readonly int[] _lengths;

    public MobileNumberingPlan(
        string isoCode, string callingCode, string name, string adjective,
        IReadOnlyList<int> nationalNumberLengths, IReadOnlyList<string> mobilePrefixes)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(isoCode);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentException.ThrowIfNullOrWhiteSpace(adjective);
        ArgumentNullException.ThrowIfNull(nationalNumberLengths);
        ArgumentNullException.ThrowIfNull(mobilePrefixes);
        if (isoCode.Length != 2 || !char.IsAsciiLetterUpper(isoCode[0]) || !char.IsAsciiLetterUpper(isoCode[1]))
        {
            throw new ArgumentException($"'{isoCode}' is not an ISO 3166 alpha-2 code in capitals.", nameof(isoCode));
        }
        if (!IsDigits(callingCode, 1, 3) || callingCode[0] == '0')
        {
            throw new ArgumentException($"'{callingCode}' is not a country calling code.", nameof(callingCode));
        }
        if (nationalNumberLengths.Count == 0 || nationalNumberLengths.Any(n => n < PrefixDigits || n + callingCode.Length > 15))
        {
            throw new ArgumentException($"{isoCode}: national number lengths must be {PrefixDigits} or more, and fit E.164's 15 digits.", nameof(nationalNumberLengths));
        }
        if (mobilePrefixes.Count == 0)
        {
            throw new ArgumentException($"{isoCode}: a plan needs at least one mobile prefix.", nameof(mobilePrefixes));
        }

        foreach (var prefix in mobilePrefixes)
        {
            if (!IsDigits(prefix, 1, PrefixDigits))
            {
                throw new ArgumentException($"{isoCode}: mobile prefix '{prefix}' must be 1 to {PrefixDigits} digits.", nameof(mobilePrefixes));
            }
            // "7" marks 700..799; "77" marks 770..779; "772" marks 772.
            var value = int.Parse(prefix, System.Globalization.CultureInfo.InvariantCulture);
            var span = 1;
            for (var i = prefix.Length; i < PrefixDigits; i++)
            {
                value *= 10;
                span *= 10;
            }
            for (var i = 0; i < span; i++)
            {
                _mobileByFirstThreeDigits[value + i] = true;
            }
        }

        IsoCode = isoCode;
        CallingCode = callingCode;
        Name = name;
        Adjective = adjective;
        _lengths = nationalNumberLengths.Order().Distinct().ToArray();
        MinLength = _lengths[0];
        MaxLength = _lengths[^1];
    }

    /// <summary>ISO 3166 alpha-2, capitals: "TZ".</summary>
    public string IsoCode { get; }

    /// <summary>E.164 country calling code without "+": "255".</summary>
    public string CallingCode { get; }

    /// <summary>For messages: "Tanzania".</summary>
    public string Name { get; }

    /// <summary>For messages: "Tanzanian".</summary>
    public string Adjective { get; }

    internal int MinLength { get; }

    internal int MaxLength { get; }

    internal bool HasLength(int length)
    {
        // The array, not the IReadOnlyList: enumerating the interface would box an enumerator on every call.
        foreach (var allowed in _lengths)
        {
            if (allowed == length)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Whether the NSN starts with a mobile prefix. Its length is checked separately.</summary>
    internal bool HasMobilePrefix(ReadOnlySpan<char> nsn) =>
        nsn.Length >= PrefixDigits
        && _mobileByFirstThreeDigits[((nsn[0] - '0') * 100) + ((nsn[1] - '0') * 10) + (nsn[2] - '0')];

    private static bool IsDigits(string? text, int minLength, int maxLength)
    {
        if (text is null || text.Length < minLength || text.Length > maxLength)
        {
            return false;
        }
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return true;
    }
}
