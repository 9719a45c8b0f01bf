using System.Net;
using System.Net.Http.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

public sealed class AdminAccountsTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    private static string UniqueEmail() => $"owner-{Guid.NewGuid():N}@example.co.tz";

    [Fact]
    public async Task An_operator_opens_an_account_whose_first_key_works_at_once()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var email = UniqueEmail();
        var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "Duka la Mama", owner_email = email, default_country = "ke" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        Assert.StartsWith("acct_", created.GetProperty("id").GetString(), StringComparison.Ordinal);
        Assert.Equal("KE", created.GetProperty("default_country").GetString());
        Assert.Equal(email, created.GetProperty("owner_email").GetString());
        var secret = created.GetProperty("api_key").GetProperty("secret").GetString();

        using var tenant = ujumbe.Client(secret);
        var account = await (await tenant.GetAsync("/v1/account")).AssertJsonAsync();
        Assert.Equal(created.GetProperty("id").GetString(), account.GetProperty("id").GetString());
        Assert.Equal("Duka la Mama", account.GetProperty("name").GetString());
        var balance = await (await tenant.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(0, balance.GetProperty("available").GetInt64());

        // The new account's key is an ordinary one: no operator powers.
        await (await tenant.GetAsync("/v1/admin/accounts")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    [Fact]
    public async Task Keys_without_admin_cannot_use_operator_endpoints()
    {
        using var demo = ujumbe.Client(ujumbe.DemoKey);
        await (await demo.GetAsync("/v1/admin/accounts")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
        await (await demo.PostAsJsonAsync("/v1/admin/accounts", new { name = "x", owner_email = UniqueEmail() }))
            .AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    [Fact]
    public async Task Operators_find_accounts_by_name_owner_email_or_id()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var email = UniqueEmail();
        var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "Searchable Safaris 100%", owner_email = email }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;

        foreach (var query in new[] { "searchable safaris", "SAFARIS 100%", email[..12], id })
        {
            var page = await (await admin.GetAsync($"/v1/admin/accounts?q={Uri.EscapeDataString(query)}")).AssertJsonAsync();
            Assert.True(page.GetProperty("data").EnumerateArray().Any(a => a.GetProperty("id").GetString() == id), $"q={query}: {page}");
        }
        var none = await (await admin.GetAsync("/v1/admin/accounts?q=%25%25nothing-like-this%25")).AssertJsonAsync();
        Assert.Equal(0, none.GetProperty("total").GetInt32());

        var paged = await (await admin.GetAsync("/v1/admin/accounts?page=1&page_size=1")).AssertJsonAsync();
        Assert.Single(paged.GetProperty("data").EnumerateArray());
        Assert.True(paged.GetProperty("total").GetInt32() >= 3);
        Assert.Equal(1, paged.GetProperty("page_size").GetInt32());
    }

    [Fact]
    public async Task A_suspended_accounts_keys_get_ACCOUNT_SUSPENDED_until_it_is_activated()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "Late Payer Ltd", owner_email = UniqueEmail() }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString();
        using var tenant = ujumbe.Client(created.GetProperty("api_key").GetProperty("secret").GetString());
        await (await tenant.GetAsync("/v1/balance")).AssertJsonAsync();

        var suspended = await (await admin.PostAsync($"/v1/admin/accounts/{id}/suspend", null)).AssertJsonAsync();
        Assert.Equal("suspended", suspended.GetProperty("status").GetString());
        await (await tenant.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.AccountSuspended);

        var active = await (await admin.PostAsync($"/v1/admin/accounts/{id}/activate", null)).AssertJsonAsync();
        Assert.Equal("active", active.GetProperty("status").GetString());
        await (await tenant.GetAsync("/v1/balance")).AssertJsonAsync();
    }

    [Fact]
    public async Task The_operator_account_cannot_be_suspended()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var operatorAccount = await (await admin.GetAsync("/v1/account")).AssertJsonAsync();
        await (await admin.PostAsync($"/v1/admin/accounts/{operatorAccount.GetProperty("id").GetString()}/suspend", null))
            .AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
    }

    [Fact]
    public async Task A_second_account_for_the_same_owner_email_is_a_conflict()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var email = UniqueEmail();
        await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "First", owner_email = email })).AssertJsonAsync(HttpStatusCode.Created);
        await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "Second", owner_email = email.ToUpperInvariant() }))
            .AssertProblemAsync(HttpStatusCode.Conflict, ErrorCodes.Conflict);
    }

    [Fact]
    public async Task Invalid_account_requests_get_field_errors_and_create_nothing()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var before = await ujumbe.Database.ScalarAsync<long>("select count(*) from accounts");
        var problem = await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "", owner_email = "not-an-email", default_country = "XX" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty("name", out _));
        Assert.True(errors.TryGetProperty("owner_email", out _));
        Assert.True(errors.TryGetProperty("default_country", out _));
        Assert.Equal(before, await ujumbe.Database.ScalarAsync<long>("select count(*) from accounts"));
    }

    [Fact]
    public async Task Unknown_account_ids_are_not_found()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.PostAsync($"/v1/admin/accounts/acct_{Guid.NewGuid():N}/suspend", null)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
        await (await admin.PostAsync("/v1/admin/accounts/whatever/activate", null)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }

    [Theory]
    [InlineData("page=0")]
    [InlineData("page=abc")]
    [InlineData("page_size=101")]
    [InlineData("page_size=-1")]
    public async Task Bad_paging_gets_a_field_error(string query)
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.GetAsync("/v1/admin/accounts?" + query)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }
}
