using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Messaging;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Work that fails every retry is kept for operators, who see why and replay it once (decision 0022).</summary>
public sealed class DeadLetterTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    [Fact]
    public async Task A_dispatch_that_keeps_failing_is_listed_with_its_reason_and_a_replay_sends_it_exactly_once()
    {
        const string Recipient = "+255712800001";
        // The database refuses to record this recipient's message as sent until an operator has replayed a dead letter:
        // every try fails after the provider took it (a fault of ours, which retries do not cure).
        await ujumbe.Database.ExecuteAsync("""
            create function refuse_until_replayed() returns trigger language plpgsql as $$
            begin
                if exists (select 1 from dead_letters where replayed_at is not null) then
                    return new;
                end if;
                raise exception 'recording % as sent is refused by the test', new.recipient;
            end $$;
            create trigger refuse_until_replayed before update on messages for each row
              when (new.status = 'sent' and new.recipient = '+255712800001')
              execute function refuse_until_replayed();
            """);
        using var client = ujumbe.Client(await ujumbe.OpenFundedAccountAsync(credits: 10));
        var accepted = await (await client.PostAsJsonAsync("/v1/messages",
            new { to = new[] { Recipient }, text = "try, try again", sender_id = "UJUMBE" })).AssertJsonAsync(HttpStatusCode.Accepted);
        var batchId = accepted.GetProperty("batch_id").GetString()!;
        var messageId = accepted.GetProperty("messages")[0].GetProperty("id").GetString()!;
        var id = Guid.ParseExact(messageId["msg_".Length..], "N");
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(ujumbe.Simulator.Submissions(id) >= 1), because: "the first try is made");

        // The last retry (minutes away on the real schedule), as the retry queues would bring it.
        var accountId = await ujumbe.Database.ScalarAsync<Guid>("select account_id from messages where id = $1", id);
        var chunk = new DispatchChunk([new OutboundMessage(id, Guid.ParseExact(batchId["bat_".Length..], "N"), accountId, Recipient, "UJUMBE", "try, try again", 1)], []);
        var lastTry = new OutgoingMessage(Topology.Exchange, Topology.Dispatch, JsonSerializer.SerializeToUtf8Bytes(chunk, MessagingJson.Default.DispatchChunk),
            null, new Dictionary<string, object?> { [Topology.AttemptHeader] = Topology.RetryDelays.Length });
        await ujumbe.Worker.Services.GetRequiredService<ConfirmingPublisher>().PublishAsync([lastTry], CancellationToken.None);

        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        JsonElement deadLetter = default;
        await HttpAssertions.EventuallyAsync(async () =>
        {
            var page = await (await admin.GetAsync("/v1/admin/dead-letters?queue=dispatch&status=waiting")).AssertJsonAsync();
            foreach (var listed in page.GetProperty("data").EnumerateArray())
            {
                var detail = await (await admin.GetAsync($"/v1/admin/dead-letters/{listed.GetProperty("id").GetString()}")).AssertJsonAsync();
                if (detail.GetProperty("body").GetString()!.Contains(id.ToString(), StringComparison.Ordinal))
                {
                    deadLetter = detail;
                    return true;
                }
            }
            return false;
        }, TimeSpan.FromSeconds(30), "the dead-lettered chunk is listed");
        var deadLetterId = deadLetter.GetProperty("id").GetString()!;
        Assert.StartsWith("dlq_", deadLetterId, StringComparison.Ordinal);
        Assert.Equal("dispatch", deadLetter.GetProperty("queue").GetString());
        Assert.Equal("waiting", deadLetter.GetProperty("status").GetString());
        Assert.Equal(Topology.RetryDelays.Length + 1, deadLetter.GetProperty("attempts").GetInt32());
        Assert.Contains("refused by the test", deadLetter.GetProperty("last_error").GetString(), StringComparison.Ordinal);
        Assert.Equal("queued", (await (await client.GetAsync($"/v1/messages/{messageId}")).AssertJsonAsync()).GetProperty("status").GetString());

        // Drained once, however the queue behaves: the same dead letter is one row.
        Assert.Equal(1L, await ujumbe.Database.ScalarAsync<long>("select count(*) from dead_letters where position($1::bytea in body) > 0",
            System.Text.Encoding.UTF8.GetBytes(id.ToString())));

        // Two operators press replay at once: one replay, the other is told it was done.
        var submissionsBefore = ujumbe.Simulator.Submissions(id);
        var replays = await Task.WhenAll(
            admin.PostAsync($"/v1/admin/dead-letters/{deadLetterId}/replay", null),
            admin.PostAsync($"/v1/admin/dead-letters/{deadLetterId}/replay", null));
        var replayed = Assert.Single(replays, r => r.StatusCode == HttpStatusCode.OK);
        await Assert.Single(replays, r => r.StatusCode != HttpStatusCode.OK).AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.AlreadyReplayed);
        var answer = await replayed.AssertJsonAsync();
        Assert.Equal("replayed", answer.GetProperty("status").GetString());
        Assert.StartsWith("key_", answer.GetProperty("replayed_by").GetString(), StringComparison.Ordinal);

        await HttpAssertions.EventuallyAsync(async () =>
            (await (await client.GetAsync($"/v1/messages/{messageId}")).AssertJsonAsync()).GetProperty("status").GetString() is "sent" or "delivered",
            TimeSpan.FromSeconds(30), "the replayed chunk sends the message");
        Assert.Equal(submissionsBefore + 1, ujumbe.Simulator.Submissions(id));
        await (await admin.PostAsync($"/v1/admin/dead-letters/{deadLetterId}/replay", null)).AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.AlreadyReplayed);
        var waiting = await (await admin.GetAsync("/v1/admin/dead-letters?status=waiting&page_size=100")).AssertJsonAsync();
        Assert.DoesNotContain(waiting.GetProperty("data").EnumerateArray(), d => d.GetProperty("id").GetString() == deadLetterId);
        var replayedList = await (await admin.GetAsync("/v1/admin/dead-letters?status=replayed&page_size=100")).AssertJsonAsync();
        Assert.Contains(replayedList.GetProperty("data").EnumerateArray(), d => d.GetProperty("id").GetString() == deadLetterId);
    }

    [Fact]
    public async Task Only_operators_see_dead_letters_and_bad_filters_are_named()
    {
        using var owner = ujumbe.Client(ujumbe.DemoKey);
        await (await owner.GetAsync("/v1/admin/dead-letters")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await owner.PostAsync($"/v1/admin/dead-letters/dlq_{Guid.NewGuid():N}/replay", null)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var problem = await (await admin.GetAsync("/v1/admin/dead-letters?queue=nope&status=lost&page=0")).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("queue", out _));
        Assert.True(errors.TryGetProperty("status", out _));
        Assert.True(errors.TryGetProperty("page", out _));
        await (await admin.GetAsync($"/v1/admin/dead-letters/dlq_{Guid.NewGuid():N}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await admin.PostAsync("/v1/admin/dead-letters/not-an-id/replay", null)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }
}
