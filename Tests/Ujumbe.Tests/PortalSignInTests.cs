using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>Sign-in slows and locks quickly here, so lockouts can be tested without waiting.</summary>
public sealed class StrictSignInFixture : UjumbeFixture
{
    protected override Dictionary<string, string?> ApiSettings()
    {
        var settings = base.ApiSettings();
        settings["SignIn:UserFailuresBeforeLock"] = "4";
        settings["SignIn:AddressFailuresBeforeLock"] = "8";
        settings["SignIn:SlowdownStep"] = "00:00:00.100";
        return settings;
    }
}

public sealed class PortalSignInTests(StrictSignInFixture ujumbe) : IClassFixture<StrictSignInFixture>
{
    private async Task<HttpResponseMessage> LoginAsync(string email, string password)
    {
        using var client = ujumbe.Client();
        return await client.PostAsJsonAsync("/v1/auth/login", new { email, password });
    }

    private async Task<string> TokenAsync(string email, string password)
    {
        var login = await (await LoginAsync(email, password)).AssertJsonAsync();
        Assert.Equal("Bearer", login.GetProperty("token_type").GetString());
        Assert.Equal(900, login.GetProperty("expires_in").GetInt32());
        return login.GetProperty("access_token").GetString()!;
    }

    private async Task<(string Email, string Password, string AccountId)> NewOwnerAsync()
    {
        // An account of its own per test: lockouts of one test must not touch another's user.
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var email = $"owner-{Guid.NewGuid():N}@example.com";
        var created = await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "Portal test", owner_email = email }))
            .AssertJsonAsync(HttpStatusCode.Created);
        var password = "correct horse " + Guid.NewGuid().ToString("N")[..6];
        var hasher = new Microsoft.AspNetCore.Identity.PasswordHasher<object>();
        await ujumbe.Database.ExecuteAsync("update users set password_hash = $1 where email = $2", hasher.HashPassword(null!, password), email);
        return (email, password, created.GetProperty("id").GetString()!);
    }

    [Fact]
    public async Task An_owner_signs_in_and_uses_the_token_like_a_key_but_without_operator_powers()
    {
        var token = await TokenAsync(SeededDemo, ujumbe.DemoPassword);
        using var client = ujumbe.Client(token);
        var balance = await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(1000, balance.GetProperty("balance").GetInt64());
        await (await client.GetAsync("/v1/admin/accounts")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    private const string SeededDemo = SeededKeysNames.Demo;

    [Fact]
    public async Task The_operator_signs_in_and_reaches_the_operator_endpoints()
    {
        var token = await TokenAsync(SeededKeysNames.Operator, ujumbe.OperatorPassword);
        using var client = ujumbe.Client(token);
        await (await client.GetAsync("/v1/admin/accounts")).AssertJsonAsync();
    }

    [Fact]
    public async Task A_wrong_password_and_an_unknown_email_are_refused_alike()
    {
        var (email, _, _) = await NewOwnerAsync();
        var wrong = await (await LoginAsync(email, "not it")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        var unknown = await (await LoginAsync("nobody-" + email, "not it")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        Assert.Equal(wrong.GetProperty("detail").GetString(), unknown.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Repeated_failures_for_one_user_are_slowed_and_then_locked()
    {
        var (email, password, _) = await NewOwnerAsync();
        var elapsed = new List<TimeSpan>();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var watch = Stopwatch.StartNew();
            await (await LoginAsync(email, "guess " + attempt)).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
            elapsed.Add(watch.Elapsed);
        }
        // Each failure doubles the wait before the answer: 100 ms, 200 ms, 400 ms.
        Assert.True(elapsed[2] >= TimeSpan.FromMilliseconds(400), $"third failure answered after {elapsed[2]}");

        var locked = await LoginAsync(email, "guess 4");
        await locked.AssertProblemAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimitExceeded);
        Assert.True(locked.Headers.RetryAfter?.Delta > TimeSpan.Zero);

        // Locked means locked: even the right password is refused until the lock expires.
        await (await LoginAsync(email, password)).AssertProblemAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimitExceeded);
        await ujumbe.Database.ExecuteAsync("update sign_in_failures set locked_until = now() - interval '1 second' where email = $1", email);
        await (await LoginAsync(email, password)).AssertJsonAsync();
    }

    [Fact]
    public async Task Tokens_that_are_tampered_with_foreign_or_expired_are_refused()
    {
        var token = await TokenAsync(SeededDemo, ujumbe.DemoPassword);
        var parts = token.Split('.');
        var tampered = parts[0] + "." + parts[1] + "." + new string(parts[2].Reverse().ToArray());
        using (var client = ujumbe.Client(tampered))
        {
            await (await client.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        }

        var user = new PortalUser(Guid.NewGuid(), Ujumbe.Api.Seeding.DemoSeeder.DemoAccountId, Roles.Owner);
        var foreign = new PortalTokens(Options.Create(new PortalTokenOptions { SigningKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) }), TimeProvider.System).Issue(user);
        using (var client = ujumbe.Client(foreign))
        {
            await (await client.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        }

        var longAgo = new ManualClock(DateTimeOffset.UtcNow.AddHours(-1));
        var expired = new PortalTokens(Options.Create(new PortalTokenOptions { SigningKey = ujumbe.PortalTokenKey }), longAgo).Issue(user);
        using (var client = ujumbe.Client(expired))
        {
            await (await client.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        }
    }

    [Fact]
    public async Task A_suspended_accounts_users_cannot_sign_in_and_their_tokens_stop_working()
    {
        var (email, password, accountId) = await NewOwnerAsync();
        var token = await TokenAsync(email, password);
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        await (await admin.PostAsync($"/v1/admin/accounts/{accountId}/suspend", null)).AssertJsonAsync();

        using (var client = ujumbe.Client(token))
        {
            await (await client.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.AccountSuspended);
        }
        await (await LoginAsync(email, password)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.AccountSuspended);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"email\":\"a@b.c\"}")]
    [InlineData("{\"password\":\"x\"}")]
    public async Task A_login_without_email_or_password_is_a_validation_error(string body)
    {
        using var client = ujumbe.Client();
        await (await client.PostAsync("/v1/auth/login", new StringContent(body, System.Text.Encoding.UTF8, "application/json")))
            .AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
    }
}

/// <summary>Sign-in as <see cref="StrictSignInFixture"/>, but the loopback address never locks, so tests can fail often.</summary>
public sealed class ManyFailuresFixture : UjumbeFixture
{
    protected override Dictionary<string, string?> ApiSettings()
    {
        var settings = base.ApiSettings();
        settings["SignIn:UserFailuresBeforeLock"] = "4";
        settings["SignIn:AddressFailuresBeforeLock"] = "1000";
        settings["SignIn:SlowdownStep"] = "00:00:00.100";
        return settings;
    }
}

/// <summary>Failures are counted per email, known or not, and none is lost to a race.</summary>
public sealed class EmailLockoutTests(ManyFailuresFixture ujumbe) : IClassFixture<ManyFailuresFixture>
{
    private async Task<HttpResponseMessage> LoginAsync(string email, string password)
    {
        using var client = ujumbe.Client();
        return await client.PostAsJsonAsync("/v1/auth/login", new { email, password });
    }

    [Fact]
    public async Task An_unknown_email_is_slowed_and_locked_exactly_like_a_known_one()
    {
        var unknown = $"nobody-{Guid.NewGuid():N}@example.com";
        var elapsed = new List<TimeSpan>();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var watch = Stopwatch.StartNew();
            await (await LoginAsync(unknown, "guess " + attempt)).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
            elapsed.Add(watch.Elapsed);
        }
        // The same schedule as a user's: 100 ms, 200 ms, 400 ms, then locked.
        Assert.True(elapsed[2] >= TimeSpan.FromMilliseconds(400), $"third failure answered after {elapsed[2]}");
        var locked = await LoginAsync(unknown.ToUpperInvariant(), "guess 4");
        await locked.AssertProblemAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimitExceeded);
        Assert.True(locked.Headers.RetryAfter?.Delta > TimeSpan.Zero);
    }

    [Fact]
    public async Task Concurrent_wrong_passwords_are_all_counted()
    {
        using var admin = ujumbe.Client(ujumbe.OperatorKey);
        var email = $"owner-{Guid.NewGuid():N}@example.com";
        await (await admin.PostAsJsonAsync("/v1/admin/accounts", new { name = "Race", owner_email = email })).AssertJsonAsync(HttpStatusCode.Created);
        var password = "correct horse " + Guid.NewGuid().ToString("N")[..6];
        await ujumbe.Database.ExecuteAsync("update users set password_hash = $1 where email = $2",
            new Microsoft.AspNetCore.Identity.PasswordHasher<object>().HashPassword(null!, password), email);

        // As many at once as the lock threshold: every one must count, so the email ends up locked.
        var attempts = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => LoginAsync(email, "guess " + i)));
        Assert.All(attempts, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests }));

        await (await LoginAsync(email, password)).AssertProblemAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimitExceeded);
    }

    [Fact]
    public async Task A_successful_sign_in_forgets_earlier_failures()
    {
        var email = SeededKeysNames.Demo;
        await (await LoginAsync(email, "wrong")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        await (await LoginAsync(email, ujumbe.DemoPassword)).AssertJsonAsync();
        Assert.Equal(0L, await ujumbe.Database.ScalarAsync<long>("select count(*) from sign_in_failures where email = $1", email.ToLowerInvariant()));
    }
}

/// <summary>Failures from one address across many users lock the address (its own fixture: it locks 127.0.0.1).</summary>
public sealed class AddressLockoutTests(StrictSignInFixture ujumbe) : IClassFixture<StrictSignInFixture>
{
    [Fact]
    public async Task Many_failures_from_one_address_lock_it_for_every_user()
    {
        using var client = ujumbe.Client();
        for (var i = 0; i < 8; i++)
        {
            var response = await client.PostAsJsonAsync("/v1/auth/login", new { email = $"guess-{i}@example.com", password = "x" });
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }
        var locked = await client.PostAsJsonAsync("/v1/auth/login", new { email = SeededKeysNames.Demo, password = ujumbe.DemoPassword });
        await locked.AssertProblemAsync(HttpStatusCode.TooManyRequests, ErrorCodes.RateLimitExceeded);
        Assert.NotNull(locked.Headers.RetryAfter);
    }
}

internal static class SeededKeysNames
{
    public const string Demo = Ujumbe.Api.Seeding.SeededKeys.DemoEmail;
    public const string Operator = Ujumbe.Api.Seeding.SeededKeys.OperatorEmail;
}
