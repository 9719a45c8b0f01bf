namespace Ujumbe.Shared.Identity;

/// <summary>Who a request is from, as the gateway resolved it.</summary>
public enum CallerKind
{
    /// <summary>A public route (e.g. the OpenAPI document): no credentials, but it came through the gateway.</summary>
    Anonymous,

    /// <summary>An integrator's API key or a signed-in portal user, acting for one account.</summary>
    Account,

    /// <summary>Another Ujumbe service (the gateway itself asking the Api for a key).</summary>
    Service,
}

/// <summary>
/// The identity the gateway forwards. <see cref="AccountId"/> is the account the request acts for;
/// everything the Api reads or writes is confined to it. When a partner's key acts for one of its tenants
/// (<c>X-Tenant-Id</c>, checked by the gateway), <see cref="AccountId"/> is the tenant and
/// <see cref="PartnerId"/> the partner: the tenant simply becomes the effective account.
/// </summary>
public sealed record CallerIdentity(
    CallerKind Kind,
    Guid AccountId = default,
    Scopes Scopes = Scopes.None,
    Guid? KeyId = null,
    Guid? UserId = null,
    string? Role = null,
    string? Service = null,
    string? ClientIp = null,
    Guid? PartnerId = null)
{
    public static CallerIdentity Anonymous { get; } = new(CallerKind.Anonymous);

    public static CallerIdentity ForService(string name) => new(CallerKind.Service, Service: name);

    public static CallerIdentity ForKey(Guid accountId, Guid keyId, Scopes scopes) =>
        new(CallerKind.Account, accountId, scopes, KeyId: keyId);

    public static CallerIdentity ForUser(PortalUser user) =>
        new(CallerKind.Account, user.AccountId, Roles.ScopesOf(user.Role), UserId: user.UserId, Role: user.Role);

    /// <summary>
    /// The same caller acting for <paramref name="tenantId"/>: confined to the tenant's account, and without
    /// the partner's own powers (a tenant manages no tenants and is no operator).
    /// </summary>
    public CallerIdentity ActingFor(Guid tenantId) =>
        this with { AccountId = tenantId, PartnerId = AccountId, Scopes = Scopes & ~(Scopes.Partner | Scopes.Admin) };

    public bool Has(Scopes scope) => Kind == CallerKind.Account && (Scopes & scope) == scope;
}
