using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Shared.Webhooks;

public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>
    /// Base64 AES-256 key (32 bytes) that encrypts endpoint secrets at rest. Shared by the Api, which
    /// stores secrets, and the Worker, which signs with them.
    /// </summary>
    public string SecretKey { get; set; } = "";

    /// <summary>
    /// Allow endpoints on loopback and private networks. Off by default (SSRF); the local stack turns it on
    /// so receivers on this machine work, and says so.
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>
    /// How long events for a disabled endpoint are kept (decision 0017): enabling it again within this delivers
    /// them; older ones are failed. Not configurable: the Api (which re-enables) and the Worker (which expires)
    /// must agree.
    /// </summary>
    public static readonly TimeSpan HeldRetention = TimeSpan.FromHours(72);
}

/// <summary>
/// Endpoint secrets: <c>whsec_</c> + base64 of 32 random bytes (256 bits), as Standard Webhooks
/// defines them. Unlike API keys they must be used, not just checked, so they are stored encrypted
/// (AES-256-GCM: nonce, tag and ciphertext), never in clear, and shown once.
/// </summary>
public sealed class WebhookSecrets
{
    public const string Prefix = "whsec_";
    private readonly byte[] _key;

    public WebhookSecrets(IOptions<WebhookOptions> options)
    {
        _key = SigningKeys.Decode(options.Value.SecretKey, "Webhooks:SecretKey");
        if (_key.Length != 32)
        {
            throw new InvalidOperationException("Webhooks:SecretKey must be exactly 32 bytes of base64 (an AES-256 key); set Webhooks__SecretKey.");
        }
    }

    public static string NewSecret() => Prefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The HMAC key a secret stands for: the bytes after the prefix.</summary>
    public static byte[] SigningKey(string secret) => Convert.FromBase64String(secret[Prefix.Length..]);

    public byte[] Encrypt(string secret)
    {
        var plain = Encoding.UTF8.GetBytes(secret);
        var sealedBox = new byte[12 + 16 + plain.Length];
        var nonce = sealedBox.AsSpan(0, 12);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(_key, 16);
        aes.Encrypt(nonce, plain, sealedBox.AsSpan(28), sealedBox.AsSpan(12, 16));
        return sealedBox;
    }

    public string Decrypt(byte[] sealedBox)
    {
        var plain = new byte[sealedBox.Length - 28];
        using var aes = new AesGcm(_key, 16);
        aes.Decrypt(sealedBox.AsSpan(0, 12), sealedBox.AsSpan(28), sealedBox.AsSpan(12, 16), plain);
        return Encoding.UTF8.GetString(plain);
    }
}

/// <summary>
/// Standard Webhooks signatures: <c>webhook-signature: v1,&lt;base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")&gt;</c>.
/// </summary>
public static class WebhookSignature
{
    public static string Sign(byte[] key, string id, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{id}.{timestamp}."));
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, message));
    }
}
