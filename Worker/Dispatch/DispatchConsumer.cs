using System.Diagnostics;
using System.Text.Json;
using Npgsql;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Shared.Messaging;
using Ujumbe.Worker.Providers;

namespace Ujumbe.Worker.Dispatch;

public sealed class DispatchOptions
{
    public const string Section = "Dispatch";

    /// <summary>Chunks in flight per Worker (each up to the lifecycle's dispatch chunk size, 500 messages).</summary>
    public ushort Prefetch { get; set; } = 8;

    /// <summary>Chunks handled at once per Worker.</summary>
    public ushort Concurrency { get; set; } = 4;

    /// <summary>
    /// The longest a provider may take to answer for a chunk. Past it the chunk's claim is rolled back and the
    /// chunk goes round the retry queues (the provider deduplicates on our message ids if it did take them).
    /// </summary>
    public TimeSpan ProviderTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Dispatch counts as stuck (the Worker's /health turns unhealthy) when a chunk has been handled this long, a
    /// consumer has not been attached to its queue this long, or work has waited this long without anything
    /// finishing. Longer than the longest a healthy chunk takes: the provider timeout plus a publish and the database.
    /// </summary>
    public TimeSpan StallAfter { get; set; } = TimeSpan.FromMinutes(2);
}

/// <summary>
/// Hands chunks of queued messages to the provider:
/// <list type="number">
/// <item>lock the ones still queued (a canceled or already sent message is not taken, so a redelivered
/// chunk never sends twice);</item>
/// <item>submit them, holding the locks;</item>
/// <item>record the answers (sent, with the provider's id and the credits to capture; or rejected, with
/// its code and the credits to release) and commit;</item>
/// <item>messages the provider could not take now go back through the retry queues; after the last
/// retry they fail with PROVIDER_UNAVAILABLE and their credits are released.</item>
/// </list>
/// </summary>
public sealed class DispatchConsumer(
    ProviderRouter router, MessageLifecycle lifecycle, ProviderAnswerNotifier answers, NpgsqlDataSource database, TimeProvider time,
    IOptions<DispatchOptions> options, RabbitMqConnection rabbit, TopologyInitializer topology, ConfirmingPublisher publisher, ConsumerProgress progress, ILogger<DispatchConsumer> logger)
    : QueueConsumer(Topology.Dispatch, options.Value.Prefetch, options.Value.Concurrency, rabbit, topology, publisher, progress, logger)
{
    private readonly TimeSpan _providerTimeout = options.Value.ProviderTimeout;

    protected override async Task<Handled> HandleAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        var chunk = JsonSerializer.Deserialize(delivery.Body.Span, MessagingJson.Default.DispatchChunk)!;
        LinkRequests(chunk);
        var outcome = await DispatchAsync(chunk, cancellationToken);
        if (outcome.Unavailable.Count == 0)
        {
            return Handled.Done;
        }
        if (IsLastAttempt(delivery.Attempt))
        {
            await GiveUpAsync(outcome.Unavailable);
            return Handled.Done;
        }
        // Only what the provider could not take goes round again.
        var rest = JsonSerializer.SerializeToUtf8Bytes(chunk with { Messages = outcome.Unavailable }, MessagingJson.Default.DispatchChunk);
        await RetryAsync(delivery, rest, $"The provider could not take {outcome.Unavailable.Count} message(s) now.", Activity.Current?.Id, CancellationToken.None);
        return Handled.Done;
    }

    /// <summary>
    /// A chunk can hold the messages of several sends committed together, but continues only the first one's
    /// trace (the message header); the others are linked, so every request's trace reaches its dispatch.
    /// </summary>
    private static void LinkRequests(DispatchChunk chunk)
    {
        if (Activity.Current is not { IsAllDataRequested: true } activity)
        {
            return;
        }
        foreach (var traceParent in chunk.TraceParents)
        {
            if (ActivityContext.TryParse(traceParent, null, isRemote: true, out var request) && request.TraceId != activity.TraceId)
            {
                activity.AddLink(new ActivityLink(request));
            }
        }
    }

