using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Ujumbe.Api.Seeding;
using Ujumbe.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Ujumbe.Tests;

/// <summary>Mobile-money payments in the dashboard (issue 11 item 4 over the payments API of issue 12, decision 0025).</summary>
public sealed partial class WebDashboardTests
{
    [Fact]
    public async Task An_owner_buys_credits_and_sees_the_payment_pending_then_completed_by_the_signed_callback()
    {
        var owner = await OpenAccountWithOwnerAsync();
        var page = await ujumbe.SignInAsync(owner.Email, owner.Password);
        await Expect(page.GetByTestId("available")).ToHaveTextAsync("0 credits");
        await page.GetByRole(AriaRole.Link, new() { Name = "Payments" }).ClickAsync();
        await Expect(page.GetByText("No payments yet.")).ToBeVisibleAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Buy credits", Exact = true }).First.ClickAsync();
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Buy credits" })).ToBeVisibleAsync();
        // A partner's choice of tenant is not offered to an owner.
        await Expect(page.GetByLabel("Whose credits")).ToHaveCountAsync(0);

        // Bad input: the Api's reasons, next to their fields, and no payment.
        await page.GetByLabel("Credits", new() { Exact = true }).FillAsync("0");
        await page.GetByLabel("Phone number that pays").FillAsync("12345");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send payment prompt" }).ClickAsync();
        await Expect(page.Locator("span.error[data-valmsg-for='Input.Credits']")).ToContainTextAsync("a whole number of credits from 1 to 1000000");
        await Expect(page.Locator("span.error[data-valmsg-for='Input.PhoneNumber']")).ToContainTextAsync("12345");
        await page.GetByLabel("Credits", new() { Exact = true }).FillAsync("100");
        await page.GetByLabel("Phone number that pays").FillAsync("0712 345 678");
        await page.GetByLabel("Mobile-money network").SelectOptionAsync("vodacom");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send payment prompt" }).ClickAsync();
        await Expect(page.Locator("span.error[data-valmsg-for='Input.PhoneNumber']")).ToContainTextAsync("is not a vodacom mobile-money number");
        await Expect(page.Locator("span.error[data-valmsg-for='Input.Credits']")).ToBeEmptyAsync();
        Assert.Equal(0, await PaymentsOfAsync(owner.AccountId));

        // The payer never answers (9999): only the aggregator's signed callback below completes it.
        var phone = PaymentSteps.VodacomNumber("9999");
        await page.GetByLabel("Phone number that pays").FillAsync("0" + phone[4..]);
        await page.GetByRole(AriaRole.Button, new() { Name = "Send payment prompt" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/payments/pay_[0-9a-f]{32}$"));
        var id = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Payment started: 100 credits for 2,500 TZS");
        await Expect(page.GetByTestId("payment-status")).ToHaveTextAsync(new Regex("pending"));
        await Expect(page.GetByTestId("instructions")).ToContainTextAsync($"prompt for 2500 TZS has been sent to {phone}");

        await page.GetByRole(AriaRole.Link, new() { Name = "Payments" }).First.ClickAsync();
        var row = page.Locator($"tr[data-payment='{id}']");
        await Expect(row).ToContainTextAsync("pending");
        await Expect(row).ToContainTextAsync("2,500 TZS");
        await Expect(row).ToContainTextAsync(phone);
        await page.GetByLabel("Status").SelectOptionAsync("completed");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        await Expect(page.GetByText("No completed payments.")).ToBeVisibleAsync();

        // The payment's page refreshes itself: the callback's completion appears without a reload.
        await page.GotoAsync($"/payments/{id}");
        await Expect(page.GetByTestId("payment-status")).ToHaveTextAsync(new Regex("pending"));
        Assert.Equal("completed", await ujumbe.DeliverSignedAsync(PaymentSteps.CallbackBody(id, "SUCCESS", "MPX" + Suffix(), 2500m)));
        await Expect(page.GetByTestId("payment-status")).ToHaveTextAsync(new Regex("completed"));
        await Expect(page.GetByTestId("outcome")).ToContainTextAsync("100 credits added to your account. You now have 100 credits available.");

        await page.GotoAsync("/payments?status=completed");
        await Expect(page.Locator($"tr[data-payment='{id}']")).ToContainTextAsync("completed");
        await page.GetByRole(AriaRole.Link, new() { Name = "Overview" }).ClickAsync();
        await Expect(page.GetByTestId("available")).ToHaveTextAsync("100 credits");
        await page.GotoAsync("/ledger");
        await Expect(page.Locator("tbody tr").First.GetByRole(AriaRole.Link, new() { Name = id })).ToBeVisibleAsync();

        // A payment the payer declines (0000) fails, with why, and adds nothing.
        await page.GotoAsync("/payments/new");
        await page.GetByLabel("Credits", new() { Exact = true }).FillAsync("10");
        await page.GetByLabel("Phone number that pays").FillAsync(PaymentSteps.VodacomNumber("0000"));
        await page.GetByRole(AriaRole.Button, new() { Name = "Send payment prompt" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/payments/pay_"));
        await Expect(page.GetByTestId("payment-status")).ToHaveTextAsync(new Regex("failed"), new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("outcome")).ToContainTextAsync("No credits were added");
        await page.GotoAsync("/");
        await Expect(page.GetByTestId("available")).ToHaveTextAsync("100 credits");
    }

    [Fact]
    public async Task A_partner_requests_a_payment_for_its_tenant_which_nobody_else_sees()
    {
        var partner = await OpenAccountWithOwnerAsync(partner: true);
        var tenantName = "Duka " + Suffix();
        string tenantId;
        using (var client = ujumbe.Client(partner.Key))
        {
            tenantId = (await (await client.PostAsJsonAsync("/v1/tenants", new { name = tenantName, email = $"{Guid.NewGuid():N}@tenant.example" }))
                .AssertJsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString()!;
        }
        var page = await ujumbe.SignInAsync(partner.Email, partner.Password);
        await page.GetByRole(AriaRole.Link, new() { Name = "Tenants" }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "Request a payment for " + tenantName }).ClickAsync();
        await Expect(page.GetByLabel("Whose credits")).ToHaveValueAsync(tenantId);
        await page.GetByLabel("Credits", new() { Exact = true }).FillAsync("40");
        await page.GetByLabel("Phone number that pays").FillAsync(PaymentSteps.VodacomNumber());
        await page.GetByRole(AriaRole.Button, new() { Name = "Send payment prompt" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/payments/pay_[0-9a-f]{32}$"));
        var id = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        await Expect(page.Locator("dl.facts")).ToContainTextAsync(tenantName);
        // The simulated payer confirms and the aggregator calls back by itself; the page follows.
        await Expect(page.GetByTestId("payment-status")).ToHaveTextAsync(new Regex("completed"), new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("outcome")).ToContainTextAsync($"40 credits added to {tenantName}.");

        await page.GotoAsync("/payments");
        await Expect(page.Locator($"tr[data-payment='{id}']")).ToContainTextAsync(tenantName);
        await page.GotoAsync("/partner/tenants");
        await Expect(page.GetByTestId("available-" + tenantId)).ToHaveTextAsync("40");
        await page.GotoAsync("/");
        await Expect(page.GetByTestId("available")).ToHaveTextAsync("0 credits");

        // Another account sees neither the payment nor its page.
        var demo = await DemoAsync();
        await demo.GotoAsync("/payments");
        await Expect(demo.Locator($"tr[data-payment='{id}']")).ToHaveCountAsync(0);
        var response = await demo.GotoAsync($"/payments/{id}");
        Assert.Equal(404, response!.Status);
        await Expect(demo.GetByRole(AriaRole.Heading, new() { Name = "Not found" })).ToBeVisibleAsync();
        Assert.DoesNotContain(tenantName, await demo.ContentAsync(), StringComparison.Ordinal);

        // A tampered form naming an account that is not one's tenant is refused by the Api and starts nothing.
        using var web = await SignedInClientAsync(SeededKeys.DemoEmail, ujumbe.DemoPassword);
        var refused = await web.PostFormAsync("/payments/new", null, PaymentForm(tenantId, "10", PaymentSteps.VodacomNumber()));
        Assert.Contains("The credentials do not grant access to this resource.", refused, StringComparison.Ordinal);
        using var partnerWeb = await SignedInClientAsync(partner.Email, partner.Password);
        string demoAccount;
        using (var client = ujumbe.Client(ujumbe.DemoKey))
        {
            demoAccount = (await (await client.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString()!;
        }
        var notMine = await partnerWeb.PostFormAsync("/payments/new", null, PaymentForm(demoAccount, "10", PaymentSteps.VodacomNumber()));
        Assert.Contains("No tenant of this partner has this id.", notMine, StringComparison.Ordinal);
        Assert.Equal(1, await PaymentsOfAsync(tenantId));
    }

    [Fact]
    public async Task A_payment_form_sent_twice_starts_one_payment_and_bad_values_get_reasons_not_errors()
    {
        var owner = await OpenAccountWithOwnerAsync();
        using var web = await SignedInClientAsync(owner.Email, owner.Password);
        var form = await web.Client.GetStringAsync("/payments/new");
        var key = IdempotencyKeyField().Match(form).Groups[1].Value;
        Assert.Matches("^[0-9a-f]{32}$", key);

        foreach (var (credits, phone, provider, reason) in new[]
        {
            ("ten", "0754123456", "vodacom", "Enter a whole number of credits"),
            ("300,000", "0754123456", "vodacom", "one mobile-money payment carries at most"),
            ("10", "0754123456", "mpesa", "Provider must be one of vodacom, tigo, airtel, halotel"),
            ("10", "", "vodacom", "Enter the number of the phone that pays."),
        })
        {
            var fields = PaymentForm(null, credits, phone);
            fields["Input.Provider"] = provider;
            fields["Input.IdempotencyKey"] = key;
            var answer = await web.PostFormAsync("/payments/new", null, fields);
            Assert.Contains(reason, answer, StringComparison.Ordinal);
        }
        Assert.Equal(0, await PaymentsOfAsync(owner.AccountId));

        // The same form sent twice (a double click, a resubmitted page): one payment, one prompt.
        var pages = new List<string>();
        var payer = PaymentSteps.VodacomNumber("9999");
        for (var i = 0; i < 2; i++)
        {
            var fields = PaymentForm(null, "1,000", payer);
            fields["Input.IdempotencyKey"] = key;
            pages.Add(await web.PostFormAsync("/payments/new", null, fields));
        }
        var ids = pages.Select(p => PaymentId().Match(p).Value).ToList();
        Assert.StartsWith("pay_", ids[0], StringComparison.Ordinal);
        Assert.Equal(ids[0], ids[1]);
        Assert.Equal(1, await PaymentsOfAsync(owner.AccountId));
        Assert.Contains("1,000 credits", pages[1], StringComparison.Ordinal);
    }

    private static Dictionary<string, string> PaymentForm(string? forAccount, string credits, string phone) => new()
    {
        ["Input.IdempotencyKey"] = Guid.NewGuid().ToString("N"),
        ["Input.For"] = forAccount ?? "",
        ["Input.Credits"] = credits,
        ["Input.PhoneNumber"] = phone,
        ["Input.Provider"] = "vodacom",
    };

    private Task<long> PaymentsOfAsync(string accountId) =>
        ujumbe.Database.ScalarAsync<long>("select count(*) from payments where account_id = $1", PaymentSteps.Uuid(accountId));

    /// <summary>A new account (made a partner if asked) whose owner set a password by invitation, and its first key (the partner key for a partner).</summary>
    private async Task<(string AccountId, string Email, string Password, string Key)> OpenAccountWithOwnerAsync(bool partner = false)
    {
        var suffix = Suffix();
        var (email, password) = ($"payer{Guid.NewGuid():N}@example.com", "Payer-" + suffix + "-password");
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "Payer " + suffix, owner_email = email }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var id = created.GetProperty("id").GetString()!;
        var key = created.GetProperty("api_key").GetProperty("secret").GetString()!;
        if (partner)
        {
            key = (await (await admin.PostAsync($"/v1/admin/accounts/{id}/partner", null)).AssertJsonAsync())
                .GetProperty("api_key").GetProperty("secret").GetString()!;
        }
        var invitation = await (await admin.PostAsync($"/v1/admin/accounts/{id}/invitation", null)).AssertJsonAsync(HttpStatusCode.Created);
        using var anonymous = ujumbe.Client();
        await (await anonymous.PostAsJsonAsync("/v1/auth/invitations/accept", new { token = invitation.GetProperty("token").GetString(), password }))
            .AssertJsonAsync();
        return (id, email, password, key);
    }

    [GeneratedRegex("name=\"Input\\.IdempotencyKey\" value=\"([0-9a-f]+)\"")]
    private static partial Regex IdempotencyKeyField();

    [GeneratedRegex("pay_[0-9a-f]{32}")]
    private static partial Regex PaymentId();
}
