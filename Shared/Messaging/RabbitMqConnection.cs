using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Ujumbe.Shared.Messaging;

/// <summary>
/// The process's one AMQP connection (channels are cheap, connections are not): the <see cref="IConnection"/>
/// the Aspire RabbitMQ integration registers, awaited within bounds. The integration opens it synchronously
/// inside the container when it is first resolved, so it is resolved here off the caller's thread, one
/// attempt at a time, and a caller waits for it no longer than its own token allows. An attempt that
/// fails (the broker is not there yet) leaves nothing behind: the next call tries again, so a service
/// started before its broker connects when the broker answers. Once open, the client recovers it after a
/// broker restart. Stopped last among the messaging services, it closes the connection within 2 s.
/// </summary>
public sealed partial class RabbitMqConnection(IServiceProvider services, ILogger<RabbitMqConnection> logger) : IHostedService, IDisposable
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(2);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;
    private Task<IConnection>? _opening;

    public async Task<IConnection> GetAsync(CancellationToken cancellationToken)
    {
        if (_connection is { } existing)
        {
            return existing;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_connection is null)
            {
                if (_opening is { IsFaulted: true } or { IsCanceled: true })
                {
                    _opening = null;
                }
                // Left running when this caller gives up: the next caller waits for the same attempt.
                var opening = _opening ??= Task.Run(services.GetRequiredService<IConnection>, CancellationToken.None);
                var connection = await opening.WaitAsync(cancellationToken);
                _connection = connection;
                LogConnected(logger, connection.Endpoint.HostName, connection.Endpoint.Port);
            }
            return _connection;
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Bounded: a broker that is down or recovering must not hold up the process's stop.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_connection is not { } connection)
        {
            return;
        }
        try
        {
            await connection.CloseAsync(Constants.ReplySuccess, "stopping", CloseTimeout, abort: true, cancellationToken)
                .WaitAsync(CloseTimeout, cancellationToken);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            // closed as far as this process is concerned
        }
    }

    public void Dispose() => _gate.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to RabbitMQ at {Host}:{Port}")]
    private static partial void LogConnected(ILogger logger, string host, int port);
}
