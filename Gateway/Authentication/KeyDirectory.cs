using System.Net;
using System.Net.Http.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Gateway.Authentication;

/// <summary>An API key as the Api knows it (never the secret: only its hash).</summary>
public sealed record KeyRecord(
    Guid KeyId, Guid AccountId, string PublicKey, byte[] SecretHash, string[] Scopes,
    DateTime? ExpiresAt, DateTime? RevokedAt, string AccountStatus);

/// <summary>
/// Finds keys by public id through the Api's internal endpoint (the Api owns the key table).
/// Every lookup asks the Api, so a revoked or regenerated key fails on the very next request.
/// </summary>
public sealed class KeyDirectory(HttpClient http, GatewaySignature signature)
{
    public async Task<KeyRecord?> FindAsync(string publicKey, CancellationToken cancellationToken)
    {
        var path = "/internal/keys/" + Uri.EscapeDataString(publicKey);
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        var (identity, signed) = signature.Sign("GET", path, CallerIdentity.ForService("gateway"));
        request.Headers.Add(GatewaySignature.IdentityHeader, identity);
        request.Headers.Add(GatewaySignature.SignatureHeader, signed);
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<KeyRecord>(JsonDefaults.Options, cancellationToken);
    }
}
