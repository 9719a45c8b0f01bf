using RabbitMQ.Client;

namespace Ujumbe.Shared.Messaging;

/// <summary>
/// RabbitMQ names and their declaration. Everything is durable; every work queue has delay queues
/// for retries (dead-lettering back into it when their TTL expires) and a dead-letter queue that
/// operators inspect and replay.
/// </summary>
public static class Topology
{
    /// <summary>The one exchange work is published to (direct: routing key = queue name).</summary>
    public const string Exchange = "ujumbe";

    /// <summary>Chunks of messages to hand to a provider.</summary>
    public const string Dispatch = "dispatch";

    /// <summary>Delivery reports from providers.</summary>
    public const string DeliveryReports = "delivery-reports";

    public static readonly string[] WorkQueues = [Dispatch, DeliveryReports];

    /// <summary>Delays before the 1st, 2nd, … retry; after the last, the message goes to the dead-letter queue.</summary>
    public static readonly TimeSpan[] RetryDelays = [TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(5)];

    public const string AttemptHeader = "x-ujumbe-attempt";

    /// <summary>Why the last try failed (operators read it in the dead-letter view).</summary>
    public const string ErrorHeader = "x-ujumbe-error";

    /// <summary>When the first try failed (Unix milliseconds), carried through the retries.</summary>
    public const string FirstFailedHeader = "x-ujumbe-first-failed-at";

    /// <summary>A dead letter's id, given when it is dead-lettered, so that draining it twice stores it once.</summary>
    public const string DeadLetterIdHeader = "x-ujumbe-dead-letter-id";

    /// <summary>When the message was dead-lettered (Unix milliseconds): it may be drained later, if the database was away.</summary>
    public const string DeadLetteredHeader = "x-ujumbe-dead-lettered-at";

    public static string RetryQueue(string queue, int retry) => $"{queue}.retry.{retry}";

    public static string DeadLetterQueue(string queue) => $"{queue}.dead";

    /// <summary>A queue of our own with a fixed delay, dead-lettering into <paramref name="target"/> (used for provider report delays).</summary>
    public static async Task DeclareDelayQueueAsync(IChannel channel, string name, TimeSpan delay, string target, CancellationToken cancellationToken)
    {
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?>
        {
            ["x-message-ttl"] = (int)delay.TotalMilliseconds,
            ["x-dead-letter-exchange"] = Exchange,
            ["x-dead-letter-routing-key"] = target,
        }, cancellationToken: cancellationToken);
    }

    public static async Task DeclareAsync(IChannel channel, CancellationToken cancellationToken)
    {
        await channel.ExchangeDeclareAsync(Exchange, ExchangeType.Direct, durable: true, autoDelete: false, cancellationToken: cancellationToken);
        foreach (var queue in WorkQueues)
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(queue, Exchange, queue, cancellationToken: cancellationToken);
            for (var retry = 1; retry <= RetryDelays.Length; retry++)
            {
                // Published to by name through the default exchange; expires back into the work queue.
                await DeclareDelayQueueAsync(channel, RetryQueue(queue, retry), RetryDelays[retry - 1], queue, cancellationToken);
            }
            await channel.QueueDeclareAsync(DeadLetterQueue(queue), durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        }
    }
}
