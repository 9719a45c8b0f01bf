using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Phones;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Api.Idempotency;

namespace Ujumbe.Api.Contacts;

public sealed record OptOutRequest(string? PhoneNumber, string? Source);

public sealed record OptOutResponse(string PhoneNumber, string Source, DateTime CreatedAt);

/// <summary>
/// Opt-outs by number (API.md: "opted_out contacts are never messaged"): an inbound STOP is recorded
/// here whether or not the number is a contact. Sends skip these numbers and campaigns leave them out.
/// </summary>
public static class OptOutsApi
{
    public const int MaxSourceLength = 50;

    public static RouteGroupBuilder MapOptOutsApi(this RouteGroupBuilder v1)
    {
        var optOuts = v1.MapGroup("/opt-outs").RequireScope(Scopes.Contacts).WithTags("Contacts");
        optOuts.MapPost("/", CreateAsync)
            .WithName("CreateOptOut").WithSummary("Opt a number out of this account's messages").StoresIdempotentAnswers();
        optOuts.MapGet("/", ListAsync)
            .WithName("ListOptOuts").WithSummary("List opted-out numbers");
        optOuts.MapDelete("/{phone}", DeleteAsync)
            .WithName("DeleteOptOut").WithSummary("Remove a number's opt-out");
        return v1;
    }

    public static async Task<Results<Ok<OptOutResponse>, ProblemHttpResult>> CreateAsync(
        OptOutRequest request, Caller caller, UjumbeDb db, AccountSettingsCache accounts, TimeProvider time, CancellationToken cancellationToken)
    {
        var country = await accounts.DefaultCountryAsync(caller.AccountId, cancellationToken);
        var errors = new Dictionary<string, string[]>();
        if (!PhoneNumbers.TryNormalize(request.PhoneNumber, country, out var phone, out var phoneError))
        {
            errors["phone_number"] = [string.IsNullOrWhiteSpace(request.PhoneNumber) ? "is required" : phoneError];
        }
        var source = string.IsNullOrWhiteSpace(request.Source) ? "api" : request.Source.Trim();
        if (source.Length > MaxSourceLength)
        {
            errors["source"] = [$"must be at most {MaxSourceLength} characters"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        // Recording an opt-out twice is not an error: a repeated STOP leaves the first record.
        await ContactsApi.OptOutAsync(db, caller.AccountId, phone, source, time.UtcNow(), cancellationToken);
        var stored = await db.OptOuts.AsNoTracking().SingleAsync(o => o.Phone == phone, cancellationToken);
        return TypedResults.Ok(ToResponse(stored));
    }

    public static async Task<Results<Ok<PageOf<OptOutResponse>>, ProblemHttpResult>> ListAsync(
        string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        return TypedResults.Ok(await paging.PageAsync(
            db.OptOuts.AsNoTracking().OrderByDescending(o => o.CreatedAt).ThenBy(o => o.Phone), ToResponse, cancellationToken));
    }

    /// <summary>Opts the number back in (the account must have the subscriber's consent again).</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string phone, Caller caller, UjumbeDb db, AccountSettingsCache accounts, CancellationToken cancellationToken)
    {
        var country = await accounts.DefaultCountryAsync(caller.AccountId, cancellationToken);
        if (!PhoneNumbers.TryNormalize(phone, country, out var e164, out _))
        {
            return Problems.NotFound("This number has not opted out.");
        }
        var deleted = await db.OptOuts.Where(o => o.Phone == e164).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? Problems.NotFound("This number has not opted out.") : TypedResults.NoContent();
    }

    private static OptOutResponse ToResponse(OptOut optOut) => new(optOut.Phone, optOut.Source, optOut.CreatedAt);
}
