using System.Diagnostics;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Yarp.ReverseProxy.Model;

namespace Ujumbe.Gateway.Authentication;

/// <summary>The identity the gateway resolved for this request; the signing transform forwards it.</summary>
public sealed record GatewayCaller(CallerIdentity Identity);

/// <summary>
/// Resolves the caller before anything is forwarded. Client-sent identity headers are dropped
/// first, so nothing a client says about itself reaches the Api; requests without a valid key
/// get 401 here and never reach it.
/// </summary>
public sealed partial class GatewayAuthenticationMiddleware(
    RequestDelegate next, KeyDirectory keys, KeyUsageRecorder usage, PortalTokens portalTokens, TimeProvider time,
    ILogger<GatewayAuthenticationMiddleware> logger)
{
    /// <summary>Route metadata: the route is public (no credentials needed).</summary>
    public const string AnonymousMetadata = "Anonymous";

    public async Task InvokeAsync(HttpContext context)
    {
        RemoveClientIdentityHeaders(context.Request.Headers);

        var clientIp = context.Connection.RemoteIpAddress?.ToString();
        var credential = CredentialReader.Read(context.Request.Headers);
        if (credential.Kind == CredentialKind.None)
        {
            if (IsAnonymousRoute(context))
            {
                context.Features.Set(new GatewayCaller(CallerIdentity.Anonymous with { ClientIp = clientIp }));
                await next(context);
                return;
            }
            await RejectAsync(context, ErrorCodes.InvalidCredentials,
                "Send an API key as Authorization: Bearer <secret> or X-API-Key: <secret>.");
            return;
        }
        if (credential.Kind == CredentialKind.Invalid)
        {
            await RejectAsync(context, ErrorCodes.InvalidCredentials, credential.Value);
            return;
        }
        if (PortalTokens.LooksLikeToken(credential.Value))
        {
            await AuthenticateUserAsync(context, credential.Value, clientIp);
            return;
        }
        if (!ApiKeySecret.TryGetPublicKey(credential.Value, out var publicKey))
        {
            await RejectAsync(context, ErrorCodes.InvalidCredentials, "The credential is not a valid API key or portal token.");
            return;
        }

        var (answered, key) = await FindKeyAsync(publicKey, context.RequestAborted);
        if (!answered)
        {
            GatewayTelemetry.Authenticated("lookup_failed");
            await Problems.Create(503, ErrorCodes.ServiceUnavailable, "Service unavailable.",
                "Credentials cannot be checked right now; retry shortly.").ExecuteAsync(context);
            return;
        }

        // Unknown key and wrong secret look the same from outside: no hint about which keys exist.
        if (key is null || !ApiKeySecret.Matches(credential.Value, key.SecretHash))
        {
            await RejectAsync(context, ErrorCodes.InvalidCredentials, "The API key is not valid.");
            return;
        }
        var now = time.GetUtcNow().UtcDateTime;
        if (key.RevokedAt is not null)
        {
            await RejectAsync(context, ErrorCodes.KeyRevoked, "This API key has been revoked.");
            return;
        }
        if (key.ExpiresAt <= now)
        {
            await RejectAsync(context, ErrorCodes.KeyExpired, "This API key has expired.");
            return;
        }
        if (key.AccountStatus != "active")
        {
            GatewayTelemetry.Authenticated(ErrorCodes.AccountSuspended);
            await Problems.Forbidden("The account is suspended. Contact support.", ErrorCodes.AccountSuspended).ExecuteAsync(context);
            return;
        }

        GatewayTelemetry.Authenticated("ok");
        usage.Record(key.KeyId, now);
        context.Features.Set(new GatewayCaller(CallerIdentity.ForKey(key.AccountId, key.KeyId, ScopeNames.Parse(key.Scopes)) with { ClientIp = clientIp }));
        await next(context);
    }

    /// <summary>A signed-in portal user: a valid, unexpired token of ours, for an account that is active.</summary>
    private async Task AuthenticateUserAsync(HttpContext context, string token, string? clientIp)
    {
        var user = await portalTokens.ValidateAsync(token);
        if (user is null)
        {
            await RejectAsync(context, ErrorCodes.InvalidCredentials, "The portal token is not valid or has expired; sign in again.");
            return;
        }
        string? status;
        try
        {
            status = await keys.FindAccountStatusAsync(user.AccountId, context.RequestAborted);
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException && !context.RequestAborted.IsCancellationRequested)
        {
            LogLookupFailed(logger, error, user.AccountId.ToString("N"));
            GatewayTelemetry.Authenticated("lookup_failed");
            await Problems.Create(503, ErrorCodes.ServiceUnavailable, "Service unavailable.",
                "Credentials cannot be checked right now; retry shortly.").ExecuteAsync(context);
            return;
        }
        if (status is null)
        {
            await RejectAsync(context, ErrorCodes.InvalidCredentials, "The portal token is not valid; sign in again.");
            return;
        }
        if (status != "active")
        {
            GatewayTelemetry.Authenticated(ErrorCodes.AccountSuspended);
            await Problems.Forbidden("The account is suspended. Contact support.", ErrorCodes.AccountSuspended).ExecuteAsync(context);
            return;
        }
        GatewayTelemetry.Authenticated("ok");
        context.Features.Set(new GatewayCaller(CallerIdentity.ForUser(user) with { ClientIp = clientIp }));
        await next(context);
    }

    private async Task<(bool Answered, KeyLookup? Key)> FindKeyAsync(string publicKey, CancellationToken cancellationToken)
    {
        using var activity = GatewayTelemetry.Source.StartActivity("key lookup");
        activity?.SetTag("ujumbe.public_key", publicKey);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var key = await keys.FindAsync(publicKey, cancellationToken);
            GatewayTelemetry.KeyLookupDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            return (true, key);
        }
        catch (Exception error) when (error is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LogLookupFailed(logger, error, publicKey);
            activity?.SetStatus(ActivityStatusCode.Error, error.Message);
            return (false, null);
        }
    }

    private static void RemoveClientIdentityHeaders(IHeaderDictionary headers)
    {
        List<string>? spoofed = null;
        foreach (var header in headers.Keys)
        {
            if (header.StartsWith(GatewaySignature.HeaderPrefix, StringComparison.OrdinalIgnoreCase))
            {
                (spoofed ??= []).Add(header);
            }
        }
        foreach (var header in spoofed ?? [])
        {
            headers.Remove(header);
        }
    }

    private static bool IsAnonymousRoute(HttpContext context) =>
        context.Features.Get<IReverseProxyFeature>()?.Route.Config.Metadata is { } metadata
        && metadata.TryGetValue(AnonymousMetadata, out var value)
        && value == "true";

    private static Task RejectAsync(HttpContext context, string code, string detail)
    {
        GatewayTelemetry.Authenticated(code);
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"ujumbe\"";
        return Problems.Unauthorized(code, detail).ExecuteAsync(context);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Credential lookup for {Subject} failed")]
    private static partial void LogLookupFailed(ILogger logger, Exception error, string subject);
}
