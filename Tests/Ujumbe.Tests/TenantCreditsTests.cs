using System.Net;
using System.Net.Http.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Issue 12 item 2: credits move between a partner and its tenants, atomically, ledgered on both sides.</summary>
public sealed class TenantCreditsTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    [Fact]
    public async Task A_transfer_and_its_take_back_are_ledgered_on_both_sides_with_one_reference()
    {
        using var partner = await ujumbe.OpenPartnerAsync(credits: 100);
        var tenantId = await partner.CreateTenantAsync();

        var given = await partner.TransferAsync(tenantId, 30);
        Assert.Equal(70, given.GetProperty("partner").GetProperty("available").GetInt64());
        Assert.Equal(30, given.GetProperty("tenant").GetProperty("available").GetInt64());
        var reference = given.GetProperty("reference").GetString()!;
        Assert.StartsWith("trf_", reference, StringComparison.Ordinal);

        var back = await partner.TransferAsync(tenantId, -12);
        Assert.Equal(82, back.GetProperty("partner").GetProperty("available").GetInt64());
        Assert.Equal(18, back.GetProperty("tenant").GetProperty("available").GetInt64());

        using var acting = partner.ActingFor(ujumbe, tenantId);
        var tenantLedger = (await (await acting.GetAsync("/v1/ledger")).AssertJsonAsync()).GetProperty("data").EnumerateArray().ToList();
        var partnerLedger = (await (await partner.Client.GetAsync("/v1/ledger")).AssertJsonAsync()).GetProperty("data").EnumerateArray()
            .Where(e => e.GetProperty("kind").GetString() == "transfer").ToList();
        Assert.Equal([-12L, 30L], tenantLedger.Select(e => e.GetProperty("amount").GetInt64()));
        Assert.Equal([12L, -30L], partnerLedger.Select(e => e.GetProperty("amount").GetInt64()));
        Assert.All(tenantLedger, e => Assert.Equal("transfer", e.GetProperty("kind").GetString()));
        Assert.Equal(reference, tenantLedger[1].GetProperty("reference").GetString());
        Assert.Equal(reference, partnerLedger[1].GetProperty("reference").GetString());
        Assert.Equal(tenantLedger[0].GetProperty("reference").GetString(), partnerLedger[0].GetProperty("reference").GetString());
        Assert.Equal(18, tenantLedger[0].GetProperty("balance_after").GetInt64());
        Assert.Equal(82, partnerLedger[0].GetProperty("balance_after").GetInt64());
    }

    [Fact]
    public async Task A_transfer_beyond_either_sides_available_credits_is_refused_and_moves_nothing()
    {
        using var partner = await ujumbe.OpenPartnerAsync(credits: 10);
        var tenantId = await partner.CreateTenantAsync();
        await partner.TransferAsync(tenantId, 4);

        await (await partner.Client.PostAsJsonAsync($"/v1/tenants/{tenantId}/credits", new { amount = 7 }))
            .AssertProblemAsync(HttpStatusCode.PaymentRequired, ErrorCodes.InsufficientBalance);
        await (await partner.Client.PostAsJsonAsync($"/v1/tenants/{tenantId}/credits", new { amount = -5 }))
            .AssertProblemAsync(HttpStatusCode.PaymentRequired, ErrorCodes.InsufficientBalance);
        foreach (var amount in new object?[] { 0, null, 2_000_000_000L, "ten" })
        {
            await (await partner.Client.PostAsJsonAsync($"/v1/tenants/{tenantId}/credits", new { amount }))
                .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        }

        Assert.Equal(6, (await (await partner.Client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64());
        using var acting = partner.ActingFor(ujumbe, tenantId);
        Assert.Equal(4, (await (await acting.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64());
        Assert.Equal(2, await ujumbe.Database.ScalarAsync<long>(
            "select count(*) from ledger_entries where kind = 'transfer' and account_id in ($1, $2)",
            Guid.ParseExact(partner.AccountId[5..], "N"), Guid.ParseExact(tenantId[5..], "N")));
    }

    [Fact]
    public async Task Racing_transfers_never_overdraw_either_side()
    {
        using var partner = await ujumbe.OpenPartnerAsync(credits: 100);
        var first = await partner.CreateTenantAsync("First");
        var second = await partner.CreateTenantAsync("Second");

        // 40 transfers of 10 race for the partner's 100 credits, to two tenants at once.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var client = ujumbe.Client(partner.Key);
            var response = await client.PostAsJsonAsync($"/v1/tenants/{(i % 2 == 0 ? first : second)}/credits", new { amount = 10 });
            return response.StatusCode;
        }));
        Assert.Equal(10, outcomes.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(30, outcomes.Count(s => s == HttpStatusCode.PaymentRequired));

        using var actingFirst = partner.ActingFor(ujumbe, first);
        using var actingSecond = partner.ActingFor(ujumbe, second);
        var firstHas = (await (await actingFirst.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64();
        var secondHas = (await (await actingSecond.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64();
        Assert.Equal(100, firstHas + secondHas);
        Assert.Equal(0, (await (await partner.Client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64());

        // Racing take-backs from one tenant: never below what it has.
        var takeBacks = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
        {
            using var client = ujumbe.Client(partner.Key);
            return (await client.PostAsJsonAsync($"/v1/tenants/{first}/credits", new { amount = -10 })).StatusCode;
        }));
        Assert.Equal(firstHas / 10, takeBacks.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(0, (await (await actingFirst.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64());
        Assert.Equal(firstHas, (await (await partner.Client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64());

        // The ledgers agree with the balances: every balance is the sum of its entries.
        Assert.Equal(0, await ujumbe.Database.ScalarAsync<long>("""
            select count(*) from balances b
             where b.balance <> (select coalesce(sum(e.amount), 0) from ledger_entries e where e.account_id = b.account_id)
            """));
    }
}
