using System.Globalization;

namespace Ujumbe.Api.Phones;

/// <summary>
/// Reads a phone number as an integrator typed it and gives it back as E.164 ("+255712345678"), the only form
/// numbers are stored and returned in.
/// </summary>
/// <remarks>
/// Accepted forms: E.164 (<c>+255712345678</c>), international without "+" (<c>255712345678</c>), with the
/// "00" international prefix (<c>00255712345678</c>), national with the trunk 0 (<c>0712345678</c>), and
/// national without it (<c>712345678</c>) when it has exactly the default country's national length.
/// Spaces, hyphens, dots and parentheses are ignored; a "+" may only come before the first digit.
/// Numbers in <see cref="MobileNumberingPlans"/> countries must be mobiles of the right length; elsewhere a known
/// calling code and 8 to 15 digits in all are enough (<see cref="CountryCallingCodes"/>).
/// A call allocates nothing but its result: the E.164 string, or the error message.
/// </remarks>
public static class PhoneNumbers
{
    /// <summary>Longer input is refused before it is read: the longest E.164 number, well formatted, fits easily.</summary>
    public const int MaxInputLength = 64;

    /// <summary>E.164: country code and national number together have at most 15 digits.</summary>
    public const int MaxDigits = 15;

    /// <summary>The shortest international number accepted where no country rules apply (code and number).</summary>
    public const int MinDigits = 8;

    /// <summary>
    /// Normalises <paramref name="input"/> to E.164. <paramref name="defaultCountry"/> is the account's ISO 3166
    /// alpha-2 code, used to read national numbers. On failure <paramref name="error"/> names the input and says
    /// what is wrong in plain words, and <paramref name="e164"/> is empty; on success the error is empty.
    /// </summary>
    public static bool TryNormalize(string? input, string defaultCountry, out string e164, out string error)
    {
        e164 = string.Empty;
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
        MobileNumberingPlans.TryGet(defaultCountry, out var home);

        if (plus)
        {
            return International(input, digits, out e164, out error);
        }
        if (digits.StartsWith("00"))
        {
            return International(input, digits[2..], out e164, out error);
        }
        if (digits[0] == '0')
        {
            return National(input, digits[1..], home, defaultCountry, out e164, out error);
        }
        // Bare digits: national only if they are exactly a mobile number at home ("712345678" in TZ).
        // A number of exactly the home length that is not a mobile is most likely a landline typed
        // without its 0 ("221234567" in TZ), not a short foreign number ("+221 234567" would be too
        // short for Senegal anyway): refuse it rather than send it abroad.
        if (home is not null && home.HasLength(digits.Length))
        {
            return National(input, digits, home, defaultCountry, out e164, out error);
        }
        return International(input, digits, out e164, out error);
    }

    private static bool National(
        string input, ReadOnlySpan<char> nsn, MobileNumberingPlan? home, string defaultCountry, out string e164, out string error)
    {
        if (home is null)
        {
            e164 = string.Empty;
            error = $"{Quote(input)} has no country code, and national numbers cannot be read for the default country \"{defaultCountry}\"";
            return false;
        }
        return Mobile(input, home, nsn, out e164, out error);
    }

    private static bool International(string input, ReadOnlySpan<char> digits, out string e164, out string error)
    {
        e164 = string.Empty;
        if (digits.IsEmpty)
        {
            error = $"{Quote(input)} is too short to be a phone number";
            return false;
        }
        if (!CountryCallingCodes.TryMatch(digits, out var code))
        {
            error = $"{Quote(input)} does not start with a known country calling code";
            return false;
        }

        var nsn = digits[code.Code.Length..];
        if (MobileNumberingPlans.TryGetByCallingCode(code.Code, out var plan))
        {
            // "+255 (0)712 345 678": a trunk 0 written after the country code. No mobile NSN in these plans starts with 0.
            if (nsn.Length > 0 && nsn[0] == '0')
            {
                nsn = nsn[1..];
            }
            return Mobile(input, plan, nsn, out e164, out error);
        }

        var (shortest, longest) = code.NationalNumberLength is { } fixedLength
            ? (code.Code.Length + fixedLength, code.Code.Length + fixedLength)
            : (MinDigits, MaxDigits);
        if (digits.Length < shortest)
        {
            error = $"{Quote(input)} is too short for a phone number in {code.Region}";
            return false;
        }
        if (digits.Length > longest)
        {
            error = digits.Length > MaxDigits
                ? $"{Quote(input)} is too long for a phone number: international numbers have at most {MaxDigits.ToString(CultureInfo.InvariantCulture)} digits"
                : $"{Quote(input)} is too long for a phone number in {code.Region}";
            return false;
        }
        error = string.Empty;
        e164 = string.Concat("+", code.Code, nsn);
        return true;
    }

    private static bool Mobile(string input, MobileNumberingPlan plan, ReadOnlySpan<char> nsn, out string e164, out string error)
    {
        e164 = string.Empty;
        if (nsn.Length < plan.MinLength)
        {
            error = $"{Quote(input)} is too short for a {plan.Adjective} mobile number";
            return false;
        }
        if (nsn.Length > plan.MaxLength)
        {
            error = $"{Quote(input)} is too long for a {plan.Adjective} mobile number";
            return false;
        }
        if (!plan.HasLength(nsn.Length))
        {
            error = $"{Quote(input)} has the wrong number of digits for a {plan.Adjective} mobile number";
            return false;
        }
        if (!plan.HasMobilePrefix(nsn))
        {
            error = $"{Quote(input)} is not a mobile number in {plan.Name}";
            return false;
        }
        error = string.Empty;
        e164 = string.Concat("+", plan.CallingCode, nsn);
        return true;
    }

    // Spaces (any whitespace, including no-break space), hyphens and dashes, dots, parentheses.
    private static bool IsSeparator(char c) =>
        c is ' ' or '-' or '.' or '(' or ')' or '\u2010' or '\u2011' or '\u2012' or '\u2013' or '\u2014' or '\u2212'
        || char.IsWhiteSpace(c);

    private static string Quote(string input) => $"\"{input.Trim()}\"";
}
