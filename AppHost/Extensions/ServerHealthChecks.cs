using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;
using RabbitMQ.Client;

namespace Ujumbe.AppHost.Extensions;

/// <summary>
/// Readiness of the servers run as executables: each check signs in as the services will, so
/// 'healthy' (what WaitFor waits for) means a service can use it. The secrets are known once the
/// resource starts, hence the delegates.
/// </summary>
public static class ServerHealthChecks
{
    /// <summary>Something accepts connections on the port: enough for epmd, which has no sign-in.</summary>
    public sealed class Listening(int port) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, timeout.Token);
                return HealthCheckResult.Healthy();
            }
            catch (Exception exception) when (exception is SocketException or OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy(exception.Message);
            }
        }
    }

    public sealed class Postgres(Func<string?> connectionString) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (connectionString() is not { } value)
            {
                return HealthCheckResult.Unhealthy("not started");
            }
            try
            {
                await using var connection = new NpgsqlConnection(value);
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand("select 1", connection);
                await command.ExecuteScalarAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception exception) when (exception is NpgsqlException or SocketException or TimeoutException)
            {
                return HealthCheckResult.Unhealthy(exception.Message);
            }
        }
    }

    public sealed class Redis(int port, Func<string?> password) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (password() is not { } secret)
            {
                return HealthCheckResult.Unhealthy("not started");
            }
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(3));
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port, timeout.Token);
                var stream = client.GetStream();
                await stream.WriteAsync(Encoding.UTF8.GetBytes($"AUTH {secret}\r\nPING\r\n"), timeout.Token);
                var buffer = new byte[64];
                var answer = new StringBuilder();
                while (!answer.ToString().Contains("PONG", StringComparison.Ordinal) && !answer.ToString().Contains('-', StringComparison.Ordinal))
                {
                    var read = await stream.ReadAsync(buffer, timeout.Token);
                    if (read == 0)
                    {
                        break;
                    }
                    answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
                }
                var text = answer.ToString();
                return text.StartsWith("+OK", StringComparison.Ordinal) && text.Contains("+PONG", StringComparison.Ordinal)
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy($"unexpected answer: {text.Trim()}");
            }
            catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException)
            {
                return HealthCheckResult.Unhealthy(exception.Message);
            }
        }
    }

    public sealed class RabbitMq(Func<string?> uri) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (uri() is not { } address)
            {
                return HealthCheckResult.Unhealthy("not started");
            }
            try
            {
                var factory = new ConnectionFactory { Uri = new Uri(address), RequestedConnectionTimeout = TimeSpan.FromSeconds(3) };
                await using var connection = await factory.CreateConnectionAsync(cancellationToken);
                return HealthCheckResult.Healthy();
            }
            catch (Exception exception) when (exception is RabbitMQ.Client.Exceptions.BrokerUnreachableException or IOException or SocketException)
            {
                return HealthCheckResult.Unhealthy(exception.Message);
            }
        }
    }
}
