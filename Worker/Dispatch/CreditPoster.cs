using Ujumbe.Shared.Lifecycle;

namespace Ujumbe.Worker.Dispatch;

/// <summary>
/// Posts the credit moves that status changes left pending (captures for messages providers accepted, releases
/// for ones never sent) to the ledger and the balances, every 200 ms (<see cref="MessageLifecycle.PostPendingCreditsAsync"/>).
/// Batching them keeps the Worker off the accounts' balance rows, which the send path needs.
/// Several Workers may run it at once: each pending row is consumed by exactly one of them.
/// </summary>
public sealed class CreditPoster(MessageLifecycle lifecycle, TimeProvider time, ILogger<CreditPoster> logger)
    : PeriodicDatabaseJob(time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromMilliseconds(200);

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => PostAsync(cancellationToken);

    /// <summary>Posts everything pending; returns the number of ledger entries written.</summary>
    public Task<int> PostAsync(CancellationToken cancellationToken) => lifecycle.PostPendingCreditsAsync(cancellationToken);
}
