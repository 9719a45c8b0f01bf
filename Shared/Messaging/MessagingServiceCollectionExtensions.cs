using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Ujumbe.Shared.Messaging;

public static class MessagingServiceCollectionExtensions
{
    /// <summary>
    /// What a service that publishes needs: the one broker connection (named <paramref name="clientName"/> in
    /// the management UI), the confirming publisher, the topology declared at start and the outbox relay,
    /// all bounded by <see cref="MessagingOptions"/> (section <c>Messaging</c>).
    /// </summary>
    public static IServiceCollection AddMessaging(this IServiceCollection services, IConfiguration configuration, string connectionString, string clientName)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<MessagingOptions>().Bind(configuration.GetSection(MessagingOptions.Section))
            .Validate(options => options.PublishTimeout > TimeSpan.Zero && options.OperationTimeout > TimeSpan.Zero,
                "Messaging:PublishTimeout and Messaging:OperationTimeout must be positive.")
            .ValidateOnStart();
        services.AddSingleton(provider => new RabbitMqConnection(
            connectionString, clientName, provider.GetRequiredService<IOptions<MessagingOptions>>(), provider.GetRequiredService<ILogger<RabbitMqConnection>>()));
        services.AddSingleton<ConfirmingPublisher>();
        services.AddSingleton<TopologyInitializer>();
        services.AddHostedService(provider => provider.GetRequiredService<TopologyInitializer>());
        services.AddSingleton<OutboxRelay>();
        services.AddHostedService(provider => provider.GetRequiredService<OutboxRelay>());
        return services;
    }
}
