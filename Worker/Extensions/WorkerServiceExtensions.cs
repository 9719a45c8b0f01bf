using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Health;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Shared.Messaging;
using Ujumbe.Shared.Payments;
using Ujumbe.Worker.DeadLetters;
using Ujumbe.Worker.Dispatch;
using Ujumbe.Worker.Housekeeping;
using Ujumbe.Worker.Payments;
using Ujumbe.Worker.Providers;
using Ujumbe.Worker.Scheduling;
using Ujumbe.Worker.Usage;
using Ujumbe.Worker.Webhooks;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Worker.Extensions;

public static class WorkerServiceExtensions
{
    /// <summary>Dispatch, delivery reports and scheduled releases; RabbitMQ for work, PostgreSQL for state.</summary>
    public static IHostApplicationBuilder AddWorkerServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;

        builder.AddPostgres("ujumbe-worker", maxAutoPrepare: 32);
        builder.AddMessaging("ujumbe-worker");

        services.AddOptions<SimulatorOptions>().Bind(configuration.GetSection(SimulatorOptions.Section));
        services.AddSingleton<SimulatorProvider>();
        services.AddOptions<ProvidersOptions>().Bind(configuration.GetSection(ProvidersOptions.Section));
        services.AddSingleton<ProviderCatalog>();
        services.AddSingleton<ProviderRouter>();
        services.AddSingleton<ProviderReportCounts>();
        services.AddHostedService<ProviderHealthReporter>();
        // Kannel and aggregators: operator-configured addresses (loopback and private networks are normal there),
        // no retries inside the client (routing decides where a message may go again), timeouts per provider.
        services.AddOutsideHttpClient(ProviderCatalog.HttpClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                MaxConnectionsPerServer = 64,
                ConnectTimeout = TimeSpan.FromSeconds(5),
            });
        // The message lifecycle (Shared/Lifecycle, decision 0031): every change of messages and batches, in the
        // Worker and the Api alike, goes through it.
        services.AddSingleton<MessageLifecycle>();
        services.AddOptions<DispatchOptions>().Bind(configuration.GetSection(DispatchOptions.Section));
        services.AddSingleton<ConsumerProgress>();
        services.AddSingleton<ProviderAnswerNotifier>();
        services.AddHostedService(provider => provider.GetRequiredService<ProviderAnswerNotifier>());
        services.AddHostedService<DispatchConsumer>();
        services.AddHostedService<DeliveryReportConsumer>();
        services.AddHostedService<ScheduledReleaser>();
        services.AddHostedService<ExpiredRowsSweeper>();
        services.AddHostedService<CreditPoster>();
        services.AddOptions<DeadLetterOptions>().Bind(configuration.GetSection(DeadLetterOptions.Section));
        services.AddSingleton<DeadLetterDrainer>();
        services.AddHostedService(provider => provider.GetRequiredService<DeadLetterDrainer>());
        services.AddHostedService<UsageFolder>();
        services.AddOptions<PaymentOptions>().Bind(configuration.GetSection(PaymentOptions.Section));
        services.AddMobileMoneySimulator(configuration);
        services.AddHostedService<PaymentReconciler>();

        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section));
        services.AddOptions<WebhookDeliveryOptions>().Bind(configuration.GetSection(WebhookDeliveryOptions.Section))
            .Validate(options => options.Lease > options.Timeout,
                "Webhooks:Delivery:Lease must be longer than Webhooks:Delivery:Timeout: a delivery still being attempted when its lease ends is taken and sent again by another Worker.")
            .ValidateOnStart();
        services.AddSingleton<WebhookSecrets>();
        var allowPrivate = configuration.GetSection(WebhookOptions.Section).Get<WebhookOptions>()?.AllowPrivateNetworks ?? false;
        services.AddOutsideHttpClient(WebhookDispatcher.ClientName, http => http.Timeout = Timeout.InfiniteTimeSpan)
            // The dispatcher logs one line per failed attempt itself; the factory's request logging would add
            // two lines per request and a stack trace per refused connection (issue 9: a dead endpoint, 1 GB of log).
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // Checked again at connect time, on the very addresses used (DNS may have changed).
                ConnectCallback = UrlGuard.ConnectCallback(allowPrivate),
                AllowAutoRedirect = false,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                MaxConnectionsPerServer = 64,
            });
        services.AddHostedService<WebhookDispatcher>();

        services.AddHealthChecks()
            .AddCheck<DispatchHealthCheck>("dispatch");
        return builder;
    }
}
