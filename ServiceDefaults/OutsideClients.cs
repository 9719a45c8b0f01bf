using Microsoft.Extensions.DependencyInjection;

namespace Ujumbe.ServiceDefaults;

/// <summary>
/// HTTP clients that call the outside world (customers' webhook URLs) rather than our own services.
/// </summary>
public static class OutsideClients
{
    /// <summary>
    /// The named client <paramref name="name"/> without the handlers every client gets by default: no service
    /// discovery (a customer's <c>http://api</c> must never resolve to our Api) and no standard resilience
    /// handler (such a client has its own retry policy; retrying inside it too would multiply attempts).
    /// The defaults are configured before any named client, so clearing here removes exactly them.
    /// </summary>
    public static IHttpClientBuilder AddOutsideHttpClient(this IServiceCollection services, string name, Action<HttpClient> configure) =>
        services.AddHttpClient(name, configure)
            .ConfigureAdditionalHttpMessageHandlers((handlers, _) => handlers.Clear());
}
