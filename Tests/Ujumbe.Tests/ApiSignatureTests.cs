using System.Net;
using Microsoft.Extensions.Options;
using Ujumbe.Api.Seeding;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>The Api trusts only requests the gateway signed, recently, for this exact request.</summary>
public sealed class ApiSignatureTests(UjumbeFixture ujumbe) : IClassFixture<UjumbeFixture>
{
    private static readonly CallerIdentity Demo = CallerIdentity.ForKey(DemoSeeder.DemoAccountId, Guid.NewGuid(), ScopeNames.DefaultForKey);

    private GatewaySignature Signer(TimeProvider? clock = null, string? key = null) => new(
        Options.Create(new GatewaySigningOptions { Key = key ?? ujumbe.SigningKey }), clock ?? TimeProvider.System);

    private async Task<HttpResponseMessage> SendSignedAsync(string path, GatewaySignature signer, string? signedPath = null,
        CallerIdentity? caller = null)
    {
        using var api = ujumbe.Api.CreateSocketClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        var (identity, signature) = signer.Sign("GET", signedPath ?? path, caller ?? Demo);
        request.Headers.Add(GatewaySignature.IdentityHeader, identity);
        request.Headers.Add(GatewaySignature.SignatureHeader, signature);
        return await api.SendAsync(request);
    }

    [Fact]
    public async Task A_fresh_signature_from_the_gateway_key_is_accepted()
    {
        var balance = await (await SendSignedAsync("/v1/balance", Signer())).AssertJsonAsync();
        Assert.Equal(DemoSeeder.DemoCredits, balance.GetProperty("balance").GetInt64());
    }

    [Fact]
    public async Task A_direct_call_without_a_signature_is_refused()
    {
        using var api = ujumbe.Api.CreateSocketClient();
        await (await api.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
    }

    [Fact]
    public async Task A_direct_call_with_an_api_key_but_no_signature_is_refused()
    {
        using var api = ujumbe.Api.CreateSocketClient();
        api.DefaultRequestHeaders.Add("Authorization", "Bearer " + ujumbe.DemoKey);
        await (await api.GetAsync("/v1/balance")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
    }

    [Fact]
    public async Task A_replayed_stale_signature_is_refused()
    {
        var twoMinutesAgo = new ManualClock(DateTimeOffset.UtcNow.AddMinutes(-2));
        await (await SendSignedAsync("/v1/balance", Signer(twoMinutesAgo)))
            .AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
    }

    [Fact]
    public async Task A_signature_from_the_future_is_refused()
    {
        var inAnHour = new ManualClock(DateTimeOffset.UtcNow.AddHours(1));
        await (await SendSignedAsync("/v1/balance", Signer(inAnHour)))
            .AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
    }

    [Fact]
    public async Task A_signature_made_for_another_path_is_refused()
    {
        await (await SendSignedAsync("/v1/api-keys", Signer(), signedPath: "/v1/balance"))
            .AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
    }

    [Fact]
    public async Task A_signature_made_with_another_key_is_refused()
    {
        var otherKey = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await (await SendSignedAsync("/v1/balance", Signer(key: otherKey)))
            .AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
    }

    [Fact]
    public async Task A_service_identity_cannot_call_account_endpoints()
    {
        await (await SendSignedAsync("/v1/balance", Signer(), caller: CallerIdentity.ForService("gateway")))
            .AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    [Fact]
    public async Task An_account_identity_cannot_call_internal_endpoints()
    {
        ApiKeySecret.TryGetPublicKey(ujumbe.DemoKey, out var publicKey);
        await (await SendSignedAsync($"/internal/keys/{publicKey}", Signer()))
            .AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    [Fact]
    public async Task Health_endpoints_answer_without_a_signature()
    {
        using var api = ujumbe.Api.CreateSocketClient();
        Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/alive")).StatusCode);
        var health = await (await api.GetAsync("/health")).AssertJsonAsync();
        Assert.Equal("Healthy", health.GetProperty("checks").GetProperty("postgres").GetProperty("status").GetString());
    }

    [Fact]
    public async Task Unknown_routes_on_the_api_also_need_a_signature()
    {
        using var api = ujumbe.Api.CreateSocketClient();
        await (await api.GetAsync("/v1/does-not-exist")).AssertProblemAsync(HttpStatusCode.Unauthorized, ErrorCodes.InvalidCredentials);
    }
}
