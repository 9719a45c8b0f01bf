using Microsoft.Extensions.Options;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Compat;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Payments;
using Ujumbe.Shared.Providers;

namespace Ujumbe.Gateway.RateLimiting;

/// <summary>
/// Decides whether a request may pass its rate limits and puts the X-RateLimit-* headers on every
/// answer. Authenticated requests count per key (or portal user) against "everything" and, for sends
/// and contacts, against that policy too; anything without valid credentials counts per client address.
/// </summary>
public sealed class Admission(RateLimiter limiter, IOptions<RateLimitDefaults> options, IOptions<RedisNamingOptions> naming)
{
    private readonly RateLimitDefaults _defaults = options.Value;
    private readonly string _prefix = naming.Value.Prefix + "rl:";

    /// <summary>Admits (returns true) or answers 429 itself (returns false).</summary>
    public ValueTask<bool> AdmitAsync(HttpContext context, CallerIdentity? caller, RateLimitOverrides? overrides) =>
        AdmitAsync(context, Buckets(context.Request, caller, overrides));

    /// <summary>
    /// Charges the client address for asking the Api about a key this replica does not hold, before it is
    /// asked: made-up keys stop at the address's limit without costing the Api anything. A key that turns
    /// out to be real gets its charge back (<see cref="RefundKeyLookupAsync"/>), so real keys never pay.
    /// This is a bucket of its own, not the address's anonymous one, so an address whose anonymous budget
    /// is spent (say, by a client repeating one bad key) can still present a valid key.
    /// </summary>
    public ValueTask<bool> AdmitKeyLookupAsync(HttpContext context, CallerIdentity anonymous) =>
        AdmitAsync(context, [KeyLookupBucket(context.Request, anonymous)]);

    public ValueTask RefundKeyLookupAsync(HttpContext context, CallerIdentity anonymous) =>
        limiter.RefundAsync(KeyLookupBucket(context.Request, anonymous), context.RequestAborted);

    private Bucket KeyLookupBucket(HttpRequest request, CallerIdentity anonymous) =>
        new($"{_prefix}lookup:ip:{Address(request, anonymous)}", _defaults.AnonymousPerHour, TimeSpan.FromHours(1));

    private static string Address(HttpRequest request, CallerIdentity? caller) =>
        caller?.ClientIp ?? request.HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    private async ValueTask<bool> AdmitAsync(HttpContext context, List<Bucket> buckets)
    {
        var decision = await limiter.CheckAsync(buckets, context.RequestAborted);
        var headers = context.Response.Headers;
        headers["X-RateLimit-Limit"] = decision.Limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        headers["X-RateLimit-Remaining"] = decision.Remaining.ToString(System.Globalization.CultureInfo.InvariantCulture);
        headers["X-RateLimit-Reset"] = RateLimiter.Seconds(decision.Reset);
        if (decision.Allowed)
        {
            return true;
        }
        headers.RetryAfter = RateLimiter.Seconds(decision.RetryAfter);
        await Problems.Create(429, ErrorCodes.RateLimitExceeded, "Too many requests.",
            $"The limit is {decision.Limit} requests; retry after {RateLimiter.Seconds(decision.RetryAfter)} seconds.")
            .ExecuteAsync(context);
        return false;
    }

    public List<Bucket> Buckets(HttpRequest request, CallerIdentity? caller, RateLimitOverrides? overrides)
    {
        if (caller is not { Kind: CallerKind.Account })
        {
            if (request.Path.Equals(MobileMoneyCallbacks.Path, StringComparison.OrdinalIgnoreCase))
            {
                return [new Bucket($"{_prefix}callback:ip:{Address(request, caller)}", _defaults.CallbacksPerMinute, TimeSpan.FromMinutes(1))];
            }
            if (ProviderCallbacks.IsCallbackPath(request.Path.Value))
            {
                return [new Bucket($"{_prefix}dlr:ip:{Address(request, caller)}", _defaults.DeliveryReportsPerMinute, TimeSpan.FromMinutes(1))];
            }
            return [new Bucket($"{_prefix}anon:ip:{Address(request, caller)}", _defaults.AnonymousPerHour, TimeSpan.FromHours(1))];
        }
        var subject = caller.KeyId is { } key ? $"key:{key:N}" : $"user:{caller.UserId:N}";
        var buckets = new List<Bucket>(2)
        {
            new($"{_prefix}all:{subject}", overrides?.RequestsPerHour ?? _defaults.RequestsPerHour, TimeSpan.FromHours(1)),
        };
        var policy = Dialects.For(request.Path) is { } dialect ? dialect.PolicyOf(request.Method, request.Path) : PolicyOf(request);
        if (policy == RatePolicy.Send)
        {
            buckets.Add(new($"{_prefix}send:{subject}", overrides?.MessagesPerMinute ?? _defaults.MessagesPerMinute, TimeSpan.FromMinutes(1)));
        }
        else if (policy == RatePolicy.Contacts)
        {
            buckets.Add(new($"{_prefix}contacts:{subject}", overrides?.ContactsPerHour ?? _defaults.ContactsPerHour, TimeSpan.FromHours(1)));
        }
        return buckets;
    }

    /// <summary>/v1's sends and contacts; a dialect's requests count in the same buckets (one limit, however the key calls).</summary>
    private static RatePolicy PolicyOf(HttpRequest request)
    {
        var path = request.Path;
        if (HttpMethods.IsPost(request.Method)
            && (path.Equals("/v1/messages", StringComparison.OrdinalIgnoreCase) || path.Equals("/v1/campaigns", StringComparison.OrdinalIgnoreCase)))
        {
            return RatePolicy.Send;
        }
        return path.StartsWithSegments("/v1/contacts", StringComparison.OrdinalIgnoreCase) ? RatePolicy.Contacts : RatePolicy.None;
    }
}
