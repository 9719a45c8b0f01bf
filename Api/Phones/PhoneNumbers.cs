extern alias libphonenumber;

using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using libphonenumber::PhoneNumbers;

namespace Ujumbe.Api.Phones;

/// <summary>The country and mobile operator of a number, as recorded with each message.</summary>
/// <param name="Country">ISO 3166 alpha-2 ("TZ"); null for numbers of no country (global networks such as +882).</param>
/// <param name="Operator">The operator the number range was allocated to ("Vodacom"), when the carrier data knows it.</param>
public readonly record struct PhoneOrigin(string? Country, string? Operator);

/// <summary>
/// Reads a phone number as an integrator typed it and gives it back as E.164 ("+255712345678"), the only form
/// numbers are stored and returned in. Numbering plans are libphonenumber's (every region it knows); SMS goes
/// to mobiles, so a number must be a mobile (or, where the plan cannot tell, fixed-line-or-mobile).
/// </summary>
/// <remarks>
/// Accepted forms: E.164 (<c>+255712345678</c>), international without "+" (<c>255712345678</c>), with the
/// "00" international prefix (<c>00255712345678</c>), national with the trunk prefix (<c>0712345678</c>), and
/// national without it (<c>712345678</c>) when it is a mobile of the default country or has a mobile's length there.
/// Spaces, hyphens, dots and parentheses are ignored; a "+" may only come before the first digit.
/// The characters are checked here, before libphonenumber sees them: its parser is lenient on purpose (it reads
/// letters as keypad digits and drops what it does not understand), which is not what an SMS API wants. Reading
/// the digits first also keeps exceptions off the path: the library is only asked about strings it can parse.
/// </remarks>
public static class PhoneNumbers
{
    /// <summary>Longer input is refused before it is read: the longest E.164 number, well formatted, fits easily.</summary>
    public const int MaxInputLength = 64;

    /// <summary>E.164: country code and national number together have at most 15 digits.</summary>
    public const int MaxDigits = 15;

    /// <summary>The region libphonenumber gives numbers of global networks (+800, +882…), which have no country.</summary>
    private const string NonGeographicRegion = "001";

    private static readonly PhoneNumberUtil Util = PhoneNumberUtil.GetInstance();
    private static readonly PhoneNumberToCarrierMapper Carriers = PhoneNumberToCarrierMapper.GetInstance();
    private static readonly HashSet<string> Regions = Util.GetSupportedRegions();
    private static readonly ConcurrentDictionary<string, string> RegionNames = new(StringComparer.Ordinal);

    /// <summary>Whether <paramref name="region"/> (ISO 3166 alpha-2, capitals) has a numbering plan, so national numbers can be read in it.</summary>
    public static bool IsKnownRegion(string? region) => region is not null && Regions.Contains(region);

    /// <summary>The calling code of an ISO 3166 country (TZ → 255), or 0 for a code that is not one.</summary>
    public static int CallingCode(string region) => Util.GetCountryCodeForRegion(region);

    /// <summary>Every region with a numbering plan, ISO 3166 alpha-2 in capitals.</summary>
    public static IReadOnlyCollection<string> KnownRegions => Regions;

    /// <summary>
    /// Normalises <paramref name="input"/> to E.164. <paramref name="defaultCountry"/> is the account's ISO 3166
    /// alpha-2 code, used to read national numbers. On failure <paramref name="error"/> names the input and says
    /// what is wrong in plain words, and <paramref name="e164"/> is empty; on success the error is empty.
    /// </summary>
    public static bool TryNormalize(string? input, string defaultCountry, out string e164, out string error)
    {
        if (TryParse(input, defaultCountry, out var number, out error))
        {
            e164 = E164(number);
            return true;
        }
        e164 = string.Empty;
        return false;
    }

    /// <summary>
    /// As <see cref="TryNormalize(string?, string, out string, out string)"/>, and the number's country and operator
    /// (<see cref="OriginOf"/>) from the number already parsed: a send finds them while it is validated, on its own
    /// request, rather than parsing every number again where sends are committed one group after another.
    /// </summary>
    public static bool TryNormalize(string? input, string defaultCountry, out string e164, out PhoneOrigin origin, out string error)
    {
        if (TryParse(input, defaultCountry, out var number, out error))
        {
            e164 = E164(number);
            origin = Origin(number);
            return true;
        }
        e164 = string.Empty;
        origin = default;
        return false;
    }

