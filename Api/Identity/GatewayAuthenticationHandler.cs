using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Identity;

/// <summary>
/// The Api trusts no client: a request is authenticated only by a valid, fresh gateway signature
/// over its method, path and the identity header. Anything else gets 401.
/// </summary>
public sealed class GatewayAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    GatewaySignature signature,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Gateway";
    public const string KindClaim = "ujumbe:kind";
    public const string ScopeClaim = "ujumbe:scope";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var request = Request;
        var identityHeader = request.Headers[GatewaySignature.IdentityHeader];
        var signatureHeader = request.Headers[GatewaySignature.SignatureHeader];
        if (identityHeader.Count > 1 || signatureHeader.Count > 1)
        {
            return Task.FromResult(AuthenticateResult.Fail("duplicate gateway headers"));
        }
        var check = signature.Verify(request.Method, request.Path.Value + request.QueryString.Value,
            identityHeader.ToString(), signatureHeader.ToString(), out var caller);
        if (check != SignatureCheck.Valid)
        {
            return Task.FromResult(check == SignatureCheck.Missing
                ? AuthenticateResult.NoResult()
                : AuthenticateResult.Fail(check.ToString()));
        }

        Context.RequestServices.GetRequiredService<Caller>().Identity = caller!;
        var claims = new List<Claim> { new(KindClaim, caller!.Kind.ToString()) };
        claims.AddRange(ScopeNames.ToNames(caller.Scopes).Select(scope => new Claim(ScopeClaim, scope)));
        var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName));
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(401, ErrorCodes.InvalidCredentials,
            "The request has no valid gateway signature. The Api is reached only through the gateway.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(403, ErrorCodes.Forbidden, "The credentials do not grant access to this resource.");

    private async Task WriteProblemAsync(int status, string code, string detail)
    {
        Response.StatusCode = status;
        var problem = new ProblemDetails { Status = status, Title = status == 401 ? "Unauthorized." : "Forbidden.", Detail = detail };
        problem.Extensions["code"] = code;
        await problems.WriteAsync(new ProblemDetailsContext { HttpContext = Context, ProblemDetails = problem });
    }
}

public static class CallerPolicies
{
    /// <summary>An account caller (API key or portal user): every /v1 endpoint unless it says otherwise.</summary>
    public const string Account = "account-caller";

    /// <summary>Another Ujumbe service: the /internal endpoints.</summary>
    public const string Service = "service-caller";

    public static string ForScope(Scopes scope) => "scope:" + ScopeNames.Format(scope);

    public static void Add(Microsoft.AspNetCore.Authorization.AuthorizationBuilder authorization)
    {
        // Every endpoint needs a gateway signature, including routes that do not exist (no probing).
        authorization.SetFallbackPolicy(new Microsoft.AspNetCore.Authorization.AuthorizationPolicyBuilder(GatewayAuthenticationHandler.SchemeName)
            .RequireAuthenticatedUser().Build());
        authorization.AddPolicy(Account, policy => policy
            .AddAuthenticationSchemes(GatewayAuthenticationHandler.SchemeName)
            .RequireClaim(GatewayAuthenticationHandler.KindClaim, nameof(CallerKind.Account)));
        authorization.AddPolicy(Service, policy => policy
            .AddAuthenticationSchemes(GatewayAuthenticationHandler.SchemeName)
            .RequireClaim(GatewayAuthenticationHandler.KindClaim, nameof(CallerKind.Service)));
        foreach (var scope in Enum.GetValues<Scopes>().Where(s => s != Scopes.None))
        {
            var name = ScopeNames.Format(scope);
            authorization.AddPolicy(ForScope(scope), policy => policy
                .AddAuthenticationSchemes(GatewayAuthenticationHandler.SchemeName)
                .RequireClaim(GatewayAuthenticationHandler.KindClaim, nameof(CallerKind.Account))
                .RequireClaim(GatewayAuthenticationHandler.ScopeClaim, name));
        }
    }
}

public static class ScopeEndpointExtensions
{
    /// <summary>The endpoint (or group) needs an account caller holding <paramref name="scope"/>.</summary>
    public static TBuilder RequireScope<TBuilder>(this TBuilder builder, Scopes scope) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(CallerPolicies.ForScope(scope));
}
