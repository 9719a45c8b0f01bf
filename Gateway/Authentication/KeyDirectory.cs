using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Gateway.Authentication;

/// <summary>
/// Finds keys and accounts through the Api's internal endpoints (the Api owns them); the
/// <see cref="CredentialCache"/> in front of it keeps the answers.
/// </summary>
public sealed class KeyDirectory(HttpClient http, GatewaySignature signature)
{
    public async Task<KeyLookup?> FindAsync(string publicKey, CancellationToken cancellationToken)
    {
        using var request = ServiceRequest.Create(signature, HttpMethod.Get, "/internal/keys/" + Uri.EscapeDataString(publicKey));
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<KeyLookup>(JsonDefaults.Options, cancellationToken);
    }

    /// <summary>The account (status, own limits), or null if there is no such account.</summary>
    public async Task<AccountLookup?> FindAccountAsync(Guid accountId, CancellationToken cancellationToken)
    {
        using var request = ServiceRequest.Create(signature, HttpMethod.Get, $"/internal/accounts/{accountId:N}");
        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<AccountLookup>(JsonDefaults.Options, cancellationToken);
    }

    /// <summary>A portal user's lock, or the user and its password hash (the password itself is never sent).</summary>
    public Task<SignInHolder> LookupSignInAsync(SignInAttempt attempt, CancellationToken cancellationToken) =>
        PostAsync<SignInHolder>("/internal/sign-in/lookup", attempt, cancellationToken);

    public Task<SignInFailure> RecordSignInFailureAsync(SignInAttempt attempt, CancellationToken cancellationToken) =>
        PostAsync<SignInFailure>("/internal/sign-in/failures", attempt, cancellationToken);

    public async Task RecordSignInSuccessAsync(SignInAttempt attempt, CancellationToken cancellationToken)
    {
        using var response = await PostAsync("/internal/sign-in/successes", attempt, cancellationToken);
    }

    private async Task<T> PostAsync<T>(string path, SignInAttempt attempt, CancellationToken cancellationToken)
    {
        using var response = await PostAsync(path, attempt, cancellationToken);
        return await response.Content.ReadFromJsonAsync<T>(JsonDefaults.Options, cancellationToken)
            ?? throw new JsonException($"{path} answered null.");
    }

    private async Task<HttpResponseMessage> PostAsync(string path, SignInAttempt attempt, CancellationToken cancellationToken)
    {
        using var request = ServiceRequest.Create(signature, HttpMethod.Post, path, JsonContent.Create(attempt, options: JsonDefaults.Options));
        var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            throw new HttpRequestException($"{path} answered {(int)response.StatusCode}.", null, response.StatusCode);
        }
        return response;
    }
}

/// <summary>The gateway's own calls to the Api's /internal endpoints, signed with its service identity.</summary>
public static class ServiceRequest
{
    public static HttpRequestMessage Create(GatewaySignature signature, HttpMethod method, string path, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        var (identity, signed) = signature.Sign(method.Method, path, CallerIdentity.ForService("gateway"));
        request.Headers.Add(GatewaySignature.IdentityHeader, identity);
        request.Headers.Add(GatewaySignature.SignatureHeader, signed);
        return request;
    }
}