    // What Format(E164) gives, without its checks of a number already known valid.
    private static string E164(PhoneNumber number) =>
        string.Create(CultureInfo.InvariantCulture, $"+{number.CountryCode}{Util.GetNationalSignificantNumber(number)}");

    /// <summary>
    /// The country and operator of a number already in E.164 (as stored). Operators come from libphonenumber's
    /// carrier data in English, which knows the range's original operator (a ported number keeps it).
    /// </summary>
    public static PhoneOrigin OriginOf(string e164)
    {
        // Stored numbers were validated when they were stored; a number that no longer parses has no origin.
        if (e164.Length < 3 || e164[0] != '+' || e164.Length > MaxDigits + 1)
        {
            return default;
        }
        if (!TryBuild(e164.AsSpan(1), out var number) && !TryParseDigits(e164.AsSpan(1), null, out number))
        {
            return default;
        }
        return Origin(number);
    }

    private static PhoneOrigin Origin(PhoneNumber number)
    {
        var region = Util.GetRegionCodeForNumber(number);
        var country = region is null or NonGeographicRegion or "ZZ" ? null : region;
        var name = Carriers.GetNameForValidNumber(number, Locale.English);
        return new PhoneOrigin(country, string.IsNullOrEmpty(name) ? null : name);
    }

    /// <summary>Runs each path once, so the numbering metadata and carrier data are loaded before the first request.</summary>
    public static void WarmUp()
    {
        foreach (var input in (string[])["+255712345678", "0712345678", "712345678", "00254712345678", "+255221234567", "+999"])
        {
            if (TryNormalize(input, "TZ", out var e164, out _))
            {
                OriginOf(e164);
            }
        }
    }

    private static bool TryParse(string? input, string defaultCountry, out PhoneNumber number, out string error)
    {
        number = null!;
        error = string.Empty;
        if (string.IsNullOrWhiteSpace(input))
        {
            error = "a phone number is required";
            return false;
        }
        if (input.Length > MaxInputLength)
        {
            error = $"\"{input.AsSpan(0, 20).Trim()}…\" is too long for a phone number";
            return false;
        }

        Span<char> buffer = stackalloc char[MaxInputLength];
        var count = 0;
        var plus = false;
        foreach (var c in input)
        {
            if (char.IsAsciiDigit(c))
            {
                buffer[count++] = c;
            }
            else if (c == '+')
            {
                if (plus || count > 0)
                {
                    error = $"{Quote(input)} has a \"+\" that is not at the start";
                    return false;
                }
                plus = true;
            }
            else if (!IsSeparator(c))
            {
                error = $"{Quote(input)} contains characters a phone number cannot have";
                return false;
            }
        }
        if (count == 0)
        {
            error = $"{Quote(input)} has no digits";
            return false;
        }

        ReadOnlySpan<char> digits = buffer[..count];
        var home = defaultCountry.ToUpperInvariant();
        if (plus)
        {
            return International(input, digits, out number, out error);
        }
        if (digits.StartsWith("00"))
        {
            return International(input, digits[2..], out number, out error);
        }
        if (digits[0] == '0')
        {
            return National(input, digits, home, out number, out error);
        }
        // Bare digits: national if they are a mobile at home ("712345678" in TZ). Digits of a home mobile's
        // length that are not one are most likely a landline typed without its 0 ("221234567" in TZ), not a
        // short foreign number ("+221 234567" would be too short for Senegal anyway): refuse them rather than
        // send them abroad. Anything else is international without its "+".
        if (IsKnownRegion(home) && TryNationalMobileFast(digits, home, out number))
        {
            return true;
        }
        if (IsKnownRegion(home) && digits.Length is >= 2 and <= MaxDigits && TryParseDigits(digits, home, out var national)
            && (IsSmsNumber(national) || MobileLengths(home).Contains(digits.Length)))
        {
            return Check(input, national, out number, out error);
        }
        return International(input, digits, out number, out error);
    }

