extern alias GatewayApp;
extern alias WebApp;

using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>
/// The whole product for browser tests: Api, Gateway, Worker (simulator) and the Web dashboard on
/// real sockets, and Debian's Chromium driven by Playwright (scripts/stack.sh installs it).
/// </summary>
public sealed class WebFixture : SendingFixture
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public ServiceHost<WebApp::Program> Web { get; private set; } = null!;
    public IPlaywright Playwright { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Web = StartWeb(Gateway.Address);
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: scripts/stack.sh start installs it (apt-get install chromium).");
        }
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    private static ServiceHost<WebApp::Program> StartWeb(Uri gateway)
    {
        var web = new ServiceHost<WebApp::Program>(new Dictionary<string, string?>
        {
            ["services:gateway:http:0"] = gateway.ToString(),
            ["Dashboard:DefaultTimeZone"] = "Africa/Dar_es_Salaam",
        });
        web.Start();
        return web;
    }

    /// <summary>
    /// A dashboard whose gateway checks portal tokens with another key than the Api signs them with:
    /// sign-in works (the Api answers it), and every later call is refused as an expired token would be.
    /// The caller disposes both.
    /// </summary>
    public (ServiceHost<WebApp::Program> Web, ServiceHost<GatewayApp::Program> Gateway) StartWebWhoseTokensAreRefused()
    {
        var settings = GatewaySettings(Api.Address);
        settings["PortalTokens:SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var gateway = new ServiceHost<GatewayApp::Program>(settings);
        gateway.Start();
        return (StartWeb(gateway.Address), gateway);
    }

    /// <summary>A fresh browser (own cookies) signed in as <paramref name="email"/>, on the overview.</summary>
    public async Task<IPage> SignInAsync(string email, string password, int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Web.Address.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            TimezoneId = "Africa/Nairobi",
        });
        // Generous: a CI machine with two cores runs other test classes beside this one. A passing
        // step never waits for it.
        context.SetDefaultTimeout(30_000);
        // The same for assertions that wait (a page that arrives, a count that refreshes), rather than the 5 s
        // default, and rather than the "load" event, which a loaded machine has been seen to miss.
        Assertions.SetDefaultExpectTimeout(30_000);
        var page = await context.NewPageAsync();
        // The "are you sure?" of revoke and suspend: yes (Playwright would otherwise dismiss it).
        page.Dialog += async (_, dialog) => await dialog.AcceptAsync();
        await page.GotoAsync("/sign-in");
        await page.GetByLabel("Email").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // The URL, not the "load" event: the overview's load was once missed after the sign-in
        // redirect, and the heading below proves the page is there.
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("^https?://[^/]+/$"), new() { Timeout = 30_000 });
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync(new() { Timeout = 30_000 });
        return page;
    }

    public override async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        Playwright?.Dispose();
        if (Web is not null)
        {
            await Web.DisposeAsync();
        }
        await base.DisposeAsync();
    }
}
