using Ujumbe.Shared.Identity;

namespace Ujumbe.Tests;

public sealed class ApiKeySecretTests
{
    [Fact]
    public void A_secret_names_its_public_key_and_carries_at_least_128_random_bits()
    {
        var publicKey = ApiKeySecret.NewPublicKey();
        var secret = ApiKeySecret.NewSecret(publicKey);

        Assert.StartsWith("pk_", publicKey, StringComparison.Ordinal);
        Assert.StartsWith("sk_", secret, StringComparison.Ordinal);
        Assert.True(ApiKeySecret.TryGetPublicKey(secret, out var named));
        Assert.Equal(publicKey, named);
        // 32 base62 characters after the public part: log2(62^32) ≈ 190 bits.
        Assert.True(ApiKeySecret.RandomPartLength * Math.Log2(62) >= 128);
    }

    [Fact]
    public void Two_secrets_for_one_key_differ_and_only_the_right_one_matches_the_hash()
    {
        var publicKey = ApiKeySecret.NewPublicKey();
        var first = ApiKeySecret.NewSecret(publicKey);
        var second = ApiKeySecret.NewSecret(publicKey);
        Assert.NotEqual(first, second);

        var stored = ApiKeySecret.Hash(first);
        Assert.True(ApiKeySecret.Matches(first, stored));
        Assert.False(ApiKeySecret.Matches(second, stored));
    }

    [Theory]
    [InlineData("")]
    [InlineData("sk_")]
    [InlineData("pk_0123456789abcdef")]
    [InlineData("sk_0123456789abcdef0123456789abcdef0123456789abcde")]    // one short
    [InlineData("sk_0123456789abcdef0123456789abcdef0123456789abcdefg")]  // one long
    [InlineData("sk_0123456789abcdef0123456789abcdef0123456789abcd-f")]   // not base62
    public void Strings_that_are_not_secrets_are_recognised(string candidate) =>
        Assert.False(ApiKeySecret.TryGetPublicKey(candidate, out _));

    [Theory]
    [InlineData("key_0193a0000000700080000000000000ff", true)]
    [InlineData("key_0193A0000000700080000000000000FF", true)]
    [InlineData("msg_0193a0000000700080000000000000ff", false)]
    [InlineData("key_0193a000", false)]
    [InlineData("key-0193a0000000700080000000000000ff", false)]
    [InlineData(null, false)]
    public void Public_ids_parse_only_with_their_own_prefix(string? id, bool parses) =>
        Assert.Equal(parses, PublicId.TryParse(PublicId.ApiKey, id, out _));
}
