using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Ujumbe.Api.Seeding;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>API keys through the gateway: the only way in.</summary>
public sealed class GatewayAuthenticationTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    [Fact]
    public async Task A_valid_key_works_as_a_bearer_token()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var balance = await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(DemoSeeder.DemoCredits, balance.GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task A_valid_key_works_in_the_X_API_Key_header()
    {
        using var client = ujumbe.Client();
        client.DefaultRequestHeaders.Add("X-API-Key", ujumbe.DemoKey);
        var account = await (await client.GetAsync("/v1/account")).AssertJsonAsync();
        Assert.Equal(PublicId.Format(PublicId.Account, DemoSeeder.DemoAccountId), account.GetProperty("id").GetString());
    }

    [Fact]
    public async Task The_demo_account_holds_its_seeded_credits()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var balance = await (await client.GetAsync("/v1/balance")).AssertJsonAsync();
        Assert.Equal(1000, balance.GetProperty("balance").GetInt64());
        Assert.Equal(0, balance.GetProperty("reserved").GetInt64());
        Assert.Equal(1000, balance.GetProperty("available").GetInt64());
    }

    [Fact]
    public async Task A_request_without_credentials_is_refused()
    {
        using var client = ujumbe.Client();
        var response = await client.GetAsync("/v1/balance");
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData("Bearer sk_short")]
    [InlineData("Bearer pk_0123456789abcdef")]
    [InlineData("Token sk_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")]
    public async Task A_malformed_authorization_header_is_refused(string header)
    {
        using var client = ujumbe.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/balance");
        request.Headers.TryAddWithoutValidation("Authorization", header);
        var response = await client.SendAsync(request);
        await response.AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
    }

    [Fact]
    public async Task A_huge_or_non_ascii_credential_is_refused_not_crashed_on()
    {
        using var client = ujumbe.Client();
        using var huge = new HttpRequestMessage(HttpMethod.Get, "/v1/balance");
        huge.Headers.TryAddWithoutValidation("X-API-Key", new string('k', 8000));
        await (await client.SendAsync(huge)).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);

        // HttpClient refuses to send non-ASCII headers unless told which encoding to use.
        using var utf8 = new HttpClient(new SocketsHttpHandler { RequestHeaderEncodingSelector = (_, _) => System.Text.Encoding.UTF8 })
        {
            BaseAddress = ujumbe.Gateway.Address,
        };
        using var accented = new HttpRequestMessage(HttpMethod.Get, "/v1/balance");
        accented.Headers.TryAddWithoutValidation("X-API-Key", "sk_é" + new string('a', 47));
        var response = await utf8.SendAsync(accented);
        Assert.True(response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest, response.StatusCode.ToString());
    }

    [Fact]
    public async Task Two_different_credentials_in_one_request_are_refused()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        client.DefaultRequestHeaders.Add("X-API-Key", ujumbe.OperatorKey);
        await (await client.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
    }

    [Fact]
    public async Task A_well_formed_but_unknown_key_is_refused()
    {
        using var client = ujumbe.Client(ApiKeySecret.NewSecret(ApiKeySecret.NewPublicKey()));
        await (await client.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
    }

    [Fact]
    public async Task A_known_public_key_with_a_wrong_secret_is_refused()
    {
        ApiKeySecret.TryGetPublicKey(ujumbe.DemoKey, out var publicKey);
        using var client = ujumbe.Client(ApiKeySecret.NewSecret(publicKey));
        await (await client.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
    }

    [Fact]
    public async Task A_revoked_key_stops_working_on_the_next_request()
    {
        var (id, secret) = await CreateKeyAsync();
        using var client = ujumbe.Client(secret);
        await (await client.GetAsync("/v1/balance")).AssertJsonAsync();

        using var owner = ujumbe.Client(ujumbe.DemoKey);
        var revoked = await (await owner.PostAsync($"/v1/api-keys/{id}/revoke", null)).AssertJsonAsync();
        Assert.Equal("revoked", revoked.GetProperty("status").GetString());

        await (await client.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.KeyRevoked);
    }

    [Fact]
    public async Task An_api_problem_carries_the_callers_trace_id_through_the_gateway_without_an_exporter()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        var traceId = System.Diagnostics.ActivityTraceId.CreateRandom().ToHexString();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/api-keys/key_{Guid.NewGuid():N}/nothing");
        request.Headers.Add("traceparent", $"00-{traceId}-{System.Diagnostics.ActivitySpanId.CreateRandom().ToHexString()}-01");

        var problem = await (await client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);

        Assert.Equal(traceId, problem.GetProperty("trace_id").GetString());
    }

    [Fact]
    public async Task The_gateway_that_forwards_a_change_applies_it_before_answering_even_if_it_hears_nothing_on_redis()
    {
        // A replica with Redis names of its own never hears the Api's published changes.
        await using var deaf = ujumbe.StartAnotherGateway(redisPrefix: $"deaf-{Guid.NewGuid():N}:");
        var (id, secret) = await CreateKeyAsync();
        using var client = UjumbeFixture.Client(deaf, secret);
        await (await client.GetAsync("/v1/balance")).AssertJsonAsync(); // now in its cache

        using var owner = UjumbeFixture.Client(deaf, ujumbe.DemoKey);
        using var revoke = await owner.PostAsync($"/v1/api-keys/{id}/revoke", null);
        await revoke.AssertJsonAsync();
        Assert.False(revoke.Headers.Contains(CredentialChangeMessages.ResponseHeader), "the Api's note to the gateway stays internal");

        await (await client.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.KeyRevoked);
    }

    [Fact]
    public async Task A_regenerated_key_has_a_new_secret_and_the_old_one_stops_at_once()
    {
        var (id, oldSecret) = await CreateKeyAsync();
        using var owner = ujumbe.Client(ujumbe.DemoKey);
        var regenerated = await (await owner.PostAsJsonAsync($"/v1/api-keys/{id}/regenerate", new { })).AssertJsonAsync();
        var newSecret = regenerated.GetProperty("secret").GetString()!;
        Assert.NotEqual(oldSecret, newSecret);
        Assert.Equal(id, regenerated.GetProperty("id").GetString());

        using var old = ujumbe.Client(oldSecret);
        await (await old.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
        using var fresh = ujumbe.Client(newSecret);
        await (await fresh.GetAsync("/v1/balance")).AssertJsonAsync();
    }

    [Fact]
    public async Task Client_sent_identity_headers_are_refused_never_honoured()
    {
        using var client = ujumbe.Client(ujumbe.DemoKey);
        foreach (var (header, value) in new[]
        {
            // Claim to be the operator, with a "signature" of the client's own making.
            (GatewaySignature.IdentityHeader, $"t={DateTimeOffset.UtcNow.ToUnixTimeSeconds()};kind=account;acct={DemoSeeder.OperatorAccountId:N};scopes=admin"),
            (GatewaySignature.SignatureHeader, "v1=AAAA"),
            ("x-ujumbe-account-id", DemoSeeder.OperatorAccountId.ToString()),
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/account");
            request.Headers.TryAddWithoutValidation(header, value);
            var problem = await (await client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.BadRequest, ErrorCodes.ValidationFailed);
            Assert.Contains("set by the gateway", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Without them the same key is the demo account, as always.
        var account = await (await client.GetAsync("/v1/account")).AssertJsonAsync();
        Assert.Equal(PublicId.Format(PublicId.Account, DemoSeeder.DemoAccountId), account.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Internal_endpoints_are_not_reachable_through_the_gateway()
    {
        ApiKeySecret.TryGetPublicKey(ujumbe.DemoKey, out var publicKey);
        using var client = ujumbe.Client(ujumbe.DemoKey);
        await (await client.GetAsync($"/internal/keys/{publicKey}")).AssertProblemAsync(HttpStatusCode.NotFound, ErrorCodes.NotFound);
    }

    private async Task<(string Id, string Secret)> CreateKeyAsync(int? expiresInDays = null)
    {
        using var owner = ujumbe.Client(ujumbe.DemoKey);
        var created = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "test", expires_in_days = expiresInDays }))
            .AssertJsonAsync(HttpStatusCode.Created);
        return (created.GetProperty("id").GetString()!, created.GetProperty("secret").GetString()!);
    }
}

/// <summary>A gateway whose clock the test moves, so a key can expire without waiting a day.</summary>
public sealed class MovableClockFixture : UjumbeFixture
{
    public ManualClock Clock { get; } = new(DateTimeOffset.UtcNow);

    protected override void ConfigureGatewayServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Clock);

    protected override Dictionary<string, string?> GatewaySettings(Uri api)
    {
        // The moved clock would also date the gateway's own calls to the Api (which checks freshness):
        // keep the key cached across the jump so no call is needed.
        var settings = base.GatewaySettings(api);
        settings["Gateway:CacheLifetime"] = "2.00:00:00";
        return settings;
    }
}

public sealed class KeyExpiryTests(MovableClockFixture ujumbe) : IClassFixture<MovableClockFixture>
{
    [Fact]
    public async Task A_key_past_its_expiry_is_refused_with_KEY_EXPIRED()
    {
        using var owner = ujumbe.Client(ujumbe.DemoKey);
        var created = await (await owner.PostAsJsonAsync("/v1/api-keys", new { name = "short-lived", expires_in_days = 1 }))
            .AssertJsonAsync(HttpStatusCode.Created);
        using var client = ujumbe.Client(created.GetProperty("secret").GetString());
        await (await client.GetAsync("/v1/balance")).AssertJsonAsync();

        ujumbe.Clock.Now = DateTimeOffset.UtcNow.AddDays(1).AddSeconds(1);
        await (await client.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.KeyExpired);
    }
}
