using Microsoft.Extensions.Configuration;

namespace Ujumbe.ServiceDefaults;

/// <summary>Settings a service cannot start without: checked at start, with a message naming the setting.</summary>
public static class ServiceEndpoints
{
    /// <summary>
    /// The address by which service discovery finds <paramref name="service"/> (<c>http://api</c>). Its endpoint
    /// comes from configuration (<c>services__api__http__0</c>, injected by the AppHost); a missing or malformed
    /// one fails the start here rather than every request later.
    /// </summary>
    public static Uri GetRequiredServiceUri(this IConfiguration configuration, string service)
    {
        var https = configuration[$"services:{service}:https:0"];
        var http = configuration[$"services:{service}:http:0"];
        if (string.IsNullOrWhiteSpace(https) && string.IsNullOrWhiteSpace(http))
        {
            throw new InvalidOperationException(
                $"The address of service '{service}' is not configured: set services__{service}__http__0.");
        }
        foreach (var (scheme, value) in new[] { ("https", https), ("http", http) })
        {
            if (!string.IsNullOrWhiteSpace(value) && !Uri.TryCreate(value, UriKind.Absolute, out _))
            {
                throw new InvalidOperationException(
                    $"services__{service}__{scheme}__0 is not an absolute URL (e.g. http://127.0.0.1:5081).");
            }
        }
        return new Uri(string.IsNullOrWhiteSpace(http) ? $"https://{service}" : $"http://{service}");
    }

    public static string GetRequiredConnectionString(this IConfiguration configuration, string name) =>
        configuration.GetConnectionString(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"Connection string '{name}' is not configured: set ConnectionStrings__{name} (scripts/stack.sh env prints it).");
}
