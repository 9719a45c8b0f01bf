using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Messages;

/// <summary>One period's figures; <c>date</c> is the period's first day (the month's first for months).</summary>
public sealed record UsageDay(DateOnly Date, int Messages, int Sent, int Delivered, int Failed, long Credits);

public sealed record UsageResponse(DateOnly From, DateOnly To, string Granularity, string TimeZone, string AccountId, IReadOnlyList<UsageDay> Data);

/// <summary>
/// <c>GET /v1/usage?from=&amp;to=&amp;granularity=day|month&amp;time_zone=&amp;tenant_id=</c>: messages per day or month,
/// counted by when they were accepted in the account's time zone (or <c>time_zone</c>), with how many reached
/// the provider (<c>sent</c>, which includes those since delivered), were delivered, failed or were rejected,
/// and the credits captured for them. Every period of the range is listed, zeros included, so a chart needs no
/// gaps filled. Read from the per-slot counts the message triggers keep (migration 0009), never from the
/// messages themselves: a year of a busy account is at most 35,136 rows whatever it sent. A partner asks for
/// one of its tenants with <c>tenant_id</c>.
/// </summary>
public static class UsageApi
{
    public const int MaxDays = 366;
    public const int MaxMonths = 60;

    public static RouteGroupBuilder MapUsageApi(this RouteGroupBuilder v1)
    {
        v1.MapGet("/usage", GetAsync).RequireScope(Scopes.Messages).WithTags("Messages")
            .WithName("GetUsage").WithSummary("Messages sent, delivered and failed and credits spent per day or month in the account's time zone");
        return v1;
    }

    public static async Task<Results<Ok<UsageResponse>, ProblemHttpResult>> GetAsync(
        string? from, string? to, string? granularity, [FromQuery(Name = "time_zone")] string? timeZone,
        [FromQuery(Name = "tenant_id")] string? tenantId,
        Caller caller, UjumbeDb db, NpgsqlDataSource database, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var zone = TimeZoneInfo.Utc;
        if (timeZone is not null && !AccountTimeZones.TryFind(timeZone, out zone))
        {
            errors["time_zone"] = ["must be an IANA time zone, e.g. Africa/Dar_es_Salaam"];
        }
        var monthly = granularity == "month";
        if (granularity is not null and not ("day" or "month"))
        {
            errors["granularity"] = ["must be day or month"];
        }
        var lastDate = ParseDate(to, "to", errors);
        var firstDate = ParseDate(from, "from", errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        // Whose usage: the caller's account, or (for a partner) one of its tenants.
        Account? account;
        if (tenantId is not null)
        {
            if (!caller.Identity.Has(Scopes.Partner))
            {
                return Problems.Forbidden("Only a partner credential may ask for a tenant's usage (tenant_id).");
            }
            account = PublicId.TryParse(PublicId.Account, tenantId, out var id)
                ? await db.Tenants.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, cancellationToken)
                : null;
            if (account is null)
            {
                return Problems.NotFound("No tenant of this partner has this id.");
            }
        }
        else
        {
            account = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(cancellationToken);
            if (account is null)
            {
                return Problems.NotFound("The account no longer exists.");
            }
        }
        if (timeZone is null && !AccountTimeZones.TryFind(account.TimeZone, out zone))
        {
            zone = TimeZoneInfo.Utc;
        }

        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).DateTime);
        var last = lastDate ?? today;
        var first = firstDate ?? (monthly ? new DateOnly(last.Year, last.Month, 1).AddMonths(-11) : last.AddDays(-13));
        if (monthly)
        {
            first = new DateOnly(first.Year, first.Month, 1);
            last = new DateOnly(last.Year, last.Month, 1).AddMonths(1).AddDays(-1);
        }
        var tooLong = monthly
            ? (last.Year - first.Year) * 12 + last.Month - first.Month >= MaxMonths
            : last.DayNumber - first.DayNumber >= MaxDays;
        if (first > last || tooLong)
        {
            return Problems.Validation("from", monthly
                ? $"must be on or before to, at most {MaxMonths} months before it"
                : $"must be on or before to, at most {MaxDays} days before it");
        }

        var counted = await CountAsync(database, account.Id, first, last, zone.Id, monthly ? "month" : "day", cancellationToken);
        var periods = new List<UsageDay>();
        for (var period = first; period <= last; period = monthly ? period.AddMonths(1) : period.AddDays(1))
        {
            periods.Add(counted.GetValueOrDefault(period) ?? new UsageDay(period, 0, 0, 0, 0, 0));
        }
        return TypedResults.Ok(new UsageResponse(first, last, monthly ? "month" : "day", zone.Id,
            PublicId.Format(PublicId.Account, account.Id), periods));
    }

    /// <summary>
    /// The folded slots plus the deltas not folded yet, in one snapshot (a fold moves rows from one to the
    /// other in one transaction, so nothing is counted twice or missed), bucketed by local period.
    /// </summary>
    private static async Task<Dictionary<DateOnly, UsageDay>> CountAsync(
        NpgsqlDataSource database, Guid accountId, DateOnly first, DateOnly last, string zone, string unit, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            with range as (
                select ($2::timestamp at time zone $4) as starts, ($3::timestamp at time zone $4) as ends
            ), counts as (
                select s.slot, s.messages, s.sent, s.delivered, s.failed, s.credits
                  from usage_slots s, range r
                 where s.account_id = $1 and s.slot >= r.starts and s.slot < r.ends
                union all
                select d.slot, d.messages, d.sent, d.delivered, d.failed, d.credits
                  from usage_deltas d, range r
                 where d.account_id = $1 and d.slot >= r.starts and d.slot < r.ends
            )
            select date_trunc($5, c.slot at time zone $4)::date, sum(c.messages)::bigint, sum(c.sent)::bigint,
                   sum(c.delivered)::bigint, sum(c.failed)::bigint, sum(c.credits)::bigint
              from counts c
             group by 1
            """);
        command.Parameters.Add(new() { Value = accountId });
        command.Parameters.Add(new() { Value = first.ToDateTime(TimeOnly.MinValue), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Timestamp });
        command.Parameters.Add(new() { Value = last.AddDays(1).ToDateTime(TimeOnly.MinValue), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Timestamp });
        command.Parameters.Add(new() { Value = zone });
        command.Parameters.Add(new() { Value = unit });
        var counted = new Dictionary<DateOnly, UsageDay>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var period = reader.GetFieldValue<DateOnly>(0);
            counted[period] = new UsageDay(period, (int)reader.GetInt64(1), (int)reader.GetInt64(2), (int)reader.GetInt64(3),
                (int)reader.GetInt64(4), reader.GetInt64(5));
        }
        return counted;
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
