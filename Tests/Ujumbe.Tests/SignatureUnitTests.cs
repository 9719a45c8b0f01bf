using Microsoft.Extensions.Options;
using Ujumbe.Shared.Identity;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

public sealed class SignatureUnitTests
{
    private static readonly string Key = Convert.ToBase64String(new byte[32]);
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero));

    private GatewaySignature Signer(string? key = null, string? previous = null) =>
        new(Options.Create(new GatewaySigningOptions { Key = key ?? Key, PreviousKey = previous, MaxAgeSeconds = 30 }), _clock);

    [Fact]
    public void An_identity_round_trips_through_sign_and_verify()
    {
        var caller = new CallerIdentity(CallerKind.Account, Guid.NewGuid(), Scopes.Messages | Scopes.Account, Guid.NewGuid(), Guid.NewGuid(), "owner");
        var signer = Signer();
        var (identity, signature) = signer.Sign("POST", "/v1/messages?x=1", caller);

        Assert.Equal(SignatureCheck.Valid, signer.Verify("POST", "/v1/messages?x=1", identity, signature, out var verified));
        Assert.Equal(caller, verified);
    }

    [Theory]
    [InlineData("GET", "/v1/messages?x=1")]   // another method
    [InlineData("POST", "/v1/messages?x=2")]  // another query
    [InlineData("POST", "/v1/balance")]       // another path
    public void A_signature_does_not_transfer_to_another_request(string method, string path)
    {
        var signer = Signer();
        var (identity, signature) = signer.Sign("POST", "/v1/messages?x=1", CallerIdentity.ForService("gateway"));
        Assert.Equal(SignatureCheck.BadSignature, signer.Verify(method, path, identity, signature, out _));
    }

    [Fact]
    public void Changing_the_identity_breaks_the_signature()
    {
        var signer = Signer();
        var (identity, signature) = signer.Sign("GET", "/v1/balance", CallerIdentity.ForKey(Guid.NewGuid(), Guid.NewGuid(), Scopes.Messages));
        var escalated = identity.Replace("scopes=messages", "scopes=messages,admin", StringComparison.Ordinal);
        Assert.Equal(SignatureCheck.BadSignature, signer.Verify("GET", "/v1/balance", escalated, signature, out _));
    }

    [Fact]
    public void Signatures_expire_after_the_allowed_age()
    {
        var signer = Signer();
        var (identity, signature) = signer.Sign("GET", "/v1/balance", CallerIdentity.ForService("gateway"));
        _clock.Now = _clock.Now.AddSeconds(30);
        Assert.Equal(SignatureCheck.Valid, signer.Verify("GET", "/v1/balance", identity, signature, out _));
        _clock.Now = _clock.Now.AddSeconds(2);
        Assert.Equal(SignatureCheck.Stale, signer.Verify("GET", "/v1/balance", identity, signature, out _));
    }

    [Fact]
    public void During_a_key_rotation_signatures_with_the_previous_key_still_verify()
    {
        var newKey = Convert.ToBase64String(Enumerable.Repeat((byte)7, 32).ToArray());
        var (identity, signature) = Signer().Sign("GET", "/v1/balance", CallerIdentity.ForService("gateway"));
        Assert.Equal(SignatureCheck.Valid, Signer(newKey, previous: Key).Verify("GET", "/v1/balance", identity, signature, out _));
        Assert.Equal(SignatureCheck.BadSignature, Signer(newKey).Verify("GET", "/v1/balance", identity, signature, out _));
    }

    [Theory]
    [InlineData(null, "v1=abc")]
    [InlineData("t=1;kind=anonymous", null)]
    public void Missing_headers_are_reported_as_missing(string? identity, string? signature) =>
        Assert.Equal(SignatureCheck.Missing, Signer().Verify("GET", "/", identity, signature, out _));

    [Theory]
    [InlineData("t=1;kind=anonymous", "v2=abc")]
    [InlineData("t=1;kind=anonymous", "v1=!!!")]
    [InlineData("kind=anonymous", "v1=abc")]
    [InlineData("t=1;kind=account;acct=nothex", "v1=abc")]
    [InlineData("t=1;kind=emperor", "v1=abc")]
    public void Malformed_headers_are_rejected(string identity, string signature) =>
        Assert.Equal(SignatureCheck.Malformed, Signer().Verify("GET", "/", identity, signature, out _));

    [Fact]
    public void A_short_signing_key_is_refused_at_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Signer(Convert.ToBase64String(new byte[16])));
        Assert.Contains("32 bytes", error.Message, StringComparison.Ordinal);
    }
}
