using System.Text.Json;
using Microsoft.Playwright;
using Ujumbe.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Ujumbe.Tests;

/// <summary>The dashboard is Wasambazie's "portal" for webhooks: an owner registers one in the dialect's format there.</summary>
public sealed partial class WebDashboardTests
{
    [Fact]
    public async Task An_owner_registers_a_webhook_in_the_wasambazie_format()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var page = await DemoAsync();
        await page.GotoAsync("/webhooks");
        var url = receiver.Url("wasambazie-" + Guid.NewGuid().ToString("N")[..8]);
        await page.GetByLabel("URL").FillAsync(url);
        await page.GetByLabel("Format").SelectOptionAsync("wasambazie");
        await page.GetByRole(AriaRole.Button, new() { Name = "Add webhook" }).ClickAsync();
        Assert.StartsWith("whsec_", await page.GetByTestId("secret").InputValueAsync());
        await Expect(page.GetByRole(AriaRole.Row, new() { Name = url })).ToContainTextAsync("wasambazie");

        using var client = ujumbe.Client(ujumbe.DemoKey);
        var listed = await (await client.GetAsync("/v1/webhooks?page_size=100")).AssertJsonAsync();
        var webhook = listed.GetProperty("data").EnumerateArray().Single(w => w.GetProperty("url").GetString() == url);
        Assert.Equal("wasambazie", webhook.GetProperty("format").GetString());
        Assert.Equal(["batch.finalized"], webhook.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.True, webhook.GetProperty("enabled").ValueKind);
    }
}