    private static bool National(string input, ReadOnlySpan<char> digits, string home, out PhoneNumber number, out string error)
    {
        number = null!;
        if (!IsKnownRegion(home))
        {
            error = $"{Quote(input)} has no country code, and national numbers cannot be read for the default country \"{home}\"";
            return false;
        }
        if (digits.Length > MaxDigits + 2)
        {
            error = $"{Quote(input)} is too long for a mobile number in {RegionName(home)}";
            return false;
        }
        if (TryNationalMobileFast(digits, home, out number))
        {
            error = string.Empty;
            return true;
        }
        if (!TryParseDigits(digits, home, out var national))
        {
            error = $"{Quote(input)} is too short for a mobile number in {RegionName(home)}";
            return false;
        }
        // Where national numbers have no trunk prefix (Burundi, Mozambique) a 0 typed out of habit is dropped,
        // unless the number with the 0 is a valid one (Italian landlines start with 0).
        if (!Util.IsValidNumber(national) && string.IsNullOrEmpty(Util.GetMetadataForRegion(home).NationalPrefix) && digits.Length > 1)
        {
            if (TryParseDigits(digits[1..], home, out var withoutZero) && Util.IsValidNumber(withoutZero))
            {
                national = withoutZero;
            }
        }
        return Check(input, national, out number, out error);
    }

    private static bool International(string input, ReadOnlySpan<char> digits, out PhoneNumber number, out string error)
    {
        number = null!;
        if (digits.IsEmpty)
        {
            error = $"{Quote(input)} is too short to be a phone number";
            return false;
        }
        var codeLength = CallingCodeLength(digits);
        if (codeLength == 0)
        {
            error = $"{Quote(input)} does not start with a known country calling code";
            return false;
        }
        if (digits.Length > MaxDigits)
        {
            error = $"{Quote(input)} is too long for a phone number: international numbers have at most {MaxDigits.ToString(CultureInfo.InvariantCulture)} digits";
            return false;
        }
        // libphonenumber refuses a national number of fewer than 2 digits with an exception; say it plainly instead.
        if (digits.Length - codeLength < 2)
        {
            error = $"{Quote(input)} is too short for a mobile number in {RegionName(Util.GetRegionCodeForCountryCode(int.Parse(digits[..codeLength], CultureInfo.InvariantCulture)))}";
            return false;
        }
        // Plain "+<code><number>" needs none of the parser's work (it looks for extensions, letters, a national
        // prefix after the code...): build the number directly. A 0 after the code ("+255 (0)712…") goes to the parser.
        if (!TryBuild(digits, out var international) && !TryParseDigits(digits, null, out international))
        {
            error = $"{Quote(input)} is not a valid phone number";
            return false;
        }
        return Check(input, international, out number, out error);
    }

    /// <summary>
    /// libphonenumber's parse of plain digits: national in <paramref name="region"/>, or international (no "+") when it is null.
    /// The callers have checked what makes it throw (lengths, the calling code), so the catch is only a safety net.
    /// </summary>
    private static bool TryParseDigits(ReadOnlySpan<char> digits, string? region, out PhoneNumber number)
    {
        try
        {
            number = Util.Parse(region is null ? string.Concat("+", digits) : digits.ToString(), region);
            return true;
        }
        catch (NumberParseException)
        {
            number = null!;
            return false;
        }
    }

