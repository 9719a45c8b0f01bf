using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Ujumbe.Api.Compat;
using Ujumbe.Shared.Messaging;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests.Compat;

/// <summary>
/// A Wasambazie send waits for the provider's answer (decision 0026) and is woken by the Worker's notification
/// (decision 0031). No Worker runs here: each test plays it, moving the message in the database with the lifecycle's
/// own function and notifying the batch as the Worker does, so it decides what happens and when.
/// </summary>
public abstract class ProviderAnswerTests(UjumbeFixture fixture)
{
    protected UjumbeFixture Stack { get; } = fixture;

    /// <summary>Starts a single-recipient send to a number of this test's own; returns it and the batch it committed.</summary>
    protected async Task<(Task<HttpResponseMessage> Answer, Guid MessageId, Guid BatchId, Stopwatch Since)> StartSendAsync(HttpClient client)
    {
        var account = new WasambazieAccount(await Stack.OpenFundedAccountAsync(credits: 10));
        var number = $"+25571{Random.Shared.Next(0, 10_000_000):D7}";
        var since = Stopwatch.StartNew();
        var answer = account.SendAsync(client, number, "Waiting for the provider", "UJUMBE");
        (Guid, Guid)? committed = null;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            await using var connection = await Stack.Database.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand("select id, batch_id from messages where recipient = $1", connection);
            command.Parameters.Add(new() { Value = number });
            await using var reader = await command.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                committed = (reader.GetGuid(0), reader.GetGuid(1));
            }
            return committed is not null || answer.IsCompleted;
        }, TimeSpan.FromSeconds(20), "the send is committed");
        Assert.False(answer.IsCompleted, "the send answered before any provider did: " + (answer.IsCompleted ? await Describe(await answer) : ""));
        return (answer, committed!.Value.Item1, committed.Value.Item2, since);
    }

    /// <summary>What the Worker records when the provider refuses the message (without notifying anyone).</summary>
    protected Task RejectAsync(Guid messageId) => Stack.Database.ExecuteAsync(
        "select * from transition_messages(array[$1]::uuid[], array['rejected'], now(), null, null, array['TEST_REJECTED'])", messageId);

    /// <summary>What the Worker notifies once that is committed.</summary>
    protected Task NotifyAsync(Guid batchId) => Stack.Database.ExecuteAsync(
        "select pg_notify($1, $2)", ProviderAnswerNotifications.Channel, ProviderAnswerNotifications.Payloads([batchId])[0]);

    /// <summary>The backend of the Api's LISTEN connection to this test's database, once it listens (other than <paramref name="not"/>).</summary>
    protected async Task<int> ListenerAsync(int? not = null)
    {
        var signals = Stack.Api.Services.GetRequiredService<ProviderAnswerSignals>();
        var pid = 0;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            pid = await Stack.Database.ScalarAsync<int>(
                "select pid from pg_stat_activity where datname = current_database() and application_name = $1 and pid <> $2",
                ProviderAnswerListener.ApplicationName, not ?? 0);
            // Listening stops being true when the old connection fails, before the new one exists.
            return pid != 0 && signals.Listening;
        }, TimeSpan.FromSeconds(20), "the Api listens for provider answers");
        return pid;
    }

    protected static async Task<string> Describe(HttpResponseMessage response) =>
        $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
}

/// <summary>
/// An Api whose dialect sends wait up to <paramref name="wait"/> for the provider's answer and, while it listens, never
/// read their batch unprompted before that: they answer sooner only if a notification woke them.
/// </summary>
public abstract class ProviderWaitFixture(TimeSpan wait) : UjumbeFixture
{
    protected override Dictionary<string, string?> ApiSettings() => WokenOrAtTheDeadline(base.ApiSettings(), wait);

    /// <summary>These Api settings, with that wait and a safety poll (10 minutes) no test lasts.</summary>
    public static Dictionary<string, string?> WokenOrAtTheDeadline(Dictionary<string, string?> settings, TimeSpan wait)
    {
        settings["Compat:ProviderAnswerWait"] = wait.ToString();
        settings["Compat:ProviderAnswerPoll"] = "00:10:00";
        return settings;
    }
}

