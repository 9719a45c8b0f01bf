using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Ujumbe.Api.Seeding;
using Ujumbe.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Ujumbe.Tests;

/// <summary>The dashboard in a real browser (Chromium) against the real stack, as its users use it.</summary>
public sealed partial class WebDashboardTests(WebFixture ujumbe) : IClassFixture<WebFixture>
{
    private Task<IPage> DemoAsync() => ujumbe.SignInAsync(SeededKeys.DemoEmail, ujumbe.DemoPassword);

    private Task<IPage> OperatorAsync() => ujumbe.SignInAsync(SeededKeys.OperatorEmail, ujumbe.OperatorPassword);

    [Fact]
    public async Task An_owner_signs_in_sends_an_sms_with_a_live_quote_and_watches_it_delivered()
    {
        var page = await DemoAsync();
        await Expect(page.GetByTestId("available")).ToContainTextAsync("credits");

        await page.GetByRole(AriaRole.Link, new() { Name = "Send SMS" }).ClickAsync();
        await page.GetByLabel("To", new() { Exact = true }).FillAsync("0712 345 678");
        await page.GetByLabel("Sender ID", new() { Exact = true }).SelectOptionAsync("UJUMBE");
        await page.GetByLabel("Message").FillAsync("Habari from the dashboard");
        // The live quote (site.js) answers while typing: one recipient, one GSM-7 segment.
        await Expect(page.Locator("#quote")).ToContainTextAsync("1 credit for 1 recipient(s) · 1 segment(s), GSM-7");

        await page.GetByRole(AriaRole.Button, new() { Name = "Send", Exact = true }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/batches/bat_"));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Sent to 1 recipient(s)");
        // The report refreshes itself until the simulator's delivery report arrives.
        await Expect(page.GetByTestId("delivered-count")).ToHaveTextAsync("1", new() { Timeout = 30_000 });
        await Expect(page.Locator("#report table")).ToContainTextAsync("+255712345678");
        await Expect(page.Locator("#report table")).ToContainTextAsync("delivered");
    }

    [Fact]
    public async Task Send_form_errors_from_the_api_appear_next_to_the_field()
    {
        var page = await DemoAsync();
        await page.GotoAsync("/send");
        await page.GetByLabel("To", new() { Exact = true }).FillAsync("12345");
        await page.GetByLabel("Message").FillAsync("Hello");
        await page.GetByRole(AriaRole.Button, new() { Name = "Get quote" }).ClickAsync();
        await Expect(page.Locator("span.error[data-valmsg-for='Input.To']")).ToContainTextAsync("12345");
        await Expect(page.Locator(".errors").First).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_the_problem_detail_and_pages_need_a_session()
    {
        var context = await ujumbe.Browser.NewContextAsync(new() { BaseURL = ujumbe.Web.Address.ToString() });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/messages");
        await Expect(page).ToHaveURLAsync(new Regex("/sign-in"));
        await page.GetByLabel("Email").FillAsync(SeededKeys.DemoEmail);
        await page.GetByLabel("Password").FillAsync("not the password");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The email or password is not correct.");
        await context.CloseAsync();
    }

    [Fact]
    public async Task A_token_the_gateway_refuses_ends_the_session_with_a_message_not_an_error()
    {
        var (web, gateway) = ujumbe.StartWebWhoseTokensAreRefused();
        await using var _ = web;
        await using var __ = gateway;
        var context = await ujumbe.Browser.NewContextAsync(new() { BaseURL = web.Address.ToString() });
        var page = await context.NewPageAsync();
        await page.GotoAsync("/messages");
        await page.GetByLabel("Email").FillAsync(SeededKeys.DemoEmail);
        await page.GetByLabel("Password").FillAsync(ujumbe.DemoPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/sign-in\\?expired=true"));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Your session has expired. Please sign in again.");
        // Signed out: the cookie is gone, so the next page asks to sign in again.
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new Regex("/sign-in"));
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Messages" })).ToHaveCountAsync(0);
        await context.CloseAsync();
    }

