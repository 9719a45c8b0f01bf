namespace Ujumbe.Web.Session;

public sealed class DashboardOptions
{
    public const string Section = "Dashboard";

    /// <summary>Times are shown in the browser's zone when it tells us (a cookie set by site.js), else in this one.</summary>
    public string DefaultTimeZone { get; set; } = "Africa/Dar_es_Salaam";

    /// <summary>Where Data Protection keeps its keys (shared by replicas); the default per-user folder when unset.</summary>
    public string? KeysDirectory { get; set; }
}
