using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Ujumbe.Worker;

/// <summary>The Worker's own spans and metrics (exported with the platform's by ServiceDefaults).</summary>
public static class WorkerTelemetry
{
    public const string Name = "Ujumbe.Worker";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    /// <summary>Messages a provider answered for, tagged <c>outcome</c>: sent, rejected or unavailable.</summary>
    public static readonly Counter<long> Dispatched =
        Meter.CreateCounter<long>("ujumbe.messages.dispatched", unit: "{message}", description: "Messages handed to providers, by outcome");

    /// <summary>Final delivery reports applied, tagged <c>outcome</c>: delivered or failed.</summary>
    public static readonly Counter<long> Reported =
        Meter.CreateCounter<long>("ujumbe.messages.reported", unit: "{message}", description: "Delivery reports applied, by outcome");

    /// <summary>From a message being accepted to it being handed to a provider.</summary>
    public static readonly Histogram<double> QueueLag =
        Meter.CreateHistogram<double>("ujumbe.dispatch.queue_lag", unit: "ms", description: "Time from acceptance to provider submission");

    public static readonly Counter<long> Retried =
        Meter.CreateCounter<long>("ujumbe.queue.retried", unit: "{message}", description: "Queue messages sent to a retry queue, by queue");

    public static readonly Counter<long> DeadLettered =
        Meter.CreateCounter<long>("ujumbe.queue.dead_lettered", unit: "{message}", description: "Queue messages moved to a dead-letter queue, by queue");

    /// <summary>Webhook delivery attempts, tagged <c>outcome</c>: succeeded, failed or gone (410).</summary>
    public static readonly Counter<long> WebhookAttempts =
        Meter.CreateCounter<long>("ujumbe.webhooks.attempts", unit: "{attempt}", description: "Webhook delivery attempts by outcome");

    public static readonly Histogram<double> WebhookLatency =
        Meter.CreateHistogram<double>("ujumbe.webhooks.latency", unit: "ms", description: "Time for a receiver to answer a webhook");

    public static readonly Counter<long> ScheduledReleased =
        Meter.CreateCounter<long>("ujumbe.messages.scheduled_released", unit: "{message}", description: "Scheduled messages released for dispatch");

    /// <summary>Pending payments the Worker asked the provider about, tagged <c>outcome</c>: what the answer did to the payment.</summary>
    public static readonly Counter<long> PaymentsReconciled =
        Meter.CreateCounter<long>("ujumbe.payments.reconciled", unit: "{payment}", description: "Pending payments reconciled with the provider, by outcome");

    /// <summary>Submissions to configured providers, tagged <c>provider</c> and <c>outcome</c> (accepted, rejected, unavailable, uncertain, unexpected_answer, circuit_open, unreachable, not_submitted).</summary>
    public static readonly Counter<long> ProviderSubmits =
        Meter.CreateCounter<long>("ujumbe.provider.submits", unit: "{message}", description: "Submissions to upstream providers, by provider and outcome");

    public static readonly Histogram<double> ProviderLatency =
        Meter.CreateHistogram<double>("ujumbe.provider.latency", unit: "ms", description: "Time for a provider to answer one submission");

    /// <summary>Circuits opened, tagged <c>provider</c>: it failed past the threshold and is skipped for the cool-down.</summary>
    public static readonly Counter<long> CircuitOpened =
        Meter.CreateCounter<long>("ujumbe.provider.circuit_opened", unit: "{event}", description: "Provider circuits opened");

    /// <summary>Routing problems, tagged <c>reason</c>: a route naming a missing or disabled provider, a message with no provider left.</summary>
    public static readonly Counter<long> RoutingProblems =
        Meter.CreateCounter<long>("ujumbe.routing.problems", unit: "{event}", description: "Routes naming providers that cannot be used, by reason");
}
