using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.AppHost.Tests;

/// <summary>The system as the AppHost runs it: one of each service, real servers.</summary>
public sealed class AppHostTests(AppHostFixture ujumbe) : IClassFixture<AppHostFixture>
{
    [Fact]
    public async Task Every_resource_is_healthy()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        foreach (var name in AppHostFixture.Resources)
        {
            var state = await ujumbe.App.ResourceNotifications.WaitForResourceHealthyAsync(name, timeout.Token);
            Assert.Equal(KnownResourceStates.Running, state.Snapshot.State?.Text);
        }
        using var gateway = ujumbe.Client("gateway");
        await (await gateway.GetAsync("/health")).AssertJsonAsync();
    }

    [Fact]
    public async Task A_send_through_the_gateway_is_delivered_and_its_webhook_verifies()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        using var client = ujumbe.Client("gateway", ujumbe.DemoKey);
        var webhook = await (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url("apphost"), events = new[] { "message.delivered" } }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var secret = webhook.GetProperty("secret").GetString()!;

        var sent = await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "0712345678" }, text = "Habari kutoka AppHost", sender_id = "UJUMBE" }))
            .AssertJsonAsync(HttpStatusCode.Accepted);
        var id = sent.GetProperty("messages")[0].GetProperty("id").GetString()!;

        await HttpAssertions.EventuallyAsync(async () =>
            (await (await client.GetAsync($"/v1/messages/{id}")).AssertJsonAsync()).GetProperty("status").GetString() == "delivered",
            TimeSpan.FromSeconds(60), "the message is delivered");
        await HttpAssertions.EventuallyAsync(() => Task.FromResult(receiver.At("apphost").Any(w => w.Text.Contains(id, StringComparison.Ordinal))),
            TimeSpan.FromSeconds(30), "its message.delivered webhook arrives");
        var received = receiver.At("apphost").First(w => w.Text.Contains(id, StringComparison.Ordinal));
        Assert.Equal("message.delivered", received.Json.GetProperty("event").GetString());
        Assert.True(IndependentVerifier.Verifies(received, secret), "the webhook's signature verifies with the endpoint's secret");
        Assert.False(IndependentVerifier.Verifies(received, "whsec_" + Convert.ToBase64String(new byte[32])), "and not with another");
    }

    [Fact]
    public async Task The_web_dashboard_answers()
    {
        using var web = ujumbe.Client("web");
        var response = await web.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Ujumbe", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_killed_worker_is_started_again_and_nothing_else_stops()
    {
        var before = await ujumbe.App.ResourceNotifications.WaitForResourceHealthyAsync("worker");
        var pid = before.Snapshot.Properties.Single(p => p.Name == "executable.pid").Value?.ToString();
        Assert.False(string.IsNullOrEmpty(pid));
        System.Diagnostics.Process.GetProcessById(int.Parse(pid!, System.Globalization.CultureInfo.InvariantCulture)).Kill(entireProcessTree: true);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await ujumbe.App.ResourceNotifications.WaitForResourceAsync("worker",
            e => e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value?.ToString() is { } now && now != pid
                 && e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy,
            timeout.Token);
        foreach (var name in AppHostFixture.Resources.Where(n => n != "worker"))
        {
            Assert.True(ujumbe.App.ResourceNotifications.TryGetCurrentState(name, out var state));
            Assert.Equal(KnownResourceStates.Running, state.Snapshot.State?.Text);
        }
        using var client = ujumbe.Client("gateway", ujumbe.DemoKey);
        await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
    }
}
