using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Ujumbe.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Ujumbe.Tests;

/// <summary>Partners in the dashboard: an operator makes one, and its owner opens, funds and suspends tenants.</summary>
public sealed partial class WebDashboardTests
{
    [Fact]
    public async Task An_operator_makes_a_partner_whose_owner_opens_funds_and_suspends_a_tenant()
    {
        var suffix = Suffix();
        var (reseller, email, password) = ($"Reseller {suffix}", $"reseller{suffix}@example.com", "Reseller-" + suffix + "-password");
        using (var admin = ujumbe.Client(ujumbe.OperatorKey))
        {
            var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = reseller, owner_email = email }))
                .AssertJsonAsync(HttpStatusCode.Created);
            await (await admin.PostAsJsonAsync($"/v1/admin/accounts/{created.GetProperty("id").GetString()}/credits",
                new { amount = 1000, reason = "reseller float" })).AssertJsonAsync(HttpStatusCode.Created);
        }
        var staff = await OperatorAsync();
        await staff.GotoAsync("/operator/accounts?q=" + Uri.EscapeDataString(reseller));
        await staff.GetByRole(AriaRole.Button, new() { Name = "Make partner " + reseller }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync(reseller + " is a partner");
        await Expect(staff.GetByTestId("secret")).ToHaveValueAsync(new Regex("^sk_"));

        // The owner's password comes by invitation: the operator hands over a link that works once.
        await staff.GetByRole(AriaRole.Button, new() { Name = "Invite the owner of " + reseller }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync(email);
        var link = await staff.GetByTestId("secret").InputValueAsync();
        var invited = await (await ujumbe.Browser.NewContextAsync()).NewPageAsync();
        await invited.GotoAsync(link);
        await invited.GetByLabel("New password (at least 12 characters)").FillAsync(password);
        await invited.GetByLabel("The same password again").FillAsync(password + "!");
        await invited.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Expect(invited.Locator("span.error[data-valmsg-for='Confirm']")).ToContainTextAsync("differ");
        await invited.GetByLabel("New password (at least 12 characters)").FillAsync(password);
        await invited.GetByLabel("The same password again").FillAsync(password);
        await invited.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Expect(invited.GetByRole(AriaRole.Status)).ToContainTextAsync("Your password is set");
        // Used once: the same link does nothing a second time.
        await invited.GotoAsync(link);
        await invited.GetByLabel("New password (at least 12 characters)").FillAsync("another password here");
        await invited.GetByLabel("The same password again").FillAsync("another password here");
        await invited.GetByRole(AriaRole.Button, new() { Name = "Set password" }).ClickAsync();
        await Expect(invited.GetByRole(AriaRole.Alert)).ToContainTextAsync("used already");

        var partner = await ujumbe.SignInAsync(email, password);
        await partner.GetByRole(AriaRole.Link, new() { Name = "Tenants" }).ClickAsync();
        await Expect(partner.GetByText("No tenants yet")).ToBeVisibleAsync();
        await partner.GetByLabel("Name", new() { Exact = true }).FillAsync("Duka " + suffix);
        await partner.GetByLabel("Owner email", new() { Exact = true }).FillAsync($"duka{suffix}@example.com");
        await partner.GetByRole(AriaRole.Button, new() { Name = "Open tenant" }).ClickAsync();
        await Expect(partner.GetByRole(AriaRole.Status)).ToContainTextAsync("Duka " + suffix + " is open");
        var row = partner.Locator("tbody tr", new() { HasText = "Duka " + suffix });
        await Expect(row).ToHaveCountAsync(1);

        await row.GetByText("Move credits").ClickAsync();
        await row.GetByLabel(new Regex("^Credits to Duka")).FillAsync("300");
        await row.GetByRole(AriaRole.Button, new() { Name = "Move" }).ClickAsync();
        await Expect(partner.GetByRole(AriaRole.Status)).ToContainTextAsync("the tenant has 300 credits available, you have 700 credits");
        await Expect(row.Locator("td.num")).ToHaveTextAsync("300");

        await row.GetByText("Move credits").ClickAsync();
        await row.GetByLabel(new Regex("^Credits to Duka")).FillAsync("-5000");
        await row.GetByRole(AriaRole.Button, new() { Name = "Move" }).ClickAsync();
        await Expect(partner.GetByRole(AriaRole.Status)).ToContainTextAsync("Move credits:");
        await Expect(row.Locator("td.num")).ToHaveTextAsync("300");

        await row.GetByRole(AriaRole.Button, new() { Name = "Suspend Duka " + suffix }).ClickAsync();
        await Expect(partner.GetByRole(AriaRole.Status)).ToContainTextAsync("is suspended");
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Activate Duka " + suffix })).ToBeVisibleAsync();

        // An owner whose account is not a partner has no tenants page.
        var owner = await DemoAsync();
        await Expect(owner.GetByRole(AriaRole.Link, new() { Name = "Tenants" })).ToHaveCountAsync(0);
        await owner.GotoAsync("/partner/tenants");
        await Expect(owner).ToHaveURLAsync(new Regex("/forbidden"));
    }
}
