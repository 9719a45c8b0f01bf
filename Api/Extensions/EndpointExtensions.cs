using Ujumbe.Api.Accounts;
using Ujumbe.Api.ApiKeys;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Internal;

namespace Ujumbe.Api.Extensions;

public static class EndpointExtensions
{
    /// <summary>The public API under /v1 (account callers only) and the gateway's /internal endpoints.</summary>
    public static WebApplication MapUjumbeApi(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();

        app.MapDefaultEndpoints();
        app.MapOpenApi();

        var v1 = app.MapGroup("/v1").RequireAuthorization(CallerPolicies.Account);
        v1.MapAccountApi();
        v1.MapApiKeysApi();
        v1.MapAdminAccountsApi();

        app.MapInternalApi();
        return app;
    }
}
