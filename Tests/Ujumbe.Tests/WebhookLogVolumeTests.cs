extern alias WorkerApp;

using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ujumbe.Shared.Webhooks;
using Ujumbe.Tests.Infrastructure;
using Ujumbe.Worker.Webhooks;

namespace Ujumbe.Tests;

/// <summary>A dead receiver costs one short log line per failed attempt, at the production level (Information), never a stack trace.</summary>
public sealed class WebhookLogVolumeTests
{
    private const int Events = 20, AttemptsEach = 5, Attempts = Events * AttemptsEach;

    /// <summary>The stated bound: at most 300 bytes of log per failed attempt, everything the Worker logs included.</summary>
    private const int BytesPerAttempt = 300;

    [Fact]
    public async Task A_hundred_attempts_at_an_endpoint_that_refuses_connections_log_a_hundred_short_lines()
    {
        await using var database = await TestStack.CreateDatabaseAsync();
        await TestStack.MigrateAsync(database.ConnectionString);
        await using var broker = await TestStack.CreateVirtualHostAsync();
        var log = new CapturedLog();
        var settings = TestStack.StandaloneWorkerSettings(database.ConnectionString, broker.ConnectionString);
        settings["Webhooks:Delivery:Jitter"] = "0";
        settings["Webhooks:Delivery:RetrySchedule:0"] = "00:00:00";
        for (var retry = 1; retry < AttemptsEach; retry++)
        {
            settings[$"Webhooks:Delivery:RetrySchedule:{retry}"] = "00:00:00.050";
        }
        await using var worker = new ServiceHost<WorkerApp::Program>(settings, services => services.AddSingleton<ILoggerProvider>(log).AddLogging(logging => logging.SetMinimumLevel(LogLevel.Information)));
        worker.Start();

        // An endpoint on a port nothing listens on: every attempt is a refused connection.
        var account = Guid.NewGuid();
        var endpoint = Guid.NewGuid();
        var secret = worker.Services.GetRequiredService<WebhookSecrets>().Encrypt(WebhookSecrets.NewSecret());
        await database.ExecuteAsync("insert into accounts (id, name) values ($1, 'dead receiver')", account);
        await database.ExecuteAsync("""
            insert into webhook_endpoints (id, account_id, url, events, secret_ciphertext, created_at, updated_at)
            values ($1, $2, $3, array['sender_id.approved'], $4, now(), now())
            """, endpoint, account, $"http://127.0.0.1:{TestStack.FreeLoopbackPort()}/dead", secret);
        log.Clear(); // from here on, only what the attempts cost
        for (var i = 0; i < Events; i++)
        {
            await database.ExecuteAsync("select emit_webhook_event($1, 'sender_id.approved', '{}', null, now())", account);
        }

        await HttpAssertions.EventuallyAsync(async () => await database.ScalarAsync<long>("select count(*) from webhook_deliveries where status = 'failed'") == Events,
            TimeSpan.FromSeconds(60), "every delivery fails after its last attempt");
        Assert.Equal(Attempts, await database.ScalarAsync<long>("select count(*) from webhook_attempts"));
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(log.Entries.Count(e => e.EventName == "LogAttemptFailed") >= Attempts),
            TimeSpan.FromSeconds(5), "every attempt is logged");

        var entries = log.Entries.ToList();
        var failures = entries.Where(e => e.EventName == "LogAttemptFailed").ToList();
        Assert.Equal(Attempts, failures.Count);
        Assert.All(failures, f =>
        {
            Assert.Contains(endpoint.ToString(), f.Message, StringComparison.Ordinal);
            Assert.Contains("connection_refused", f.Message, StringComparison.Ordinal);
            Assert.Contains("next attempt", f.Message, StringComparison.Ordinal);
        });
        Assert.Equal(Events, failures.Count(f => f.Message.EndsWith("next attempt none (failed)", StringComparison.Ordinal)));
        Assert.DoesNotContain(entries, e => e.HasException || e.Message.Contains("   at ", StringComparison.Ordinal));
        Assert.DoesNotContain(entries, e => e.Category.StartsWith("System.Net.Http", StringComparison.Ordinal));
        var bytes = entries.Sum(e => e.Message.Length);
        var byCategory = string.Join("; ", entries.GroupBy(e => $"{e.Category}/{e.EventName}").Select(g => $"{g.Key}: {g.Count()} ({g.Sum(e => e.Message.Length)} bytes, e.g. {g.First().Message[..Math.Min(200, g.First().Message.Length)]})"));
        Assert.True(bytes <= Attempts * BytesPerAttempt, $"{entries.Count} log entries, {bytes} bytes for {Attempts} failed attempts: {byCategory}");
    }

    private sealed record Entry(string Category, string? EventName, string Message, bool HasException);

    /// <summary>Every log entry of the Worker, formatted, with whether it carried an exception.</summary>
    private sealed class CapturedLog : ILoggerProvider
    {
        private readonly ConcurrentQueue<Entry> _entries = new();

        public IEnumerable<Entry> Entries => _entries;

        public void Clear() => _entries.Clear();

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
        {
            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                entries.Enqueue(new Entry(category, eventId.Name, formatter(state, exception) + (exception is null ? "" : "\n" + exception), exception is not null));

            public bool IsEnabled(LogLevel logLevel) => true;

            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        }
    }
}
