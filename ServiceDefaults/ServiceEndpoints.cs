using Microsoft.Extensions.Configuration;

namespace Ujumbe.ServiceDefaults;

public static class ServiceEndpoints
{
    /// <summary>
    /// The address of another service under Aspire's convention (<c>services__api__https__0</c>,
    /// <c>services__api__http__0</c>), https first.
    /// </summary>
    public static Uri? GetServiceUri(this IConfiguration configuration, string service)
    {
        var value = configuration[$"services:{service}:https:0"] ?? configuration[$"services:{service}:http:0"];
        return string.IsNullOrWhiteSpace(value) ? null : new Uri(value);
    }

    public static Uri GetRequiredServiceUri(this IConfiguration configuration, string service) =>
        configuration.GetServiceUri(service)
        ?? throw new InvalidOperationException(
            $"The address of service '{service}' is not configured: set services__{service}__http__0.");

    public static string GetRequiredConnectionString(this IConfiguration configuration, string name) =>
        configuration.GetConnectionString(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"Connection string '{name}' is not configured: set ConnectionStrings__{name} (scripts/stack.sh env prints it).");
}
