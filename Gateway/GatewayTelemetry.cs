using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Ujumbe.Gateway;

/// <summary>The gateway's own spans and metrics (exported with the platform's by ServiceDefaults).</summary>
public static class GatewayTelemetry
{
    public const string Name = "Ujumbe.Gateway";

    public static readonly ActivitySource Source = new(Name);
    public static readonly Meter Meter = new(Name);

    /// <summary>Every authentication decision, tagged <c>outcome</c> (ok, or the error code given).</summary>
    public static readonly Counter<long> Authentications =
        Meter.CreateCounter<long>("ujumbe.gateway.authentications", unit: "{request}", description: "Authentication decisions by outcome");

    public static readonly Histogram<double> KeyLookupDuration =
        Meter.CreateHistogram<double>("ujumbe.gateway.key_lookup.duration", unit: "ms", description: "Time to resolve an API key");

    public static void Authenticated(string outcome) =>
        Authentications.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
