using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ujumbe.Api.Auth;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Internal;

public sealed record KeyUsage(Guid KeyId, DateTime LastUsedAt);

public sealed record KeyUsageReport(IReadOnlyList<KeyUsage> Uses);

/// <summary>
/// Service-to-service endpoints, reachable only with a gateway signature of kind "service"; the
/// gateway never routes /internal from outside.
/// </summary>
public static class InternalApi
{
    public static IEndpointRouteBuilder MapInternalApi(this IEndpointRouteBuilder app)
    {
        var internalApi = app.MapGroup("/internal").RequireAuthorization(CallerPolicies.Service).ExcludeFromDescription();
        internalApi.MapGet("/keys/{publicKey}", LookupKeyAsync);
        internalApi.MapPost("/keys/usage", RecordUsageAsync);
        internalApi.MapGet("/accounts/{accountId:guid}", LookupAccountAsync);
        internalApi.MapPost("/sign-in/lookup", LookupSignInAsync);
        internalApi.MapPost("/sign-in/failures", RecordSignInFailureAsync);
        internalApi.MapPost("/sign-in/successes", RecordSignInSuccessAsync);
        return app;
    }

    /// <summary>
    /// For a dialect's email-and-password callers (decision 0026) the gateway checks the password itself, so it never
    /// reaches the Api; these three are the rest of <see cref="SignIn"/>: its locks, its user, its failure counts.
    /// </summary>
    public static async Task<Ok<SignInHolder>> LookupSignInAsync(SignInAttempt attempt, SignIn signIn, CancellationToken cancellationToken) =>
        TypedResults.Ok(await signIn.LookupAsync(attempt.Email, attempt.ClientIp, cancellationToken));

    public static async Task<Ok<SignInFailure>> RecordSignInFailureAsync(SignInAttempt attempt, SignIn signIn, CancellationToken cancellationToken) =>
        TypedResults.Ok(await signIn.FailAsync(attempt.Email, attempt.ClientIp, cancellationToken));

    public static async Task<NoContent> RecordSignInSuccessAsync(SignInAttempt attempt, SignIn signIn, CancellationToken cancellationToken)
    {
        await signIn.ForgetFailuresAsync(attempt.Email, cancellationToken);
        return TypedResults.NoContent();
    }

    public static async Task<Results<Ok<KeyLookup>, ProblemHttpResult>> LookupKeyAsync(
        string publicKey, UjumbeDb db, CancellationToken cancellationToken)
    {
        // Crosses tenants by nature: the key is what tells us the tenant.
        var found = await db.ApiKeys.IgnoreQueryFilters().AsNoTracking()
            .Where(k => k.PublicKey == publicKey)
            .Join(db.Accounts.IgnoreQueryFilters(), k => k.AccountId, a => a.Id,
                (k, a) => new
                {
                    Key = k, a.Status, a.MessagesPerMinute, a.ContactsPerHour, a.RequestsPerHour, a.ParentAccountId,
                    ParentStatus = db.Accounts.IgnoreQueryFilters().Where(p => p.Id == a.ParentAccountId).Select(p => (AccountStatus?)p.Status).FirstOrDefault(),
                })
            .FirstOrDefaultAsync(cancellationToken);
        if (found is null)
        {
            return Problems.NotFound();
        }
        var key = found.Key;
        return TypedResults.Ok(new KeyLookup(
            key.Id, key.AccountId, key.PublicKey, key.SecretHash, key.Scopes, key.ExpiresAt, key.RevokedAt,
            EffectiveStatus(found.Status, found.ParentStatus),
            new RateLimitOverrides(found.MessagesPerMinute, found.ContactsPerHour, found.RequestsPerHour), found.ParentAccountId));
    }

    public static async Task<Results<Ok<AccountLookup>, ProblemHttpResult>> LookupAccountAsync(
        Guid accountId, UjumbeDb db, CancellationToken cancellationToken)
    {
        var account = await db.Accounts.IgnoreQueryFilters().AsNoTracking()
            .Where(a => a.Id == accountId)
            .Select(a => new
            {
                a.Id, a.Status, a.MessagesPerMinute, a.ContactsPerHour, a.RequestsPerHour, a.ParentAccountId,
                ParentStatus = db.Accounts.IgnoreQueryFilters().Where(p => p.Id == a.ParentAccountId).Select(p => (AccountStatus?)p.Status).FirstOrDefault(),
            })
            .FirstOrDefaultAsync(cancellationToken);
        return account is null
            ? Problems.NotFound()
            : TypedResults.Ok(new AccountLookup(account.Id, EffectiveStatus(account.Status, account.ParentStatus),
                new RateLimitOverrides(account.MessagesPerMinute, account.ContactsPerHour, account.RequestsPerHour), account.ParentAccountId));
    }

    /// <summary>A tenant stands with its partner: suspending the partner stops its tenants too (decision 0023).</summary>
    private static string EffectiveStatus(AccountStatus own, AccountStatus? partner) =>
        UjumbeDb.SnakeCase((partner == AccountStatus.Suspended ? AccountStatus.Suspended : own).ToString());

    /// <summary>
    /// The gateway reports key use in batches, so <c>last_used_at</c> costs one statement per flush
    /// rather than a write per request. Times only move forward.
    /// </summary>
    public static async Task<NoContent> RecordUsageAsync(
        KeyUsageReport report, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        if (report.Uses.Count > 0)
        {
            await using var command = dataSource.CreateCommand("""
                update api_keys k
                   set last_used_at = u.used_at
                  from unnest($1::uuid[], $2::timestamptz[]) as u(id, used_at)
                 where k.id = u.id and (k.last_used_at is null or k.last_used_at < u.used_at)
                """);
            command.Parameters.Add(new() { Value = report.Uses.Select(u => u.KeyId).ToArray() });
            command.Parameters.Add(new() { Value = report.Uses.Select(u => DateTime.SpecifyKind(u.LastUsedAt, DateTimeKind.Utc)).ToArray() });
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        return TypedResults.NoContent();
    }
}
