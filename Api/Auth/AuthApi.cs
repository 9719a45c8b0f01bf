using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;

namespace Ujumbe.Api.Auth;

public sealed record LoginRequest(string? Email, string? Password);

public sealed record LoginResponse(string AccessToken, string TokenType, int ExpiresIn);

/// <summary>Portal sign-in: the one /v1 endpoint that needs no credentials (but still a gateway signature).</summary>
public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/auth/login", LoginAsync).WithTags("Portal")
            .WithName("Login").WithSummary("Sign in to the portal: a token for an email and password")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        return app;
    }

    public static async Task<Results<Ok<LoginResponse>, ProblemHttpResult>> LoginAsync(
        LoginRequest request, Caller caller, SignIn signIn, Shared.Identity.PortalTokens tokens, HttpResponse response,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Email) || request.Email.Length > 254)
        {
            errors["email"] = ["is required"];
        }
        if (string.IsNullOrEmpty(request.Password) || request.Password.Length > 1024)
        {
            errors["password"] = ["is required"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var outcome = await signIn.SignInAsync(request.Email!, request.Password!, caller.Identity.ClientIp, cancellationToken);
        switch (outcome.Result)
        {
            case SignInResult.SignedIn:
                return TypedResults.Ok(new LoginResponse(outcome.Token!, "Bearer", (int)tokens.Lifetime.TotalSeconds));
            case SignInResult.Locked:
                var seconds = Math.Max(1, (int)Math.Ceiling(outcome.RetryAfter.TotalSeconds));
                response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return Problems.Create(429, ErrorCodes.RateLimitExceeded, "Too many failed sign-ins.",
                    $"Sign-in is locked for {seconds} seconds after repeated failures.");
            case SignInResult.AccountSuspended:
                return Problems.Forbidden("The account is suspended. Contact support.", ErrorCodes.AccountSuspended);
            default:
                return Problems.Unauthorized(ErrorCodes.InvalidCredentials, "The email or password is not correct.");
        }
    }
}
