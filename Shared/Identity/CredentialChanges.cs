using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using Ujumbe.Shared.Redis;

namespace Ujumbe.Shared.Identity;

public sealed class RedisNamingOptions
{
    public const string Section = "Redis";

    /// <summary>Every key and channel Ujumbe uses starts with this, so deployments (and tests) can share one Redis.</summary>
    public string Prefix { get; set; } = "ujumbe:";
}

/// <summary>
/// The channel on which the Api tells every gateway replica that a credential changed, so cached copies
/// are dropped at once: <c>key:{public key}</c> (revoked, regenerated, created) or <c>account:{id}</c>
/// (suspended, activated, limits changed: every cached key of the account).
/// </summary>
public static class CredentialChangeMessages
{
    public const string Channel = "credentials";
    public const string KeyPrefix = "key:";
    public const string AccountPrefix = "account:";

    /// <summary>
    /// The same changes, on the response to the request that made them: the gateway that forwarded it
    /// applies them before the client sees the response (so that client's very next request sees the
    /// change) and removes the header. Other replicas learn of it on the channel.
    /// </summary>
    public const string ResponseHeader = "X-Ujumbe-Credential-Change";

    public static string Key(string publicKey) => KeyPrefix + publicKey;

    public static string Account(Guid accountId) => AccountPrefix + accountId.ToString("N");
}

/// <summary>
/// Publishes credential changes (Api side), and names them on the current response for the gateway that
/// forwarded the request. A failure to publish is logged, not thrown: the change is committed, and
/// gateways that miss it drop their copy when their cache entry expires (and cache only briefly while
/// Redis is unreachable; see decision 0010).
/// </summary>
public sealed partial class CredentialChanges(
    IConnectionMultiplexer redis, IHttpContextAccessor requests, IOptions<RedisNamingOptions> naming, ILogger<CredentialChanges> logger)
{
    private readonly RedisChannel _channel = RedisChannel.Literal(naming.Value.Prefix + CredentialChangeMessages.Channel);

    public Task KeyChangedAsync(string publicKey) => PublishAsync(CredentialChangeMessages.Key(publicKey));

    public Task AccountChangedAsync(Guid accountId) => PublishAsync(CredentialChangeMessages.Account(accountId));

    private async Task PublishAsync(string message)
    {
        requests.HttpContext?.Response.Headers.Append(CredentialChangeMessages.ResponseHeader, message);
        try
        {
            await redis.GetSubscriber().PublishAsync(_channel, message);
        }
        catch (Exception error) when (RedisRegistration.IsRedisFailure(error))
        {
            LogPublishFailed(logger, error, message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not publish credential change {Change}; gateways will see it when their cache expires")]
    private static partial void LogPublishFailed(ILogger logger, Exception error, string change);
}
