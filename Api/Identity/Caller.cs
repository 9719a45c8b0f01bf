using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Identity;

/// <summary>
/// The caller of the current request, as the gateway signed it. Scoped: set once by
/// <see cref="GatewayAuthenticationHandler"/>, read by endpoints and by the database's tenant filter.
/// </summary>
public sealed class Caller
{
    public CallerIdentity Identity { get; internal set; } = CallerIdentity.Anonymous;

    /// <summary>The account the request acts for. Only endpoints that require an account caller use it.</summary>
    public Guid AccountId => Identity.Kind == CallerKind.Account
        ? Identity.AccountId
        : throw new InvalidOperationException("This request has no account caller.");

    public Guid AccountIdOrEmpty => Identity.Kind == CallerKind.Account ? Identity.AccountId : Guid.Empty;

    public Scopes Scopes => Identity.Scopes;

    public Guid? KeyId => Identity.KeyId;
}
