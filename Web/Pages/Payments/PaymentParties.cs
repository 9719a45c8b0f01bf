using System.Security.Claims;
using Ujumbe.Web.Gateway;
using Ujumbe.Web.Session;

namespace Ujumbe.Web.Pages.Payments;

/// <summary>
/// Whom a payment credits, in words: the signed-in user's own account, or (for a partner) one of its tenants by
/// name. Only a partner has tenants; for anyone else every payment they can see is their own.
/// </summary>
public sealed record PaymentParties(string OwnAccountId, IReadOnlyList<Tenant> Tenants)
{
    public static PaymentParties None { get; } = new("", []);

    public bool HasTenants => Tenants.Count > 0;

    public string Describe(string accountId) =>
        accountId == OwnAccountId ? "Your account"
        : Tenants.FirstOrDefault(t => t.Id == accountId)?.Name ?? accountId;

    /// <summary>The partner's tenants (the first 100, by name, enough for a picker), or none for anyone else.</summary>
    public static async Task<PaymentParties> LoadAsync(GatewayClient gateway, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!user.IsPartner())
        {
            return new PaymentParties(user.AccountId(), []);
        }
        var tenants = await gateway.GetAsync<PageOf<Tenant>>("/v1/tenants?page_size=100", cancellationToken);
        return new PaymentParties(user.AccountId(), tenants.Value?.Data.OrderBy(t => t.Name, StringComparer.CurrentCultureIgnoreCase).ToList() ?? []);
    }
}
