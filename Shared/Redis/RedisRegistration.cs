using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;
using Ujumbe.ServiceDefaults;

namespace Ujumbe.Shared.Redis;

public static class RedisRegistration
{
    /// <summary>
    /// The service's one <see cref="IConnectionMultiplexer"/>, from the Aspire integration reading
    /// <c>ConnectionStrings__redis</c> (StackExchange.Redis format), with its tracing. A missing or malformed
    /// connection string fails the start with a message naming the setting. An unreachable server does not:
    /// the service starts, <c>/health</c> reports <c>redis</c> with <paramref name="failureStatus"/>, and the
    /// client connects by itself when Redis answers (decision 0010).
    /// </summary>
    public static IHostApplicationBuilder AddRedis(this IHostApplicationBuilder builder, HealthStatus failureStatus)
    {
        var connectionString = builder.Configuration.GetRequiredConnectionString("redis");
        ConfigurationOptions parsed;
        try
        {
            parsed = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException error)
        {
            throw new InvalidOperationException($"ConnectionStrings__redis is not a valid StackExchange.Redis connection string: {error.Message}", error);
        }
        if (parsed.EndPoints.Count == 0)
        {
            throw new InvalidOperationException("ConnectionStrings__redis names no server: expected host:port[,password=…].");
        }

        builder.AddRedisClient("redis",
            // Our own check (below) pings through this multiplexer under the name and status operators know.
            settings => settings.DisableHealthChecks = true,
            options =>
            {
                // Start without Redis and connect when it answers, rather than refuse to start.
                options.AbortOnConnectFail = false;
                // While disconnected a command fails at once, so callers fall back (local rate limits)
                // instead of queueing behind a server that is not there.
                options.BacklogPolicy = BacklogPolicy.FailFast;
                if (!connectionString.Contains("asyncTimeout", StringComparison.OrdinalIgnoreCase))
                {
                    options.AsyncTimeout = 2000; // a slow Redis costs a request at most this before the fallback
                }
            });
        builder.Services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", failureStatus);
        return builder;
    }

    /// <summary>What StackExchange.Redis throws when Redis cannot answer: no connection, a timeout, an error reply.</summary>
    public static bool IsRedisFailure(Exception error) => error is RedisException or RedisTimeoutException;
}

/// <summary>Redis answers PING now (while disconnected the client fails at once with the reason).</summary>
public sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            var roundTrip = await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy($"PING {roundTrip.TotalMilliseconds:0.0} ms");
        }
        catch (Exception error) when (RedisRegistration.IsRedisFailure(error))
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Redis does not answer: " + error.Message);
        }
    }
}
