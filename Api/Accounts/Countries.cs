using Ujumbe.Api.Phones;

namespace Ujumbe.Api.Accounts;

/// <summary>
/// Countries an account may have as its default: those whose mobile numbering plan is known in full
/// (<see cref="MobileNumberingPlans"/>), since the account's national numbers are read in that plan.
/// </summary>
public static class Countries
{
    /// <summary>ISO 3166 alpha-2 (capitals) → E.164 country calling code, in the order accounts are offered them.</summary>
    public static IReadOnlyDictionary<string, string> CallingCodes { get; } =
        MobileNumberingPlans.All.ToDictionary(p => p.IsoCode, p => p.CallingCode, StringComparer.Ordinal);

    public const string Default = "TZ";

    /// <summary>Whether <paramref name="code"/> (ISO 3166 alpha-2, capitals) can be an account's default country.</summary>
    public static bool IsSupported(string? code) => code is not null && CallingCodes.ContainsKey(code);
}
