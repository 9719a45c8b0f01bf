using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Idempotency;
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

/// <summary>What a callback did: <c>completed</c>, <c>failed</c>, or why nothing changed (<c>duplicate</c>, <c>already_failed</c>, <c>unknown</c>…).</summary>
public sealed record CallbackResponse(string Outcome);

/// <summary>
/// Buying credits by mobile money (decision 0025): an account for itself (<c>POST /v1/payments</c>) or a partner
/// for one of its tenants (<c>POST /v1/tenants/{id}/payments</c>, mapped by <see cref="Partners.TenantsApi"/>). The
/// payer gets a prompt on the phone; the aggregator calls back (<see cref="CallbackAsync"/>) and the credits are
/// added exactly once (<see cref="PaymentSettlement"/>). The Worker reconciles payments whose callback never
/// came and expires those never answered.
/// </summary>
public static partial class PaymentsApi
{
    public const long MaxCredits = 1_000_000;
    public const int MaxTransactionIdLength = 100;

    public static RouteGroupBuilder MapPaymentsApi(this RouteGroupBuilder v1)
    {
        var payments = v1.MapGroup("/payments").RequireScope(Scopes.Account).WithTags("Payments");
        payments.MapPost("/", (CreatePaymentRequest request, Caller caller, UjumbeDb db, NpgsqlDataSource database,
                    IMobileMoneyProvider provider, IOptions<PaymentOptions> options, TimeProvider time, CancellationToken ct) =>
                InitiateAsync(caller.AccountId, request, caller, db, database, provider, options.Value, time, ct))
            .WithName("CreatePayment").WithSummary("Buy credits for the calling account by mobile money")
            .StoresIdempotentAnswers()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        payments.MapGet("/", ListAsync)
            .WithName("ListPayments").WithSummary("List the account's payments (and, for a partner, those it made for its tenants)");
        payments.MapGet("/{id}", GetAsync)
            .WithName("GetPayment").WithSummary("Get one payment and its status");
        v1.MapPut("/admin/accounts/{id}/tariff", SetTariffAsync).RequireScope(Scopes.Admin).WithTags("Operators")
            .WithName("SetAccountTariff").WithSummary("Set what one credit costs an account when it pays by mobile money");
        return v1;
    }

