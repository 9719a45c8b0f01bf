extern alias GatewayApp;

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Two gateway replicas sharing one Redis: one limit, and changes seen by both within a second.</summary>
public sealed class DistributedGatewayTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>, IAsyncLifetime
{
    private ServiceHost<GatewayApp::Program> _second = null!;

    public Task InitializeAsync()
    {
        _second = ujumbe.StartAnotherGateway();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _second.DisposeAsync();

    private HttpClient Second(string secret) => UjumbeFixture.Client(_second, secret);

    private async Task<(string AccountId, string Secret)> AccountWithLimitsAsync(object limits)
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "Limited", owner_email = $"{Guid.NewGuid():N}@example.com" }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var accountId = created.GetProperty("id").GetString()!;
        await (await admin.PutAsJsonAsync($"/v1/admin/accounts/{accountId}/rate-limits", limits)).AssertJsonAsync();
        return (accountId, created.GetProperty("api_key").GetProperty("secret").GetString()!);
    }

    [Fact]
    public async Task A_limit_holds_exactly_across_replicas_and_refused_requests_never_reach_the_api()
    {
        var (_, secret) = await AccountWithLimitsAsync(new { requests_per_hour = 10 });
        using var first = ujumbe.Client(secret);
        using var second = Second(secret);
        var path = $"/v1/messages/msg_{Guid.NewGuid():N}"; // unknown message: 404 from the Api, unique to this test

        var apiRequests = 0;
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                // Only the Api has this route; the gateway's is its catch-all "/v1/{**rest}".
                if (activity.GetTagItem("url.path") as string == path && activity.GetTagItem("http.route") as string == "/v1/messages/{id}")
                {
                    Interlocked.Increment(ref apiRequests);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        var remaining = new List<int>();
        for (var i = 0; i < 10; i++)
        {
            var response = await (i % 2 == 0 ? first : second).GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("10", response.Headers.GetValues("X-RateLimit-Limit").Single());
            remaining.Add(int.Parse(response.Headers.GetValues("X-RateLimit-Remaining").Single(), System.Globalization.CultureInfo.InvariantCulture));
        }
        Assert.Equal(Enumerable.Range(0, 10).Reverse(), remaining);

        foreach (var client in new[] { first, second })
        {
            var refused = await client.GetAsync(path);
            await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimitExceeded);
            Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            Assert.Equal("0", refused.Headers.GetValues("X-RateLimit-Remaining").Single());
            Assert.True(int.Parse(refused.Headers.GetValues("X-RateLimit-Reset").Single(), System.Globalization.CultureInfo.InvariantCulture) > 0);
        }
        Assert.Equal(10, apiRequests);
    }

    [Fact]
    public async Task Sending_has_its_own_limit_on_top_of_the_general_one()
    {
        var (_, secret) = await AccountWithLimitsAsync(new { messages_per_minute = 2 });
        using var client = ujumbe.Client(secret);
        var send = new { to = new[] { "+255712345678" }, text = "x", sender_id = "NOPE1" };
        for (var i = 0; i < 2; i++)
        {
            // Refused for the sender ID, but admitted by the limiter: it counts.
            await (await client.PostAsJsonAsync("/v1/messages", send)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.SenderIdNotApproved);
        }
        var limited = await client.PostAsJsonAsync("/v1/messages", send);
        await limited.AssertProblemAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimitExceeded);
        Assert.Equal("2", limited.Headers.GetValues("X-RateLimit-Limit").Single());
        // Other requests still pass.
        await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
    }

    [Fact]
    public async Task A_revoked_key_stops_on_every_replica_within_a_second()
    {
        using var owner = ujumbe.Client(ujumbe.DemoKey);
        var created = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "replicated" })).AssertJsonAsync(HttpStatusCode.Created);
        var secret = created.GetProperty("secret").GetString()!;
        using var first = ujumbe.Client(secret);
        using var second = Second(secret);
        await (await first.GetAsync("/v1/balance")).AssertJsonAsync();
        await (await second.GetAsync("/v1/balance")).AssertJsonAsync(); // both replicas now hold it in cache

        await (await owner.PostAsync($"/v1/api-keys/{created.GetProperty("id").GetString()}/revoke", null)).AssertJsonAsync();
        await HttpAssertions.EventuallyAsync(async () => (await second.GetAsync("/v1/balance")).StatusCode == HttpStatusCode.Unauthorized,
            TimeSpan.FromSeconds(1), "the other replica refuses the revoked key");
        await (await first.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.KeyRevoked);
    }

    [Fact]
    public async Task Suspension_and_new_limits_reach_every_replica_within_a_second()
    {
        var (accountId, secret) = await AccountWithLimitsAsync(new { requests_per_hour = 1000 });
        using var second = Second(secret);
        var before = await second.GetAsync("/v1/balance");
        Assert.Equal("1000", before.Headers.GetValues("X-RateLimit-Limit").Single());

        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.PutAsJsonAsync($"/v1/admin/accounts/{accountId}/rate-limits", new { requests_per_hour = 500 })).AssertJsonAsync();
        await HttpAssertions.EventuallyAsync(async () =>
            (await second.GetAsync("/v1/balance")).Headers.GetValues("X-RateLimit-Limit").Single() == "500",
            TimeSpan.FromSeconds(1), "the other replica applies the new limit");

        await (await admin.PostAsync($"/v1/admin/accounts/{accountId}/suspend", null)).AssertJsonAsync();
        await HttpAssertions.EventuallyAsync(async () => (await second.GetAsync("/v1/balance")).StatusCode == HttpStatusCode.Forbidden,
            TimeSpan.FromSeconds(1), "the other replica refuses the suspended account");
    }

    [Fact]
    public async Task Rate_limit_overrides_are_validated()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var account = (await (await admin.GetAsync("/v1/account")).AssertJsonAsync()).GetProperty("id").GetString();
        await (await admin.PutAsJsonAsync($"/v1/admin/accounts/{account}/rate-limits", new { requests_per_hour = 0 }))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
        await (await admin.PutAsJsonAsync($"/v1/admin/accounts/acct_{Guid.NewGuid():N}/rate-limits", new { requests_per_hour = 5 }))
            .AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }
}

