namespace Ujumbe.Api.Accounts;

/// <summary>Countries an account may have as its default (national numbers are read in its plan).</summary>
public static class Countries
{
    /// <summary>ISO 3166 alpha-2 → E.164 country calling code.</summary>
    public static IReadOnlyDictionary<string, string> CallingCodes { get; } = new Dictionary<string, string>
    {
        ["TZ"] = "255", ["KE"] = "254", ["UG"] = "256", ["RW"] = "250", ["BI"] = "257", ["ZM"] = "260",
        ["ZW"] = "263", ["MW"] = "265", ["MZ"] = "258", ["ZA"] = "27", ["NG"] = "234", ["GH"] = "233",
    };

    public const string Default = "TZ";

    public static bool IsSupported(string? code) => code is not null && CallingCodes.ContainsKey(code);
}
