using System.Net.Mail;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Ujumbe.Api.ApiKeys;
using Ujumbe.Api.Auth;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Accounts;

public sealed record CreateAccountRequest(string? Name, string? OwnerEmail, string? DefaultCountry);

public sealed record AdminAccountResponse(
    string Id, string Name, string DefaultCountry, string Status, bool IsOperator, bool IsPartner,
    int MaxSegments, long Balance, long Reserved, DateTime CreatedAt);

/// <summary>The partner's account, and the key with the partner scope issued when it was marked (null if it already was).</summary>
public sealed record PartnerMarkedResponse(AdminAccountResponse Account, IssuedApiKeyResponse? ApiKey);

public sealed record RateLimitsRequest(int? MessagesPerMinute, int? ContactsPerHour, int? RequestsPerHour);

public sealed record AccountRateLimitsResponse(string AccountId, RateLimitsRequest Overrides, RateLimitsResponse Effective);

public sealed record CreatedAccountResponse(
    string Id, string Name, string DefaultCountry, string Status, string OwnerEmail, IssuedApiKeyResponse ApiKey);

/// <summary>Platform operators (keys with the <c>admin</c> scope): every account, across tenants.</summary>
public static class AdminAccountsApi
{
    public static RouteGroupBuilder MapAdminAccountsApi(this RouteGroupBuilder v1)
    {
        var admin = v1.MapGroup("/admin/accounts").RequireScope(Scopes.Admin).WithTags("Operators");
        admin.MapGet("/", ListAsync)
            .WithName("ListAccounts").WithSummary("List or search accounts");
        admin.MapPost("/", CreateAsync)
            .WithName("CreateAccount").WithSummary("Create an account with its owner and a first API key")
            .ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapPost("/{id}/suspend", (string id, AccountService accounts, UjumbeDb db, CancellationToken ct) =>
            SetStatusAsync(id, AccountStatus.Suspended, accounts, db, ct))
            .WithName("SuspendAccount").WithSummary("Suspend an account: its keys and users are refused")
            .ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapPost("/{id}/activate", (string id, AccountService accounts, UjumbeDb db, CancellationToken ct) =>
            SetStatusAsync(id, AccountStatus.Active, accounts, db, ct))
            .WithName("ActivateAccount").WithSummary("Reactivate a suspended account")
            .ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapPost("/{id}/partner", (string id, AccountService accounts, ApiKeyService keys, UjumbeDb db, CancellationToken ct) =>
                MarkPartnerAsync(id, accounts, keys, db, ct))
            .WithName("MarkPartner").WithSummary("Mark an account as a partner, issuing it a key with the partner scope")
            .ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapDelete("/{id}/partner", UnmarkPartnerAsync)
            .WithName("UnmarkPartner").WithSummary("Unmark a partner that has no tenants")
            .ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapPost("/{id}/invitation", async (string id, Invitations invitations, CancellationToken ct) =>
                PublicId.TryParse(PublicId.Account, id, out var accountId)
                    ? await AuthApi.InviteOwnerAsync(accountId, invitations, ct)
                    : Problems.NotFound("No account with this id."))
            .WithName("InviteAccountOwner").WithSummary("Invite the account's owner to set a password (the token is shown once)");
        admin.MapPut("/{id}/rate-limits", SetRateLimitsAsync)
            .WithName("SetAccountRateLimits").WithSummary("Override an account's rate limits");
        return v1;
    }

