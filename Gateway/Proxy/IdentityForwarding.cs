using Ujumbe.Gateway.Authentication;
using Ujumbe.Shared.Compat;
using Ujumbe.Shared.Identity;
using Yarp.ReverseProxy.Transforms;
using Yarp.ReverseProxy.Transforms.Builder;

namespace Ujumbe.Gateway.Proxy;

/// <summary>
/// What the Api receives: never the client's secret, always the gateway's signed identity for this
/// exact method and path (a client's own identity claims were refused before, by
/// <see cref="ProxyProblems"/>). What the client receives back: never the Api's credential-change
/// notes, which this gateway applies to its cache first.
/// </summary>
public static class IdentityForwarding
{
    public static void Apply(TransformBuilderContext context)
    {
        var signature = context.Services.GetRequiredService<GatewaySignature>();
        var credentials = context.Services.GetRequiredService<CredentialCache>();
        context.AddRequestHeaderRemove("Authorization");
        context.AddRequestHeaderRemove(CredentialReader.ApiKeyHeader);
        foreach (var header in Dialects.CredentialHeaders)
        {
            context.AddRequestHeaderRemove(header);
        }
        // Whatever server answered, say nothing about it.
        context.AddResponseHeaderRemove("Server");
        context.AddRequestTransform(transform =>
        {
            var headers = transform.ProxyRequest.Headers;
            var request = transform.HttpContext.Request;
            // Headers the client named in Connection are for this hop only (RFC 9110 §7.6.1).
            foreach (var listed in request.Headers.Connection.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
            {
                headers.Remove(listed);
            }
            var caller = transform.HttpContext.Features.Get<GatewayCaller>()?.Identity ?? CallerIdentity.Anonymous;
            var (identity, signed) = signature.Sign(request.Method, request.Path.Value + request.QueryString.Value, caller);
            headers.TryAddWithoutValidation(GatewaySignature.IdentityHeader, identity);
            headers.TryAddWithoutValidation(GatewaySignature.SignatureHeader, signed);
            return ValueTask.CompletedTask;
        });
        context.AddResponseTransform(transform =>
        {
            if (transform.ProxyResponse?.Headers.TryGetValues(CredentialChangeMessages.ResponseHeader, out var changes) == true)
            {
                foreach (var change in changes)
                {
                    credentials.Apply(change);
                }
                transform.HttpContext.Response.Headers.Remove(CredentialChangeMessages.ResponseHeader);
            }
            return ValueTask.CompletedTask;
        });
    }
}