    [Fact]
    public async Task An_api_key_secret_is_shown_once_works_and_stops_working_when_revoked()
    {
        var page = await DemoAsync();
        await page.GotoAsync("/api-keys");
        var name = "<b>CI</b> " + Guid.NewGuid().ToString("N")[..6];
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();

        var secret = await page.GetByTestId("secret").InputValueAsync();
        Assert.StartsWith("sk_", secret);
        await Expect(page.GetByText("This is the only time it is shown.")).ToBeVisibleAsync();
        // The name is shown as typed: escaped, not interpreted as markup.
        await Expect(page.Locator("td", new() { HasText = name })).ToHaveCountAsync(1);
        using (var client = ujumbe.Client(secret))
        {
            await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
        }

        await page.GotoAsync("/api-keys");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        await Expect(page.GetByTestId("secret")).ToHaveCountAsync(0);

        await page.GetByRole(AriaRole.Button, new() { Name = "Revoke " + name }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("is revoked");
        await Expect(page.Locator("tr", new() { HasText = name })).ToContainTextAsync("revoked");
        using (var client = ujumbe.Client(secret))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/v1/balance")).StatusCode);
        }
    }

    [Fact]
    public async Task An_owner_requests_a_sender_id_and_an_operator_approves_it()
    {
        var name = "W" + Guid.NewGuid().ToString("N")[..7].ToUpperInvariant();
        var owner = await DemoAsync();
        await owner.GotoAsync("/sender-ids");
        await owner.GetByLabel("Sender ID", new() { Exact = true }).FillAsync(name);
        await owner.GetByLabel("What it is for").FillAsync("Dashboard test");
        await owner.GetByRole(AriaRole.Button, new() { Name = "Request" }).ClickAsync();
        await Expect(owner.Locator($"tr[data-sender='{name}']")).ToContainTextAsync("pending");

        var staff = await OperatorAsync();
        await staff.GotoAsync("/operator/sender-ids");
        await staff.GetByRole(AriaRole.Button, new() { Name = "Approve " + name }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync($"{name} is approved.");

        await owner.ReloadAsync();
        await Expect(owner.Locator($"tr[data-sender='{name}']")).ToContainTextAsync("approved");
        // Approved IDs are what the send form offers.
        await owner.GotoAsync("/send");
        await Expect(owner.Locator($"select#Input_SenderId option[value='{name}']")).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task An_operator_rejects_a_sender_id_with_a_reason_and_adjusts_credits_with_one()
    {
        var name = "R" + Guid.NewGuid().ToString("N")[..7].ToUpperInvariant();
        using (var owner = ujumbe.Client(ujumbe.DemoKey))
        {
            await (await owner.PostAsJsonAsync("/v1/sender-ids", new { name, purpose = "to be rejected" })).AssertJsonAsync(HttpStatusCode.Created);
        }
        var staff = await OperatorAsync();
        await staff.GotoAsync("/operator/sender-ids");
        await staff.GetByLabel("Reason to reject " + name).FillAsync("Looks like <another brand>");
        await staff.GetByRole(AriaRole.Button, new() { Name = "Reject " + name }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync($"{name} is rejected.");
        var demo = await DemoAsync();
        await demo.GotoAsync("/sender-ids");
        await Expect(demo.Locator($"tr[data-sender='{name}']")).ToContainTextAsync("rejected");
        await Expect(demo.Locator($"tr[data-sender='{name}']")).ToContainTextAsync("Looks like <another brand>");

        await staff.GotoAsync("/operator/accounts?q=Demo%20Company");
        var row = staff.Locator("tr", new() { HasText = "Demo Company" });
        await row.GetByText("Adjust credits").ClickAsync();
        await row.GetByLabel("Credits (negative removes)").FillAsync("1,250");
        await row.GetByRole(AriaRole.Button, new() { Name = "Adjust", Exact = true }).ClickAsync();
        // No reason: refused, nothing posted.
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync("give a reason");
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var before = (await (await client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("balance").GetInt64();
        row = staff.Locator("tr", new() { HasText = "Demo Company" });
        await row.GetByText("Adjust credits").ClickAsync();
        await row.GetByLabel("Credits (negative removes)").FillAsync("1,250");
        await row.GetByLabel("Reason").FillAsync("Bank transfer 4711");
        await row.GetByRole(AriaRole.Button, new() { Name = "Adjust", Exact = true }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync("Adjusted by +1,250 credits");
        var after = (await (await client.GetAsync("/v1/balance")).AssertJsonAsync()).GetProperty("balance").GetInt64();
        Assert.Equal(before + 1250, after);
        await demo.GotoAsync("/ledger");
        await Expect(demo.Locator("tbody tr").First).ToContainTextAsync("Bank transfer 4711");
    }

    [Fact]
    public async Task An_owner_cannot_open_operator_pages()
    {
        var page = await DemoAsync();
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Accounts" })).ToHaveCountAsync(0);
        await page.GotoAsync("/operator/accounts");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Not allowed" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task A_registered_webhook_lists_its_delivery_attempts()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var page = await DemoAsync();
        await page.GotoAsync("/webhooks");
        await page.GetByLabel("URL").FillAsync(receiver.Url("dashboard"));
        await page.GetByLabel("message.delivered").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Add webhook" }).ClickAsync();
        Assert.StartsWith("whsec_", await page.GetByTestId("secret").InputValueAsync());

        using (var client = ujumbe.Client(ujumbe.DemoKey))
        {
            await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "0713000111" }, text = "for the webhook", sender_id = "UJUMBE" }))
                .AssertJsonAsync(HttpStatusCode.Accepted);
        }
        await page.GotoAsync("/webhooks");
        await page.GetByRole(AriaRole.Link, new() { Name = receiver.Url("dashboard") }).ClickAsync();
        await HttpAssertions.EventuallyAsync(async () =>
        {
            await page.ReloadAsync();
            return await page.GetByTestId("delivery").Locator("td", new() { HasText = "204" }).CountAsync() > 0;
        }, TimeSpan.FromSeconds(30), "a delivery attempt answered 204 is listed");
        await Expect(page.GetByTestId("delivery").First).ToContainTextAsync("message.delivered");
        await Expect(page.GetByTestId("delivery").First).ToContainTextAsync("ms");
    }

    [Fact]
    public async Task An_operator_opens_an_account_and_sees_its_first_key_once()
    {
        var page = await OperatorAsync();
        await page.GotoAsync("/operator/accounts");
        var name = "Shop " + Guid.NewGuid().ToString("N")[..6];
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await page.GetByLabel("Owner email", new() { Exact = true }).FillAsync($"{Guid.NewGuid():N}@example.com");
        await page.GetByRole(AriaRole.Button, new() { Name = "Open account" }).ClickAsync();
        await page.WaitForLoadStateAsync();
        Assert.True(await page.GetByTestId("secret").CountAsync() == 1, await page.InnerTextAsync("main"));
        var secret = await page.GetByTestId("secret").InputValueAsync();
        Assert.StartsWith("sk_", secret);

        await page.GetByLabel("Search by name, owner email or account id").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);
        await page.GetByRole(AriaRole.Button, new() { Name = "Suspend " + name }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync($"{name} is suspended.");
        using var client = ujumbe.Client(secret);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/v1/balance")).StatusCode);
    }

    [Fact]
    public async Task A_form_without_its_anti_forgery_token_or_naming_another_accounts_key_changes_nothing()
    {
        using var web = await SignedInClientAsync(SeededKeys.DemoEmail, ujumbe.DemoPassword);
        using var owner = ujumbe.Client(ujumbe.DemoKey);
        var key = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "kept" })).AssertJsonAsync(HttpStatusCode.Created);
        var keyId = key.GetProperty("id").GetString()!;

