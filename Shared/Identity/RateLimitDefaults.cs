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
}
