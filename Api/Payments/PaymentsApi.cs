using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Phones;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Payments;

namespace Ujumbe.Api.Payments;

public sealed record CreatePaymentRequest(long? Credits, string? PhoneNumber, string? Provider);

public sealed record PaymentResponse(
    string PaymentId, string AccountId, string Status, long Credits, decimal Amount, string Currency, string Provider,
    string PhoneNumber, string? Instructions, string? ProviderTransactionId, string? FailureReason,
    DateTime CreatedAt, DateTime ExpiresAt, DateTime? CompletedAt, DateTime? FailedAt);

public sealed record TariffRequest(decimal? PricePerCredit, string? Currency);

public sealed record TariffResponse(string AccountId, decimal PricePerCredit, string Currency, bool IsDefault);

public sealed record CallbackResponse(string Outcome);

/// <summary>
/// Buying credits by mobile money: an account for itself (<c>POST /v1/payments</c>) or a partner for one of its
/// tenants (<c>POST /v1/tenants/{id}/payments</c>). The payer gets a prompt on the phone; the aggregator calls
/// back (<see cref="CallbackAsync"/>) and the credits are added exactly once (<c>complete_payment</c>). The
/// Worker reconciles payments whose callback never came and expires those never answered.
/// </summary>
public static class PaymentsApi
{
    public const long MaxCredits = 10_000_000;

    public static RouteGroupBuilder MapPaymentsApi(this RouteGroupBuilder v1)
    {
        var payments = v1.MapGroup("/payments").RequireScope(Scopes.Account).WithTags("Payments");
        payments.MapPost("/", (CreatePaymentRequest request, Caller caller, UjumbeDb db, NpgsqlDataSource database, IMobileMoneyProvider provider,
                    IOptions<PaymentOptions> options, TimeProvider time, CancellationToken ct) =>
                InitiateAsync(caller.AccountId, request, caller, db, database, provider, options.Value, time, ct))
            .WithName("CreatePayment").WithSummary("Buy credits for the calling account by mobile money")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        payments.MapGet("/", ListAsync)
            .WithName("ListPayments").WithSummary("List the account's payments (and, for a partner, those it made for its tenants)");
        payments.MapGet("/{id}", GetAsync)
            .WithName("GetPayment").WithSummary("Get one payment and its status");
        v1.MapPost("/tenants/{id}/payments", InitiateForTenantAsync).RequireScope(Scopes.Partner).WithTags("Partners")
            .WithName("CreateTenantPayment").WithSummary("Buy credits for a tenant by mobile money")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        v1.MapPut("/admin/accounts/{id}/tariff", SetTariffAsync).RequireScope(Scopes.Admin).WithTags("Operators")
            .WithName("SetAccountTariff").WithSummary("Set what one credit costs an account when it pays by mobile money");
        return v1;
    }

