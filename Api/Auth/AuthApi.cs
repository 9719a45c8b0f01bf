using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;

namespace Ujumbe.Api.Auth;

public sealed record LoginRequest(string? Email, string? Password);

public sealed record LoginResponse(string AccessToken, string TokenType, int ExpiresIn);

public sealed record AcceptInvitationRequest(string? Token, string? Password);

public sealed record AcceptedInvitationResponse(string Email);

public sealed record InvitationResponse(string Email, string Token, DateTime ExpiresAt);

/// <summary>Portal sign-in: the one /v1 endpoint that needs no credentials (but still a gateway signature).</summary>
public static class AuthApi
{
    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/auth/login", LoginAsync).WithTags("Portal")
            .WithName("Login").WithSummary("Sign in to the portal: a token for an email and password")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        app.MapPost("/v1/auth/invitations/accept", AcceptInvitationAsync).WithTags("Portal")
            .WithName("AcceptInvitation").WithSummary("Set a password with an invitation's token (once, within 7 days)");
        return app;
    }

    public static async Task<Results<Ok<AcceptedInvitationResponse>, ProblemHttpResult>> AcceptInvitationAsync(
        AcceptInvitationRequest request, Invitations invitations, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Token) || request.Token.Length > 100)
        {
            errors["token"] = ["is required: the code from the invitation link"];
        }
        if (request.Password is not { Length: >= Invitations.MinPasswordLength and <= Invitations.MaxPasswordLength })
        {
            errors["password"] = [$"must be {Invitations.MinPasswordLength} to {Invitations.MaxPasswordLength} characters"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var email = await invitations.AcceptAsync(request.Token!, request.Password!, cancellationToken);
        return email is null
            ? Problems.Validation("token", "does not work: the invitation was used already, has expired, or was replaced by a newer one. Ask for a new one.")
            : TypedResults.Ok(new AcceptedInvitationResponse(email));
    }

    /// <summary>The answer that carries an invitation's token, for whoever issued it.</summary>
    public static async Task<Results<Created<InvitationResponse>, ProblemHttpResult>> InviteOwnerAsync(
        Guid accountId, Invitations invitations, CancellationToken cancellationToken)
    {
        var issued = await invitations.IssueAsync(accountId, cancellationToken);
        return issued is null
            ? Problems.NotFound("The account has no owner to invite.")
            : TypedResults.Created((string?)null, new InvitationResponse(issued.Email, issued.Token, issued.ExpiresAt));
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
