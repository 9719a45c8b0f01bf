using Ujumbe.Api.Phones;

namespace Ujumbe.Api.Accounts;

/// <summary>
/// Countries an account may have as its default: every region libphonenumber has a numbering plan for,
/// since the account's national numbers are read in that plan.
/// </summary>
public static class Countries
{
    public const string Default = "TZ";

    /// <summary>Whether <paramref name="code"/> (ISO 3166 alpha-2, capitals) can be an account's default country.</summary>
    public static bool IsSupported(string? code) => PhoneNumbers.IsKnownRegion(code);
}
