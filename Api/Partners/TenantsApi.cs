using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Auth;
using Ujumbe.Api.Billing;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Payments;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Api.Idempotency;

namespace Ujumbe.Api.Partners;

public sealed record CreateTenantRequest(string? Name, string? Email, string? DefaultCountry, string? TimeZone);

public sealed record UpdateTenantRequest(string? Name, string? DefaultCountry, string? TimeZone);

public sealed record TenantResponse(
    string Id, string Name, string Email, string DefaultCountry, string TimeZone, string Status,
    long Balance, long Reserved, long Available, DateTime CreatedAt);

public sealed record TransferCreditsRequest(long? Amount);

public sealed record TransferSide(string AccountId, long Balance, long Reserved, long Available);

public sealed record TransferResponse(string Reference, long Amount, TransferSide Partner, TransferSide Tenant, DateTime CreatedAt);

/// <summary>
/// A partner's tenants (<c>/v1/tenants</c>, keys with the <c>partner</c> scope of accounts an operator marked
/// as partners). Every tenant is reached through <see cref="UjumbeDb.Tenants"/>, which holds only the caller's
/// own: another partner's tenant, or any other account, is simply not found.
/// </summary>
public static class TenantsApi
{
    public const long MaxTransfer = 1_000_000_000;
    public const string TransferReferencePrefix = "trf";

    public static RouteGroupBuilder MapTenantsApi(this RouteGroupBuilder v1)
    {
        var tenants = v1.MapGroup("/tenants").RequireScope(Scopes.Partner).WithTags("Partners")
            .AddEndpointFilter(OnlyPartnersAsync);
        tenants.MapPost("/", CreateAsync)
            .WithName("CreateTenant").WithSummary("Create a tenant: an account of its own, owned by the partner").StoresIdempotentAnswers()
            .ProducesProblem(StatusCodes.Status409Conflict);
        tenants.MapGet("/", ListAsync)
            .WithName("ListTenants").WithSummary("List or search the partner's tenants");
        tenants.MapGet("/{id}", GetAsync)
            .WithName("GetTenant").WithSummary("Get one of the partner's tenants");
        tenants.MapPatch("/{id}", UpdateAsync)
            .WithName("UpdateTenant").WithSummary("Change a tenant's name, default country or time zone");
        tenants.MapPost("/{id}/suspend", (string id, UjumbeDb db, AccountService accounts, CancellationToken ct) =>
                SetStatusAsync(id, AccountStatus.Suspended, db, accounts, ct))
            .WithName("SuspendTenant").WithSummary("Suspend a tenant: its keys, users and the partner acting for it are refused");
        tenants.MapPost("/{id}/activate", (string id, UjumbeDb db, AccountService accounts, CancellationToken ct) =>
                SetStatusAsync(id, AccountStatus.Active, db, accounts, ct))
            .WithName("ActivateTenant").WithSummary("Reactivate a suspended tenant");
        tenants.MapPost("/{id}/invitation", async (string id, UjumbeDb db, Invitations invitations, CancellationToken ct) =>
                PublicId.TryParse(PublicId.Account, id, out var tenantId) && await db.Tenants.AnyAsync(a => a.Id == tenantId, ct)
                    ? await AuthApi.InviteOwnerAsync(tenantId, invitations, ct)
                    : TenantNotFound())
            .WithName("InviteTenantOwner").WithSummary("Invite the tenant's owner to set a password (the token is shown once)");
        tenants.MapPost("/{id}/credits", TransferAsync)
            .WithName("TransferTenantCredits").WithSummary("Move credits from the partner to a tenant, or back with a negative amount").StoresIdempotentAnswers()
            .ProducesProblem(StatusCodes.Status402PaymentRequired);
        tenants.MapPost("/{id}/payments", PaymentsApi.InitiateForTenantAsync)
            .WithName("CreateTenantPayment").WithSummary("Buy credits for a tenant by mobile money").StoresIdempotentAnswers()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        return v1;
    }

