using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>
/// One Ujumbe service, in process but on a real Kestrel socket on 127.0.0.1 (random port), so
/// requests between services in a test travel over TCP exactly as in production.
/// </summary>
public sealed class ServiceHost<TEntryPoint>(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null)
    : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    public Uri Address { get; private set; } = null!;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        // The port is chosen here rather than with UseKestrel(port), which races with Kestrel's own
        // bind in minimal-hosting apps (it edits the address list after the app has started).
        builder.UseSetting(WebHostDefaults.ServerUrlsKey, "http://127.0.0.1:0");
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        if (services is not null)
        {
            builder.ConfigureServices(services);
        }
    }

    public Uri Start()
    {
        UseKestrel();
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Address = new Uri(addresses.First().Replace("localhost", "127.0.0.1", StringComparison.Ordinal));
        return Address;
    }

    /// <summary>A client for this service's socket (not the in-memory test server).</summary>
    public HttpClient CreateSocketClient() => new() { BaseAddress = Address };
}
