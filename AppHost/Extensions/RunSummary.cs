using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Ujumbe.AppHost.Extensions;

/// <summary>
/// Once every service is healthy, prints where things are and the seeded demo credentials, so
/// <c>dotnet run --project AppHost</c> and scripts/run.sh both end with what a developer needs.
/// </summary>
public sealed class RunSummary(
    DistributedApplicationModel model,
    ResourceNotificationService notifications,
    IConfiguration configuration,
    AppHostSettings settings) : BackgroundService
{
    public static readonly string[] Services = ["api", "worker", "gateway", "web"];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            foreach (var name in Services)
            {
                await notifications.WaitForResourceHealthyAsync(name, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        var keys = await ReadKeysAsync(stoppingToken);
        string Url(string name) =>
            model.Resources.OfType<ProjectResource>().Single(r => r.Name == name).GetEndpoint("http").Url;
        var lines = new List<string>
        {
            $"Gateway: {Url("gateway")}",
            $"Web: {Url("web")}",
        };
        if (DashboardLogin() is { } login)
        {
            lines.Add($"Aspire dashboard: {login}");
        }
        if (keys is not null)
        {
            lines.Add($"Demo API key: {keys.RootElement.GetProperty("demo_key").GetString()}");
            lines.Add($"Operator API key: {keys.RootElement.GetProperty("operator_key").GetString()}");
            lines.Add($"Demo login: demo@ujumbe.local / {keys.RootElement.GetProperty("demo_password").GetString()}");
            lines.Add($"Operator login: operator@ujumbe.local / {keys.RootElement.GetProperty("operator_password").GetString()}");
            lines.Add($"Try: curl -H \"Authorization: Bearer {keys.RootElement.GetProperty("demo_key").GetString()}\" {Url("gateway")}/v1/balance");
        }
        lines.Add("Note: webhooks may target loopback and private addresses here (Webhooks__AllowPrivateNetworks=true); production refuses them.");
        Console.Out.WriteLine(string.Join(Environment.NewLine, lines));
        await Console.Out.FlushAsync(stoppingToken);
    }

    /// <summary>The dashboard's address with its sign-in token (the <c>?t=</c> link).</summary>
    private string? DashboardLogin()
    {
        var url = configuration["ASPNETCORE_URLS"]?.Split(';')[0];
        var token = configuration["AppHost:BrowserToken"];
        return url is null ? null : token is null ? url : $"{url.TrimEnd('/')}/login?t={token}";
    }

    private async Task<JsonDocument?> ReadKeysAsync(CancellationToken cancellationToken)
    {
        var file = Path.Combine(settings.DataDirectory, "demo-keys.json");
        return File.Exists(file) ? JsonDocument.Parse(await File.ReadAllTextAsync(file, cancellationToken)) : null;
    }
}
