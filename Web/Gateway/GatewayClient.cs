using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Ujumbe.ServiceDefaults;
using Ujumbe.Web.Session;

namespace Ujumbe.Web.Gateway;

/// <summary>An API error as the dashboard shows it: <c>detail</c> on top, <c>errors</c> next to their fields.</summary>
public sealed record ApiProblem(int Status, string Code, string Title, string? Detail, IReadOnlyDictionary<string, string[]> Errors)
{
    public string Message => Detail ?? Title;

    public static ApiProblem Unreachable { get; } = new(503, "SERVICE_UNAVAILABLE", "Service unavailable",
        "Ujumbe cannot be reached right now. Try again in a moment.", new Dictionary<string, string[]>());
}

/// <summary>What a call answered: a value, or the problem.</summary>
public sealed record ApiResult<T>(T? Value, ApiProblem? Problem)
{
    public bool Ok => Problem is null;
}

/// <summary>
/// The dashboard's only way to Ujumbe: the public API through the gateway, as the signed-in user
/// (their portal token as the Bearer credential). A refused token ends the session (<see cref="SessionExpiredException"/>).
/// </summary>
public sealed class GatewayClient(HttpClient http, IHttpContextAccessor context)
{
    public Task<ApiResult<T>> GetAsync<T>(string path, CancellationToken cancellationToken = default) =>
        SendAsync<T>(HttpMethod.Get, path, null, null, cancellationToken);

    public Task<ApiResult<T>> PostAsync<T>(string path, object? body, CancellationToken cancellationToken = default) =>
        SendAsync<T>(HttpMethod.Post, path, body is null ? null : JsonContent.Create(body, options: JsonDefaults.Options), null, cancellationToken);

    /// <summary>A POST the API runs at most once for <paramref name="idempotencyKey"/> (a resubmitted form replays the first answer).</summary>
    public Task<ApiResult<T>> PostOnceAsync<T>(string path, object body, string? idempotencyKey, CancellationToken cancellationToken = default) =>
        SendAsync<T>(HttpMethod.Post, path, JsonContent.Create(body, options: JsonDefaults.Options), idempotencyKey, cancellationToken);

    public Task<ApiResult<T>> PatchAsync<T>(string path, object body, CancellationToken cancellationToken = default) =>
        SendAsync<T>(HttpMethod.Patch, path, JsonContent.Create(body, options: JsonDefaults.Options), null, cancellationToken);

    public Task<ApiResult<T>> PutAsync<T>(string path, object body, CancellationToken cancellationToken = default) =>
        SendAsync<T>(HttpMethod.Put, path, JsonContent.Create(body, options: JsonDefaults.Options), null, cancellationToken);

    public Task<ApiResult<NoBody>> DeleteAsync(string path, CancellationToken cancellationToken = default) =>
        SendAsync<NoBody>(HttpMethod.Delete, path, null, null, cancellationToken);

    public Task<ApiResult<T>> PostContentAsync<T>(string path, HttpContent content, CancellationToken cancellationToken = default) =>
        SendAsync<T>(HttpMethod.Post, path, content, null, cancellationToken);

    /// <summary>Signs in: the one call made without a token (a refusal here is a wrong password, not an expired session).</summary>
    public async Task<ApiResult<LoginResponse>> LoginAsync(string email, string password, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/login")
        {
            Content = JsonContent.Create(new { email, password }, options: JsonDefaults.Options),
        };
        return await ExchangeAsync<LoginResponse>(request, anonymous: true, cancellationToken);
    }

    /// <summary>Sets a password with an invitation's token: made without a token, like the sign-in.</summary>
    public async Task<ApiResult<AcceptedInvitation>> AcceptInvitationAsync(string token, string password, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/auth/invitations/accept")
        {
            Content = JsonContent.Create(new { token, password }, options: JsonDefaults.Options),
        };
        return await ExchangeAsync<AcceptedInvitation>(request, anonymous: true, cancellationToken);
    }

    private async Task<ApiResult<T>> SendAsync<T>(HttpMethod method, string path, HttpContent? content, string? idempotencyKey, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        var token = context.HttpContext?.User.Token() ?? throw new SessionExpiredException();
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }
        return await ExchangeAsync<T>(request, anonymous: false, cancellationToken);
    }

    private async Task<ApiResult<T>> ExchangeAsync<T>(HttpRequestMessage request, bool anonymous, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException)
        {
            return new ApiResult<T>(default, ApiProblem.Unreachable);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ApiResult<T>(default, ApiProblem.Unreachable);
        }
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.Unauthorized && !anonymous)
            {
                throw new SessionExpiredException();
            }
            if (response.IsSuccessStatusCode)
            {
                if (response.StatusCode == HttpStatusCode.NoContent || typeof(T) == typeof(NoBody))
                {
                    return new ApiResult<T>(default, null);
                }
                var value = await response.Content.ReadFromJsonAsync<T>(JsonDefaults.Options, cancellationToken);
                return new ApiResult<T>(value, null);
            }
            return new ApiResult<T>(default, await ReadProblemAsync(response, cancellationToken));
        }
    }

    private static async Task<ApiProblem> ReadProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        try
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            var root = document.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            var errors = new Dictionary<string, string[]>();
            if (root.TryGetProperty("errors", out var fields) && fields.ValueKind == JsonValueKind.Object)
            {
                foreach (var field in fields.EnumerateObject())
                {
                    errors[field.Name] = field.Value.ValueKind == JsonValueKind.Array
                        ? field.Value.EnumerateArray().Select(m => m.ToString()).ToArray()
                        : [field.Value.ToString()];
                }
            }
            return new ApiProblem(status, Text("code") ?? ErrorCodes.ForStatus(status), Text("title") ?? response.ReasonPhrase ?? "Error",
                Text("detail"), errors);
        }
        catch (JsonException)
        {
            return status >= 500
                ? ApiProblem.Unreachable
                : new ApiProblem(status, ErrorCodes.ForStatus(status), response.ReasonPhrase ?? "Error", null, new Dictionary<string, string[]>());
        }
    }
}

/// <summary>For calls whose answer the page does not need.</summary>
public sealed record NoBody;
