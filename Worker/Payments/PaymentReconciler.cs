using Npgsql;
using Ujumbe.Shared.Payments;

namespace Ujumbe.Worker.Payments;

/// <summary>
/// Reconciliation and expiry of mobile-money payments (decision 0025). A payment still pending
/// <see cref="PaymentOptions.ReconcileAfter"/> after it was made (its callback is late or lost) is asked about
/// at the provider, and again every <see cref="PaymentOptions.RecheckInterval"/>: completed there completes it
/// here (crediting once, as a callback would), failed there fails it. Once past its expiry it is asked one
/// last time and, if still pending there, fails as expired. A provider that cannot be reached leaves the
/// payment pending (money may have moved); it is asked again later. Several Workers share the work: a
/// payment is claimed by stamping <c>checked_at</c>, skipping rows another Worker has locked.
/// </summary>
public sealed partial class PaymentReconciler(
    NpgsqlDataSource database, IMobileMoneyProvider provider, IOptions<PaymentOptions> options, TimeProvider time,
    ILogger<PaymentReconciler> logger) : PeriodicDatabaseJob(time, logger)
{
    public const int BatchSize = 100;
    public const string ExpiredReason = "expired: the payer did not confirm in time";

    private readonly PaymentOptions _options = options.Value;

    protected override TimeSpan Interval => _options.PollInterval;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        while (await ReconcileDueAsync(cancellationToken) == BatchSize)
        {
            // more may be due
        }
    }

    /// <summary>Asks about up to <see cref="BatchSize"/> due payments and applies the answers; returns how many were due.</summary>
    public async Task<int> ReconcileDueAsync(CancellationToken cancellationToken)
    {
        var now = Time.GetUtcNow().UtcDateTime;
        var due = new List<(Guid Id, string? Reference, DateTime ExpiresAt)>();
        await using (var claim = database.CreateCommand("""
            update payments p set checked_at = $1
              from (select id from payments
                     where status = 'pending'
                       and (created_at <= $2 or expires_at <= $1)
                       and (checked_at is null or checked_at <= $3 or (expires_at <= $1 and checked_at < expires_at))
                     order by created_at
                     limit $4
                     for update skip locked) d
             where p.id = d.id
            returning p.id, p.provider_reference, p.expires_at
            """))
        {
            claim.Parameters.Add(new() { Value = now });
            claim.Parameters.Add(new() { Value = now - _options.ReconcileAfter });
            claim.Parameters.Add(new() { Value = now - _options.RecheckInterval });
            claim.Parameters.Add(new() { Value = BatchSize });
            await using var reader = await claim.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                due.Add((reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetDateTime(2)));
            }
        }
        foreach (var (id, reference, expiresAt) in due)
        {
            var outcome = await ReconcileAsync(id, reference, expiresAt <= now, now, cancellationToken);
            WorkerTelemetry.PaymentsReconciled.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
        }
        return due.Count;
    }

    private async Task<string> ReconcileAsync(Guid id, string? reference, bool expired, DateTime now, CancellationToken cancellationToken)
    {
        if (reference is null)
        {
            // The Api never recorded the provider's answer to the prompt: nothing to ask about by reference.
            return expired
                ? await PaymentSettlement.FailAsync(database, id, "expired: the mobile-money provider never confirmed the request", now, cancellationToken)
                : "pending";
        }
        MobileMoneyState state;
        try
        {
            state = await provider.GetStatusAsync(id, reference, cancellationToken);
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogProviderUnreachable(Logger, error, id);
            return "provider_unreachable";
        }
        return state.Status switch
        {
            MobileMoneyStatus.Completed when !string.IsNullOrEmpty(state.TransactionId) =>
                await PaymentSettlement.CompleteAsync(database, id, state.TransactionId, state.Amount, now, cancellationToken),
            MobileMoneyStatus.Failed =>
                await PaymentSettlement.FailAsync(database, id, state.FailureReason ?? "failed at the mobile-money provider", now, cancellationToken),
            _ when expired => await PaymentSettlement.FailAsync(database, id, ExpiredReason, now, cancellationToken),
            _ => "pending",
        };
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The mobile-money provider could not be asked about payment {PaymentId}; it stays pending")]
    private static partial void LogProviderUnreachable(ILogger logger, Exception error, Guid paymentId);
}
