using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ujumbe.Shared.Redis;

public static class RedisServiceCollectionExtensions
{
    /// <summary>
    /// Registers one <see cref="RedisClient"/> for the process as <see cref="IRedis"/> (and as itself). It starts
    /// connecting when first resolved, never blocks or throws for an unreachable server, and is disposed with
    /// the container.
    /// </summary>
    public static IServiceCollection AddRedisClient(this IServiceCollection services, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = RedisOptions.Parse(connectionString);
        services.AddSingleton(provider => new RedisClient(options, provider.GetService<ILogger<RedisClient>>()));
        services.AddSingleton<IRedis>(provider => provider.GetRequiredService<RedisClient>());
        return services;
    }
}
