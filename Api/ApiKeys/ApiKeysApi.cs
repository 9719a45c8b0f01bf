using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.ApiKeys;

public sealed record CreateApiKeyRequest(string? Name, string[]? Scopes, int? ExpiresInDays);

public sealed record RegenerateApiKeyRequest(int? ExpiresInDays);

public sealed record ApiKeyResponse(
    string Id, string Name, string PublicKey, string[] Scopes, string Status,
    DateTime CreatedAt, DateTime? ExpiresAt, DateTime? RevokedAt, DateTime? LastUsedAt)
{
    public static ApiKeyResponse From(ApiKey key, DateTime now) => new(
        PublicId.Format(PublicId.ApiKey, key.Id), key.Name, key.PublicKey, key.Scopes, ApiKeyService.Status(key, now),
        key.CreatedAt, key.ExpiresAt, key.RevokedAt, key.LastUsedAt);
}

/// <summary>The one answer that carries <c>secret</c>: it is not stored and cannot be shown again.</summary>
public sealed record IssuedApiKeyResponse(
    string Id, string Name, string PublicKey, string Secret, string[] Scopes, DateTime CreatedAt, DateTime? ExpiresAt)
{
    public static IssuedApiKeyResponse From(IssuedKey issued) => new(
        PublicId.Format(PublicId.ApiKey, issued.Key.Id), issued.Key.Name, issued.Key.PublicKey, issued.Secret,
        issued.Key.Scopes, issued.Key.CreatedAt, issued.Key.ExpiresAt);
}

public static class ApiKeysApi
{
    public const int MaxExpiryDays = 365;

    public static RouteGroupBuilder MapApiKeysApi(this RouteGroupBuilder v1)
    {
        var keys = v1.MapGroup("/api-keys").RequireScope(Scopes.Account).WithTags("API keys");
        keys.MapPost("/", CreateAsync)
            .WithName("CreateApiKey").WithSummary("Create an API key (its secret is shown only here)");
        keys.MapGet("/", ListAsync)
            .WithName("ListApiKeys").WithSummary("List the account's API keys (never their secrets)");
        keys.MapPost("/{id}/revoke", RevokeAsync)
            .WithName("RevokeApiKey").WithSummary("Revoke an API key at once");
        keys.MapPost("/{id}/regenerate", RegenerateAsync)
            .WithName("RegenerateApiKey").WithSummary("Give an API key a new secret; the old one stops working")
            .ProducesProblem(StatusCodes.Status409Conflict);
        return v1;
    }

    public static async Task<Results<Created<IssuedApiKeyResponse>, ProblemHttpResult>> CreateAsync(
        CreateApiKeyRequest request, Caller caller, ApiKeyService keys, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100)
        {
            errors["name"] = ["is required, 1 to 100 characters"];
        }
        var unknown = new List<string>();
        var scopes = request.Scopes is null
            ? ScopeNames.DefaultForKey & caller.Scopes
            : ScopeNames.Parse(request.Scopes, unknown);
        if (unknown.Count > 0)
        {
            errors["scopes"] = [$"unknown scope(s) {string.Join(", ", unknown)}; valid scopes are {string.Join(", ", ScopeNames.All)}"];
        }
        else if (scopes == Scopes.None)
        {
            errors["scopes"] = ["must name at least one scope"];
        }
        if (ValidateExpiry(request.ExpiresInDays) is { } expiryError)
        {
            errors["expires_in_days"] = [expiryError];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }

        // A key never grants more than its creator holds; admin exists only on the operator's keys.
        var beyond = scopes & ~caller.Scopes;
        if (beyond != Scopes.None)
        {
            return Problems.Forbidden($"A key cannot be given scopes its creator does not hold: {ScopeNames.Format(beyond)}.");
        }

        var issued = await keys.CreateAsync(caller.AccountId, name!, scopes, request.ExpiresInDays, cancellationToken);
        var response = IssuedApiKeyResponse.From(issued);
        return TypedResults.Created($"/v1/api-keys/{response.Id}", response);
    }

    public static async Task<Results<Ok<PageOf<ApiKeyResponse>>, ProblemHttpResult>> ListAsync(
        string? page, [FromQuery(Name = "page_size")] string? pageSize,
        UjumbeDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        var now = time.UtcNow();
        return TypedResults.Ok(await paging.PageAsync(
            db.ApiKeys.AsNoTracking().OrderByDescending(k => k.CreatedAt).ThenByDescending(k => k.Id), k => ApiKeyResponse.From(k, now), cancellationToken));
    }

    public static async Task<Results<Ok<ApiKeyResponse>, ProblemHttpResult>> RevokeAsync(
        string id, ApiKeyService keys, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.ApiKey, id, out var keyId))
        {
            return Problems.NotFound("No API key with this id.");
        }
        var (outcome, key) = await keys.RevokeAsync(keyId, cancellationToken);
        return outcome == KeyChange.Done
            ? TypedResults.Ok(ApiKeyResponse.From(key!, time.UtcNow()))
            : Problems.NotFound("No API key with this id.");
    }

    public static async Task<Results<Ok<IssuedApiKeyResponse>, ProblemHttpResult>> RegenerateAsync(
        string id, RegenerateApiKeyRequest? request, ApiKeyService keys, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.ApiKey, id, out var keyId))
        {
            return Problems.NotFound("No API key with this id.");
        }
        if (ValidateExpiry(request?.ExpiresInDays) is { } expiryError)
        {
            return Problems.Validation("expires_in_days", expiryError);
        }
        var (outcome, issued) = await keys.RegenerateAsync(keyId, request?.ExpiresInDays, cancellationToken);
        return outcome switch
        {
            KeyChange.Done => TypedResults.Ok(IssuedApiKeyResponse.From(issued!)),
            KeyChange.Revoked => Problems.Conflict("This key is revoked; create a new key instead."),
            KeyChange.Expired => Problems.Validation("expires_in_days", "is required: the key has expired, so give it a new lifetime"),
            _ => Problems.NotFound("No API key with this id."),
        };
    }

    private static string? ValidateExpiry(int? days) =>
        days is < 1 or > MaxExpiryDays ? $"must be between 1 and {MaxExpiryDays}" : null;
}
