using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Accounts;

public sealed record RateLimitsResponse(int MessagesPerMinute, int ContactsPerHour, int RequestsPerHour);

public sealed record AccountResponse(
    string Id, string Name, string DefaultCountry, string Status, int MaxSegments, RateLimitsResponse RateLimits);

public sealed record BalanceResponse(long Balance, long Reserved, long Available);

/// <summary>The caller's own account and credits.</summary>
public static class AccountApi
{
    public static RouteGroupBuilder MapAccountApi(this RouteGroupBuilder v1)
    {
        v1.MapGet("/account", GetAccountAsync).WithTags("Account")
            .WithName("GetAccount").WithSummary("Get the calling account's settings and rate limits");
        v1.MapGet("/balance", GetBalanceAsync).WithTags("Account")
            .WithName("GetBalance").WithSummary("Get the credit balance: total, reserved and available");
        return v1;
    }

    public static async Task<Results<Ok<AccountResponse>, ProblemHttpResult>> GetAccountAsync(
        UjumbeDb db, IOptions<RateLimitDefaults> limits, CancellationToken cancellationToken)
    {
        var account = await db.Accounts.AsNoTracking().SingleOrDefaultAsync(cancellationToken);
        if (account is null)
        {
            return Problems.NotFound("The account no longer exists.");
        }
        return TypedResults.Ok(new AccountResponse(
            PublicId.Format(PublicId.Account, account.Id), account.Name, account.DefaultCountry,
            UjumbeDb.SnakeCase(account.Status.ToString()), account.MaxSegments, EffectiveLimits(account, limits.Value)));
    }

    /// <summary>The limits the gateway applies to this account: its own where set, the defaults otherwise.</summary>
    public static RateLimitsResponse EffectiveLimits(Account account, RateLimitDefaults defaults) => new(
        account.MessagesPerMinute ?? defaults.MessagesPerMinute,
        account.ContactsPerHour ?? defaults.ContactsPerHour,
        account.RequestsPerHour ?? defaults.RequestsPerHour);

    public static async Task<Results<Ok<BalanceResponse>, ProblemHttpResult>> GetBalanceAsync(
        UjumbeDb db, CancellationToken cancellationToken)
    {
        var balance = await db.Balances.AsNoTracking().SingleOrDefaultAsync(cancellationToken);
        return balance is null
            ? Problems.NotFound("The account has no balance.")
            : TypedResults.Ok(new BalanceResponse(balance.Credits, balance.Reserved, balance.Credits - balance.Reserved));
    }
}
