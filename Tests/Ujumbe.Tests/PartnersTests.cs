using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>A partner as the tests use it: its key (scope partner), its account id and a client with that key.</summary>
public sealed record TestPartner(string Key, string AccountId, HttpClient Client) : IDisposable
{
    public void Dispose() => Client.Dispose();

    /// <summary>A client of the partner's key acting for <paramref name="tenantId"/> (X-Tenant-Id).</summary>
    public HttpClient ActingFor(UjumbeFixture ujumbe, string tenantId)
    {
        var client = ujumbe.Client(Key);
        client.DefaultRequestHeaders.Add("X-Tenant-Id", tenantId);
        return client;
    }

    public async Task<string> CreateTenantAsync(string name = "Tenant", string? timeZone = null)
    {
        var tenant = await (await Client.PostAsJsonAsync("/v1/tenants",
                new { name, email = $"{Guid.NewGuid():N}@tenant.example", time_zone = timeZone }))
            .AssertJsonAsync(HttpStatusCode.Created);
        return tenant.GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> TransferAsync(string tenantId, long amount, HttpStatusCode expected = HttpStatusCode.OK) =>
        await (await Client.PostAsJsonAsync($"/v1/tenants/{tenantId}/credits", new { amount })).AssertJsonAsync(expected);
}

public static class PartnerSetup
{
    /// <summary>An operator opens an account with <paramref name="credits"/> and marks it a partner; returns the partner key it was issued.</summary>
    public static async Task<TestPartner> OpenPartnerAsync(this UjumbeFixture ujumbe, long credits = 0)
    {
        var ownKey = await ujumbe.OpenFundedAccountAsync(credits);
        using var own = ujumbe.Client(ownKey);
        var accountId = (await (await own.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString()!;
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var marked = await (await admin.PostAsync($"/v1/admin/accounts/{accountId}/partner", null)).AssertJsonAsync();
        Assert.True(marked.GetProperty("account").GetProperty("is_partner").GetBoolean());
        var key = marked.GetProperty("api_key").GetProperty("secret").GetString()!;
        Assert.Contains("partner", marked.GetProperty("api_key").GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        return new TestPartner(key, accountId, ujumbe.Client(key));
    }

    /// <summary>The tenant (acting for it) registers the sender ID UJUMBE and the operator approves it.</summary>
    public static async Task ApproveSenderAsync(this UjumbeFixture ujumbe, HttpClient actingForTenant)
    {
        var sender = await (await actingForTenant.PostAsJsonAsync("/v1/sender-ids", new { name = "UJUMBE", purpose = "tests" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.PostAsync($"/v1/admin/sender-ids/{sender.GetProperty("id").GetString()}/approve", null)).AssertJsonAsync();
    }
}

/// <summary>Issue 12 item 1: operators mark partners; partners manage their tenants and act for them, and only for them.</summary>
public sealed class PartnersTests(SendingFixture ujumbe) : IClassFixture<SendingFixture>
{
    [Fact]
    public async Task Operators_mark_and_unmark_partners_but_not_while_they_have_tenants()
    {
        using var partner = await ujumbe.OpenPartnerAsync();
        using var admin = ujumbe.Client(ujumbe.OperatorKey);

        // Marking again issues no second key.
        var again = await (await admin.PostAsync($"/v1/admin/accounts/{partner.AccountId}/partner", null)).AssertJsonAsync();
        Assert.Equal(JsonValueKind.Null, again.GetProperty("api_key").ValueKind);

        var tenantId = await partner.CreateTenantAsync();
        await (await admin.DeleteAsync($"/v1/admin/accounts/{partner.AccountId}/partner")).AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        // Tenants do not nest.
        await (await admin.PostAsync($"/v1/admin/accounts/{tenantId}/partner", null)).AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        await (await admin.PostAsync($"/v1/admin/accounts/acct_{Guid.NewGuid():N}/partner", null)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);

        using var other = await ujumbe.OpenPartnerAsync();
        var unmarked = await (await admin.DeleteAsync($"/v1/admin/accounts/{other.AccountId}/partner")).AssertJsonAsync();
        Assert.False(unmarked.GetProperty("is_partner").GetBoolean());
        // Its key still has the partner scope, but the account is no partner any more.
        await (await other.Client.GetAsync("/v1/tenants")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        // Only operators mark partners.
        await (await partner.Client.PostAsync($"/v1/admin/accounts/{partner.AccountId}/partner", null)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    [Fact]
    public async Task A_partner_creates_lists_searches_reads_updates_suspends_and_activates_its_tenants()
    {
        using var partner = await ujumbe.OpenPartnerAsync();
        var email = $"{Guid.NewGuid():N}@duka.example";
        var created = await (await partner.Client.PostAsJsonAsync("/v1/tenants",
                new { name = "Duka la Juma", email, default_country = "ke", time_zone = "Africa/Nairobi" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;
        Assert.StartsWith("acct_", id, StringComparison.Ordinal);
        Assert.Equal("KE", created.GetProperty("default_country").GetString());
        Assert.Equal("Africa/Nairobi", created.GetProperty("time_zone").GetString());
        Assert.Equal(email, created.GetProperty("email").GetString());
        Assert.Equal("active", created.GetProperty("status").GetString());
        Assert.Equal(0, created.GetProperty("balance").GetInt64());
        for (var i = 0; i < 3; i++)
        {
            await partner.CreateTenantAsync($"Filler {i}");
        }

        var page = await (await partner.Client.GetAsync("/v1/tenants?page=1&page_size=2")).AssertJsonAsync();
        Assert.Equal(4, page.GetProperty("total").GetInt32());
        Assert.Equal(2, page.GetProperty("data").GetArrayLength());
        foreach (var query in new[] { "duka la", "JUMA", email[..10], id })
        {
            var found = await (await partner.Client.GetAsync($"/v1/tenants?q={Uri.EscapeDataString(query)}")).AssertJsonAsync();
            Assert.Equal(id, Assert.Single(found.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());
        }

        var read = await (await partner.Client.GetAsync($"/v1/tenants/{id}")).AssertJsonAsync();
        Assert.Equal("Duka la Juma", read.GetProperty("name").GetString());
        var updated = await (await partner.Client.PatchAsJsonAsync($"/v1/tenants/{id}", new { name = "Duka la Juma Ltd", time_zone = "Africa/Kampala" })).AssertJsonAsync();
        Assert.Equal("Duka la Juma Ltd", updated.GetProperty("name").GetString());
        Assert.Equal("Africa/Kampala", updated.GetProperty("time_zone").GetString());
        Assert.Equal("KE", updated.GetProperty("default_country").GetString());

        var suspended = await (await partner.Client.PostAsync($"/v1/tenants/{id}/suspend", null)).AssertJsonAsync();
        Assert.Equal("suspended", suspended.GetProperty("status").GetString());
        var onlySuspended = await (await partner.Client.GetAsync("/v1/tenants?status=suspended")).AssertJsonAsync();
        Assert.Equal(id, Assert.Single(onlySuspended.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());
        // A suspended tenant cannot be acted for.
        using (var acting = partner.ActingFor(ujumbe, id))
        {
            await (await acting.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.AccountSuspended);
        }
        var active = await (await partner.Client.PostAsync($"/v1/tenants/{id}/activate", null)).AssertJsonAsync();
        Assert.Equal("active", active.GetProperty("status").GetString());
        using (var acting = partner.ActingFor(ujumbe, id))
        {
            await (await acting.GetAsync("/v1/balance")).AssertJsonAsync();
        }
    }

    [Fact]
    public async Task Bad_tenant_input_gets_field_errors_and_creates_nothing()
    {
        using var partner = await ujumbe.OpenPartnerAsync();
        var problem = await (await partner.Client.PostAsJsonAsync("/v1/tenants", new { name = "", email = "nope", default_country = "XX", time_zone = "Mars/Base" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        foreach (var field in new[] { "name", "email", "default_country", "time_zone" })
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), field);
        }
        var email = $"{Guid.NewGuid():N}@dup.example";
        await (await partner.Client.PostAsJsonAsync("/v1/tenants", new { name = "One", email })).AssertJsonAsync(HttpStatusCode.Created);
        await (await partner.Client.PostAsJsonAsync("/v1/tenants", new { name = "Two", email })).AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
        var list = await (await partner.Client.GetAsync("/v1/tenants")).AssertJsonAsync();
        Assert.Equal(1, list.GetProperty("total").GetInt32());
        await (await partner.Client.GetAsync("/v1/tenants?status=gone")).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await partner.Client.GetAsync("/v1/tenants?page_size=101")).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }

    [Fact]
    public async Task Keys_without_the_partner_scope_or_of_non_partners_cannot_manage_or_act_for_tenants()
    {
        using var partner = await ujumbe.OpenPartnerAsync();
        var tenantId = await partner.CreateTenantAsync();

        // The partner account's first key has no partner scope.
        using var demo = ujumbe.Client(ujumbe.DemoKey);
        await (await demo.GetAsync("/v1/tenants")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await demo.PostAsJsonAsync("/v1/tenants", new { name = "x", email = "x@example.com" })).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        using var withHeader = ujumbe.Client(ujumbe.DemoKey);
        withHeader.DefaultRequestHeaders.Add("X-Tenant-Id", tenantId);
        await (await withHeader.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);

        // A partner key with fewer scopes (no partner) issued by the partner.
        var limited = await (await partner.Client.PostAsJsonAsync("/v1/api-keys", new { name = "no partner", scopes = new[] { "messages", "account" } }))
            .AssertJsonAsync(HttpStatusCode.Created);
        using var limitedClient = ujumbe.Client(limited.GetProperty("secret").GetString());
        limitedClient.DefaultRequestHeaders.Add("X-Tenant-Id", tenantId);
        await (await limitedClient.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        // Without credentials at all.
        using var anonymous = ujumbe.Client();
        anonymous.DefaultRequestHeaders.Add("X-Tenant-Id", tenantId);
        await (await anonymous.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
    }

    [Fact]
    public async Task Another_partners_tenant_and_non_tenant_ids_are_not_found_on_every_tenant_endpoint()
    {
        using var partner = await ujumbe.OpenPartnerAsync(credits: 100);
        using var rival = await ujumbe.OpenPartnerAsync(credits: 100);
        var theirs = await rival.CreateTenantAsync("Rival's tenant");
        await rival.TransferAsync(theirs, 50);
        using var demo = ujumbe.Client(ujumbe.DemoKey);
        var demoAccount = (await (await demo.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString()!;

        foreach (var id in new[] { theirs, demoAccount, rival.AccountId, partner.AccountId, $"acct_{Guid.NewGuid():N}", "garbage" })
        {
            await (await partner.Client.GetAsync($"/v1/tenants/{id}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
            await (await partner.Client.PatchAsJsonAsync($"/v1/tenants/{id}", new { name = "mine now" })).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
            await (await partner.Client.PostAsync($"/v1/tenants/{id}/suspend", null)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
            await (await partner.Client.PostAsync($"/v1/tenants/{id}/activate", null)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
            await (await partner.Client.PostAsJsonAsync($"/v1/tenants/{id}/credits", new { amount = -10 })).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
            await (await partner.Client.GetAsync($"/v1/usage?tenant_id={id}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
            using var acting = partner.ActingFor(ujumbe, id);
            await (await acting.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
            await (await acting.PostAsJsonAsync("/v1/messages", new { to = "0712000401", text = "hi", sender_id = "UJUMBE" }))
                .AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        }
        // Nothing of the rival's tenant changed, and the listing shows none of it.
        using var rivalActing = rival.ActingFor(ujumbe, theirs);
        var balance = await (await rivalActing.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(50, balance.GetProperty("available").GetInt64());
        var mine = await (await partner.Client.GetAsync("/v1/tenants")).AssertJsonAsync();
        Assert.Equal(0, mine.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Acting_for_a_tenant_makes_the_tenant_the_account_in_every_respect()
    {
        using var partner = await ujumbe.OpenPartnerAsync(credits: 100);
        var tenantId = await partner.CreateTenantAsync("Acting tenant");
        await partner.TransferAsync(tenantId, 20);
        using var acting = partner.ActingFor(ujumbe, tenantId);

        var account = await (await acting.GetAsync("/v1/account")).AssertJsonAsync();
        Assert.Equal(tenantId, account.GetProperty("id").GetString());
        Assert.Equal(20, (await (await acting.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64());

        await ujumbe.ApproveSenderAsync(acting);
        var sent = await (await acting.PostAsJsonAsync("/v1/messages", new { to = new[] { "0712000411", "0712000412" }, text = "from the tenant", sender_id = "UJUMBE" }))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        var batchId = sent.GetProperty("batch_id").GetString()!;
        await SendingFixture.WaitForFinalizedAsync(acting, batchId);
        var settled = await SendingFixture.WaitForSettledBalanceAsync(acting);
        Assert.Equal(18, settled.GetProperty("available").GetInt64());

        // The tenant's messages, contacts and keys are the tenant's, not the partner's.
        var contact = await (await acting.PostAsJsonAsync("/v1/contacts", new { name = "Asha", phone_number = "0712000413" })).AssertJsonAsync(HttpStatusCode.Created);
        await (await partner.Client.GetAsync($"/v1/batches/{batchId}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await partner.Client.GetAsync($"/v1/contacts/{contact.GetProperty("id").GetString()}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        Assert.Equal(80, (await (await partner.Client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("available").GetInt64());

        // Keys issued while acting are the tenant's own, and never carry the partner scope.
        var key = await (await acting.PostAsJsonAsync("/v1/api-keys", new { name = "tenant's key" })).AssertJsonAsync(HttpStatusCode.Created);
        Assert.DoesNotContain("partner", key.GetProperty("scopes").EnumerateArray().Select(s => s.GetString()));
        await (await acting.PostAsJsonAsync("/v1/api-keys", new { name = "escalate", scopes = new[] { "partner" } }))
            .AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        using var tenantOwn = ujumbe.Client(key.GetProperty("secret").GetString());
        Assert.Equal(tenantId, (await (await tenantOwn.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString());
        // Acting for a tenant is not a way to manage tenants (or to act for another one).
        await (await acting.GetAsync("/v1/tenants")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await tenantOwn.GetAsync("/v1/tenants")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    [Fact]
    public async Task Tenants_of_a_suspended_partner_cannot_send_until_it_is_activated()
    {
        using var partner = await ujumbe.OpenPartnerAsync(credits: 10);
        var tenantId = await partner.CreateTenantAsync();
        await partner.TransferAsync(tenantId, 10);
        using var acting = partner.ActingFor(ujumbe, tenantId);
        await ujumbe.ApproveSenderAsync(acting);
        var key = await (await acting.PostAsJsonAsync("/v1/api-keys", new { name = "tenant's key" })).AssertJsonAsync(HttpStatusCode.Created);
        using var tenant = ujumbe.Client(key.GetProperty("secret").GetString());
        var message = new { to = "0712000421", text = "hello", sender_id = "UJUMBE" };
        await (await tenant.PostAsJsonAsync("/v1/messages", message)).AssertJsonAsync(HttpStatusCode.Accepted);

        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.PostAsync($"/v1/admin/accounts/{partner.AccountId}/suspend", null)).AssertJsonAsync();
        await (await tenant.PostAsJsonAsync("/v1/messages", message)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.AccountSuspended);
        await (await acting.PostAsJsonAsync("/v1/messages", message)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.AccountSuspended);

        await (await admin.PostAsync($"/v1/admin/accounts/{partner.AccountId}/activate", null)).AssertJsonAsync();
        await (await tenant.PostAsJsonAsync("/v1/messages", message)).AssertJsonAsync(HttpStatusCode.Accepted);
    }
}
