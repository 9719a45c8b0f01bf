using System.Security.Cryptography;
using System.Text;

namespace Ujumbe.Shared.Identity;

/// <summary>
/// API key material. A key has a public id <c>pk_{16}</c>, safe to log, and a secret
/// <c>sk_{16}{32}</c> that embeds the public part so the key is found without scanning hashes,
/// then verified by comparing SHA-256 digests in constant time. 32 random base62 characters are
/// about 190 bits: far past guessing, so a fast hash is enough (no per-key salt or stretching
/// needed, unlike passwords).
/// </summary>
public static class ApiKeySecret
{
    public const string PublicPrefix = "pk_";
    public const string SecretPrefix = "sk_";
    public const int PublicPartLength = 16;
    public const int RandomPartLength = 32;
    public const int SecretLength = 3 + PublicPartLength + RandomPartLength;

    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string NewPublicKey() => PublicPrefix + Random(PublicPartLength);

    /// <summary>A fresh secret for an existing public key (creation and regeneration).</summary>
    public static string NewSecret(string publicKey)
    {
        if (!IsPublicKey(publicKey))
        {
            throw new ArgumentException("Not a public key.", nameof(publicKey));
        }
        return SecretPrefix + publicKey[PublicPrefix.Length..] + Random(RandomPartLength);
    }

    public static bool IsPublicKey(string value) =>
        value.Length == PublicPrefix.Length + PublicPartLength
        && value.StartsWith(PublicPrefix, StringComparison.Ordinal)
        && IsBase62(value.AsSpan(PublicPrefix.Length));

    /// <summary>Whether <paramref name="secret"/> is shaped like a secret, and the public key it names.</summary>
    public static bool TryGetPublicKey(string secret, out string publicKey)
    {
        publicKey = "";
        if (secret.Length != SecretLength
            || !secret.StartsWith(SecretPrefix, StringComparison.Ordinal)
            || !IsBase62(secret.AsSpan(SecretPrefix.Length)))
        {
            return false;
        }
        publicKey = string.Concat(PublicPrefix, secret.AsSpan(SecretPrefix.Length, PublicPartLength));
        return true;
    }

    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.ASCII.GetBytes(secret));

    public static bool Matches(string secret, ReadOnlySpan<byte> storedHash)
    {
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.ASCII.GetBytes(secret), presented);
        return CryptographicOperations.FixedTimeEquals(presented, storedHash);
    }

    private static string Random(int length) => new(RandomNumberGenerator.GetItems<char>(Alphabet, length));

    private static bool IsBase62(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c))
            {
                return false;
            }
        }
        return true;
    }
}
