using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Ujumbe.Shared.Redis;

/// <summary>Redis answers PING now (a disconnected client fails at once with the reason).</summary>
public sealed class RedisHealthCheck(IRedis redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            var roundTrip = await redis.PingAsync(cancellationToken);
            return HealthCheckResult.Healthy($"PING {roundTrip.TotalMilliseconds:0.0} ms");
        }
        catch (RedisException error)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Redis does not answer: " + error.Message);
        }
    }
}