public sealed class LongProviderWaitFixture() : ProviderWaitFixture(Wait)
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);
}

public sealed class ProviderAnswerWakeTests(LongProviderWaitFixture ujumbe) : ProviderAnswerTests(ujumbe), IClassFixture<LongProviderWaitFixture>
{
    /// <summary>Well under the wait: a send answered only at its deadline was not woken.</summary>
    private static readonly TimeSpan WokenWithin = LongProviderWaitFixture.Wait / 2;

    [Fact]
    public async Task A_waiting_send_answers_as_soon_as_its_batch_is_notified()
    {
        await ListenerAsync();
        using var client = Stack.Client();
        var (answer, messageId, batchId, _) = await StartSendAsync(client);

        await RejectAsync(messageId);
        var notified = Stopwatch.StartNew();
        await NotifyAsync(batchId);
        using var response = await answer;

        Assert.True(notified.Elapsed < WokenWithin, $"answered {notified.Elapsed} after the notification: not woken by it");
        await WasambazieTests.AssertDetailAsync(response, HttpStatusCode.BadGateway, "Provider rejected the message");
    }

    [Fact]
    public async Task The_listen_connection_comes_back_after_it_is_terminated_and_waiting_sends_are_still_woken()
    {
        var listener = await ListenerAsync();
        using var client = Stack.Client();
        var (waitingThrough, messageId, batchId, _) = await StartSendAsync(client);

        Assert.True(await Stack.Database.ScalarAsync<bool>("select pg_terminate_backend($1)", listener));
        await ListenerAsync(not: listener);

        // The send that waited through the outage, and one that began after it.
        var (begunAfter, laterMessageId, laterBatchId, _) = await StartSendAsync(client);
        await RejectAsync(messageId);
        await RejectAsync(laterMessageId);
        var notified = Stopwatch.StartNew();
        await NotifyAsync(batchId);
        await NotifyAsync(laterBatchId);
        using var first = await waitingThrough;
        using var second = await begunAfter;

        Assert.True(notified.Elapsed < WokenWithin, $"answered {notified.Elapsed} after the notifications: not woken by them");
        await WasambazieTests.AssertDetailAsync(first, HttpStatusCode.BadGateway, "Provider rejected the message");
        await WasambazieTests.AssertDetailAsync(second, HttpStatusCode.BadGateway, "Provider rejected the message");
    }
}

public sealed class ShortProviderWaitFixture() : ProviderWaitFixture(Wait)
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(4);
}

public sealed class ProviderAnswerDeadlineTests(ShortProviderWaitFixture ujumbe) : ProviderAnswerTests(ujumbe), IClassFixture<ShortProviderWaitFixture>
{
    [Fact]
    public async Task A_send_no_provider_answers_is_accepted_at_the_deadline_and_stays_queued()
    {
        await ListenerAsync();
        using var client = Stack.Client();
        var (answer, messageId, _, since) = await StartSendAsync(client);
        using var response = await answer;

        Assert.True(since.Elapsed >= ShortProviderWaitFixture.Wait, $"answered after {since.Elapsed}, before the deadline");
        var sent = await response.AssertJsonAsync(HttpStatusCode.Created);
        Assert.True(sent.GetProperty("success").GetBoolean());
        Assert.Equal("queued", await Stack.Database.ScalarAsync<string>("select status from messages where id = $1", messageId));
    }

    [Fact]
    public async Task A_rejection_whose_notification_never_comes_is_still_502_at_the_deadline()
    {
        await ListenerAsync();
        using var client = Stack.Client();
        var (answer, messageId, _, _) = await StartSendAsync(client);

        await RejectAsync(messageId);
        using var response = await answer;

        await WasambazieTests.AssertDetailAsync(response, HttpStatusCode.BadGateway, "Provider rejected the message");
    }
}
