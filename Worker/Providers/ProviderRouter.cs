using System.Collections.Concurrent;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Worker.Providers;

/// <summary>
/// Picks each message's provider and hands it over, failing over down the route's list:
/// <list type="bullet">
/// <item>the route: an account's own before the platform's, the longest matching prefix first; no route → the
/// built-in simulator (the default while nothing is configured);</item>
/// <item>a provider whose circuit is open is skipped (unless it is the last one left);</item>
/// <item>a message goes to the next provider only when the last one certainly did not take it
/// (<see cref="SubmitStatus.Unavailable"/>). One whose outcome is unknown (<see cref="SubmitStatus.Uncertain"/>) is
/// pinned to that provider by the caller, and a pinned message only ever goes back to it: never sent by two.</item>
/// </list>
/// </summary>
public sealed class ProviderRouter(ProviderCatalog catalog, ILogger<ProviderRouter> logger)
{
    /// <summary>Routes already logged as naming a missing provider (once each, not once per message; the metric counts every one).</summary>
    private readonly ConcurrentDictionary<(Guid Route, Guid Provider), bool> _reportedMissing = new();

    public async Task<IReadOnlyList<SubmitResult>> SubmitAsync(
        IReadOnlyList<OutboundMessage> messages, IReadOnlyDictionary<Guid, string> pinned, CancellationToken cancellationToken)
    {
        var snapshot = await catalog.CurrentAsync(cancellationToken);
        var results = new Dictionary<Guid, SubmitResult>(messages.Count);
        var groups = new Dictionary<string, (List<UpstreamProvider> Candidates, List<OutboundMessage> Messages)>();
        foreach (var message in messages)
        {
            var candidates = Candidates(snapshot, message, pinned);
            if (candidates.Count == 0)
            {
                WorkerTelemetry.RoutingProblems.Add(1, new KeyValuePair<string, object?>("reason", "no_provider"));
                results[message.Id] = new SubmitResult(message.Id, SubmitStatus.Unavailable, ErrorCode: "NO_PROVIDER");
                continue;
            }
            var key = string.Join('|', candidates.Select(c => c.Name));
            if (!groups.TryGetValue(key, out var group))
            {
                group = (candidates, []);
                groups[key] = group;
            }
            group.Messages.Add(message);
        }

        foreach (var (candidates, group) in groups.Values)
        {
            var remaining = group;
            for (var i = 0; i < candidates.Count && remaining.Count > 0; i++)
            {
                var provider = candidates[i];
                var last = i == candidates.Count - 1;
                if (provider.IsBroken && !last)
                {
                    continue; // its cool-down: the next provider takes these
                }
                var answers = await provider.SubmitAsync(remaining, cancellationToken);
                var next = new List<OutboundMessage>();
                var byId = remaining.ToDictionary(m => m.Id);
                var unexpected = 0;
                foreach (var answer in answers)
                {
                    if (answer.Status == SubmitStatus.Unavailable && !last)
                    {
                        next.Add(byId[answer.MessageId]);
                        continue;
                    }
                    if (answer.ErrorCode == HttpSubmitter.UnexpectedAnswer)
                    {
                        unexpected++;
                    }
                    results[answer.MessageId] = answer;
                }
                if (unexpected > 0)
                {
                    ProviderLog.UnexpectedAnswer(logger, provider.Name, HttpSubmitter.UnexpectedAnswer, unexpected);
                }
                remaining = next;
            }
            foreach (var message in remaining)
            {
                // Every provider was skipped (all circuits open but the last, which was tried above): come back later.
                results.TryAdd(message.Id, new SubmitResult(message.Id, SubmitStatus.Unavailable, ErrorCode: "PROVIDER_CIRCUIT_OPEN"));
            }
        }
        return messages.Select(m => results[m.Id]).ToList();
    }

    private List<UpstreamProvider> Candidates(ProviderSnapshot snapshot, OutboundMessage message, IReadOnlyDictionary<Guid, string> pinned)
    {
        if (pinned.TryGetValue(message.Id, out var name))
        {
            return snapshot.ByName(name) is { } same ? [same] : [];
        }
        if (snapshot.Match(message.To, message.AccountId) is not { } route)
        {
            return [snapshot.Default];
        }
        var candidates = new List<UpstreamProvider>(route.ProviderIds.Count);
        foreach (var id in route.ProviderIds)
        {
            if (!snapshot.Providers.TryGetValue(id, out var provider))
            {
                WorkerTelemetry.RoutingProblems.Add(1, new KeyValuePair<string, object?>("reason", "provider_missing"));
                if (_reportedMissing.TryAdd((route.Id, id), true))
                {
                    ProviderLog.MissingProvider(logger, route.Id, id);
                }
            }
            else if (!provider.Enabled)
            {
                WorkerTelemetry.RoutingProblems.Add(1, new KeyValuePair<string, object?>("reason", "provider_disabled"));
            }
            else
            {
                candidates.Add(provider);
            }
        }
        return candidates;
    }
}
