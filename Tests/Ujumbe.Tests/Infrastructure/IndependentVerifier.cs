using System.Security.Cryptography;
using System.Text;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>Standard Webhooks verification written here from the spec, independently of the product's signer.</summary>
public static class IndependentVerifier
{
    public static bool Verifies(ReceivedWebhook webhook, string secret)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signed = Encoding.UTF8.GetBytes($"{webhook.Headers["webhook-id"]}.{webhook.Headers["webhook-timestamp"]}.")
            .Concat(webhook.Body).ToArray();
        using var hmac = new HMACSHA256(key);
        var expected = "v1," + Convert.ToBase64String(hmac.ComputeHash(signed));
        // The header may list several space-separated signatures; ours sends one.
        return webhook.Headers["webhook-signature"].Split(' ').Any(candidate => candidate == expected);
    }
}
