using System.Globalization;
using Microsoft.Extensions.Options;
using Ujumbe.Web.Session;

namespace Ujumbe.Web.Formatting;

/// <summary>
/// The viewer's time zone: the browser's (site.js stores it in the <c>tz</c> cookie), else the configured
/// default. Every time on a page is shown in it, with the zone named.
/// </summary>
public sealed class ViewerClock
{
    public const string CookieName = "tz";

    public ViewerClock(IHttpContextAccessor context, IOptions<DashboardOptions> options)
    {
        var requested = context.HttpContext?.Request.Cookies[CookieName];
        Zone = requested is { Length: > 0 and < 64 } && TimeZoneInfo.TryFindSystemTimeZoneById(requested, out var zone)
            ? zone
            : TimeZoneInfo.TryFindSystemTimeZoneById(options.Value.DefaultTimeZone, out var fallback) ? fallback : TimeZoneInfo.Utc;
    }

    public TimeZoneInfo Zone { get; }

    public DateTime Local(DateTime utc) => TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), Zone);

    public DateOnly Today => DateOnly.FromDateTime(Local(DateTime.UtcNow));

    /// <summary>"3 Dec 2026, 14:05 (UTC+3)"; an empty dash for no time.</summary>
    public string Time(DateTime? utc)
    {
        if (utc is null)
        {
            return "—";
        }
        var local = Local(utc.Value);
        return local.ToString("d MMM yyyy, HH:mm", CultureInfo.InvariantCulture) + " (" + Offset(local) + ")";
    }

    /// <summary>The zone as its offset, which needs no table of abbreviations: "UTC+3", "UTC+5:30", "UTC".</summary>
    public string Offset(DateTime local)
    {
        var offset = Zone.GetUtcOffset(local);
        if (offset == TimeSpan.Zero)
        {
            return "UTC";
        }
        var sign = offset < TimeSpan.Zero ? "-" : "+";
        offset = offset.Duration();
        return "UTC" + sign + offset.Hours.ToString(CultureInfo.InvariantCulture)
            + (offset.Minutes == 0 ? "" : ":" + offset.Minutes.ToString("00", CultureInfo.InvariantCulture));
    }

    public string ZoneLabel => Zone.Id + " (" + Offset(Local(DateTime.UtcNow)) + ")";

    /// <summary>A local date-time typed in a form (datetime-local), as UTC.</summary>
    public DateTime ToUtc(DateTime local) => TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), Zone);
}

/// <summary>Numbers for people: thousands separated, words that agree with the count.</summary>
public static class Numbers
{
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Credits(long value) => Count(value) + (Math.Abs(value) == 1 ? " credit" : " credits");

    public static string WithSign(long value) => (value > 0 ? "+" : "") + Count(value);

    /// <summary>"2,500 TZS"; cents only when there are some.</summary>
    public static string Money(decimal amount, string currency) => amount.ToString("#,##0.##", CultureInfo.InvariantCulture) + " " + currency;
}
