namespace Ujumbe.Api.Data;

public static class Clock
{
    /// <summary>Now, in UTC, at the database's precision (microseconds), so what an endpoint returns equals what a later read returns.</summary>
    public static DateTime UtcNow(this TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % 10), DateTimeKind.Utc);
    }
}