    /// <summary>The aggregator's callback: public (no API key), authenticated by the aggregator's own signature.</summary>
    public static IEndpointRouteBuilder MapPaymentCallbacks(this IEndpointRouteBuilder app)
    {
        app.MapPost(MobileMoneySimulator.CallbackPath, CallbackAsync).WithTags("Payments")
            .WithName("ReceiveMobileMoneyCallback").WithSummary("The mobile-money aggregator reports a payment's outcome (signed by it)")
            .Accepts<MobileMoneyCallback>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized);
        return app;
    }

    public static async Task<Results<Accepted<PaymentResponse>, ProblemHttpResult>> InitiateForTenantAsync(
        string id, CreatePaymentRequest request, Caller caller, UjumbeDb db, NpgsqlDataSource database, IMobileMoneyProvider provider,
        IOptions<PaymentOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Account, id, out var tenantId) || !await db.Tenants.AnyAsync(a => a.Id == tenantId, cancellationToken))
        {
            return Problems.NotFound("No tenant of this partner has this id.");
        }
        return await InitiateAsync(tenantId, request, caller, db, database, provider, options.Value, time, cancellationToken);
    }

    private static async Task<Results<Accepted<PaymentResponse>, ProblemHttpResult>> InitiateAsync(
        Guid accountId, CreatePaymentRequest request, Caller caller, UjumbeDb db, NpgsqlDataSource database, IMobileMoneyProvider provider,
        PaymentOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.Credits is null or < 1 or > MaxCredits)
        {
            errors["credits"] = [$"is required: a whole number of credits from 1 to {MaxCredits}"];
        }
        var network = request.Provider?.Trim().ToLowerInvariant();
        if (network is null || !MobileMoneyNetworks.All.Contains(network))
        {
            errors["provider"] = [$"must be one of {string.Join(", ", MobileMoneyNetworks.All)}"];
        }
        string phone = "";
        if (!PhoneNumbers.TryNormalize(request.PhoneNumber, "TZ", out phone, out var phoneError))
        {
            errors["phone_number"] = [phoneError];
        }
        else if (network is not null && MobileMoneyNetworks.All.Contains(network) && !MobileMoneyNetworks.CanCharge(network, phone))
        {
            errors["phone_number"] = [$"is not a {network} mobile-money number in Tanzania"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var account = await db.Accounts.IgnoreQueryFilters().AsNoTracking().FirstAsync(a => a.Id == accountId, cancellationToken);
        var now = time.UtcNow();
        var payment = new Payment
        {
            Id = Guid.CreateVersion7(now),
            AccountId = accountId,
            RequestedBy = caller.AccountId,
            Provider = network!,
            Phone = phone,
            Credits = request.Credits!.Value,
            Amount = decimal.Round(request.Credits.Value * (account.PricePerCredit ?? options.DefaultPricePerCredit), 2),
            Currency = account.Currency,
            Status = "pending",
            CreatedAt = now,
            ExpiresAt = now + options.PendingLifetime,
        };
        db.Payments.Add(payment);
        await db.SaveChangesAsync(cancellationToken);
        try
        {
            payment.ProviderReference = await provider.InitiateAsync(payment.Id, network!, phone, payment.Amount, payment.Currency, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            await FailAsync(database, payment.Id, "the mobile-money provider could not be reached", now, cancellationToken);
            return Problems.Create(503, ErrorCodes.ProviderUnavailable, "Provider unavailable.",
                "The mobile-money provider could not be reached; nothing was charged. Try again shortly.");
        }
        var response = ToResponse(payment, Instructions(payment));
        return TypedResults.Accepted($"/v1/payments/{response.PaymentId}", response);
    }

    public static async Task<Results<Ok<PageOf<PaymentResponse>>, ProblemHttpResult>> ListAsync(
        string? status, string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        if (status is not (null or "pending" or "completed" or "failed"))
        {
            return Problems.Validation("status", "must be pending, completed or failed");
        }
        var payments = db.Payments.AsNoTracking();
        if (status is not null)
        {
            payments = payments.Where(p => p.Status == status);
        }
        return TypedResults.Ok(await paging.PageAsync(payments.OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id),
            p => ToResponse(p, p.Status == "pending" ? Instructions(p) : null), cancellationToken));
    }

    public static async Task<Results<Ok<PaymentResponse>, ProblemHttpResult>> GetAsync(string id, UjumbeDb db, CancellationToken cancellationToken)
    {
        var payment = PublicId.TryParse(PublicId.Payment, id, out var paymentId)
            ? await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == paymentId, cancellationToken)
            : null;
        return payment is null
            ? Problems.NotFound("No payment with this id.")
            : TypedResults.Ok(ToResponse(payment, payment.Status == "pending" ? Instructions(payment) : null));
    }

    /// <summary>
    /// Verified first (unsigned or wrongly signed: 401, nothing read or changed). A verified callback for a
    /// payment we do not know, or one no longer pending, changes nothing and is acknowledged (200), so the
    /// aggregator stops retrying it; completion credits exactly once however often it comes, in whatever order.
    /// </summary>
    public static async Task<Results<Ok<CallbackResponse>, ProblemHttpResult>> CallbackAsync(
        HttpRequest request, IMobileMoneyProvider provider, NpgsqlDataSource database, TimeProvider time, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, cancellationToken);
        var headers = request.Headers.ToDictionary(h => h.Key, h => (string?)h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        if (!provider.VerifyCallback(headers, body.GetBuffer().AsSpan(0, (int)body.Length)))
        {
            return Problems.Unauthorized(ErrorCodes.InvalidCredentials, "The callback is not signed by the mobile-money provider.");
        }
        MobileMoneyCallback? callback;
        try
        {
            callback = JsonSerializer.Deserialize<MobileMoneyCallback>(body.GetBuffer().AsSpan(0, (int)body.Length), JsonDefaults.Options);
        }
        catch (JsonException)
        {
            callback = null;
        }
        if (callback is null || callback.Status is not ("SUCCESS" or "FAILED")
            || (callback.Status == "SUCCESS" && string.IsNullOrWhiteSpace(callback.TransactionId)) || callback.TransactionId is { Length: > 100 })
        {
            return Problems.Validation("status", "must be SUCCESS (with transaction_id) or FAILED");
        }
        if (!PublicId.TryParse(PublicId.Payment, callback.Reference, out var paymentId))
        {
            return TypedResults.Ok(new CallbackResponse("ignored"));
        }
        var now = time.UtcNow();
        var changed = callback.Status == "SUCCESS"
            ? await CompleteAsync(database, paymentId, callback.TransactionId!, now, cancellationToken)
            : await FailAsync(database, paymentId, Truncate(callback.Reason) ?? "declined", now, cancellationToken);
        return TypedResults.Ok(new CallbackResponse(changed ? (callback.Status == "SUCCESS" ? "completed" : "failed") : "ignored"));
    }

    /// <summary>Completes a pending payment and credits it, once (migration 0009); false if nothing changed.</summary>
    public static async Task<bool> CompleteAsync(NpgsqlDataSource database, Guid paymentId, string transactionId, DateTime now, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select complete_payment($1, $2, $3)");
        command.Parameters.Add(new() { Value = paymentId });
        command.Parameters.Add(new() { Value = transactionId });
        command.Parameters.Add(new() { Value = now });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public static async Task<bool> FailAsync(NpgsqlDataSource database, Guid paymentId, string reason, DateTime now, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select fail_payment($1, $2, $3)");
        command.Parameters.Add(new() { Value = paymentId });
        command.Parameters.Add(new() { Value = reason });
        command.Parameters.Add(new() { Value = now });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>An operator's tariff for an account: price per credit (positive, two decimals) and currency (TZS by default).</summary>
    public static async Task<Results<Ok<TariffResponse>, ProblemHttpResult>> SetTariffAsync(
        string id, TariffRequest request, UjumbeDb db, IOptions<PaymentOptions> options, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.PricePerCredit is { } price && (price <= 0 || price > 1_000_000 || decimal.Round(price, 2) != price))
        {
            errors["price_per_credit"] = ["must be a positive amount with at most two decimals, up to 1000000, or null for the default"];
        }
        var currency = request.Currency?.Trim().ToUpperInvariant();
        if (currency is not null && (currency.Length != 3 || !currency.All(char.IsAsciiLetterUpper)))
        {
            errors["currency"] = ["must be an ISO 4217 code, e.g. TZS"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        if (!PublicId.TryParse(PublicId.Account, id, out var accountId)
            || await db.Accounts.IgnoreQueryFilters().FirstOrDefaultAsync(a => a.Id == accountId, cancellationToken) is not { } account)
        {
            return Problems.NotFound("No account with this id.");
        }
        account.PricePerCredit = request.PricePerCredit;
        account.Currency = currency ?? account.Currency;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new TariffResponse(id, account.PricePerCredit ?? options.Value.DefaultPricePerCredit, account.Currency,
            account.PricePerCredit is null));
    }

    private static string Instructions(Payment payment) =>
        $"A {payment.Provider} prompt for {payment.Amount:0.##} {payment.Currency} has been sent to {payment.Phone}. " +
        "Enter your mobile-money PIN on the phone to confirm; the credits are added as soon as the payment completes.";

    private static string? Truncate(string? text) => text is null ? null : text.Length > 200 ? text[..200] : text;

    private static PaymentResponse ToResponse(Payment p, string? instructions) => new(
        PublicId.Format(PublicId.Payment, p.Id), PublicId.Format(PublicId.Account, p.AccountId), p.Status, p.Credits, p.Amount, p.Currency,
        p.Provider, p.Phone, instructions, p.ProviderTransactionId, p.FailureReason, p.CreatedAt, p.ExpiresAt, p.CompletedAt, p.FailedAt);
}