    /// <summary>
    /// A national mobile without the parser: the region's trunk prefix (when it is a plain one, like "0") dropped,
    /// then the fast mobile check. Whatever this does not recognise goes to libphonenumber's parser.
    /// </summary>
    private static bool TryNationalMobileFast(ReadOnlySpan<char> digits, string home, out PhoneNumber number)
    {
        number = null!;
        var metadata = Util.GetMetadataForRegion(home);
        if (metadata is null || !string.IsNullOrEmpty(metadata.NationalPrefixTransformRule) || digits.Length > MaxDigits)
        {
            return false;
        }
        var national = digits;
        if (!string.IsNullOrEmpty(metadata.NationalPrefixForParsing))
        {
            // The region's trunk prefix as a pattern ("0|00" and the like); with no transform rule, a match is simply dropped.
            var trunk = TrunkPrefixes.GetOrAdd(home, static (_, pattern) =>
                new Regex($"^(?:{pattern})", RegexOptions.Compiled | RegexOptions.CultureInvariant), metadata.NationalPrefixForParsing);
            var match = trunk.Match(digits.ToString());
            if (match.Success)
            {
                national = digits[match.Length..];
            }
        }
        else if (metadata.NationalPrefix is { Length: > 0 } prefix && digits.StartsWith(prefix))
        {
            national = digits[prefix.Length..];
        }
        if (national.Length < 2 || national[0] == '0'
            || !ulong.TryParse(national, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            return false;
        }
        var candidate = new PhoneNumber.Builder().SetCountryCode(metadata.CountryCode).SetNationalNumber(value).Build();
        if (!IsMobileFast(candidate))
        {
            return false;
        }
        number = candidate;
        return true;
    }

    /// <summary>The number for "<code><national number>" digits, when the national number does not start with 0.</summary>
    private static bool TryBuild(ReadOnlySpan<char> digits, out PhoneNumber number)
    {
        number = null!;
        var codeLength = CallingCodeLength(digits);
        if (codeLength == 0 || digits.Length - codeLength < 2 || digits[codeLength] == '0' || digits.Length > MaxDigits
            || !int.TryParse(digits[..codeLength], NumberStyles.None, CultureInfo.InvariantCulture, out var code)
            || !ulong.TryParse(digits[codeLength..], NumberStyles.None, CultureInfo.InvariantCulture, out var national))
        {
            return false;
        }
        number = new PhoneNumber.Builder().SetCountryCode(code).SetNationalNumber(national).Build();
        return true;
    }

    /// <summary>The length of the country calling code <paramref name="digits"/> start with (1 to 3), or 0 for none.</summary>
    private static int CallingCodeLength(ReadOnlySpan<char> digits)
    {
        var code = 0;
        for (var length = 1; length <= 3 && length <= digits.Length; length++)
        {
            code = (code * 10) + (digits[length - 1] - '0');
            // Calling codes are prefix-free, so the first match is the only one.
            if (digits[0] != '0' && Util.GetRegionCodeForCountryCode(code) != "ZZ")
            {
                return length;
            }
        }
        return 0;
    }

    private static bool Check(string input, PhoneNumber candidate, out PhoneNumber number, out string error)
    {
        number = null!;
        var type = IsMobileFast(candidate) ? PhoneNumberType.MOBILE : Util.GetNumberType(candidate);
        if (type is PhoneNumberType.MOBILE or PhoneNumberType.FIXED_LINE_OR_MOBILE)
        {
            number = candidate;
            error = string.Empty;
            return true;
        }
        var exact = Util.GetRegionCodeForNumber(candidate);
        var where = RegionName(exact is { Length: > 0 } and not "ZZ" ? exact : Util.GetRegionCodeForCountryCode(candidate.CountryCode));
        // A valid number of another type (landline, toll-free, VoIP...) is simply not a mobile. An invalid one is
        // explained by its length where the length is wrong for any number there, then for a mobile; a number of
        // the right length in a range nobody holds is not a mobile either.
        var length = PhoneNumberUtil.ValidationResult.IS_POSSIBLE;
        if (type == PhoneNumberType.UNKNOWN)
        {
            var mobile = Util.IsPossibleNumberForTypeWithReason(candidate, PhoneNumberType.MOBILE);
            var general = Util.IsPossibleNumberWithReason(candidate);
            length = mobile is PhoneNumberUtil.ValidationResult.TOO_SHORT or PhoneNumberUtil.ValidationResult.TOO_LONG ? mobile
                : general is PhoneNumberUtil.ValidationResult.TOO_SHORT or PhoneNumberUtil.ValidationResult.TOO_LONG or PhoneNumberUtil.ValidationResult.INVALID_LENGTH ? general
                : mobile;
        }
        error = length switch
        {
            PhoneNumberUtil.ValidationResult.TOO_SHORT => $"{Quote(input)} is too short for a mobile number in {where}",
            PhoneNumberUtil.ValidationResult.TOO_LONG => $"{Quote(input)} is too long for a mobile number in {where}",
            PhoneNumberUtil.ValidationResult.INVALID_LENGTH => $"{Quote(input)} has the wrong number of digits for a mobile number in {where}",
            _ => $"{Quote(input)} is not a mobile number in {where}",
        };
        return false;
    }

    private static bool IsSmsNumber(PhoneNumber number) =>
        IsMobileFast(number) || Util.GetNumberType(number) is PhoneNumberType.MOBILE or PhoneNumberType.FIXED_LINE_OR_MOBILE;

    /// <summary>
    /// The common case, cheaply: the national number is in the region's general and mobile ranges of libphonenumber's
    /// metadata, matched by regexes compiled once per region. GetNumberType reaches the same answer for such a number
    /// but tries every other type first with the library's own regexes, several times the cost; a 10,000-recipient
    /// send has no time for that. Anything this does not recognise goes to GetNumberType.
    /// </summary>
    private static bool IsMobileFast(PhoneNumber number)
    {
        var region = Util.GetRegionCodeForCountryCode(number.CountryCode);
        if (region is "ZZ" or NonGeographicRegion || !SingleRegionCodes.Contains(number.CountryCode))
        {
            return false;
        }
        var ranges = MobileRanges.GetOrAdd(region, static r => MobileRange.Of(Util.GetMetadataForRegion(r)));
        return ranges?.Matches(Util.GetNationalSignificantNumber(number)) == true;
    }

    private static ICollection<int> MobileLengths(string region)
    {
        var metadata = Util.GetMetadataForRegion(region);
        // An empty list means "the same as the region's general lengths".
        return metadata.Mobile.PossibleLengthCount > 0 ? metadata.Mobile.PossibleLengthList : metadata.GeneralDesc.PossibleLengthList;
    }

    /// <summary>The general and mobile patterns and lengths of one region, compiled.</summary>
    private sealed class MobileRange(Regex general, Regex mobile, HashSet<int> lengths)
    {
        public static MobileRange? Of(PhoneMetadata? metadata)
        {
            if (metadata is null || !metadata.HasMobile || string.IsNullOrEmpty(metadata.Mobile.NationalNumberPattern))
            {
                return null;
            }
            var lengths = metadata.Mobile.PossibleLengthCount > 0 ? metadata.Mobile.PossibleLengthList : metadata.GeneralDesc.PossibleLengthList;
            return new MobileRange(Compile(metadata.GeneralDesc.NationalNumberPattern), Compile(metadata.Mobile.NationalNumberPattern), [.. lengths]);
        }

        public bool Matches(string national) =>
            lengths.Contains(national.Length) && mobile.IsMatch(national) && general.IsMatch(national);

        private static Regex Compile(string pattern) =>
            new($"^(?:{pattern})$", RegexOptions.Compiled | RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture);
    }

    private static readonly ConcurrentDictionary<string, MobileRange?> MobileRanges = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Regex> TrunkPrefixes = new(StringComparer.Ordinal);

    // Calling codes that one region uses alone: for shared ones (+1, +7, +44...) the region needs the library's work.
    private static readonly HashSet<int> SingleRegionCodes =
        [.. Util.GetSupportedCallingCodes().Where(code => Util.GetRegionCodesForCountryCode(code).Count == 1)];

    /// <summary>"Tanzania" for "TZ": the name people read in an error.</summary>
    internal static string RegionName(string region) => RegionNames.GetOrAdd(region, static code => code switch
    {
        NonGeographicRegion => "the international networks",
        // The few regions .NET has no RegionInfo for.
        "AC" => "Ascension Island",
        "TA" => "Tristan da Cunha",
        "EH" => "Western Sahara",
        _ => TryRegionInfo(code) ?? code,
    });

    private static string? TryRegionInfo(string code)
    {
        try
        {
            return new RegionInfo(code).EnglishName;
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    // Spaces (any whitespace, including no-break space), hyphens and dashes, dots, parentheses.
    private static bool IsSeparator(char c) =>
        c is ' ' or '-' or '.' or '(' or ')' or '\u2010' or '\u2011' or '\u2012' or '\u2013' or '\u2014' or '\u2212'
        || char.IsWhiteSpace(c);

    private static string Quote(string input) => $"\"{input.Trim()}\"";
}
