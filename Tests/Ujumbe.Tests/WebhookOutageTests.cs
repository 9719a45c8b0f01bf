extern alias WorkerApp;

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Ujumbe.Tests.Infrastructure;
using Ujumbe.Worker.Webhooks;

namespace Ujumbe.Tests;

/// <summary>A Worker on a PostgreSQL server of the test's own, which the test stops while a webhook is being delivered.</summary>
public sealed class WebhookOutageTests
{
    [Fact]
    public async Task A_result_made_during_a_database_outage_is_recorded_when_the_database_returns_however_long_it_was_down()
    {
        await using var postgres = await TemporaryPostgres.StartAsync();
        await TestStack.MigrateAsync(postgres.ConnectionString);
        await using var broker = await TestStack.CreateVirtualHostAsync();
        await using var receiver = await WebhookReceiver.StartAsync();
        // The database goes down while the receiver has the request, so its result is made during the outage.
        receiver.On("outage", async (call, response) =>
        {
            if (call == 1)
            {
                await postgres.StopServerAsync();
            }
            response.StatusCode = 204;
        });
        var failures = new RecordFailureCounter();
        var settings = TestStack.StandaloneWorkerSettings(postgres.ConnectionString, broker.ConnectionString);
        settings["Webhooks:Delivery:RecordRetryMaxDelay"] = "00:00:00.050";
        await using var worker = new ServiceHost<WorkerApp::Program>(settings, services => services.AddSingleton<ILoggerProvider>(failures));
        worker.Start();

        var account = Guid.NewGuid();
        await ExecuteAsync(postgres, "insert into accounts (id, name) values ($1, 'outage')", account);
        await ExecuteAsync(postgres, "select emit_webhook_event($1, 'sender_id.approved', '{}', $2, now())", account, receiver.Url("outage"));

        // The recorder used to give up after 21 failed tries (about 42 s of outage with its delays).
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(failures.Count > 25), TimeSpan.FromSeconds(30),
            "recording fails more often than the old budget allowed");
        await postgres.StartServerAsync();

        await HttpAssertions.EventuallyAsync(async () => await ScalarAsync<string>(postgres, "select status from webhook_deliveries") == "succeeded",
            TimeSpan.FromSeconds(15), "the result is recorded once the database is back");
        Assert.Equal(1, await ScalarAsync<int>(postgres, "select attempts from webhook_deliveries"));
        Assert.Equal(1L, await ScalarAsync<long>(postgres, "select count(*) from webhook_attempts"));
        Assert.Single(receiver.At("outage"));
    }

    private static async Task ExecuteAsync(TemporaryPostgres postgres, string sql, params object[] parameters)
    {
        await using var connection = await OpenAsync(postgres);
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters.Select(value => new NpgsqlParameter { Value = value }).ToArray());
        await command.ExecuteNonQueryAsync();
    }

    // Unpooled: a pooled connection would be a dead one after the restart.
    private static async Task<NpgsqlConnection> OpenAsync(TemporaryPostgres postgres)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(postgres.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    private static async Task<T> ScalarAsync<T>(TemporaryPostgres postgres, string sql)
    {
        await using var connection = await OpenAsync(postgres);
        await using var command = new NpgsqlCommand(sql, connection);
        return (T)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>Counts the dispatcher's "recording failed; retrying" warnings.</summary>
    private sealed class RecordFailureCounter : ILoggerProvider, ILogger
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public ILogger CreateLogger(string categoryName) =>
            categoryName == typeof(WebhookDispatcher).FullName ? this : NullLogger.Instance;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name == "LogRecordFailed")
            {
                Interlocked.Increment(ref _count);
            }
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public void Dispose()
        {
        }
    }
}