    /// <summary>The partner scope is not enough: the account must (still) be marked a partner by an operator.</summary>
    public static async ValueTask<object?> OnlyPartnersAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var db = context.HttpContext.RequestServices.GetRequiredService<UjumbeDb>();
        if (!await db.Accounts.AsNoTracking().AnyAsync(a => a.IsPartner, context.HttpContext.RequestAborted))
        {
            return Problems.Forbidden("This account is not a partner; an operator marks partners.");
        }
        return await next(context);
    }

    public static async Task<Results<Created<TenantResponse>, ProblemHttpResult>> CreateAsync(
        CreateTenantRequest request, Caller caller, AccountService accounts, UjumbeDb db, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var name = ValidName(request.Name, errors);
        var email = request.Email?.Trim();
        if (!AdminAccountsApi.IsEmail(email))
        {
            errors["email"] = ["must be an email address"];
        }
        var country = ValidCountry(request.DefaultCountry, errors) ?? Countries.Default;
        var zone = ValidZone(request.TimeZone, errors) ?? AccountTimeZones.Default;
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        try
        {
            var (tenant, owner) = await accounts.CreateTenantAsync(caller.AccountId, name!, email!, country, zone, cancellationToken);
            var response = ToResponse(tenant, owner.Email, new Balance { AccountId = tenant.Id });
            return TypedResults.Created($"/v1/tenants/{response.Id}", response);
        }
        catch (EmailTakenException)
        {
            return Problems.Conflict("A user with this email already exists.");
        }
    }

    public static async Task<Results<Ok<PageOf<TenantResponse>>, ProblemHttpResult>> ListAsync(
        string? q, string? status, string? page, [FromQuery(Name = "page_size")] string? pageSize,
        UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        var tenants = db.Tenants.AsNoTracking();
        switch (status)
        {
            case null:
                break;
            case "active":
                tenants = tenants.Where(a => a.Status == AccountStatus.Active);
                break;
            case "suspended":
                tenants = tenants.Where(a => a.Status == AccountStatus.Suspended);
                break;
            default:
                return Problems.Validation("status", "must be active or suspended");
        }
        if (!string.IsNullOrWhiteSpace(q))
        {
            var term = q.Trim();
            if (PublicId.TryParse(PublicId.Account, term, out var id))
            {
                tenants = tenants.Where(a => a.Id == id);
            }
            else
            {
                var pattern = "%" + AdminAccountsApi.EscapeLike(term) + "%";
                var owners = db.Users.IgnoreQueryFilters().Where(u => EF.Functions.ILike(u.Email, pattern, "\\")).Select(u => u.AccountId);
                tenants = tenants.Where(a => EF.Functions.ILike(a.Name, pattern, "\\") || owners.Contains(a.Id));
            }
        }
        var total = await tenants.CountAsync(cancellationToken);
        var rows = await WithOwnerAndBalance(db, tenants.OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id)
            .Skip(paging.Skip).Take(paging.Size)).ToListAsync(cancellationToken);
        return TypedResults.Ok(paging.Of(rows.Select(r => ToResponse(r.Account, r.Email, r.Balance)).ToList(), total));
    }

    public static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> GetAsync(
        string id, UjumbeDb db, CancellationToken cancellationToken)
    {
        var found = await FindAsync(id, db, cancellationToken);
        return found is null ? TenantNotFound() : TypedResults.Ok(ToResponse(found.Account, found.Email, found.Balance));
    }

    public static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> UpdateAsync(
        string id, UpdateTenantRequest request, UjumbeDb db, AccountSettingsCache settings, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var name = request.Name is null ? null : ValidName(request.Name, errors);
        var country = ValidCountry(request.DefaultCountry, errors);
        var zone = ValidZone(request.TimeZone, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        if (!PublicId.TryParse(PublicId.Account, id, out var tenantId)
            || await db.Tenants.FirstOrDefaultAsync(a => a.Id == tenantId, cancellationToken) is not { } tenant)
        {
            return TenantNotFound();
        }
        tenant.Name = name ?? tenant.Name;
        tenant.DefaultCountry = country ?? tenant.DefaultCountry;
        tenant.TimeZone = zone ?? tenant.TimeZone;
        await db.SaveChangesAsync(cancellationToken);
        settings.Forget(tenantId);
        var found = (await FindAsync(id, db, cancellationToken))!;
        return TypedResults.Ok(ToResponse(found.Account, found.Email, found.Balance));
    }

    private static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> SetStatusAsync(
        string id, AccountStatus status, UjumbeDb db, AccountService accounts, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Account, id, out var tenantId) || !await db.Tenants.AnyAsync(a => a.Id == tenantId, cancellationToken))
        {
            return TenantNotFound();
        }
        await accounts.SetStatusAsync(tenantId, status, cancellationToken);
        var found = (await FindAsync(id, db, cancellationToken))!;
        return TypedResults.Ok(ToResponse(found.Account, found.Email, found.Balance));
    }

    /// <summary>
    /// Moves credits between the partner and its tenant in one transaction: a <c>transfer</c> entry on each
    /// side with the same reference. Positive gives the tenant credits, negative takes them back; neither
    /// side can go below its available credits (the balance rows' checks refuse it, whatever runs at once).
    /// </summary>
    public static async Task<Results<Ok<TransferResponse>, ProblemHttpResult>> TransferAsync(
        string id, TransferCreditsRequest request, Caller caller, UjumbeDb db, NpgsqlDataSource database, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (request.Amount is null or 0 || Math.Abs(request.Amount.Value) > MaxTransfer)
        {
            return Problems.Validation("amount", $"is required: a non-zero whole number of credits between -{MaxTransfer} and {MaxTransfer}");
        }
        if (!PublicId.TryParse(PublicId.Account, id, out var tenantId) || !await db.Tenants.AnyAsync(a => a.Id == tenantId, cancellationToken))
        {
            return TenantNotFound();
        }
        var amount = request.Amount.Value;
        var partnerId = caller.AccountId;
        var now = time.UtcNow();
        var reference = PublicId.Format(TransferReferencePrefix, Guid.CreateVersion7(now));
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Both balance rows are locked in id order, so two transfers between the same pair never deadlock.
        var moves = new[] { (Account: partnerId, Amount: -amount), (Account: tenantId, Amount: amount) }.OrderBy(m => m.Account).ToArray();
        var entries = new Dictionary<Guid, LedgerEntry>();
        try
        {
            foreach (var move in moves)
            {
                entries[move.Account] = await CreditLedger.PostAsync(connection, transaction, move.Account, LedgerKind.Transfer,
                    move.Amount, 0, reference, now, cancellationToken);
            }
            await transaction.CommitAsync(cancellationToken);
        }
        catch (InsufficientCreditsException short_)
        {
            var who = short_.AccountId == partnerId ? "The partner" : "The tenant";
            return Problems.Create(402, ErrorCodes.InsufficientBalance, "Insufficient balance.",
                $"{who} does not have {Math.Abs(amount)} credits available; nothing was transferred.");
        }
        return TypedResults.Ok(new TransferResponse(reference, amount, Side(entries[partnerId]), Side(entries[tenantId]), now));
    }

    private static TransferSide Side(LedgerEntry entry) => new(
        PublicId.Format(PublicId.Account, entry.AccountId), entry.BalanceAfter, entry.ReservedAfter, entry.BalanceAfter - entry.ReservedAfter);

    private sealed record TenantRow(Account Account, string Email, Balance Balance);

    private static IQueryable<TenantRow> WithOwnerAndBalance(UjumbeDb db, IQueryable<Account> tenants) =>
        tenants.Select(a => new TenantRow(
            a,
            db.Users.IgnoreQueryFilters().Where(u => u.AccountId == a.Id).OrderBy(u => u.CreatedAt).Select(u => u.Email).First(),
            db.Balances.IgnoreQueryFilters().First(b => b.AccountId == a.Id)));

    private static async Task<TenantRow?> FindAsync(string id, UjumbeDb db, CancellationToken cancellationToken) =>
        PublicId.TryParse(PublicId.Account, id, out var tenantId)
            ? await WithOwnerAndBalance(db, db.Tenants.AsNoTracking().Where(a => a.Id == tenantId)).FirstOrDefaultAsync(cancellationToken)
            : null;

    private static ProblemHttpResult TenantNotFound() => Problems.NotFound("No tenant of this partner has this id.");

    private static TenantResponse ToResponse(Account account, string email, Balance balance) => new(
        PublicId.Format(PublicId.Account, account.Id), account.Name, email, account.DefaultCountry, account.TimeZone,
        UjumbeDb.SnakeCase(account.Status.ToString()), balance.Credits, balance.Reserved, balance.Credits - balance.Reserved, account.CreatedAt);

    private static string? ValidName(string? value, Dictionary<string, string[]> errors)
    {
        var name = value?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            errors["name"] = ["is required, 1 to 200 characters"];
            return null;
        }
        return name;
    }

    private static string? ValidCountry(string? value, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return null;
        }
        var country = value.Trim().ToUpperInvariant();
        if (!Countries.IsSupported(country))
        {
            errors["default_country"] = ["must be the ISO 3166 alpha-2 code of a country with a telephone numbering plan, e.g. TZ"];
            return null;
        }
        return country;
    }

    private static string? ValidZone(string? value, Dictionary<string, string[]> errors)
    {
        if (value is null)
        {
            return null;
        }
        if (!AccountTimeZones.TryFind(value, out var zone))
        {
            errors["time_zone"] = ["must be an IANA time zone, e.g. Africa/Dar_es_Salaam"];
            return null;
        }
        return zone.Id;
    }
}
