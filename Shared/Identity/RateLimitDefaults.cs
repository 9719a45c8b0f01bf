namespace Ujumbe.Shared.Identity;

/// <summary>
/// The platform's default request limits (API.md "Conventions"), bound from the <c>RateLimits</c> section
/// by the gateway, which enforces them, and by the Api, which describes an account's effective limits.
/// An account's own limits (<see cref="RateLimitOverrides"/>) replace them.
/// </summary>
public sealed class RateLimitDefaults
{
    public const string Section = "RateLimits";
    public int MessagesPerMinute { get; set; } = 100;
    public int ContactsPerHour { get; set; } = 500;
    public int RequestsPerHour { get; set; } = 1000;

    /// <summary>Requests without valid credentials, per client address (gateway only).</summary>
    public int AnonymousPerHour { get; set; } = 100;

    /// <summary>
    /// Mobile-money callbacks, per client address (gateway only). They carry no API key, but they are the
    /// aggregator's, who may send bursts of them; each is checked against its signature in the Api.
    /// </summary>
    public int CallbacksPerMinute { get; set; } = 6000;

    /// <summary>
    /// Providers' delivery reports, per client address (gateway only): a Kannel reports every message it sends,
    /// up to its own throughput (thousands a second); each is checked against the provider's token in the Api.
    /// </summary>
    public int DeliveryReportsPerMinute { get; set; } = 1_200_000;
}
