using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RabbitMQ.Client;
using Ujumbe.ServiceDefaults;

namespace Ujumbe.Shared.Messaging;

public static class MessagingServiceCollectionExtensions
{
    /// <summary>How long <c>/health</c> waits for the connection before calling the broker unreachable.</summary>
    private static readonly TimeSpan HealthProbeTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// What a service that publishes needs: the one broker connection from the Aspire RabbitMQ integration
    /// (<c>ConnectionStrings__rabbitmq</c>, named <paramref name="clientName"/> in the management UI, with the
    /// client's tracing), the confirming publisher, the topology declared at start, the outbox relay and the
    /// <c>rabbitmq</c> health check, all bounded by <see cref="MessagingOptions"/> (section <c>Messaging</c>).
    /// A missing or malformed connection string fails the start naming the setting; a broker that does not
    /// answer does not (the service starts, <c>/health</c> reports <c>rabbitmq</c> Unhealthy until it answers,
    /// and nothing is taken that is not first stored in PostgreSQL).
    /// </summary>
    public static IHostApplicationBuilder AddMessaging(this IHostApplicationBuilder builder, string clientName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var configuration = builder.Configuration;
        var connectionString = configuration.GetRequiredConnectionString("rabbitmq");
        EnsureUsable(connectionString);

        var section = configuration.GetSection(MessagingOptions.Section);
        services.AddOptions<MessagingOptions>().Bind(section)
            .Validate(options => options.PublishTimeout > TimeSpan.Zero && options.OperationTimeout > TimeSpan.Zero,
                "Messaging:PublishTimeout and Messaging:OperationTimeout must be positive.")
            .ValidateOnStart();
        // Read here too: the integration configures its connection factory before any options exist.
        var timeout = (section.Get<MessagingOptions>() ?? new MessagingOptions()).OperationTimeout;
        builder.AddRabbitMQClient("rabbitmq",
            settings =>
            {
                // Connected on first use, not while the host is built: a broker that is not there yet must not
                // stop the start, nor block it for the integration's retries (~30 s). Every use retries instead.
                settings.DisableAutoActivation = true;
                settings.MaxConnectRetryCount = 0;
                // Its check resolves the connection synchronously, unbounded; the same probe is registered
                // below under the name operators know, bounded.
                settings.DisableHealthChecks = true;
            },
            factory =>
            {
                factory.ClientProvidedName = clientName;
                factory.AutomaticRecoveryEnabled = true;
                factory.TopologyRecoveryEnabled = true;
                factory.NetworkRecoveryInterval = TimeSpan.FromSeconds(2);
                factory.RequestedHeartbeat = TimeSpan.FromSeconds(20);
                // No broker call may wait longer than this (the client's defaults are 20-30 s).
                factory.RequestedConnectionTimeout = timeout;
                factory.HandshakeContinuationTimeout = timeout;
                factory.ContinuationTimeout = timeout;
            });

        // First of the messaging services to start, so the last to stop: it closes the connection after its users.
        services.AddSingleton(provider => ActivatorUtilities.CreateInstance<RabbitMqConnection>(provider));
        services.AddHostedService(provider => provider.GetRequiredService<RabbitMqConnection>());
        services.AddSingleton<ConfirmingPublisher>();
        services.AddSingleton<TopologyInitializer>();
        services.AddHostedService(provider => provider.GetRequiredService<TopologyInitializer>());
        services.AddSingleton<OutboxRelay>();
        services.AddHostedService(provider => provider.GetRequiredService<OutboxRelay>());

        // The integration's probe (open a channel on the connection), on the connection as soon as it is open,
        // and "unreachable" rather than a wait while it is not.
        services.AddHealthChecks().AddRabbitMQ(async provider =>
        {
            using var probe = new CancellationTokenSource(HealthProbeTimeout);
            return await provider.GetRequiredService<RabbitMqConnection>().GetAsync(probe.Token);
        }, name: "rabbitmq", timeout: HealthProbeTimeout);
        return builder;
    }

    /// <summary>Fails the start on a connection string the client could not use, naming the setting.</summary>
    private static void EnsureUsable(string connectionString)
    {
        try
        {
            var uri = new Uri(connectionString, UriKind.Absolute);
            _ = new ConnectionFactory { Uri = uri };
            if (string.IsNullOrEmpty(uri.Host))
            {
                throw new UriFormatException("it names no host");
            }
        }
        catch (Exception error) when (error is UriFormatException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"ConnectionStrings__rabbitmq is not a usable AMQP URI (expected amqp[s]://user:password@host:port/vhost): {error.Message}", error);
        }
    }
}
