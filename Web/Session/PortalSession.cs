using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Ujumbe.Web.Session;

/// <summary>
/// The signed-in user as the dashboard keeps them: the portal token and what it says (user, account,
/// role), in claims of the Data Protection–encrypted session cookie. The token is never sent to the browser
/// in readable form, and the cookie ends when the token does.
/// </summary>
public static class PortalSession
{
    public const string CookieName = "ujumbe.session";
    public const string OperatorRole = "operator";
    public const string OwnerRole = "owner";
    public const string PartnerRole = "partner";
    private const string TokenClaim = "portal_token";
    private const string AccountClaim = "account";

    public static async Task SignInAsync(HttpContext context, string email, string token, int expiresInSeconds)
    {
        var claims = ReadClaims(token);
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, claims.GetValueOrDefault("sub") ?? ""),
            new Claim(ClaimTypes.Name, email),
            new Claim(ClaimTypes.Role, claims.GetValueOrDefault("role") ?? ""),
            new Claim(AccountClaim, claims.GetValueOrDefault("acct") ?? ""),
            new Claim(TokenClaim, token),
        ], CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity), new AuthenticationProperties
        {
            IsPersistent = false,
            // A little before the token, so a page never starts with a token about to be refused.
            ExpiresUtc = DateTimeOffset.UtcNow.AddSeconds(Math.Max(1, expiresInSeconds - 5)),
            AllowRefresh = false,
        });
    }

    public static Task SignOutAsync(HttpContext context) => context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);

    public static string? Token(this ClaimsPrincipal user) => user.FindFirstValue(TokenClaim);

    public static string Role(this ClaimsPrincipal user) => user.FindFirstValue(ClaimTypes.Role) ?? "";

    public static bool IsOperator(this ClaimsPrincipal user) => user.Role() == OperatorRole;

    public static bool IsPartner(this ClaimsPrincipal user) => user.Role() == PartnerRole;

    /// <summary>Whether the user's token carries the <c>account</c> scope (payments): an owner, a partner or an operator, not a member.</summary>
    public static bool ManagesAccount(this ClaimsPrincipal user) => user.Role() is OwnerRole or PartnerRole or OperatorRole;

    /// <summary>The signed-in user's own account as the API names it (<c>acct_</c> and the token's hex id).</summary>
    public static string AccountId(this ClaimsPrincipal user) =>
        user.FindFirstValue(AccountClaim) is { Length: > 0 } id ? "acct_" + id : "";

    /// <summary>
    /// The token's claims, read without checking the signature: the gateway checks it on every request,
    /// and the dashboard uses these only to choose what to show.
    /// </summary>
    private static Dictionary<string, string> ReadClaims(string token)
    {
        var parts = token.Split('.');
        var claims = new Dictionary<string, string>();
        if (parts.Length != 3)
        {
            return claims;
        }
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
            using var document = JsonDocument.Parse(Convert.FromBase64String(payload));
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.String)
                {
                    claims[property.Name] = property.Value.GetString()!;
                }
            }
        }
        catch (Exception error) when (error is FormatException or JsonException)
        {
            claims.Clear();
        }
        return claims;
    }
}

/// <summary>The gateway refused the session's token (expired or revoked): the user must sign in again.</summary>
public sealed class SessionExpiredException() : Exception("The portal session has expired.");

/// <summary>Turns a refused token anywhere in a page into a sign-out and a trip to the sign-in page with a message.</summary>
public sealed class SessionExpiry(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (SessionExpiredException) when (!context.Response.HasStarted)
        {
            await PortalSession.SignOutAsync(context);
            var back = context.Request.Method == HttpMethods.Get ? context.Request.Path + context.Request.QueryString : (string?)"/";
            context.Response.Redirect("/sign-in?expired=true&ReturnUrl=" + Uri.EscapeDataString(back ?? "/"));
        }
    }
}
