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
/// everything the Api reads or writes is confined to it.
/// </summary>
public sealed record CallerIdentity(
    CallerKind Kind,
    Guid AccountId = default,
    Scopes Scopes = Scopes.None,
    Guid? KeyId = null,
    Guid? UserId = null,
    string? Role = null,
    string? Service = null,
    string? ClientIp = null)
{
    public static CallerIdentity Anonymous { get; } = new(CallerKind.Anonymous);

    public static CallerIdentity ForService(string name) => new(CallerKind.Service, Service: name);

    public static CallerIdentity ForKey(Guid accountId, Guid keyId, Scopes scopes) =>
        new(CallerKind.Account, accountId, scopes, KeyId: keyId);

    public static CallerIdentity ForUser(PortalUser user) =>
        new(CallerKind.Account, user.AccountId, Roles.ScopesOf(user.Role), UserId: user.UserId, Role: user.Role);

    public bool Has(Scopes scope) => Kind == CallerKind.Account && (Scopes & scope) == scope;
}
