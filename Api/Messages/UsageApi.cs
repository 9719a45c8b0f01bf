using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Messages;

public sealed record UsageDay(DateOnly Date, int Messages, int Sent, int Delivered, int Failed, long Credits);

public sealed record UsageResponse(DateOnly From, DateOnly To, string Granularity, string TimeZone, IReadOnlyList<UsageDay> Data);

/// <summary>
/// <c>GET /v1/usage?from=&amp;to=&amp;granularity=day&amp;time_zone=</c>: messages per day, counted by the day
/// they were accepted (in <c>time_zone</c>, UTC by default), with how many reached the provider
/// (<c>sent</c>, which includes those since delivered), were delivered, failed or were rejected, and the
/// credits captured for them. Every day of the range is listed, zeros included, so a chart needs no gaps filled.
/// </summary>
public static class UsageApi
{
    public const int MaxDays = 366;

    public static RouteGroupBuilder MapUsageApi(this RouteGroupBuilder v1)
    {
        v1.MapGet("/usage", GetAsync).RequireScope(Scopes.Messages).WithTags("Messages")
            .WithName("GetUsage").WithSummary("Messages sent, delivered and failed and credits spent per day in the account's time zone");
        return v1;
    }

    public static async Task<Results<Ok<UsageResponse>, ProblemHttpResult>> GetAsync(
        string? from, string? to, string? granularity, [FromQuery(Name = "time_zone")] string? timeZone,
        Caller caller, NpgsqlDataSource database, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var zone = TimeZoneInfo.Utc;
        if (timeZone is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out zone!))
        {
            errors["time_zone"] = ["must be an IANA time zone, e.g. Africa/Dar_es_Salaam"];
            zone = TimeZoneInfo.Utc;
        }
        if (granularity is not null and not "day")
        {
            errors["granularity"] = ["must be day"];
        }
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).DateTime);
        var last = ParseDate(to, "to", errors) ?? today;
        var first = ParseDate(from, "from", errors) ?? last.AddDays(-13);
        if (errors.Count == 0 && (first > last || last.DayNumber - first.DayNumber >= MaxDays))
        {
            errors["from"] = [$"must be on or before to, at most {MaxDays} days before it"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var zoneName = timeZone is null ? "UTC" : zone.Id;
        // The account's messages of the range, bucketed by their local day; the index on
        // (account_id, created_at) serves the range.
        await using var command = database.CreateCommand("""
            select (m.created_at at time zone $4)::date as day,
                   count(*),
                   count(*) filter (where m.sent_at is not null),
                   count(*) filter (where m.status = 'delivered'),
                   count(*) filter (where m.status in ('failed', 'rejected')),
                   coalesce(sum(m.credits) filter (where m.sent_at is not null), 0)
              from messages m
             where m.account_id = $1
               and m.created_at >= ($2::timestamp at time zone $4)
               and m.created_at < ($3::timestamp at time zone $4)
             group by 1
            """);
        command.Parameters.Add(new() { Value = caller.AccountId });
        command.Parameters.Add(new() { Value = first.ToDateTime(TimeOnly.MinValue), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Timestamp });
        command.Parameters.Add(new() { Value = last.AddDays(1).ToDateTime(TimeOnly.MinValue), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Timestamp });
        command.Parameters.Add(new() { Value = zoneName });
        var counted = new Dictionary<DateOnly, UsageDay>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var day = reader.GetFieldValue<DateOnly>(0);
                counted[day] = new UsageDay(day, (int)reader.GetInt64(1), (int)reader.GetInt64(2), (int)reader.GetInt64(3),
                    (int)reader.GetInt64(4), reader.GetInt64(5));
            }
        }
        var days = new List<UsageDay>();
        for (var day = first; day <= last; day = day.AddDays(1))
        {
            days.Add(counted.GetValueOrDefault(day) ?? new UsageDay(day, 0, 0, 0, 0, 0));
        }
        return TypedResults.Ok(new UsageResponse(first, last, "day", zoneName, days));
    }

    private static DateOnly? ParseDate(string? value, string field, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return null;
        }
        if (DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
        {
            return date;
        }
        errors[field] = ["must be a date, e.g. 2026-12-03"];
        return null;
    }
}
