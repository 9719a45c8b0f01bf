using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Worker.Providers;

public sealed class SimulatorOptions
{
    public const string Section = "Providers:Simulator";

    /// <summary>Share of messages the provider accepts (the rest are rejected with <c>SIM_REJECTED</c>).</summary>
    public double AcceptanceRate { get; set; } = 1.0;

    /// <summary>Share of accepted messages that are delivered (the rest fail with <c>SIM_UNDELIVERED</c>).</summary>
    public double DeliveryRate { get; set; } = 1.0;

    /// <summary>Share of recipients the provider cannot take now, on any try (answered "unavailable": retry later).</summary>
    public double UnavailableRate { get; set; }

    /// <summary>How long each submission takes.</summary>
    public TimeSpan SubmitLatency { get; set; } = TimeSpan.Zero;

    /// <summary>How long after acceptance the delivery report arrives.</summary>
    public TimeSpan DeliveryReportDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Outcomes are a function of (seed, recipient), so a test can choose numbers and know what happens.</summary>
    public int Seed { get; set; }
}

/// <summary>
/// A stand-in SMS provider for development, tests and benchmarks: configurable acceptance and
/// delivery rates, submit latency and report delay; deterministic per seed and recipient. Like a real
/// provider it reports delivery later and on its own: reports are published (durably) to a delay
/// queue that expires into the delivery-reports queue, so they arrive even across a Worker restart.
/// It deduplicates on our message id, as good providers do with a client reference.
/// </summary>
public sealed class SimulatorProvider(IOptions<SimulatorOptions> options, ConfirmingPublisher publisher, TimeProvider time) : ISmsProvider
{
    private readonly SimulatorOptions _options = options.Value;
    private readonly ConcurrentDictionary<Guid, SubmitResult> _seen = new();
    private readonly ConcurrentDictionary<Guid, int> _submissions = new();
    private volatile bool _delayQueueDeclared;

    public string Name => "simulator";

    public string ReportQueue => $"simulator.reports.{(long)_options.DeliveryReportDelay.TotalMilliseconds}ms";

    /// <summary>What the simulator will do with a message to <paramref name="recipient"/> under the current seed and rates.</summary>
    public (bool Accepted, bool Delivered) Predict(string recipient) =>
        (Chance("accept", recipient) < _options.AcceptanceRate, Chance("deliver", recipient) < _options.DeliveryRate);

    /// <summary>How many times a message was submitted here (a test checks redeliveries never send twice).</summary>
    public int Submissions(Guid messageId) => _submissions.GetValueOrDefault(messageId);

    public async Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<OutboundMessage> messages, CancellationToken cancellationToken)
    {
        if (_options.SubmitLatency > TimeSpan.Zero)
        {
            await Task.Delay(_options.SubmitLatency, time, cancellationToken);
        }
        var results = new SubmitResult[messages.Count];
        var reports = new List<DeliveryReport>();
        var now = time.GetUtcNow().UtcDateTime;
        for (var i = 0; i < messages.Count; i++)
        {
            var message = messages[i];
            _submissions.AddOrUpdate(message.Id, 1, (_, count) => count + 1);
            if (_seen.TryGetValue(message.Id, out var earlier))
            {
                results[i] = earlier; // a resubmission: same answer, nothing sent again
                continue;
            }
            if (_options.UnavailableRate > 0 && Chance("unavailable", message.To) < _options.UnavailableRate)
            {
                results[i] = new SubmitResult(message.Id, SubmitStatus.Unavailable);
                continue;
            }
            var (accepted, delivered) = Predict(message.To);
            var result = accepted
                ? new SubmitResult(message.Id, SubmitStatus.Accepted, "sim-" + message.Id.ToString("N"))
                : new SubmitResult(message.Id, SubmitStatus.Rejected, ErrorCode: "SIM_REJECTED");
            results[i] = result;
            if (accepted)
            {
                reports.Add(new DeliveryReport(message.Id, result.ProviderMessageId!, delivered, delivered ? null : "SIM_UNDELIVERED",
                    now + _options.DeliveryReportDelay));
            }
        }
        if (reports.Count > 0)
        {
            await ReportLaterAsync(reports, cancellationToken);
        }
        foreach (var result in results.Where(r => r.Status != SubmitStatus.Unavailable))
        {
            _seen.TryAdd(result.MessageId, result);
        }
        return results;
    }

    private async Task ReportLaterAsync(List<DeliveryReport> reports, CancellationToken cancellationToken)
    {
        // The reports continue the submission's trace (as a real provider's would echo our reference), so a
        // send's trace runs on to its delivery report and the webhooks that report causes.
        var traceParent = Activity.Current?.Id;
        var body = JsonSerializer.SerializeToUtf8Bytes(new DeliveryReportBatch(reports), MessagingJson.Default.DeliveryReportBatch);
        if (_options.DeliveryReportDelay <= TimeSpan.Zero)
        {
            await publisher.PublishAsync([new OutgoingMessage(Topology.Exchange, Topology.DeliveryReports, body, traceParent)], cancellationToken);
            return;
        }
        if (!_delayQueueDeclared)
        {
            await publisher.DeclareAsync(channel => Topology.DeclareDelayQueueAsync(
                channel, ReportQueue, _options.DeliveryReportDelay, Topology.DeliveryReports, cancellationToken), cancellationToken);
            _delayQueueDeclared = true;
        }
        await publisher.PublishAsync([new OutgoingMessage("", ReportQueue, body, traceParent)], cancellationToken);
    }

    /// <summary>A stable number in [0, 1) for (seed, purpose, recipient): FNV-1a, so it is the same in every process.</summary>
    private double Chance(string purpose, string recipient)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes($"{_options.Seed}:{purpose}:{recipient}"))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }
        // Final avalanche so neighbouring numbers (…001, …002) land far apart.
        hash ^= hash >> 33;
        hash *= 0xff51afd7ed558ccdUL;
        hash ^= hash >> 33;
        hash *= 0xc4ceb9fe1a85ec53UL;
        hash ^= hash >> 33;
        return (hash >> 11) / (double)(1UL << 53);
    }
}