/// <summary>The contract's default for callers without valid credentials, shrunk so a test can reach it.</summary>
public sealed class AnonymousLimitFixture : UjumbeFixture
{
    protected override Dictionary<string, string?> GatewaySettings(Uri api)
    {
        var settings = base.GatewaySettings(api);
        settings["RateLimits:AnonymousPerHour"] = "5";
        return settings;
    }
}

public sealed class AnonymousLimitTests(AnonymousLimitFixture ujumbe) : IClassFixture<AnonymousLimitFixture>
{
    [Fact]
    public async Task Requests_without_valid_credentials_are_limited_per_client_address()
    {
        using var client = ujumbe.Client("sk_" + new string('x', 48)); // well-formed, unknown
        for (var i = 0; i < 5; i++)
        {
            var response = await client.GetAsync("/v1/balance");
            await response.AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
            Assert.Equal("5", response.Headers.GetValues("X-RateLimit-Limit").Single());
        }
        await (await client.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimitExceeded);
        using var anonymous = ujumbe.Client();
        await (await anonymous.GetAsync("/openapi/v1.json")).AssertProblemAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimitExceeded);

        // Valid keys count against their own limits, not the address's.
        using var demo = ujumbe.Client(ujumbe.DemoKey);
        await (await demo.GetAsync("/v1/balance")).AssertJsonAsync();
    }
}

/// <summary>Decision 0010: a key the gateway does not hold costs its address before the Api is asked about it.</summary>
public sealed class KeyGuessingTests(AnonymousLimitFixture ujumbe) : IClassFixture<AnonymousLimitFixture>
{
    [Fact]
    public async Task An_address_past_its_limit_gets_429_for_made_up_keys_without_the_api_being_asked()
    {
        using var demo = ujumbe.Client(ujumbe.DemoKey);
        await (await demo.GetAsync("/v1/balance")).AssertJsonAsync(); // the gateway now holds the demo key

        var guesses = Enumerable.Range(0, 10).Select(_ => ApiKeySecret.NewPublicKey()).ToList();
        var asked = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var listener = new ActivityListener
        {
            // The gateway's calls to the Api; each stops when the Api's answer arrives, before the gateway answers.
            ShouldListenTo = source => source.Name == "System.Net.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("url.full") is string url && guesses.Any(key => url.EndsWith("/internal/keys/" + key, StringComparison.Ordinal)))
                {
                    asked.Add(url);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        foreach (var key in guesses.Take(5))
        {
            using var client = ujumbe.Client(ApiKeySecret.NewSecret(key));
            await (await client.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        }
        Assert.Equal(5, asked.Count);

        foreach (var key in guesses.Skip(5))
        {
            using var client = ujumbe.Client(ApiKeySecret.NewSecret(key));
            var refused = await client.GetAsync("/v1/balance");
            await refused.AssertProblemAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimitExceeded);
            Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        }
        Assert.Equal(5, asked.Count);

        // A key the gateway holds is not looked up, so it is not held back with the guesses.
        await (await demo.GetAsync("/v1/balance")).AssertJsonAsync();
    }
}

/// <summary>A real key's burst after the gateway lost its cache must not be mistaken for key guessing.</summary>
public sealed class KeyLookupBurstTests(AnonymousLimitFixture ujumbe) : IClassFixture<AnonymousLimitFixture>
{
    [Fact]
    public async Task Concurrent_requests_with_a_key_the_gateway_does_not_hold_share_one_lookup_and_all_pass()
    {
        using var owner = ujumbe.Client(ujumbe.DemoKey);
        var created = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "burst" })).AssertJsonAsync(HttpStatusCode.Created);
        using var client = ujumbe.Client(created.GetProperty("secret").GetString());

        // Four times the address's lookup budget (5), all at once, before the gateway holds the key.
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.GetAsync("/v1/balance")));

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
    }
}