    /// <summary>
    /// The last try found the provider still unavailable: the messages fail with PROVIDER_UNAVAILABLE and
    /// their credits are released, rather than wait in the dead-letter queue with credits reserved and
    /// their batch never finalized. (A chunk whose handling throws still goes there: that is our fault.)
    /// </summary>
    private async Task GiveUpAsync(IReadOnlyList<OutboundMessage> unavailable)
    {
        var failed = await lifecycle.FailUnavailableAsync(unavailable.Select(m => m.Id).ToArray(), CancellationToken.None);
        Count("gave_up", failed);
        answers.Answered(unavailable.Select(m => m.BatchId));
    }

    public sealed record DispatchOutcome(int Sent, int Rejected, IReadOnlyList<OutboundMessage> Unavailable);

    public async Task<DispatchOutcome> DispatchAsync(DispatchChunk chunk, CancellationToken cancellationToken)
    {
        var ids = chunk.Messages.Select(m => m.Id).ToArray();
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Lock what is still to be sent. A canceled or already sent message is not taken, so a redelivered
        // chunk never sends twice; a cancel arriving meanwhile waits for this transaction and then finds
        // the message sent. If this host dies mid-way the locks go with it and the redelivered chunk
        // submits again, which providers deduplicate on our message id.
        var claim = await MessageLifecycle.ClaimForDispatchAsync(connection, transaction, ids, cancellationToken);
        var (ready, pinned) = (claim.Ready, claim.Pinned);
        if (claim.OptedOut.Count > 0)
        {
            // Opted out after the send was accepted (a scheduled send, a queue backlog): canceled, never sent,
            // its credits released.
            await lifecycle.CancelOptedOutAsync(connection, transaction, claim.OptedOut, cancellationToken);
            Count("opted_out", claim.OptedOut.Count);
        }
        var toSubmit = chunk.Messages.Where(m => ready.Contains(m.Id)).ToList();
        if (toSubmit.Count == 0)
        {
            await transaction.CommitAsync(CancellationToken.None);
            answers.Answered(chunk.Messages.Where(m => claim.OptedOut.Contains(m.Id)).Select(m => m.BatchId));
            return new DispatchOutcome(0, 0, []);
        }

        var now = time.GetUtcNow().UtcDateTime;
        foreach (var message in toSubmit)
        {
            // Message ids are UUIDv7: their first 48 bits are the acceptance time.
            WorkerTelemetry.QueueLag.Record((now - AcceptedAt(message.Id)).TotalMilliseconds);
        }

        // The claim's row locks and transaction are held meanwhile: never for longer than the provider timeout.
        var results = await SubmitAsync(toSubmit, pinned, cancellationToken);
        var answered = results.Where(r => r.Status is SubmitStatus.Accepted or SubmitStatus.Rejected).ToList();
        // The providers have them now: record that whatever happens to this request (per provider: each sent
        // message names the one that took it).
        foreach (var byProvider in answered.GroupBy(r => r.Provider))
        {
            var group = byProvider.ToList();
            await lifecycle.MoveAsync(connection, transaction,
                group.Select(r => r.MessageId).ToArray(),
                group.Select(r => r.Status == SubmitStatus.Accepted ? MessageStatus.Sent : MessageStatus.Rejected).ToArray(),
                byProvider.Key,
                group.Select(r => r.ProviderMessageId).ToArray(),
                group.Select(r => r.ErrorCode).ToArray(),
                cancellationToken: CancellationToken.None);
        }
        // A submission with no answer may have been taken: the message may only ever go back to that provider.
        var uncertain = results.Where(r => r.Status == SubmitStatus.Uncertain && r.Provider is not null && !pinned.ContainsKey(r.MessageId)).ToList();
        await MessageLifecycle.PinToProviderAsync(connection, transaction, uncertain.Select(r => (r.MessageId, r.Provider!)).ToList(), CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
        // Committed: a request waiting for these batches' answers (a dialect's send) can read them now.
        var moved = answered.Select(r => r.MessageId).Concat(claim.OptedOut).ToHashSet();
        answers.Answered(chunk.Messages.Where(m => moved.Contains(m.Id)).Select(m => m.BatchId));

        var sent = answered.Count(r => r.Status == SubmitStatus.Accepted);
        var rejected = answered.Count - sent;
        var unavailableIds = results.Where(r => r.Status is SubmitStatus.Unavailable or SubmitStatus.Uncertain).Select(r => r.MessageId).ToHashSet();
        Count("sent", sent);
        Count("rejected", rejected);
        Count("unavailable", unavailableIds.Count);
        return new DispatchOutcome(sent, rejected, toSubmit.Where(m => unavailableIds.Contains(m.Id)).ToList());
    }

    /// <summary>Most ids a provider span lists (a chunk holds up to 500; the count is always there).</summary>
    private const int MaxTracedIds = 50;

    /// <summary>
    /// Hands messages to the provider within the provider timeout, as a client span of its own under the
    /// chunk's <c>dispatch process</c>: which provider, how many messages (and which), what it answered.
    /// </summary>
    private async Task<IReadOnlyList<SubmitResult>> SubmitAsync(
        List<OutboundMessage> messages, IReadOnlyDictionary<Guid, string> pinned, CancellationToken cancellationToken)
    {
        using var activity = WorkerTelemetry.Source.StartActivity("provider submit", ActivityKind.Client);
        activity?.SetTag("ujumbe.message_count", messages.Count);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("ujumbe.message_ids", messages.Take(MaxTracedIds).Select(m => m.Id.ToString()).ToArray());
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_providerTimeout);
        try
        {
            var results = await router.SubmitAsync(messages, pinned, timeout.Token);
            if (activity is { IsAllDataRequested: true })
            {
                var providers = results.Select(r => r.Provider).OfType<string>().Distinct().ToArray();
                activity.SetTag("ujumbe.provider", string.Join(',', providers));
                activity.SetTag("peer.service", providers.Length == 1 ? providers[0] : "providers");
                var accepted = results.Count(r => r.Status == SubmitStatus.Accepted);
                var rejected = results.Count(r => r.Status == SubmitStatus.Rejected);
                activity.SetTag("ujumbe.provider.accepted", accepted);
                activity.SetTag("ujumbe.provider.rejected", rejected);
                activity.SetTag("ujumbe.provider.unavailable", results.Count - accepted - rejected);
                activity.SetTag("ujumbe.provider.outcome", accepted == results.Count ? "accepted"
                    : rejected == results.Count ? "rejected"
                    : accepted + rejected == 0 ? "unavailable" : "mixed");
            }
            return results;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            var message = $"The providers did not answer within {_providerTimeout.TotalSeconds:0.#} s.";
            activity?.SetTag("ujumbe.provider.outcome", "timeout");
            activity?.SetStatus(ActivityStatusCode.Error, message);
            throw new TimeoutException(message);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            activity?.SetTag("ujumbe.provider.outcome", "error");
            activity?.SetStatus(ActivityStatusCode.Error, error.Message);
            throw;
        }
    }

    private static void Count(string outcome, int count)
    {
        if (count > 0)
        {
            WorkerTelemetry.Dispatched.Add(count, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    private static DateTime AcceptedAt(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        var milliseconds = ((long)bytes[0] << 40) | ((long)bytes[1] << 32) | ((long)bytes[2] << 24) | ((long)bytes[3] << 16) | ((long)bytes[4] << 8) | bytes[5];
        return DateTime.UnixEpoch.AddMilliseconds(milliseconds);
    }
}
