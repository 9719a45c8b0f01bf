extern alias ApiApp;
extern alias GatewayApp;

using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>With OTEL_EXPORTER_OTLP_ENDPOINT set, each service exports its spans and metrics by OTLP.</summary>
public sealed class TelemetryTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(string Path, byte[] Body)> _received = new();
    private WebApplication _collector = null!;
    private string _collectorAddress = "";

    public async Task InitializeAsync()
    {
        // A stand-in OTLP/HTTP collector that keeps what it is sent.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _collector = builder.Build();
        _collector.MapPost("/v1/{signal}", async (HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            _received.Enqueue((request.Path.Value!, body.ToArray()));
            return Results.Ok();
        });
        await _collector.StartAsync();
        _collectorAddress = _collector.Urls.First();
    }

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    private bool Exported(string path, string text) =>
        _received.Any(r => r.Path == path && Encoding.UTF8.GetString(r.Body).Contains(text, StringComparison.Ordinal));

    [Fact]
    public async Task Gateway_and_api_export_tagged_spans_and_their_own_metrics()
    {
        var otlp = new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = _collectorAddress,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        };
        var fixture = new OtlpFixture(otlp);
        await fixture.InitializeAsync();
        using (var client = fixture.Client(fixture.DemoKey))
        {
            (await client.GetAsync("/v1/balance")).EnsureSuccessStatusCode();
        }
        // Disposing the services disposes their providers, which flushes what is buffered.
        await fixture.DisposeAsync();

        Assert.True(Exported("/v1/traces", "Ujumbe.Gateway"), "gateway spans");
        Assert.True(Exported("/v1/traces", "Ujumbe.Api"), "api spans");
        Assert.True(Exported("/v1/traces", "http.route"), "server spans carry the route");
        Assert.True(Exported("/v1/traces", "/v1/balance"), "the balance request was traced");
        Assert.True(Exported("/v1/traces", "credential lookup"), "the gateway's own span");
        Assert.True(Exported("/v1/metrics", "ujumbe.gateway.authentications"), "the gateway's own meter");
        Assert.True(Exported("/v1/metrics", "http.server.request.duration"), "ASP.NET Core's native metrics");
    }

    private sealed class OtlpFixture(Dictionary<string, string?> otlp) : UjumbeFixture
    {
        protected override Dictionary<string, string?> ApiSettings()
        {
            var settings = base.ApiSettings();
            foreach (var (key, value) in otlp)
            {
                settings[key] = value;
            }
            return settings;
        }

        protected override Dictionary<string, string?> GatewaySettings(Uri api)
        {
            var settings = base.GatewaySettings(api);
            foreach (var (key, value) in otlp)
            {
                settings[key] = value;
            }
            return settings;
        }
    }
}
