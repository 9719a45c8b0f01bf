namespace Ujumbe.Gateway;

public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>How often key use is reported to the Api for <c>last_used_at</c>.</summary>
    public TimeSpan KeyUsageFlushInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>An Api response slower than this becomes 504.</summary>
    public TimeSpan UpstreamTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
