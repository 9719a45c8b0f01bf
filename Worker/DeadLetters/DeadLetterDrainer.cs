using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using RabbitMQ.Client;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Worker.DeadLetters;

public sealed class DeadLetterOptions
{
    public const string Section = "DeadLetters";

    /// <summary>How often the dead-letter queues are looked at when the last look found them empty.</summary>
    public TimeSpan DrainInterval { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>
/// Moves what failed every retry from the work queues' RabbitMQ dead-letter queues into the
/// <c>dead_letters</c> table, where operators see it and replay it (decision 0022). A message is
/// acknowledged only after its row is committed; the row's id was given when the message was
/// dead-lettered, so a message drained twice (the ack lost, another Worker) is stored once.
/// Dead letters are rare, so it polls (<c>basic.get</c>) on a fresh channel each round rather than
/// holding a consumer: nothing to recover after a broker restart, and an empty queue costs one call.
/// </summary>
public sealed partial class DeadLetterDrainer(
    RabbitMqConnection rabbit, TopologyInitializer topology, NpgsqlDataSource database, IOptions<DeadLetterOptions> options,
    TimeProvider time, ILogger<DeadLetterDrainer> logger) : BackgroundService
{
    private static readonly TimeSpan BrokerCallTimeout = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.DrainInterval;
        try
        {
            await topology.Declared.WaitAsync(stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await DrainAsync(stoppingToken);
                }
                catch (Exception error) when (error is not OutOfMemoryException && !stoppingToken.IsCancellationRequested)
                {
                    // Unacknowledged messages go back to their queue when the channel closes; the next round takes them.
                    LogDrainFailed(logger, error.Message);
                }
                await Task.Delay(interval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
    }

    /// <summary>Empties every dead-letter queue into the table; returns how many messages it stored.</summary>
    public async Task<int> DrainAsync(CancellationToken cancellationToken)
    {
        var connection = await rabbit.GetAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        var drained = 0;
        foreach (var queue in Topology.WorkQueues)
        {
            while (true)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(BrokerCallTimeout);
                var message = await channel.BasicGetAsync(Topology.DeadLetterQueue(queue), autoAck: false, timeout.Token);
                if (message is null)
                {
                    break;
                }
                await StoreAsync(queue, message.Body, message.BasicProperties, cancellationToken);
                await channel.BasicAckAsync(message.DeliveryTag, multiple: false, timeout.Token);
                drained++;
                LogDrained(logger, queue);
            }
        }
        await channel.CloseAsync(cancellationToken);
        return drained;
    }

    private async Task StoreAsync(string queue, ReadOnlyMemory<byte> body, IReadOnlyBasicProperties properties, CancellationToken cancellationToken)
    {
        var headers = properties.Headers ?? new Dictionary<string, object?>();
        var now = time.GetUtcNow().UtcDateTime;
        var id = Text(headers, Topology.DeadLetterIdHeader) is { } given && Guid.TryParseExact(given, "N", out var parsed)
            ? parsed
            : ContentId(queue, body.Span);
        var attempts = headers.TryGetValue(Topology.AttemptHeader, out var attempt) && attempt is int tries ? tries : 0;
        var dead = Time(headers, Topology.DeadLetteredHeader) ?? now;
        var firstFailedAt = Time(headers, Topology.FirstFailedHeader) is { } first && first <= dead ? first : (DateTime?)null;

        await using var command = database.CreateCommand("""
            insert into dead_letters (id, queue, body, headers, trace_parent, attempts, last_error, first_failed_at, dead_lettered_at, drained_at)
            values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            on conflict (id) do nothing
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = queue });
        command.Parameters.Add(new() { Value = body.ToArray() });
        command.Parameters.Add(new() { Value = HeadersJson(headers), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new() { Value = (object?)Text(headers, TraceHeaders.TraceParent) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = attempts });
        command.Parameters.Add(new() { Value = (object?)Text(headers, Topology.ErrorHeader) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)firstFailedAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = dead, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new() { Value = now, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// A message dead-lettered without an id (before ids were given, or by hand) gets one from its queue and
    /// body, so it too is stored once however often it is drained.
    /// </summary>
    private static Guid ContentId(string queue, ReadOnlySpan<byte> body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(queue + "\n"));
        hash.AppendData(body);
        return new Guid(hash.GetHashAndReset().AsSpan(0, 16));
    }

    private static string? Text(IDictionary<string, object?> headers, string name) =>
        headers.TryGetValue(name, out var value) ? value switch
        {
            byte[] bytes => Encoding.UTF8.GetString(bytes),
            string text => text,
            null => null,
            _ => Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture),
        } : null;

    private static DateTime? Time(IDictionary<string, object?> headers, string name) =>
        headers.TryGetValue(name, out var value) && value is long milliseconds && milliseconds is > 0 and < 253402300799999
            ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds).UtcDateTime
            : null;

    private static string HeadersJson(IDictionary<string, object?> headers)
    {
        var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var name in headers.Keys.Order(StringComparer.Ordinal))
            {
                json.WriteString(name, Text(headers, name));
            }
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Draining the dead-letter queues failed ({Reason}); trying again")]
    private static partial void LogDrainFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "A dead letter from {Queue} was stored for operators")]
    private static partial void LogDrained(ILogger logger, string queue);
}
