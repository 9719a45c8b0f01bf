using System.Diagnostics;
using System.Text.Json;
using Ujumbe.Gateway.Proxy;
using Ujumbe.Gateway.RateLimiting;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Compat;
using Ujumbe.Shared.Identity;
using Yarp.ReverseProxy.Model;

namespace Ujumbe.Gateway.Authentication;

/// <summary>The identity the gateway resolved for this request; the signing transform forwards it.</summary>
public sealed record GatewayCaller(CallerIdentity Identity);

/// <summary>
/// Resolves the caller and admits the request before anything is forwarded. Client-sent identity
/// headers never get here (<see cref="Proxy.ProxyProblems"/> refuses them with 400), so nothing a
/// client says about itself reaches the Api. Requests
/// without valid credentials count against their client address's limit and then get 401; valid ones
/// count against their key's (or user's) limits; over a limit is 429. None of these reach the Api.
/// </summary>
public sealed partial class GatewayAuthenticationMiddleware(
    RequestDelegate next, CredentialCache credentials, KeyUsageRecorder usage, PortalTokens portalTokens, PortalPasswords passwords,
    Admission admission, TimeProvider time, ILogger<GatewayAuthenticationMiddleware> logger)
{
    /// <summary>Route metadata: the route is public (no credentials needed).</summary>
    public const string AnonymousMetadata = "Anonymous";

    public const string TenantHeader = "X-Tenant-Id";

    public async Task InvokeAsync(HttpContext context)
    {
        var clientIp = context.Connection.RemoteIpAddress?.ToString();
        var anonymous = CallerIdentity.Anonymous with { ClientIp = clientIp };

        var dialect = Dialects.For(context.Request.Path);
        Credential credential;
        try
        {
            credential = await CredentialReader.ReadAsync(context.Request, dialect);
        }
        catch (Exception error) when (error is BadHttpRequestException or InvalidDataException)
        {
            // A dialect whose credentials may be in the body had to read it: over the size limit, or not the form it claims.
            GatewayTelemetry.Authenticated("unreadable_body");
            await (error is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                ? ProxyProblems.TooLarge(context.Request)
                : Problems.Create(400, ErrorCodes.ValidationFailed, "The request is not valid.", "The request body could not be read."))
                .ExecuteAsync(context);
            return;
        }
        if (credential.Kind == CredentialKind.None)
        {
            if (IsAnonymousRoute(context))
            {
                await ForwardAsync(context, anonymous, overrides: null);
                return;
            }
            await RefuseAsync(context, anonymous, 401, ErrorCodes.InvalidCredentials,
                dialect?.CredentialHint ?? "Send an API key as Authorization: Bearer <secret> or X-API-Key: <secret>.");
            return;
        }
        if (credential.Kind == CredentialKind.Invalid)
        {
            await RefuseAsync(context, anonymous, 401, ErrorCodes.InvalidCredentials, credential.Value);
            return;
        }
        if (credential.Kind == CredentialKind.Password)
        {
            await AuthenticatePasswordAsync(context, credential.Value, credential.Password!, anonymous);
            return;
        }
        // Portal tokens are the dashboard's; a dialect's callers hold API keys (or, where the dialect says so, a
        // password), and a portal token only where its seed documents a login.
        if ((dialect is null || dialect.AcceptsPortalTokens) && PortalTokens.LooksLikeToken(credential.Value))
        {
            await AuthenticateUserAsync(context, credential.Value, anonymous);
            return;
        }
        if (!ApiKeySecret.TryGetPublicKey(credential.Value, out var publicKey))
        {
            await RefuseAsync(context, anonymous, 401, ErrorCodes.InvalidCredentials, "The credential is not a valid API key or portal token.");
            return;
        }

        if (!credentials.TryGetKey(publicKey, out var key))
        {
            // Asking the Api costs it a request and a query: the address pays first, so made-up keys stop
            // at its limit without reaching the Api; a real key (or a lookup that failed) gets the charge
            // back. Concurrent requests with the same key share one lookup, and only its starter pays, so
            // a burst of a real key after the cache was cleared cannot exhaust the address's budget.
            var (answered, lookup) = await LookupAsync(() => credentials.FindUncachedKeyAsync(publicKey,
                admit: () => admission.AdmitKeyLookupAsync(context, anonymous),
                settle: async (found, asked) =>
                {
                    if (!asked || (found is not null && ApiKeySecret.Matches(credential.Value, found.SecretHash)))
                    {
                        await admission.RefundKeyLookupAsync(context, anonymous);
                    }
                },
                context.RequestAborted), publicKey, context.RequestAborted);
            if (!answered)
            {
                await UnavailableAsync(context);
                return;
            }
            if (lookup.Refused)
            {
                GatewayTelemetry.Authenticated(ErrorCodes.RateLimitExceeded);
                return;
            }
            key = lookup.Key;
        }
        // Unknown key and wrong secret look the same from outside: no hint about which keys exist.
        if (key is null || !ApiKeySecret.Matches(credential.Value, key.SecretHash))
        {
            await RefuseAsync(context, anonymous, 401, ErrorCodes.InvalidCredentials, "The API key is not valid.");
            return;
        }
        var now = time.GetUtcNow().UtcDateTime;
        if (key.RevokedAt is not null)
        {
            await RefuseAsync(context, anonymous, 401, ErrorCodes.KeyRevoked, "This API key has been revoked.");
            return;
        }
        if (key.ExpiresAt <= now)
        {
            await RefuseAsync(context, anonymous, 401, ErrorCodes.KeyExpired, "This API key has expired.");
            return;
        }
        if (key.AccountStatus != "active")
        {
            await RefuseAsync(context, anonymous, 403, ErrorCodes.AccountSuspended, "The account is suspended. Contact support.");
            return;
        }
        usage.Record(key.KeyId, now);
        var caller = CallerIdentity.ForKey(key.AccountId, key.KeyId, ScopeNames.Parse(key.Scopes)) with { ClientIp = clientIp };
        await ForwardAsync(context, caller, key.RateLimits);
    }

    /// <summary>A signed-in portal user: a valid, unexpired token of ours, for an account that is active.</summary>
    private async Task AuthenticateUserAsync(HttpContext context, string token, CallerIdentity anonymous)
    {
        var user = await portalTokens.ValidateAsync(token);
        if (user is null)
        {
            await RefuseAsync(context, anonymous, 401, ErrorCodes.InvalidCredentials, "The portal token is not valid or has expired; sign in again.");
            return;
        }
        await ForwardUserAsync(context, user, anonymous);
    }

    /// <summary>
    /// A portal user's email and password, where a dialect takes them (decision 0026): checked here, with sign-in's
    /// locks, failure counts and slowdown (<see cref="PortalPasswords"/>), for an account that is active.
    /// </summary>
    private async Task AuthenticatePasswordAsync(HttpContext context, string email, string password, CallerIdentity anonymous)
    {
        if (!passwords.TryGetVerified(email, password, out var user))
        {
            // A check costs the Api a lookup and this gateway a PBKDF2: the address pays first, as for a key this
            // replica does not hold, and gets the charge back when the password is right.
            if (!await admission.AdmitKeyLookupAsync(context, anonymous))
            {
                GatewayTelemetry.Authenticated(ErrorCodes.RateLimitExceeded);
                return;
            }
            var (answered, check) = await LookupAsync(() => passwords.CheckAsync(email, password, anonymous.ClientIp, context.RequestAborted),
                "a portal user's password", context.RequestAborted);
            if (!answered)
            {
                await UnavailableAsync(context);
                return;
            }
            if (check.Result == PasswordResult.Locked)
            {
                await LockedAsync(context, anonymous, check.RetryAfter);
                return;
            }
            if (check.Result == PasswordResult.Invalid)
            {
                await RefuseAsync(context, anonymous, 401, ErrorCodes.InvalidCredentials, "The username or password is not correct.");
                return;
            }
            await admission.RefundKeyLookupAsync(context, anonymous);
            user = check.User;
        }
        await ForwardUserAsync(context, user!, anonymous);
    }

    /// <summary>A portal user, as its account stands now: gone (401), suspended (403), or active (forwarded with the account's limits).</summary>
    private async Task ForwardUserAsync(HttpContext context, PortalUser user, CallerIdentity anonymous)
    {
        var (answered, account) = await LookupAsync(() => credentials.FindAccountAsync(user.AccountId, context.RequestAborted), user.AccountId.ToString("N"), context.RequestAborted);
        if (!answered)
        {
            await UnavailableAsync(context);
            return;
        }
        if (account is null)
        {
            await RefuseAsync(context, anonymous, 401, ErrorCodes.InvalidCredentials, "The portal token is not valid; sign in again.");
            return;
        }
        if (account.Status != "active")
        {
            await RefuseAsync(context, anonymous, 403, ErrorCodes.AccountSuspended, "The account is suspended. Contact support.");
            return;
        }
        await ForwardAsync(context, CallerIdentity.ForUser(user) with { ClientIp = anonymous.ClientIp }, account.RateLimits);
    }

    /// <summary>Sign-in's lock, answered as <c>/v1/auth/login</c> answers it: 429 with Retry-After.</summary>
    private async Task LockedAsync(HttpContext context, CallerIdentity anonymous, TimeSpan retryAfter)
    {
        GatewayTelemetry.Authenticated("locked");
        if (!await admission.AdmitAsync(context, anonymous, overrides: null))
        {
            return;
        }
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Problems.Create(429, ErrorCodes.RateLimitExceeded, "Too many failed sign-ins.",
            $"Sign-in is locked for {seconds} seconds after repeated failures.").ExecuteAsync(context);
    }

    private async Task ForwardAsync(HttpContext context, CallerIdentity caller, RateLimitOverrides? overrides)
    {
        if (!await admission.AdmitAsync(context, caller, overrides))
        {
            return;
        }
        if (context.Request.Headers.TryGetValue(TenantHeader, out var tenantHeader))
        {
            var acting = await ActForTenantAsync(context, caller, tenantHeader);
            if (acting is null)
            {
                return;
            }
            caller = acting;
        }
        GatewayTelemetry.Authenticated(caller.Kind == CallerKind.Anonymous ? "anonymous" : "ok");
        context.Features.Set(new GatewayCaller(caller));
        await next(context);
    }

    /// <summary>
    /// A partner acting for one of its tenants: the identity the Api receives names the tenant as the account
    /// (and the partner beside it), so every query the Api makes is confined to the tenant as for the tenant's
    /// own key. The tenant must be this caller's own: any other id, a tenant of another partner included, is
    /// 404 (its existence is not confirmed). Null: the request has been answered.
    /// </summary>
    private async Task<CallerIdentity?> ActForTenantAsync(HttpContext context, CallerIdentity caller, Microsoft.Extensions.Primitives.StringValues header)
    {
        if (caller.Kind != CallerKind.Account || !caller.Has(Scopes.Partner) || caller.PartnerId is not null)
        {
            GatewayTelemetry.Authenticated("tenant_forbidden");
            await Problems.Forbidden("Acting for a tenant (X-Tenant-Id) needs a partner credential with the partner scope.").ExecuteAsync(context);
            return null;
        }
        if (header.Count != 1 || !PublicId.TryParse(PublicId.Account, header.ToString().Trim(), out var tenantId))
        {
            await TenantNotFoundAsync(context);
            return null;
        }
        var (answered, tenant) = await LookupAsync(() => credentials.FindAccountAsync(tenantId, context.RequestAborted), tenantId.ToString("N"), context.RequestAborted);
        if (!answered)
        {
            await UnavailableAsync(context);
            return null;
        }
        if (tenant is null || tenant.PartnerId != caller.AccountId)
        {
            await TenantNotFoundAsync(context);
            return null;
        }
        if (tenant.Status != "active")
        {
            GatewayTelemetry.Authenticated(ErrorCodes.AccountSuspended);
            await Problems.Forbidden("The tenant is suspended; activate it to act for it.", ErrorCodes.AccountSuspended).ExecuteAsync(context);
            return null;
        }
        return caller.ActingFor(tenantId);
    }

    private static Task TenantNotFoundAsync(HttpContext context)
    {
        GatewayTelemetry.Authenticated("tenant_not_found");
        return Problems.Create(404, ErrorCodes.NotFound, "Not found.", "No tenant of this partner has the id in X-Tenant-Id.").ExecuteAsync(context);
    }

    /// <summary>Counts the failure against the client address (so guessing keys is limited too), then answers it.</summary>
    private async Task RefuseAsync(HttpContext context, CallerIdentity anonymous, int status, string code, string detail)
    {
        GatewayTelemetry.Authenticated(code);
        if (!await admission.AdmitAsync(context, anonymous, overrides: null))
        {
            return;
        }
        if (status == 401)
        {
            // /v1's challenge; a dialect's callers use their own headers (and hear its error shape, from its writer).
            if (Dialects.For(context.Request.Path) is null)
            {
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"ujumbe\"";
            }
            await Problems.Unauthorized(code, detail).ExecuteAsync(context);
        }
        else
        {
            await Problems.Forbidden(detail, code).ExecuteAsync(context);
        }
    }

    private static Task UnavailableAsync(HttpContext context)
    {
        GatewayTelemetry.Authenticated("lookup_failed");
        return Problems.Create(503, ErrorCodes.ServiceUnavailable, "Service unavailable.",
            "Credentials cannot be checked right now; retry shortly.").ExecuteAsync(context);
    }

    /// <summary>
    /// Answered false: the Api could not be asked or gave no usable answer (503 for the client). A client
    /// that hung up is not a lookup failure: its cancellation goes on up, and nobody is answered.
    /// </summary>
    private async Task<(bool Answered, T Value)> LookupAsync<T>(Func<ValueTask<T>> lookup, string subject, CancellationToken aborted)
    {
        using var activity = GatewayTelemetry.Source.StartActivity("credential lookup");
        activity?.SetTag("ujumbe.subject", subject);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var value = await lookup();
            GatewayTelemetry.KeyLookupDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return (true, value);
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException or JsonException or Polly.ExecutionRejectedException
                                      && !aborted.IsCancellationRequested)
        {
            LogLookupFailed(logger, error, subject);
            activity?.SetStatus(ActivityStatusCode.Error, error.Message);
            return (false, default!);
        }
    }

    private static bool IsAnonymousRoute(HttpContext context) =>
        context.Features.Get<IReverseProxyFeature>()?.Route.Config.Metadata is { } metadata
        && metadata.TryGetValue(AnonymousMetadata, out var value)
        && value == "true";

    [LoggerMessage(Level = LogLevel.Error, Message = "Credential lookup for {Subject} failed")]
    private static partial void LogLookupFailed(ILogger logger, Exception error, string subject);
}
