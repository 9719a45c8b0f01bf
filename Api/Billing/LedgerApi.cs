using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Api.Idempotency;

namespace Ujumbe.Api.Billing;

public sealed record LedgerEntryResponse(
    string Id, string Kind, long Amount, long ReservedChange, long BalanceAfter, long ReservedAfter, long AvailableAfter,
    string? Reference, DateTime CreatedAt);

public sealed record AdjustCreditsRequest(long? Amount, string? Reason);

/// <summary>The credit ledger: every change to a balance, newest first; operators' adjustments.</summary>
public static class LedgerApi
{
    public const long MaxAdjustment = 1_000_000_000;

    public static RouteGroupBuilder MapLedgerApi(this RouteGroupBuilder v1)
    {
        v1.MapGet("/ledger", ListAsync).WithTags("Account")
            .WithName("ListLedgerEntries").WithSummary("List the account's credit transactions, newest first");
        v1.MapPost("/admin/accounts/{id}/credits", AdjustAsync).RequireScope(Scopes.Admin).WithTags("Operators")
            .WithName("AdjustCredits").WithSummary("Add or remove an account's credits (an adjustment in its ledger)").StoresIdempotentAnswers();
        return v1;
    }

    public static async Task<Results<Ok<PageOf<LedgerEntryResponse>>, ProblemHttpResult>> ListAsync(
        string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        return TypedResults.Ok(await paging.PageAsync(db.LedgerEntries.AsNoTracking().OrderByDescending(e => e.Seq), ToResponse, cancellationToken));
    }

    /// <summary>An operator's correction: positive adds credits, negative removes them down to what is available.</summary>
    public static async Task<Results<Created<LedgerEntryResponse>, ProblemHttpResult>> AdjustAsync(
        string id, AdjustCreditsRequest request, UjumbeDb db, NpgsqlDataSource database, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Amount is null or 0 || Math.Abs(request.Amount.Value) > MaxAdjustment)
        {
            errors["amount"] = [$"is required: a non-zero whole number of credits between -{MaxAdjustment} and {MaxAdjustment}"];
        }
        var reason = request.Reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 500)
        {
            errors["reason"] = ["is required, up to 500 characters"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        if (!PublicId.TryParse(PublicId.Account, id, out var accountId)
            || !await db.Accounts.IgnoreQueryFilters().AnyAsync(a => a.Id == accountId, cancellationToken))
        {
            return Problems.NotFound("No account with this id.");
        }
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        try
        {
            var entry = await CreditLedger.PostAsync(connection, transaction, accountId, LedgerKind.Adjustment,
                request.Amount!.Value, 0, reason, time.UtcNow(), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            var response = ToResponse(entry);
            return TypedResults.Created($"/v1/ledger/{response.Id}", response);
        }
        catch (InsufficientCreditsException)
        {
            return Problems.Validation("amount", "would take the account's available credits below zero");
        }
    }

    private static LedgerEntryResponse ToResponse(LedgerEntry entry) => new(
        PublicId.Format(PublicId.LedgerEntry, entry.Id), UjumbeDb.SnakeCase(entry.Kind.ToString()), entry.Amount,
        entry.ReservedChange, entry.BalanceAfter, entry.ReservedAfter, entry.BalanceAfter - entry.ReservedAfter,
        entry.Reference, entry.CreatedAt);
}
