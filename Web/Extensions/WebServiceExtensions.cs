using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Ujumbe.ServiceDefaults;
using Ujumbe.Web.Formatting;
using Ujumbe.Web.Gateway;
using Ujumbe.Web.Session;

namespace Ujumbe.Web.Extensions;

public static class WebServiceExtensions
{
    /// <summary>Operator pages (under /operator) need this policy: the portal token's role is operator.</summary>
    public const string OperatorPolicy = "operator";

    /// <summary>Partner pages (under /partner) need this policy: the portal token's role is partner.</summary>
    public const string PartnerPolicy = "partner";

    /// <summary>Payment pages (under /payments) need this policy: a role whose token may buy credits (owner, partner, operator).</summary>
    public const string AccountPolicy = "account";

    /// <summary>
    /// The dashboard: server-rendered Razor Pages (decision 0016) that talk only to the gateway, with the
    /// signed-in user's portal token kept in the encrypted session cookie.
    /// </summary>
    public static IHostApplicationBuilder AddWebServices(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<DashboardOptions>(builder.Configuration.GetSection(DashboardOptions.Section));
        var dashboard = builder.Configuration.GetSection(DashboardOptions.Section).Get<DashboardOptions>() ?? new DashboardOptions();

        builder.Services.AddRazorPages(options =>
        {
            options.Conventions.AuthorizeFolder("/");
            options.Conventions.AllowAnonymousToPage("/SignIn");
            options.Conventions.AllowAnonymousToPage("/Welcome");
            options.Conventions.AllowAnonymousToPage("/Error");
            options.Conventions.AuthorizeFolder("/Operator", OperatorPolicy);
            options.Conventions.AuthorizeFolder("/Partner", PartnerPolicy);
            options.Conventions.AuthorizeFolder("/Payments", AccountPolicy);
        });

        // The cookie holds the portal token; Data Protection encrypts and signs it, so the browser can neither read nor alter it.
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("ujumbe-web");
        if (!string.IsNullOrWhiteSpace(dashboard.KeysDirectory))
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(dashboard.KeysDirectory));
        }
        builder.Services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(options =>
        {
            options.Cookie.Name = PortalSession.CookieName;
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            options.LoginPath = "/sign-in";
            options.LogoutPath = "/sign-out";
            options.AccessDeniedPath = "/forbidden";
            options.SlidingExpiration = false; // the session lasts as long as the portal token, no longer
            options.Events.OnRedirectToLogin = context =>
            {
                // A session cookie that came with the request has run out: say so on the sign-in page.
                var expired = context.Request.Cookies.ContainsKey(PortalSession.CookieName);
                context.Response.Redirect(expired ? context.RedirectUri + "&expired=true" : context.RedirectUri);
                return Task.CompletedTask;
            };
        });
        builder.Services.AddAuthorizationBuilder().AddPolicy(OperatorPolicy, policy => policy.RequireRole(PortalSession.OperatorRole))
            .AddPolicy(PartnerPolicy, policy => policy.RequireRole(PortalSession.PartnerRole))
            .AddPolicy(AccountPolicy, policy => policy.RequireAssertion(context => context.User.ManagesAccount()));
        builder.Services.AddAntiforgery(options =>
        {
            options.Cookie.Name = "ujumbe.antiforgery";
            options.Cookie.SameSite = SameSiteMode.Strict;
            options.Cookie.HttpOnly = true;
        });

        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped<ViewerClock>();
        // Service discovery (ServiceDefaults) resolves "http://gateway" from services__gateway__http__0.
        builder.Services.AddHttpClient<GatewayClient>(http =>
        {
            http.BaseAddress = new Uri("http://gateway");
            http.Timeout = TimeSpan.FromSeconds(30);
        });
        return builder;
    }

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.MapDefaultEndpoints(publicFacing: true);
        app.UseExceptionHandler("/error");
        app.UseStatusCodePagesWithReExecute("/error", "?status={0}");
        app.Use(SecurityHeaders);
        app.UseStaticFiles();
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseMiddleware<SessionExpiry>();
        app.MapRazorPages();
        return app;
    }

    /// <summary>Everything the pages need is served from here: no inline scripts from elsewhere, no framing.</summary>
    private static Task SecurityHeaders(HttpContext context, Func<Task> next)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "same-origin";
        if (!context.Request.Path.StartsWithSegments("/css") && !context.Request.Path.StartsWithSegments("/js"))
        {
            // Pages hold account data and, once, secrets: no cache keeps them.
            headers.CacheControl = "no-store";
        }
        return next();
    }
}
