using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Ujumbe.Shared.Messaging;
using Ujumbe.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Ujumbe.Tests;

/// <summary>Contacts, campaigns, content rules and dead letters in the dashboard.</summary>
public sealed partial class WebDashboardTests
{
    private static string Suffix() => Random.Shared.Next(100_000, 999_999).ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task An_owner_edits_a_contact_and_a_bad_number_is_named_next_to_its_field()
    {
        var suffix = Suffix();
        using (var client = ujumbe.Client(ujumbe.DemoKey))
        {
            await (await client.PostAsJsonAsync("/v1/contacts", new { name = "Zawadi Edit", phone_number = "0716" + suffix, tags = new[] { "old" } }))
                .AssertJsonAsync(HttpStatusCode.Created);
        }
        var page = await DemoAsync();
        await page.GotoAsync("/contacts?q=0716" + suffix);
        await page.GetByRole(AriaRole.Link, new() { Name = "Edit Zawadi Edit" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/contacts/con_"));

        await page.GetByLabel("Phone number").FillAsync("12345");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save contact" }).ClickAsync();
        await Expect(page.Locator("span.error[data-valmsg-for='Input.PhoneNumber']")).ToContainTextAsync("12345");

        await page.GetByLabel("Phone number").FillAsync("0716" + suffix);
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Zawadi <b>Renamed</b>");
        await page.GetByLabel("Tags (optional, separated by commas)").FillAsync("vip, renamed");
        await page.GetByLabel("Opted out: send this number nothing").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Save contact" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/contacts$"));
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Zawadi <b>Renamed</b>");

        await page.GotoAsync("/contacts?q=0716" + suffix);
        var row = page.Locator("tbody tr");
        await Expect(row).ToHaveCountAsync(1);
        await Expect(row).ToContainTextAsync("Zawadi <b>Renamed</b>");
        await Expect(row).ToContainTextAsync("vip");
        await Expect(row).ToContainTextAsync("renamed");
        await Expect(row).ToContainTextAsync("opted out");
    }

