#:package Microsoft.Playwright
#:property PublishAot=false

// Run by scripts/aspire-screenshots.sh against a running AppHost: sends one SMS through the gateway
// with a trace context of its own (so its trace id is known), with a webhook endpoint on a tiny local
// receiver; waits until the message is delivered and its webhooks received; then drives Debian's
// Chromium through the Aspire dashboard and saves the resources page, that send's trace and a Ujumbe
// meter as PNGs.
//
// Arguments: <gateway url> <dashboard login link> <demo API key> <output folder>
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.Playwright;

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: aspire-screenshots.cs <gateway url> <dashboard login link> <demo API key> <output folder>");
    return 2;
}
var (gateway, login, key, output) = (args[0].TrimEnd('/'), args[1], args[2], args[3]);
var dashboard = new Uri(login).GetLeftPart(UriPartial.Authority);
Directory.CreateDirectory(output);

// The webhook receiver: answers 204 and remembers which events came.
var received = new List<string>();
var port = FreePort();
using var receiver = new HttpListener();
receiver.Prefixes.Add($"http://127.0.0.1:{port}/");
receiver.Start();
_ = Task.Run(async () =>
{
    while (receiver.IsListening)
    {
        var context = await receiver.GetContextAsync();
        using (var body = JsonDocument.Parse(context.Request.InputStream))
        {
            lock (received)
            {
                received.Add(body.RootElement.GetProperty("event").GetString() ?? "");
            }
        }
        context.Response.StatusCode = 204;
        context.Response.Close();
    }
});

using var api = new HttpClient { BaseAddress = new Uri(gateway + "/"), Timeout = TimeSpan.FromSeconds(30) };
api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
string[] events = ["message.sent", "message.delivered", "batch.finalized"];
var endpoint = await Json(await api.PostAsJsonAsync("v1/webhooks", new { url = $"http://127.0.0.1:{port}/ujumbe", events }));
var webhookId = endpoint.GetProperty("id").GetString()!;
try
{
    // A trace context of our own: the trace id is ours to look up in the dashboard.
    var traceId = ActivityTraceId.CreateRandom();
    using var send = new HttpRequestMessage(HttpMethod.Post, "v1/messages")
    {
        Content = JsonContent.Create(new { to = "+255712345678", text = "Habari! Your order has shipped.", sender_id = "UJUMBE", reference = "aspire-screenshots" }),
    };
    send.Headers.Add("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01");
    var accepted = await Json(await api.SendAsync(send));
    var messageId = accepted.GetProperty("messages")[0].GetProperty("id").GetString()!;
    Console.WriteLine($"sent {messageId}, trace {traceId}");

    await Eventually(async () => (await Json(await api.GetAsync($"v1/messages/{messageId}"))).GetProperty("status").GetString() == "delivered",
        "the message is delivered");
    await Eventually(() =>
    {
        lock (received)
        {
            return Task.FromResult(events.All(received.Contains));
        }
    }, "its webhooks are received (message.sent, message.delivered, batch.finalized)");
    Console.WriteLine("delivered; webhooks received");

    using var playwright = await Playwright.CreateAsync();
    await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
    {
        ExecutablePath = "/usr/bin/chromium",
        Headless = true,
        Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    var page = await browser.NewPageAsync(new BrowserNewPageOptions
    {
        ViewportSize = new ViewportSize { Width = 1600, Height = 1060 },
        ColorScheme = ColorScheme.Light,
        Locale = "en-GB",
        TimezoneId = "Africa/Dar_es_Salaam",
    });

    // The login link sets the dashboard's auth cookie and lands on the resources page.
    await page.GotoAsync(login);
    await page.WaitForURLAsync(url => !url.Contains("/login", StringComparison.Ordinal), new PageWaitForURLOptions { Timeout = 30_000 });
    await Shoot(page, $"{dashboard}/", page => AllHealthy(page), Path.Combine(output, "aspire-resources.png"));

    // Spans arrive by OTLP in batches: reload until the worker's webhook span is there too.
    await Shoot(page, $"{dashboard}/traces/detail/{traceId}",
        async page => await page.GetByText("webhook deliver").CountAsync() > 0 && await page.GetByText("provider submit").CountAsync() > 0,
        Path.Combine(output, "aspire-trace.png"));

    await Shoot(page, $"{dashboard}/metrics/resource/api?meter=Ujumbe.Api&instrument=ujumbe.messages.accepted&duration=5&view=Graph",
        async page => await page.GetByText("ujumbe.messages.accepted").CountAsync() > 0 && await page.Locator("svg .main-svg, .plotly svg, canvas").CountAsync() > 0,
        Path.Combine(output, "aspire-metrics.png"));
    return 0;
}
finally
{
    // The demo account keeps no endpoint pointing at a receiver that is gone.
    await api.DeleteAsync($"v1/webhooks/{webhookId}");
    receiver.Stop();
}

static async Task<bool> AllHealthy(IPage page)
{
    var text = await page.Locator("body").InnerTextAsync();
    return text.Contains("gateway", StringComparison.Ordinal) && text.Contains("worker", StringComparison.Ordinal)
        && !text.Contains("Starting", StringComparison.Ordinal) && !text.Contains("Unhealthy", StringComparison.Ordinal);
}

// Opens the page until it shows what it should (reloading meanwhile), then saves it.
static async Task Shoot(IPage page, string url, Func<IPage, Task<bool>> ready, string file)
{
    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
    while (true)
    {
        await page.GotoAsync(url);
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        for (var i = 0; i < 10 && !await ready(page); i++)
        {
            await page.WaitForTimeoutAsync(500);
        }
        if (await ready(page))
        {
            break;
        }
        if (DateTime.UtcNow > deadline)
        {
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = file + ".failed.png" });
            throw new TimeoutException($"{url} did not show what it should within 60 s (see {file}.failed.png)");
        }
    }
    await DismissCertificateNotice(page);
    await page.WaitForTimeoutAsync(1000); // let charts finish drawing
    await page.ScreenshotAsync(new PageScreenshotOptions { Path = file });
    Console.WriteLine($"saved {file}");
}

// The dashboard warns that no trusted HTTPS development certificate exists: true here, where it runs on
// plain http on loopback as scripts/run.sh configures it, and beside the point of the pictures.
static async Task DismissCertificateNotice(IPage page)
{
    var notice = page.GetByText("No trusted development certificate");
    if (await notice.CountAsync() > 0)
    {
        await page.Locator("[aria-label='Dismiss notification']").First.ClickAsync();
        await notice.First.WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Hidden, Timeout = 5_000 });
    }
}

static async Task Eventually(Func<Task<bool>> condition, string what)
{
    var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
    while (!await condition())
    {
        if (DateTime.UtcNow > deadline)
        {
            throw new TimeoutException($"Not within 60 s: {what}");
        }
        await Task.Delay(250);
    }
}

static async Task<JsonElement> Json(HttpResponseMessage response)
{
    using (response)
    {
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{(int)response.StatusCode} from {response.RequestMessage?.RequestUri}: {text}");
        }
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

static int FreePort()
{
    using var socket = new TcpListener(IPAddress.Loopback, 0);
    socket.Start();
    return ((IPEndPoint)socket.LocalEndpoint).Port;
}
