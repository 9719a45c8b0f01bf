using Ujumbe.Api.Accounts;
using Ujumbe.Api.ApiKeys;
using Ujumbe.Api.Idempotency;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Auth;
using Ujumbe.Api.Billing;
using Ujumbe.Api.Campaigns;
using Ujumbe.Api.Compat.Classic;
using Ujumbe.Api.Compat.Mifumo;
using Ujumbe.Api.Compat.SmsPop;
using Ujumbe.Api.Compat.Wasambazie;
using Ujumbe.Api.Contacts;
using Ujumbe.Api.Content;
using Ujumbe.Api.DeadLetters;
using Ujumbe.Api.Internal;
using Ujumbe.Api.Messages;
using Ujumbe.Api.Partners;
using Ujumbe.Api.Payments;
using Ujumbe.Api.Providers;
using Ujumbe.Api.Segments;
using Ujumbe.Api.SenderIds;
using Ujumbe.Api.Validation;
using Ujumbe.Api.Webhooks;

namespace Ujumbe.Api.Extensions;

public static class EndpointExtensions
{
    /// <summary>The public API under /v1 (account callers only) and the gateway's /internal endpoints.</summary>
    public static WebApplication MapUjumbeApi(this WebApplication app)
    {
        app.UseAuthentication();
        app.UseAuthorization();
        // After authorization (a caller without access hears 401/403 first), before any endpoint binds input.
        app.UseMiddleware<TextInputGuard>();
        // After the input is known to be acceptable: a refused request claims no Idempotency-Key.
        app.UseMiddleware<IdempotentRequests>();

        app.MapDefaultEndpoints();
        app.MapOpenApi();

        var v1 = app.MapGroup("/v1").RequireAuthorization(CallerPolicies.Account);
        v1.MapAccountApi();
        v1.MapApiKeysApi();
        v1.MapAdminAccountsApi();
        v1.MapMessagesApi();
        v1.MapBatchesApi();
        v1.MapUsageApi();
        v1.MapLedgerApi();
        v1.MapSenderIdsApi();
        v1.MapWebhooksApi();
        v1.MapContactsApi();
        v1.MapOptOutsApi();
        v1.MapSegmentsApi();
        v1.MapCampaignsApi();
        v1.MapAdminContentRulesApi();
        v1.MapAdminDeadLettersApi();
        v1.MapTenantsApi();
        v1.MapPaymentsApi();
        v1.MapAdminProvidersApi();

        // The compatibility dialects (decision 0026): other SMS APIs' shapes over the same services.
        app.MapWasambazieApi();
        app.MapMifumoApi();
        app.MapSmsPopApi();
        app.MapClassicApi();

        app.MapAuthApi();
        app.MapPaymentCallbacks();
        app.MapProviderCallbacks();
        app.MapInternalApi();
        return app;
    }
}
