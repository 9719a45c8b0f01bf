namespace Ujumbe.Gateway;

public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>How often key use is reported to the Api for <c>last_used_at</c>.</summary>
    public TimeSpan KeyUsageFlushInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a resolved key or account is trusted while credential changes are arriving.</summary>
    public TimeSpan CacheLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long "no such key" is remembered (new keys are published, so this is only a safety net).</summary>
    public TimeSpan MissingCacheLifetime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How many keys (and, apart, accounts) the cache may hold before it stops remembering "no such key":
    /// a flood of made-up keys cannot grow it past this. Expired entries are swept every
    /// <see cref="MissingCacheLifetime"/>.
    /// </summary>
    public int CacheCapacity { get; set; } = 100_000;

    /// <summary>How long anything is cached while Redis is unreachable (changes cannot reach us then).</summary>
    public TimeSpan DegradedCacheLifetime { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a dialect's email-and-password caller whose password was checked is trusted without checking it
    /// again (PBKDF2 on every request would cost far more than the request). A changed password or a lock takes
    /// effect for it after this.
    /// </summary>
    public TimeSpan PasswordCacheLifetime { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>An Api response slower than this becomes 504.</summary>
    public TimeSpan UpstreamTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