    /// <summary>The aggregator's callback: public (no API key; the gateway routes it anonymously), authenticated by the aggregator's own signature.</summary>
    public static IEndpointRouteBuilder MapPaymentCallbacks(this IEndpointRouteBuilder app)
    {
        app.MapPost(MobileMoneyCallbacks.Path, CallbackAsync).WithTags("Payments")
            .WithName("ReceiveMobileMoneyCallback").WithSummary("The mobile-money aggregator reports a payment's outcome (signed by it)")
            .Accepts<MobileMoneyCallback>("application/json")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized);
        return app;
    }

    /// <summary>A partner buys credits for one of its tenants (paid by the phone given, at the tenant's tariff).</summary>
    public static async Task<Results<Accepted<PaymentResponse>, ProblemHttpResult>> InitiateForTenantAsync(
        string id, CreatePaymentRequest request, Caller caller, UjumbeDb db, NpgsqlDataSource database,
        IMobileMoneyProvider provider, IOptions<PaymentOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Account, id, out var tenantId) || !await db.Tenants.AnyAsync(a => a.Id == tenantId, cancellationToken))
        {
            return Problems.NotFound("No tenant of this partner has this id.");
        }
        return await InitiateAsync(tenantId, request, caller, db, database, provider, options.Value, time, cancellationToken);
    }

    private static async Task<Results<Accepted<PaymentResponse>, ProblemHttpResult>> InitiateAsync(
        Guid accountId, CreatePaymentRequest request, Caller caller, UjumbeDb db, NpgsqlDataSource database,
        IMobileMoneyProvider provider, PaymentOptions options, TimeProvider time, CancellationToken cancellationToken)
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
            network = null;
        }
        if (!PhoneNumbers.TryNormalize(request.PhoneNumber, "TZ", out var phone, out var phoneError))
        {
            errors["phone_number"] = [phoneError];
        }
        else if (network is not null && !MobileMoneyNetworks.CanCharge(network, phone))
        {
            errors["phone_number"] = [$"{phone} is not a {network} mobile-money number: {network} can only charge its own Tanzanian wallets"];
        }
        var account = await db.Accounts.IgnoreQueryFilters().AsNoTracking().FirstAsync(a => a.Id == accountId, cancellationToken);
        var price = account.PricePerCredit ?? options.DefaultPricePerCredit;
        // Wallets move whole shillings: the total is rounded up to a whole unit, never charged in fractions.
        var amount = request.Credits is { } credits ? decimal.Ceiling(credits * price) : 0;
        if (!errors.ContainsKey("credits") && amount > options.MaxAmount)
        {
            errors["credits"] = [$"would cost {amount:0.##} {account.Currency}; one mobile-money payment carries at most {options.MaxAmount:0.##} {account.Currency}"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        var requester = caller.Identity.PartnerId ?? caller.AccountId;
        var now = time.UtcNow();
        var payment = new Payment
        {
            Id = Guid.CreateVersion7(now),
            AccountId = accountId,
            RequestedBy = requester,
            Provider = network!,
            Phone = phone,
            Credits = request.Credits!.Value,
            Amount = amount,
            Currency = account.Currency,
            Status = PaymentStatuses.Pending,
            CreatedAt = now,
            ExpiresAt = now + options.PendingLifetime,
        };
        db.Payments.Add(payment);
        await db.SaveChangesAsync(cancellationToken);
        try
        {
            payment.ProviderReference = await provider.InitiateAsync(payment.Id, payment.Provider, phone, payment.Amount, payment.Currency, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (HttpRequestException)
        {
            await PaymentSettlement.FailAsync(database, payment.Id, "the mobile-money provider could not be reached", time.UtcNow(), CancellationToken.None);
            return Problems.Create(503, ErrorCodes.ProviderUnavailable, "Provider unavailable.",
                "The mobile-money provider could not be reached; nothing was charged. Try again shortly.");
        }
        var response = ToResponse(payment);
        return TypedResults.Accepted($"/v1/payments/{response.PaymentId}", response);
    }

    public static async Task<Results<Ok<PageOf<PaymentResponse>>, ProblemHttpResult>> ListAsync(
        string? status, string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        if (status is not null && !PaymentStatuses.All.Contains(status))
        {
            return Problems.Validation("status", $"must be one of {string.Join(", ", PaymentStatuses.All)}");
        }
        var payments = db.Payments.AsNoTracking();
        if (status is not null)
        {
            payments = payments.Where(p => p.Status == status);
        }
        return TypedResults.Ok(await paging.PageAsync(payments.OrderByDescending(p => p.CreatedAt).ThenByDescending(p => p.Id), ToResponse, cancellationToken));
    }

    public static async Task<Results<Ok<PaymentResponse>, ProblemHttpResult>> GetAsync(string id, UjumbeDb db, CancellationToken cancellationToken)
    {
        var payment = PublicId.TryParse(PublicId.Payment, id, out var paymentId)
            ? await db.Payments.AsNoTracking().FirstOrDefaultAsync(p => p.Id == paymentId, cancellationToken)
            : null;
        return payment is null ? Problems.NotFound("No payment with this id.") : TypedResults.Ok(ToResponse(payment));
    }

    /// <summary>
    /// Verified first (unsigned or wrongly signed: 401, nothing read or changed). A verified callback for a
    /// payment we do not know, or one no longer pending, changes nothing and is acknowledged (200), so the
    /// aggregator stops retrying it; completion credits exactly once however often it comes, in whatever order.
    /// </summary>
    public static async Task<Results<Ok<CallbackResponse>, ProblemHttpResult>> CallbackAsync(
        HttpRequest request, IMobileMoneyProvider provider, NpgsqlDataSource database, TimeProvider time, ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, cancellationToken);
        var bytes = body.GetBuffer().AsSpan(0, (int)body.Length).ToArray();
        var headers = request.Headers.ToDictionary(h => h.Key, h => (string?)h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        if (!provider.VerifyCallback(headers, bytes))
        {
            return Problems.Unauthorized(ErrorCodes.InvalidCredentials, "The callback does not carry the mobile-money provider's valid signature.");
        }
        MobileMoneyCallback? callback;
        try
        {
            callback = JsonSerializer.Deserialize<MobileMoneyCallback>(bytes, JsonDefaults.Options);
        }
        catch (JsonException)
        {
            callback = null;
        }
        if (callback is null || callback.Status is not ("SUCCESS" or "FAILED")
            || (callback.Status == "SUCCESS" && (string.IsNullOrWhiteSpace(callback.TransactionId) || callback.TransactionId.Length > MaxTransactionIdLength)))
        {
            return Problems.Validation("status", $"must be SUCCESS (with a transaction_id of 1 to {MaxTransactionIdLength} characters) or FAILED");
        }
        if (!PublicId.TryParse(PublicId.Payment, callback.Reference, out var paymentId))
        {
            return TypedResults.Ok(new CallbackResponse("unknown"));
        }
        var now = time.UtcNow();
        var outcome = callback.Status == "SUCCESS"
            ? await PaymentSettlement.CompleteAsync(database, paymentId, callback.TransactionId!, callback.Amount, now, cancellationToken)
            : await PaymentSettlement.FailAsync(database, paymentId, Truncate(callback.Reason) ?? "declined", now, cancellationToken);
        if (callback.Status == "SUCCESS" && outcome is "already_failed" or "amount_mismatch" or "transaction_used")
        {
            // Money may have moved without credits: an operator has to look (refund or adjust by hand).
            LogUnappliedSuccess(loggers.CreateLogger(typeof(PaymentsApi)), callback.Reference!, callback.TransactionId!, outcome);
        }
        return TypedResults.Ok(new CallbackResponse(outcome));
    }

    /// <summary>An operator's tariff for an account: price per credit (positive, at most two decimals) and currency (TZS by default).</summary>
    public static async Task<Results<Ok<TariffResponse>, ProblemHttpResult>> SetTariffAsync(
        string id, TariffRequest request, UjumbeDb db, IOptions<PaymentOptions> options, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.PricePerCredit is { } price && (price <= 0 || price > 1_000_000 || decimal.Round(price, 2) != price))
        {
            errors["price_per_credit"] = ["must be a positive amount with at most two decimals, up to 1000000, or null for the platform default"];
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

    private static PaymentResponse ToResponse(Payment p) => new(
        PublicId.Format(PublicId.Payment, p.Id), PublicId.Format(PublicId.Account, p.AccountId), p.Status, p.Credits, p.Amount, p.Currency,
        p.Provider, p.Phone, p.Status == PaymentStatuses.Pending ? Instructions(p) : null, p.ProviderTransactionId, p.FailureReason,
        p.CreatedAt, p.ExpiresAt, p.CompletedAt, p.FailedAt);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "A successful mobile-money transaction {TransactionId} for {Reference} credited nothing ({Outcome}); it needs an operator")]
    private static partial void LogUnappliedSuccess(ILogger logger, string reference, string transactionId, string outcome);
}

public static class PaymentStatuses
{
    public const string Pending = "pending";
    public static readonly string[] All = [Pending, PaymentSettlement.Completed, PaymentSettlement.Failed];
}
