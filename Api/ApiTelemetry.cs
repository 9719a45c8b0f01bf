using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Ujumbe.Api;

/// <summary>The Api's own spans and metrics (exported with the platform's by ServiceDefaults).</summary>
public static class ApiTelemetry
{
    public const string Name = "Ujumbe.Api";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    /// <summary>Messages accepted (committed with their credits reserved), one per recipient.</summary>
    public static readonly Counter<long> Accepted =
        Meter.CreateCounter<long>("ujumbe.messages.accepted", unit: "{message}", description: "Messages accepted for sending, one per recipient");

    /// <summary>Sends committed together by one group commit (<see cref="Messages.SendPipeline"/>).</summary>
    public static readonly Histogram<int> SendGroupSize =
        Meter.CreateHistogram<int>("ujumbe.send.group.size", unit: "{send}", description: "Sends committed together in one transaction by the send pipeline");

    /// <summary>How long one group commit takes, from opening its connection to the commit's answer.</summary>
    public static readonly Histogram<double> SendGroupDuration =
        Meter.CreateHistogram<double>("ujumbe.send.group.duration", unit: "s", description: "Time one group commit of the send pipeline takes, connection to commit");

    public static readonly Counter<long> KeysIssued =
        Meter.CreateCounter<long>("ujumbe.api_keys.issued", unit: "{key}", description: "API key secrets issued (created or regenerated)");

    public static readonly Counter<long> KeysRevoked =
        Meter.CreateCounter<long>("ujumbe.api_keys.revoked", unit: "{key}", description: "API keys revoked");

    public static readonly Counter<long> AccountsOpened =
        Meter.CreateCounter<long>("ujumbe.accounts.opened", unit: "{account}", description: "Accounts opened by operators or seeding");

    public static readonly Counter<long> MigrationsApplied =
        Meter.CreateCounter<long>("ujumbe.migrations.applied", unit: "{migration}", description: "Schema migrations applied at start");

    /// <summary>
    /// Delivery reports providers sent, tagged <c>provider</c> and <c>outcome</c>: accepted (passed on), intermediate,
    /// duplicate, unknown_message, wrong_provider, unmapped, malformed, forged.
    /// </summary>
    public static readonly Counter<long> ProviderReports =
        Meter.CreateCounter<long>("ujumbe.provider.reports", unit: "{report}", description: "Delivery reports received from providers, by outcome");
}