        // No token: refused before any handler runs.
        var bare = await web.Client.PostAsync("/api-keys?handler=Revoke", new FormUrlEncodedContent(new Dictionary<string, string> { ["id"] = keyId }));
        Assert.Equal(HttpStatusCode.BadRequest, bare.StatusCode);

        // A valid token, but the operator's key id in the hidden field: the Api answers for the caller's account only.
        using var staff = ujumbe.Client(ujumbe.OperatorKey);
        var operatorKeys = await (await staff.GetAsync("/v1/api-keys")).AssertJsonAsync();
        var operatorKeyId = operatorKeys.GetProperty("data")[0].GetProperty("id").GetString()!;
        var tampered = await web.PostFormAsync("/api-keys", "Revoke", new() { ["id"] = operatorKeyId });
        Assert.Contains("No API key with this id.", tampered, StringComparison.Ordinal);

        using var keyCheck = ujumbe.Client(key.GetProperty("secret").GetString()!);
        await (await keyCheck.GetAsync("/v1/balance")).AssertJsonAsync();
        await (await staff.GetAsync("/v1/admin/accounts")).AssertJsonAsync();
    }

    [Fact]
    public async Task A_csv_import_reports_its_bad_row_by_line_and_imports_the_rest()
    {
        var page = await DemoAsync();
        await page.GotoAsync("/contacts");
        var suffix = Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var csv = $"phone,name,tags\n0714{suffix},Amina <i>A</i>,csv\nnot-a-number,Bad Row,csv\n0715{suffix},Baraka,csv\n";
        await page.GetByLabel("CSV file", new() { Exact = true }).SetInputFilesAsync(new FilePayload
        {
            Name = "contacts.csv", MimeType = "text/csv", Buffer = System.Text.Encoding.UTF8.GetBytes(csv),
        });
        await page.GetByRole(AriaRole.Button, new() { Name = "Import" }).ClickAsync();
        var report = page.GetByTestId("import-report");
        await Expect(report).ToContainTextAsync("3 row(s): 2 added, 0 updated, 0 opted out, 1 not imported");
        await Expect(report.Locator("tbody tr")).ToHaveCountAsync(1);
        await Expect(report.Locator("tbody tr td").First).ToHaveTextAsync("3");

        await page.GetByLabel("Search by name, email or number").FillAsync("0714" + suffix);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        // Markup in a name is shown as text.
        await Expect(page.Locator("td", new() { HasText = "Amina <i>A</i>" })).ToHaveCountAsync(1);
    }

    /// <summary>
    /// The main pages at desktop width and at 375 px (no sideways scrolling), saved as PNGs: to
    /// UJUMBE_SCREENSHOTS when set (scripts/screenshots.sh → docs/images), else to a temporary folder.
    /// </summary>
    [Fact]
    public async Task Main_pages_render_at_desktop_and_phone_width()
    {
        var folder = Environment.GetEnvironmentVariable("UJUMBE_SCREENSHOTS") is { Length: > 0 } set
            ? set : Directory.CreateTempSubdirectory("ujumbe-screens").FullName;
        Directory.CreateDirectory(folder);
        await using var receiver = await WebhookReceiver.StartAsync();
        string webhookId, campaignId, paymentId;
        using (var admin = ujumbe.Client(ujumbe.OperatorKey))
        {
            await admin.PostAsJsonAsync("/v1/admin/content-rules", new { category = "gambling", phrase = "bet now" });
        }
        await PublishUnreadableDispatchAsync("screenshot");
        using (var client = ujumbe.Client(ujumbe.DemoKey))
        {
            var webhook = await (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url("orders"), events = new[] { "message.delivered", "batch.finalized" } }))
                .AssertJsonAsync(HttpStatusCode.Created);
            webhookId = webhook.GetProperty("id").GetString()!;
            // Something on every page: contacts, a sender ID waiting for approval, a delivered batch.
            foreach (var (contact, number) in new[] { ("Amina Mwita", "0712000201"), ("Baraka Otieno", "0712000202"), ("Neema Juma", "0712000203") })
            {
                await client.PostAsJsonAsync("/v1/contacts", new { name = contact, phone_number = number, tags = new[] { "customers" } });
            }
            await client.PostAsJsonAsync("/v1/sender-ids", new { name = "DUKAONLINE", purpose = "Order notifications for our shop" });
            var sent = await (await client.PostAsJsonAsync("/v1/messages",
                new { to = new[] { "0712000101", "0712000102", "0712000103" }, text = "Karibu! Your order is on its way.", sender_id = "UJUMBE" }))
                .AssertJsonAsync(HttpStatusCode.Accepted);
            await SendingFixture.WaitForFinalizedAsync(client, sent.GetProperty("batch_id").GetString()!);
            var segment = await (await client.PostAsJsonAsync("/v1/segments", new { name = "Customers", tags_any = new[] { "customers" } }))
                .AssertJsonAsync(HttpStatusCode.Created);
            var campaign = await (await client.PostAsJsonAsync("/v1/campaigns", new
            {
                name = "December offer", text = "Habari {{name}}! 20% off this week at Duka.", sender_id = "UJUMBE",
                audience = new { segment_id = segment.GetProperty("id").GetString() },
            })).AssertJsonAsync(HttpStatusCode.Created);
            campaignId = campaign.GetProperty("id").GetString()!;
            await SendingFixture.WaitForFinalizedAsync(client, campaign.GetProperty("batch_id").GetString()!);
            await HttpAssertions.EventuallyAsync(async () =>
                (await (await client.GetAsync($"/v1/webhooks/{webhookId}/deliveries")).AssertJsonAsync()).GetProperty("total").GetInt32() >= 4,
                TimeSpan.FromSeconds(30), "the webhook's deliveries are recorded");
            paymentId = (await client.PayAsync(500, PaymentSteps.VodacomNumber())).GetProperty("payment_id").GetString()!;
            await client.WaitForPaymentAsync(paymentId, "completed", TimeSpan.FromSeconds(30));
        }

        var visitor = await (await ujumbe.Browser.NewContextAsync(new() { BaseURL = ujumbe.Web.Address.ToString() })).NewPageAsync();
        await visitor.GotoAsync("/sign-in");
        await visitor.ScreenshotAsync(new() { Path = Path.Combine(folder, "web-sign-in.png") });

        var owner = await DemoAsync();
        async Task ShotAsync(IPage page, string path, string name)
        {
            await page.GotoAsync(path);
            await page.ScreenshotAsync(new() { Path = Path.Combine(folder, $"web-{name}.png"), FullPage = true });
            Assert.True(new FileInfo(Path.Combine(folder, $"web-{name}.png")).Length > 5_000, $"{name} rendered");
        }
        await ShotAsync(owner, "/", "overview");
        await owner.GotoAsync("/send");
        await owner.GetByLabel("To", new() { Exact = true }).FillAsync("0712 345 678, 0754 321 000");
        await owner.GetByLabel("Message").FillAsync("Habari! Mkutano ni kesho saa nne asubuhi.");
        await Expect(owner.Locator("#quote")).ToContainTextAsync("credits for 2 recipient(s)");
        await owner.ScreenshotAsync(new() { Path = Path.Combine(folder, "web-send.png"), FullPage = true });
        await ShotAsync(owner, "/messages", "messages");
        await owner.GotoAsync("/messages");
        await owner.Locator("table a").First.ClickAsync();
        await owner.GetByRole(AriaRole.Link, new() { Name = "bat_", Exact = false }).ClickAsync();
        await owner.ScreenshotAsync(new() { Path = Path.Combine(folder, "web-batch.png"), FullPage = true });
        await ShotAsync(owner, "/api-keys", "api-keys");
        await ShotAsync(owner, "/sender-ids", "sender-ids");
        await ShotAsync(owner, "/webhooks", "webhooks");
        await ShotAsync(owner, $"/webhooks/{webhookId}", "webhook-deliveries");
        await ShotAsync(owner, "/contacts", "contacts");
        await ShotAsync(owner, "/ledger", "ledger");
        await ShotAsync(owner, "/segments", "segments");
        await ShotAsync(owner, "/campaigns", "campaigns");
        await ShotAsync(owner, $"/campaigns/{campaignId}", "campaign");
        await ShotAsync(owner, "/payments", "payments");
        await ShotAsync(owner, $"/payments/{paymentId}", "payment");
        await owner.GotoAsync("/campaigns/new");
        await owner.GetByRole(AriaRole.Radio, new() { Name = "A segment" }).CheckAsync();
        await owner.GetByLabel("Segment (for \"A segment\")").SelectOptionAsync(new SelectOptionValue { Label = "Customers" });
        await owner.GetByLabel("Message").FillAsync("Habari {{name}}! Your order is ready.");
        await Expect(owner.GetByTestId("preview-text")).ToContainTextAsync("Habari ");
        await owner.ScreenshotAsync(new() { Path = Path.Combine(folder, "web-campaign-new.png"), FullPage = true });
        var staff = await OperatorAsync();
        await ShotAsync(staff, "/operator/accounts", "operator-accounts");
        await ShotAsync(staff, "/operator/sender-ids", "operator-sender-ids");
        await ShotAsync(staff, "/operator/content-rules", "operator-content-rules");
        await HttpAssertions.EventuallyAsync(async () =>
        {
            await staff.GotoAsync("/operator/dead-letters");
            return await staff.Locator("tbody tr").CountAsync() > 0;
        }, TimeSpan.FromSeconds(30), "a dead letter is listed");
        await ShotAsync(staff, "/operator/dead-letters", "operator-dead-letters");

        var phone = await ujumbe.SignInAsync(SeededKeys.DemoEmail, ujumbe.DemoPassword, width: 375, height: 812);
        foreach (var (path, name) in new[] { ("/", "phone-overview"), ("/send", "phone-send"), ("/messages", "phone-messages"), ("/api-keys", "phone-api-keys"), ("/campaigns/new", "phone-campaign-new"),
            ("/payments", "phone-payments"), ("/payments/new", "phone-payments-new"), ($"/payments/{paymentId}", "phone-payment") })
        {
            await ShotAsync(phone, path, name);
            var overflow = await phone.EvaluateAsync<int>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
            var wide = await phone.EvaluateAsync<string>("""
                [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                  .slice(0, 5).map(e => e.tagName + '.' + e.className).join(', ')
                """);
            Assert.True(overflow <= 0, $"{path} scrolls sideways by {overflow} px at 375 px: {wide}");
        }
    }

    /// <summary>The dashboard as a plain HTTP client with a cookie jar, signed in through its form.</summary>
    private async Task<FormClient> SignedInClientAsync(string email, string password)
    {
        var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = true };
        var client = new FormClient(new HttpClient(handler) { BaseAddress = ujumbe.Web.Address });
        await client.PostFormAsync("/sign-in", null, new() { ["Email"] = email, ["Password"] = password });
        return client;
    }

    private sealed partial class FormClient(HttpClient client) : IDisposable
    {
        public HttpClient Client { get; } = client;

        /// <summary>Loads the form's page for its anti-forgery token, posts, follows the redirect and returns the page.</summary>
        public async Task<string> PostFormAsync(string path, string? handler, Dictionary<string, string> fields)
        {
            var form = await Client.GetStringAsync(path);
            fields["__RequestVerificationToken"] = Token().Match(form).Groups[1].Value;
            var response = await Client.PostAsync(path + (handler is null ? "" : "?handler=" + handler), new FormUrlEncodedContent(fields));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        }

        [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
        private static partial Regex Token();

        public void Dispose() => Client.Dispose();
    }
}
