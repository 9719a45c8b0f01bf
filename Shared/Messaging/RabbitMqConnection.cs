using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Ujumbe.Shared.Messaging;

/// <summary>
/// One long-lived AMQP connection per process (channels are cheap, connections are not), opened on
/// first use and recovered automatically by the client after a broker restart.
/// </summary>
public sealed partial class RabbitMqConnection(
    string connectionString, string clientName, IOptions<MessagingOptions> options, ILogger<RabbitMqConnection> logger)
    : IAsyncDisposable
{
    private readonly TimeSpan _timeout = options.Value.OperationTimeout;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

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
                var factory = new ConnectionFactory
                {
                    Uri = new Uri(connectionString),
                    ClientProvidedName = clientName,
                    AutomaticRecoveryEnabled = true,
                    TopologyRecoveryEnabled = true,
                    NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
                    RequestedHeartbeat = TimeSpan.FromSeconds(20),
                    // No broker call may wait longer than this (the client's defaults are 20-30 s).
                    RequestedConnectionTimeout = _timeout,
                    HandshakeContinuationTimeout = _timeout,
                    ContinuationTimeout = _timeout,
                };
                _connection = await factory.CreateConnectionAsync(cancellationToken);
                LogConnected(logger, factory.Endpoint.HostName, factory.Endpoint.Port);
            }
            return _connection;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } connection)
        {
            // Bounded: a broker that is down or recovering must not hold up the process's stop.
            try
            {
                await connection.CloseAsync(Constants.ReplySuccess, "stopping", TimeSpan.FromSeconds(2), abort: true);
                await connection.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(2));
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                // closed as far as this process is concerned
            }
        }
        _gate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Connected to RabbitMQ at {Host}:{Port}")]
    private static partial void LogConnected(ILogger logger, string host, int port);
}

/// <summary>The broker connection is open (the client marks it closed while it is recovering).</summary>
public sealed class RabbitMqHealthCheck(RabbitMqConnection rabbit) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(3));
        try
        {
            var connection = await rabbit.GetAsync(timeout.Token);
            return connection.IsOpen
                ? HealthCheckResult.Healthy()
                : new HealthCheckResult(context.Registration.FailureStatus, "RabbitMQ connection is closed: " + connection.CloseReason);
        }
        catch (Exception error) when (error is not OutOfMemoryException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "RabbitMQ is unreachable: " + error.Message);
        }
    }
}
