using Microsoft.Extensions.DependencyInjection;
using Ujumbe.Api.Seeding;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

public sealed class DemoSeedTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    private async Task<SeededKeys> SeedAgainAsync(SeededKeys? previous)
    {
        await using var scope = ujumbe.Api.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<DemoSeeder>().SeedAsync(previous, CancellationToken.None);
    }

    [Fact]
    public async Task Seeding_again_reuses_the_data_and_the_working_keys()
    {
        var previous = new SeededKeys(ujumbe.DemoKey, ujumbe.OperatorKey, ujumbe.DemoPassword, ujumbe.OperatorPassword);
        var again = await SeedAgainAsync(previous);
        Assert.Equal(previous, again);

        Assert.Equal(2L, await ujumbe.Database.ScalarAsync<long>("select count(*) from accounts where id = any($1)",
            new[] { DemoSeeder.DemoAccountId, DemoSeeder.OperatorAccountId }));
        Assert.Equal(DemoSeeder.DemoCredits, await ujumbe.Database.ScalarAsync<long>("select balance from balances where account_id = $1", DemoSeeder.DemoAccountId));
        Assert.Equal(1L, await ujumbe.Database.ScalarAsync<long>("select count(*) from ledger_entries where account_id = $1", DemoSeeder.DemoAccountId));
        Assert.Equal("approved", await ujumbe.Database.ScalarAsync<string>(
            "select status from sender_ids where account_id = $1 and name = 'UJUMBE'", DemoSeeder.DemoAccountId));
    }

    [Fact]
    public async Task Without_the_earlier_keys_seeding_issues_new_working_keys_and_nothing_else()
    {
        var fresh = await SeedAgainAsync(previous: null);
        Assert.NotEqual(ujumbe.DemoKey, fresh.DemoKey);

        using var demo = ujumbe.Client(fresh.DemoKey);
        var balance = await (await demo.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(DemoSeeder.DemoCredits, balance.GetProperty("balance").GetInt64());
        using var admin = ujumbe.Client(fresh.OperatorKey);
        await (await admin.GetAsync("/v1/admin/accounts")).AssertJsonAsync();
    }
}
