using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Ujumbe.Api.Messages;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Messaging;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>One writer, so every send shares a group commit with every other.</summary>
public sealed class OneWriterFixture : UjumbeFixture
{
    protected override Dictionary<string, string?> ApiSettings()
    {
        var settings = base.ApiSettings();
        settings["SendPipeline:Writers"] = "1";
        return settings;
    }
}

/// <summary>A send the database refuses fails alone: the other sends committed in its group still go through.</summary>
public sealed class SendIsolationTests(OneWriterFixture ujumbe) : IClassFixture<OneWriterFixture>
{
    private const int Accounts = 4;
    private const int SendsPerAccount = 20;

    [Fact]
    public async Task A_bad_send_in_a_group_fails_only_itself()
    {
        var keys = new List<string>();
        for (var i = 0; i < Accounts + 1; i++)
        {
            keys.Add(await ujumbe.OpenFundedAccountAsync(credits: 1_000));
        }
        var blockerKey = keys[^1];
        var blockerAccount = await AccountIdAsync(blockerKey);
        var demoAccount = await AccountIdAsync(ujumbe.DemoKey);
        var pipeline = ujumbe.Api.Services.GetRequiredService<SendPipeline>();

        // Hold the writer on a first group (it waits for the blocker's balance row) while the next group
        // queues up: the bad sends and everyone else's then share one commit.
        await using var holder = new NpgsqlConnection(ujumbe.Database.ConnectionString);
        await holder.OpenAsync();
        var hold = await holder.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("select 1 from balances where account_id = $1 for update", holder, hold))
        {
            lockRow.Parameters.Add(new() { Value = blockerAccount });
            await lockRow.ExecuteScalarAsync();
        }
        using var blockerClient = ujumbe.Client(blockerKey);
        var blocked = blockerClient.PostAsJsonAsync("/v1/messages", Send());
        await HttpAssertions.EventuallyAsync(async () => await WaitingOnLocksAsync(holder) > 0, because: "the writer waits for the held row");

        var clients = keys.Take(Accounts).Select(key => ujumbe.Client(key)).ToList();
        var good = clients.SelectMany(client => Enumerable.Range(0, SendsPerAccount).Select(_ => client.PostAsJsonAsync("/v1/messages", Send()))).ToList();
        // What validation would never let through, handed straight to the pipeline: a NUL PostgreSQL's text
        // refuses, and a campaign whose audience is not JSON (the database refuses it; nothing checks it earlier).
        var nul = pipeline.SendAsync(Command(demoAccount, "Habari\0"), CancellationToken.None);
        var notJson = pipeline.SendAsync(Command(demoAccount, "Habari", campaign: new CampaignRecord(
            Guid.CreateVersion7(), "Bad", "Habari", "{not json", 0, [])), CancellationToken.None);
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(pipeline.Queued == good.Count + 2), because: "every send is queued");
        await hold.RollbackAsync();

        await (await blocked).AssertJsonAsync(HttpStatusCode.Accepted);
        var failed = 0;
        foreach (var response in await Task.WhenAll(good))
        {
            failed += response.StatusCode == HttpStatusCode.Accepted ? 0 : 1;
        }
        Assert.Equal(0, failed);
        await Assert.ThrowsAnyAsync<Exception>(() => nul);
        await Assert.ThrowsAnyAsync<Exception>(() => notJson);
        foreach (var client in clients)
        {
            var balance = await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
            Assert.Equal(1_000 - SendsPerAccount, balance.GetProperty("available").GetInt64());
            client.Dispose();
        }
    }

    private static object Send() => new { to = new[] { "0712345678" }, text = "Habari", sender_id = "UJUMBE" };

    private async Task<Guid> AccountIdAsync(string key)
    {
        using var client = ujumbe.Client(key);
        var account = await (await client.GetAsync("/v1/account")).AssertJsonAsync();
        Assert.True(PublicId.TryParse(PublicId.Account, account.GetProperty("id").GetString(), out var id));
        return id;
    }

    private static SendCommand Command(Guid account, string text, CampaignRecord? campaign = null) => new()
    {
        AccountId = account,
        BatchId = Guid.CreateVersion7(),
        SenderId = "UJUMBE",
        Text = text,
        Encoding = SmsEncoding.Gsm7,
        Segments = 1,
        Recipients = ["+255712345678"],
        MessageIds = [Guid.CreateVersion7()],
        CreatedAt = DateTime.UtcNow,
        Campaign = campaign,
    };

    private static async Task<long> WaitingOnLocksAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand(
            "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