    public static async Task<Results<Ok<PageOf<AdminAccountResponse>>, ProblemHttpResult>> ListAsync(
        string? q, string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        var accounts = db.Accounts.IgnoreQueryFilters().AsNoTracking();
        if (!string.IsNullOrWhiteSpace(q))
        {
            var term = q.Trim();
            if (PublicId.TryParse(PublicId.Account, term, out var id))
            {
                accounts = accounts.Where(a => a.Id == id);
            }
            else
            {
                var pattern = "%" + EscapeLike(term) + "%";
                var owners = db.Users.IgnoreQueryFilters().Where(u => EF.Functions.ILike(u.Email, pattern, "\\")).Select(u => u.AccountId);
                accounts = accounts.Where(a => EF.Functions.ILike(a.Name, pattern, "\\") || owners.Contains(a.Id));
            }
        }
        var total = await accounts.CountAsync(cancellationToken);
        var rows = await accounts
            .OrderByDescending(a => a.CreatedAt).ThenByDescending(a => a.Id)
            .Skip(paging.Skip).Take(paging.Size)
            .Select(a => new
            {
                Account = a,
                Balance = db.Balances.IgnoreQueryFilters().Where(b => b.AccountId == a.Id).Select(b => new { b.Credits, b.Reserved }).FirstOrDefault(),
            })
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(paging.Of(
            rows.Select(r => ToResponse(r.Account, r.Balance?.Credits ?? 0, r.Balance?.Reserved ?? 0)).ToList(), total));
    }

