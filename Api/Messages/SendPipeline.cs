using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Ujumbe.Api.Messages;

public sealed class SendPipelineOptions
{
    public const string Section = "SendPipeline";

    /// <summary>
    /// Committers, each owning a share of the accounts: one account's sends always go through the same
    /// writer (they would serialise on the account's balance row anyway, and this way they form one
    /// large group instead of two half-size ones waiting on each other's lock); different accounts commit
    /// in parallel.
    /// </summary>
    public int Writers { get; set; } = 4;

    /// <summary>Most sends committed together.</summary>
    public int MaxGroupSends { get; set; } = 256;

    /// <summary>Most messages committed together (a group always takes at least one send, however large).</summary>
    public int MaxGroupMessages { get; set; } = 20_000;

    /// <summary>Sends waiting to be committed before new requests wait for room.</summary>
    public int QueueCapacity { get; set; } = 10_000;
}

/// <summary>
/// Group commit for sends. A request validates on its own thread, then hands its command here and
/// awaits the outcome. Each writer takes whatever has queued up meanwhile (no artificial wait: the
/// group is what arrived while the previous commit ran) and commits it in one transaction, so
/// under load one fsync and a handful of round trips carry dozens of sends.
/// </summary>
public sealed partial class SendPipeline(SendWriter writer, IOptions<SendPipelineOptions> options, ILogger<SendPipeline> logger)
    : BackgroundService
{
    private readonly SendPipelineOptions _options = options.Value;
    private readonly Channel<SendCommand>[] _queues = Enumerable.Range(0, Math.Max(1, options.Value.Writers))
        .Select(_ => Channel.CreateBounded<SendCommand>(new BoundedChannelOptions(options.Value.QueueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
        }))
        .ToArray();

    /// <summary>Sends waiting for a writer (tests use it to know a group has formed).</summary>
    internal int Queued => _queues.Sum(queue => queue.Reader.Count);

    public async Task<SendOutcome> SendAsync(SendCommand command, CancellationToken cancellationToken)
    {
        var queue = _queues[(int)((uint)command.AccountId.GetHashCode() % (uint)_queues.Length)];
        await queue.Writer.WriteAsync(command, cancellationToken);
        // Once queued the send is committed or refused whatever the client does; don't abandon it halfway.
        return await command.Completion.Task;
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_queues.Select(queue => Task.Run(() => WriteLoopAsync(queue.Reader), CancellationToken.None)));

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Stop taking new sends; the loops commit what is queued, then end.
        foreach (var queue in _queues)
        {
            queue.Writer.TryComplete();
        }
        await base.StopAsync(cancellationToken);
    }

    private async Task WriteLoopAsync(ChannelReader<SendCommand> reader)
    {
        var group = new List<SendCommand>(_options.MaxGroupSends);
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            group.Clear();
            var messages = 0;
            while (group.Count < _options.MaxGroupSends && reader.TryPeek(out var next)
                   && (group.Count == 0 || messages + next.Recipients.Count <= _options.MaxGroupMessages)
                   && reader.TryRead(out next))
            {
                group.Add(next);
                messages += next.Recipients.Count;
            }
            var started = Stopwatch.GetTimestamp();
            try
            {
                // Never cancelled: a cancellation that lands after PostgreSQL committed would report
                // accepted sends as failed (and a client retry would send and charge them twice).
                await writer.WriteAsync(group, CancellationToken.None);
                ApiTelemetry.SendGroupSize.Record(group.Count);
                ApiTelemetry.SendGroupDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
            catch (Exception error) when (group.Count > 1 && WasRefused(error))
            {
                // One send's data failed the whole transaction; nothing of the group was written. Commit
                // each alone so only the bad one fails, not every send that happened to share its group.
                LogGroupRetriedAlone(logger, error, group.Count);
                foreach (var command in group)
                {
                    try
                    {
                        await writer.WriteAsync([command], CancellationToken.None);
                    }
                    catch (Exception alone)
                    {
                        LogSendFailed(logger, alone);
                        command.Completion.TrySetException(alone);
                    }
                }
            }
            catch (Exception error)
            {
                LogGroupFailed(logger, error, group.Count);
                foreach (var command in group)
                {
                    command.Completion.TrySetException(error);
                }
            }
        }
    }

    /// <summary>
    /// PostgreSQL answered with an error (so it rolled the transaction back), or the writer failed before
    /// sending anything. Not a lost connection: then a commit may have happened, and writing again could
    /// accept a send twice.
    /// </summary>
    private static bool WasRefused(Exception error) => error is PostgresException || error is not NpgsqlException;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Committing a group of {Count} sends failed; committing each alone")]
    private static partial void LogGroupRetriedAlone(ILogger logger, Exception error, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "A send failed to commit on its own; it was not accepted")]
    private static partial void LogSendFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Committing a group of {Count} sends failed; none of them was accepted")]
    private static partial void LogGroupFailed(ILogger logger, Exception error, int count);
}
