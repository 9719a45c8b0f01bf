namespace Ujumbe.Api.Accounts;

/// <summary>The zone an account's usage is counted in: IANA ids only, East Africa by default.</summary>
public static class AccountTimeZones
{
    public const string Default = "Africa/Dar_es_Salaam";

    /// <summary>The zone, if <paramref name="id"/> names one this machine knows (IANA id, e.g. Africa/Nairobi).</summary>
    public static bool TryFind(string? id, out TimeZoneInfo zone)
    {
        zone = TimeZoneInfo.Utc;
        if (string.IsNullOrWhiteSpace(id) || id.Length > 64 || !TimeZoneInfo.TryFindSystemTimeZoneById(id, out var found))
        {
            return false;
        }
        zone = found;
        return true;
    }
}