    public static async Task<Results<Created<CreatedAccountResponse>, ProblemHttpResult>> CreateAsync(
        CreateAccountRequest request, AccountService accounts, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            errors["name"] = ["is required, 1 to 200 characters"];
        }
        var email = request.OwnerEmail?.Trim();
        if (!IsEmail(email))
        {
            errors["owner_email"] = ["must be an email address"];
        }
        var country = request.DefaultCountry?.Trim().ToUpperInvariant() ?? Countries.Default;
        if (!Countries.IsSupported(country))
        {
            errors["default_country"] = ["must be the ISO 3166 alpha-2 code of a country with a telephone numbering plan, e.g. TZ"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        try
        {
            var created = await accounts.CreateAsync(name!, email!, country, cancellationToken);
            var account = created.Account;
            var response = new CreatedAccountResponse(
                PublicId.Format(PublicId.Account, account.Id), account.Name, account.DefaultCountry,
                UjumbeDb.SnakeCase(account.Status.ToString()), created.Owner.Email, IssuedApiKeyResponse.From(created.FirstKey));
            return TypedResults.Created($"/v1/admin/accounts/{response.Id}", response);
        }
        catch (EmailTakenException)
        {
            return Problems.Conflict("A user with this owner_email already exists.");
        }
    }

    private static async Task<Results<Ok<AdminAccountResponse>, ProblemHttpResult>> SetStatusAsync(
        string id, AccountStatus status, AccountService accounts, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Account, id, out var accountId))
        {
            return Problems.NotFound("No account with this id.");
        }
        var target = await db.Accounts.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(a => a.Id == accountId, cancellationToken);
        if (target is null)
        {
            return Problems.NotFound("No account with this id.");
        }
        if (target.IsOperator && status == AccountStatus.Suspended)
        {
            return Problems.Conflict("The platform operator's account cannot be suspended.");
        }
        var account = (await accounts.SetStatusAsync(accountId, status, cancellationToken))!;
        var balance = await db.Balances.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(b => b.AccountId == accountId, cancellationToken);
        return TypedResults.Ok(ToResponse(account, balance?.Credits ?? 0, balance?.Reserved ?? 0));
    }

    /// <summary>
    /// Marks a partner. Its existing keys keep their scopes (a key never gains powers after it was issued),
    /// so the answer carries a new key with the <c>partner</c> scope, shown once. Marking again issues
    /// nothing more. A tenant cannot be a partner: tenants do not nest.
    /// </summary>
    public static async Task<Results<Ok<PartnerMarkedResponse>, ProblemHttpResult>> MarkPartnerAsync(
        string id, AccountService accounts, ApiKeyService keys, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Account, id, out var accountId)
            || await db.Accounts.IgnoreQueryFilters().FirstOrDefaultAsync(a => a.Id == accountId, cancellationToken) is not { } account)
        {
            return Problems.NotFound("No account with this id.");
        }
        if (account.ParentAccountId is not null)
        {
            return Problems.Conflict("A tenant cannot be a partner.");
        }
        IssuedApiKeyResponse? key = null;
        if (!account.IsPartner)
        {
            account.IsPartner = true;
            var issued = keys.Add(accountId, "Partner key", ScopeNames.DefaultForKey | Scopes.Partner, expiresInDays: null);
            await db.SaveChangesAsync(cancellationToken);
            key = IssuedApiKeyResponse.From(issued);
        }
        var balance = await db.Balances.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(b => b.AccountId == accountId, cancellationToken);
        return TypedResults.Ok(new PartnerMarkedResponse(ToResponse(account, balance?.Credits ?? 0, balance?.Reserved ?? 0), key));
    }

    /// <summary>Only a partner without tenants: its tenants would otherwise be left with nobody to manage them.</summary>
    public static async Task<Results<Ok<AdminAccountResponse>, ProblemHttpResult>> UnmarkPartnerAsync(
        string id, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Account, id, out var accountId)
            || await db.Accounts.IgnoreQueryFilters().FirstOrDefaultAsync(a => a.Id == accountId, cancellationToken) is not { } account)
        {
            return Problems.NotFound("No account with this id.");
        }
        if (await db.Accounts.IgnoreQueryFilters().AnyAsync(a => a.ParentAccountId == accountId, cancellationToken))
        {
            return Problems.Conflict("The partner still has tenants; it stays a partner while they exist.");
        }
        if (account.IsPartner)
        {
            account.IsPartner = false;
            await db.SaveChangesAsync(cancellationToken);
        }
        var balance = await db.Balances.IgnoreQueryFilters().AsNoTracking().FirstOrDefaultAsync(b => b.AccountId == accountId, cancellationToken);
        return TypedResults.Ok(ToResponse(account, balance?.Credits ?? 0, balance?.Reserved ?? 0));
    }

    public const int MaxRateLimit = 10_000_000;

    /// <summary>
    /// An account's own request limits (null: the platform default). Every gateway replica applies them
    /// within a second (the change is published to their caches).
    /// </summary>
    public static async Task<Results<Ok<AccountRateLimitsResponse>, ProblemHttpResult>> SetRateLimitsAsync(
        string id, RateLimitsRequest request, UjumbeDb db, CredentialChanges changes,
        Microsoft.Extensions.Options.IOptions<RateLimitDefaults> defaults, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        foreach (var (field, value) in new[] { ("messages_per_minute", request.MessagesPerMinute), ("contacts_per_hour", request.ContactsPerHour), ("requests_per_hour", request.RequestsPerHour) })
        {
            if (value is < 1 or > MaxRateLimit)
            {
                errors[field] = [$"must be between 1 and {MaxRateLimit}, or null for the default"];
            }
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        if (!PublicId.TryParse(PublicId.Account, id, out var accountId))
        {
            return Problems.NotFound("No account with this id.");
        }
        var account = await db.Accounts.IgnoreQueryFilters().FirstOrDefaultAsync(a => a.Id == accountId, cancellationToken);
        if (account is null)
        {
            return Problems.NotFound("No account with this id.");
        }
        account.MessagesPerMinute = request.MessagesPerMinute;
        account.ContactsPerHour = request.ContactsPerHour;
        account.RequestsPerHour = request.RequestsPerHour;
        await db.SaveChangesAsync(cancellationToken);
        await changes.AccountChangedAsync(accountId);
        return TypedResults.Ok(new AccountRateLimitsResponse(id, request, AccountApi.EffectiveLimits(account, defaults.Value)));
    }

    private static AdminAccountResponse ToResponse(Account account, long balance, long reserved) => new(
        PublicId.Format(PublicId.Account, account.Id), account.Name, account.DefaultCountry,
        UjumbeDb.SnakeCase(account.Status.ToString()), account.IsOperator, account.IsPartner, account.MaxSegments,
        balance, reserved, account.CreatedAt);

    internal static bool IsEmail(string? value) =>
        value is { Length: > 3 and <= 254 } && MailAddress.TryCreate(value, out var address) && address.Address == value;

    internal static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
