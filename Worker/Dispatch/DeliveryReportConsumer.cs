using System.Diagnostics;
using System.Text.Json;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Shared.Messaging;
using Ujumbe.Worker.Providers;

namespace Ujumbe.Worker.Dispatch;

/// <summary>
/// Applies delivery reports: sent → delivered or failed (which finalizes batches). A report for a
/// message we have not yet recorded as sent (the provider can be faster than our own commit) goes
/// round the retry queues until it is; a report for a message already final is a duplicate and is
/// dropped.
/// </summary>
public sealed class DeliveryReportConsumer(
    MessageLifecycle lifecycle, ProviderReportCounts reportCounts, RabbitMqConnection rabbit, TopologyInitializer topology, ConfirmingPublisher publisher,
    ConsumerProgress progress, ILogger<DeliveryReportConsumer> logger)
    : QueueConsumer(Topology.DeliveryReports, prefetch: 64, concurrency: 2, rabbit, topology, publisher, progress, logger)
{
    protected override async Task<Handled> HandleAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        var batch = JsonSerializer.Deserialize(delivery.Body.Span, MessagingJson.Default.DeliveryReportBatch)!;
        var early = await ApplyAsync(batch.Reports, cancellationToken);
        if (early.Count > 0)
        {
            var rest = JsonSerializer.SerializeToUtf8Bytes(new DeliveryReportBatch(early), MessagingJson.Default.DeliveryReportBatch);
            await RetryAsync(delivery, rest, $"{early.Count} delivery report(s) arrived before their message was recorded as sent.",
                Activity.Current?.Id, CancellationToken.None);
        }
        return Handled.Done;
    }

    /// <summary>Applies what can be applied; returns the reports that arrived before their message was recorded as sent.</summary>
    public async Task<IReadOnlyList<DeliveryReport>> ApplyAsync(IReadOnlyList<DeliveryReport> reports, CancellationToken cancellationToken)
    {
        var results = await lifecycle.ApplyDeliveryReportsAsync(reports, cancellationToken);
        var delivered = results.Count(t => t.Applied && t.ToStatus == MessageStatus.Delivered);
        var failed = results.Count(t => t.Applied && t.ToStatus == MessageStatus.Failed);
        if (Activity.Current is { IsAllDataRequested: true } activity)
        {
            activity.SetTag("ujumbe.reports", reports.Count);
            activity.SetTag("ujumbe.reports.delivered", delivered);
            activity.SetTag("ujumbe.reports.failed", failed);
        }
        if (delivered > 0)
        {
            WorkerTelemetry.Reported.Add(delivered, new KeyValuePair<string, object?>("outcome", "delivered"));
        }
        if (failed > 0)
        {
            WorkerTelemetry.Reported.Add(failed, new KeyValuePair<string, object?>("outcome", "failed"));
        }
        var applied = results.Where(t => t.Applied).Select(t => t.Id).ToHashSet();
        foreach (var report in reports.Where(r => r.Provider is not null && applied.Contains(r.MessageId)))
        {
            reportCounts.Add(report.Provider!);
        }
        var early = results.Where(t => !t.Applied && MessageStatus.IsAwaitingProvider(t.FromStatus)).Select(t => t.Id).ToHashSet();
        return reports.Where(r => early.Contains(r.MessageId)).ToList();
    }
}