    [Fact]
    public async Task An_owner_creates_a_campaign_with_a_placeholder_preview_and_watches_its_summary()
    {
        var suffix = Suffix();
        using (var client = ujumbe.Client(ujumbe.DemoKey))
        {
            foreach (var (name, number) in new[] { ("Asha", "0717" + suffix), ("Juma", "0718" + suffix) })
            {
                await (await client.PostAsJsonAsync("/v1/contacts", new { name, phone_number = number, tags = new[] { "campaign-" + suffix } }))
                    .AssertJsonAsync(HttpStatusCode.Created);
            }
        }
        var page = await DemoAsync();
        await page.GotoAsync("/segments");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Wateja " + suffix);
        await page.GetByLabel("Contacts with any of these tags (separated by commas)").FillAsync("campaign-" + suffix);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create segment" }).ClickAsync();
        await Expect(page.GetByRole(AriaRole.Status)).ToContainTextAsync("Wateja " + suffix);
        await page.GetByRole(AriaRole.Link, new() { Name = "Send a campaign to Wateja " + suffix }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/campaigns/new"));

        await page.GetByLabel("Campaign name").FillAsync("Promo <script>" + suffix);
        await page.GetByLabel("Message").FillAsync("Habari {{name}}, karibu dukani!");
        // The live preview fills the placeholder for the segment's first contact.
        await Expect(page.GetByTestId("preview-text")).ToHaveTextAsync(new Regex("^Habari (Asha|Juma), karibu dukani!$"));
        await Expect(page.Locator("#preview")).ToContainTextAsync("1 segment(s), GSM-7");

        await page.GetByRole(AriaRole.Button, new() { Name = "Send campaign" }).ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/campaigns/cmp_"));
        await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToHaveTextAsync("Promo <script>" + suffix);
        await Expect(page.GetByTestId("total-count")).ToHaveTextAsync("2");
        // The summary refreshes itself until the simulator's delivery reports arrive.
        await Expect(page.GetByTestId("delivered-count")).ToHaveTextAsync("2", new() { Timeout = 30_000 });
        await page.GotoAsync("/campaigns");
        await Expect(page.Locator("tbody tr", new() { HasText = "Promo <script>" + suffix })).ToHaveCountAsync(1);
    }

    [Fact]
    public async Task A_campaign_form_sent_twice_makes_one_campaign()
    {
        var name = "Twice " + Suffix();
        var page = await DemoAsync();
        await page.GotoAsync("/campaigns/new");
        await page.GetByLabel("Campaign name").FillAsync(name);
        await page.GetByLabel("Message").FillAsync("Once only, please.");
        await page.GetByRole(AriaRole.Radio, new() { Name = "Numbers I type" }).CheckAsync();
        await page.GetByLabel("Numbers (for \"Numbers I type\")").FillAsync("+255713000201");

        // A double click: the same form, sent twice at once.
        var statuses = await page.EvaluateAsync<int[]>("""
            () => { const form = document.getElementById('campaign-form');
                    return Promise.all([1, 2].map(() => fetch(location.pathname, { method: 'POST', body: new FormData(form) }).then(r => r.status))); }
            """);

        Assert.All(statuses, status => Assert.Equal(200, status));
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var campaigns = await (await client.GetAsync("/v1/campaigns?page_size=100")).AssertJsonAsync();
        Assert.Single(campaigns.GetProperty("data").EnumerateArray(), c => c.GetProperty("name").GetString() == name);
    }

    [Fact]
    public async Task A_campaign_without_an_audience_or_text_is_refused_with_field_errors()
    {
        var page = await DemoAsync();
        await page.GotoAsync("/campaigns/new");
        await page.GetByLabel("Campaign name").FillAsync("Nobody");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send campaign" }).ClickAsync();
        await Expect(page.Locator("span.error[data-valmsg-for='Input.Audience']")).ToContainTextAsync("Choose who gets the campaign");
        await Expect(page.Locator("span.error[data-valmsg-for='Input.Text']")).ToContainTextAsync("Write the message");
        await page.GetByLabel("Numbers (for \"Numbers I type\")").FillAsync("12345");
        await page.GetByLabel("Message").FillAsync("Hello");
        await page.GetByRole(AriaRole.Button, new() { Name = "Send campaign" }).ClickAsync();
        await Expect(page.Locator("span.error[data-valmsg-for='Input.Numbers']")).ToContainTextAsync("12345");
    }

    [Fact]
    public async Task An_operator_blocks_a_phrase_and_a_send_containing_it_is_refused()
    {
        var phrase = "bahati nasibu " + Suffix();
        var staff = await OperatorAsync();
        await staff.GotoAsync("/operator/content-rules");
        await staff.GetByLabel("Category (lower-case, e.g. gambling)").FillAsync("Not A Category!");
        await staff.GetByLabel("Word or phrase").FillAsync(phrase);
        await staff.GetByRole(AriaRole.Button, new() { Name = "Block", Exact = true }).ClickAsync();
        await Expect(staff.Locator("span.error[data-valmsg-for='Input.Category']")).ToContainTextAsync("lower-case");
        await staff.GetByLabel("Category (lower-case, e.g. gambling)").FillAsync("gambling");
        await staff.GetByRole(AriaRole.Button, new() { Name = "Block", Exact = true }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync("is blocked under gambling");

        using (var client = ujumbe.Client(ujumbe.DemoKey))
        {
            await (await client.PostAsJsonAsync("/v1/messages", new { to = new[] { "0712000301" }, text = "Cheza " + phrase + " leo", sender_id = "UJUMBE" }))
                .AssertProblemAsync(HttpStatusCode.Forbidden, Ujumbe.ServiceDefaults.ErrorCodes.ContentRejected);
        }
        await staff.GetByRole(AriaRole.Button, new() { Name = "Stop blocking " + phrase }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync("no longer blocked");
    }

    [Fact]
    public async Task An_operator_sees_a_dead_letter_with_its_reason_and_replays_it_once()
    {
        var marker = "dead-" + Suffix();
        await PublishUnreadableDispatchAsync(marker);
        var staff = await OperatorAsync();
        await staff.GetByRole(AriaRole.Link, new() { Name = "Dead letters" }).ClickAsync();
        // Drained from the broker within seconds; the page is reloaded until it shows.
        await HttpAssertions.EventuallyAsync(async () =>
        {
            await staff.GotoAsync("/operator/dead-letters?status=waiting&queue=dispatch");
            foreach (var link in await staff.Locator("tbody tr td:first-child a").AllAsync())
            {
                var href = await link.GetAttributeAsync("href") ?? "";
                var detail = await (await staff.APIRequest.GetAsync(href)).TextAsync();
                if (detail.Contains(marker, StringComparison.Ordinal))
                {
                    await staff.GotoAsync(href);
                    return true;
                }
            }
            return false;
        }, TimeSpan.FromSeconds(30), "the dead letter is listed");
        await Expect(staff.GetByTestId("last-error")).ToContainTextAsync("JSON");
        await Expect(staff.Locator("pre.body")).ToContainTextAsync(marker);
        await Expect(staff.Locator(".facts")).ToContainTextAsync("waiting");

        await staff.GetByRole(AriaRole.Button, new() { Name = "Replay" }).ClickAsync();
        await Expect(staff.GetByRole(AriaRole.Status)).ToContainTextAsync("Sent back to the dispatch queue");
        await Expect(staff.Locator(".facts")).ToContainTextAsync("replayed");
        await Expect(staff.GetByRole(AriaRole.Button, new() { Name = "Replay" })).ToHaveCountAsync(0);
        var id = staff.Url[(staff.Url.LastIndexOf('/') + 1)..];

        // A second replay (another tab, an old form) is refused: the work went back once.
        using var again = await SignedInClientAsync(Ujumbe.Api.Seeding.SeededKeys.OperatorEmail, ujumbe.OperatorPassword);
        var answer = await again.PostFormAsync($"/operator/dead-letters/{id}", "Replay", new() { ["id"] = id });
        Assert.Contains("already replayed", WebUtility.HtmlDecode(answer), StringComparison.Ordinal);
        Assert.Equal(1L, await ujumbe.Database.ScalarAsync<long>(
            "select count(*) from dead_letters where position($1::bytea in body) > 0 and replayed_at is not null",
            System.Text.Encoding.UTF8.GetBytes(marker)));
    }

    /// <summary>A dispatch chunk nobody can read, on its last try: it goes to the dead letters.</summary>
    private async Task PublishUnreadableDispatchAsync(string marker)
    {
        var body = System.Text.Encoding.UTF8.GetBytes($$"""{"messages":"{{marker}}"}""");
        var lastTry = new OutgoingMessage(Topology.Exchange, Topology.Dispatch, body, null,
            new Dictionary<string, object?> { [Topology.AttemptHeader] = Topology.RetryDelays.Length });
        await ujumbe.Worker.Services.GetRequiredService<ConfirmingPublisher>().PublishAsync([lastTry], CancellationToken.None);
    }
}
