extern alias GatewayApp;

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// A real gateway in front of a stand-in upstream (not a stand-in for any data store) that knows one
/// key, echoes what it receives and can be slow, to see exactly what the gateway forwards and how it
/// fails.
/// </summary>
public sealed class HardeningFixture : IAsyncLifetime
{
    public string Secret { get; } = ApiKeySecret.NewSecret(ApiKeySecret.NewPublicKey());

    /// <summary>A key whose lookup the upstream answers with something that is not JSON.</summary>
    public string GarbledSecret { get; } = ApiKeySecret.NewSecret(ApiKeySecret.NewPublicKey());

    /// <summary>A key whose lookup the upstream never answers; <see cref="SlowLookupArrived"/> says when it is asked.</summary>
    public string SlowSecret { get; } = ApiKeySecret.NewSecret(ApiKeySecret.NewPublicKey());

    public TaskCompletionSource SlowLookupArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>What the gateway logged at Warning and above.</summary>
    public CapturedLogs Logs { get; } = new();

    private readonly string _signingKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private WebApplication _upstream = null!;
    public ServiceHost<GatewayApp::Program> Gateway { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ApiKeySecret.TryGetPublicKey(Secret, out var publicKey);
        ApiKeySecret.TryGetPublicKey(GarbledSecret, out var garbled);
        ApiKeySecret.TryGetPublicKey(SlowSecret, out var slow);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        _upstream = builder.Build();
        _upstream.MapGet("/alive", () => Results.Ok());
        _upstream.MapGet("/internal/keys/{pk}", async (string pk, CancellationToken cancellationToken) =>
        {
            if (pk == garbled)
            {
                return Results.Text("<html>not a key</html>", "application/json");
            }
            if (pk == slow)
            {
                SlowLookupArrived.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            return pk == publicKey
                ? Results.Json(new KeyLookup(Guid.NewGuid(), Guid.NewGuid(), publicKey, ApiKeySecret.Hash(Secret), ["messages", "account"], null, null, "active"), JsonDefaults.Options)
                : Results.NotFound();
        });
        _upstream.MapPost("/internal/keys/usage", () => Results.NoContent());
        _upstream.Map("/v1/echo", (HttpRequest request) => Results.Json(request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString())));
        _upstream.MapGet("/v1/slow", async (CancellationToken cancellationToken) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), cancellationToken);
            return Results.Ok();
        });
        await _upstream.StartAsync();

        Gateway = new ServiceHost<GatewayApp::Program>(new Dictionary<string, string?>
        {
            ["services:api:http:0"] = _upstream.Urls.First(),
            ["GatewaySigning:Key"] = _signingKey,
            ["PortalTokens:SigningKey"] = _signingKey,
            ["ConnectionStrings:redis"] = TestStack.Settings.Redis,
            ["Redis:Prefix"] = "test-" + Guid.NewGuid().ToString("N")[..12] + ":",
            ["Gateway:UpstreamTimeout"] = "00:00:00.500",
        }, services => services.AddSingleton<ILoggerProvider>(Logs));
        Gateway.Start();
    }

    public HttpClient Client(bool authenticated = true) => Client(authenticated ? Secret : null);

    public HttpClient Client(string? secret) => UjumbeFixture.Client(Gateway, secret);

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }
}

/// <summary>Log entries, kept for a test to read.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<(string Category, LogLevel Level, string Message)> _entries = new();

    public IReadOnlyCollection<(string Category, LogLevel Level, string Message)> Entries => _entries;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs logs, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            logs._entries.Enqueue((category, logLevel, formatter(state, exception)));
    }
}

public sealed class GatewayHardeningTests(HardeningFixture gateway) : IClassFixture<HardeningFixture>
{
    private async Task<Dictionary<string, string>> EchoAsync(HttpRequestMessage request)
    {
        using var client = gateway.Client();
        var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonSerializer.Deserialize<Dictionary<string, string>>(body)!;
    }

    [Fact]
    public async Task The_upstream_gets_the_signed_identity_and_forwarding_headers_but_no_client_secrets_or_hop_by_hop_headers()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/echo");
        request.Headers.Add("X-API-Key", gateway.Secret);
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("Keep-Alive", "timeout=5");
        request.Headers.Add("X-Custom-Hop", "drop me");
        request.Headers.Connection.Add("X-Custom-Hop");
        var received = await EchoAsync(request);

        Assert.False(received.ContainsKey("authorization"));
        Assert.False(received.ContainsKey("x-api-key"));
        Assert.False(received.ContainsKey("keep-alive"));
        Assert.False(received.ContainsKey("x-custom-hop"));
        Assert.StartsWith("t=", received["x-ujumbe-identity"], StringComparison.Ordinal);
        Assert.StartsWith("v1=", received["x-ujumbe-signature"], StringComparison.Ordinal);
        // The client's claim about its address is replaced by what the gateway saw.
        Assert.Equal("127.0.0.1", received["x-forwarded-for"]);
        Assert.Equal("http", received["x-forwarded-proto"]);
        Assert.StartsWith("127.0.0.1:", received["x-forwarded-host"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_slow_upstream_becomes_504_problem_json()
    {
        using var client = gateway.Client();
        await (await client.GetAsync("/v1/slow")).AssertProblemAsync(HttpStatusCode.GatewayTimeout, ErrorCodes.UpstreamTimeout);
    }

    [Fact]
    public async Task A_key_lookup_answer_that_is_not_json_is_503_not_500()
    {
        using var client = gateway.Client(gateway.GarbledSecret);
        await (await client.GetAsync("/v1/echo")).AssertProblemAsync(HttpStatusCode.ServiceUnavailable, ErrorCodes.ServiceUnavailable);
    }

    [Fact]
    public async Task A_client_that_hangs_up_during_its_key_lookup_is_not_a_lookup_failure()
    {
        ApiKeySecret.TryGetPublicKey(gateway.SlowSecret, out var publicKey);
        var lookupEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Ujumbe.Gateway",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("ujumbe.subject") as string == publicKey)
                {
                    lookupEnded.TrySetResult();
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        using var client = gateway.Client(gateway.SlowSecret);
        using var hangUp = new CancellationTokenSource();
        var sending = client.GetAsync("/v1/echo", hangUp.Token);
        await gateway.SlowLookupArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await hangUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        await lookupEnded.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the gateway has seen the hang-up

        Assert.DoesNotContain(gateway.Logs.Entries, entry => entry.Level >= LogLevel.Error && entry.Message.Contains(publicKey, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Answers_carry_no_server_header()
    {
        using var client = gateway.Client();
        var responses = new[] { await client.GetAsync("/v1/echo"), await client.GetAsync("/nowhere"), await gateway.Client(false).GetAsync("/v1/echo") };
        Assert.All(responses, response => Assert.Empty(response.Headers.Server));
    }

    [Fact]
    public async Task Cross_origin_requests_are_not_allowed()
    {
        using var client = gateway.Client(false);
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/echo");
        preflight.Headers.Add("Origin", "https://evil.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        var response = await client.SendAsync(preflight);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(response.IsSuccessStatusCode);
    }

    [Fact]
    public async Task A_tenant_header_without_a_partner_credential_is_refused_not_forwarded()
    {
        using var client = gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/echo");
        request.Headers.Add("X-Tenant-Id", "acct_0193");
        await (await client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.Forbidden, ErrorCodes.Forbidden);
    }

    [Fact]
    public async Task Oversized_headers_and_urls_are_refused_without_reaching_anything()
    {
        // Raw sockets: HttpClient would refuse to send some of these itself.
        var address = gateway.Gateway.Address;
        Assert.StartsWith("431", await RawStatusAsync(address, $"GET /v1/echo HTTP/1.1\r\nHost: x\r\nX-Big: {new string('a', 40_000)}\r\n\r\n"), StringComparison.Ordinal);
        Assert.StartsWith("414", await RawStatusAsync(address, $"GET /v1/echo?{new string('a', 10_000)} HTTP/1.1\r\nHost: x\r\n\r\n"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/v1/echo", ServiceDefaultsLimits.MaxRequestBodyBytes)]
    [InlineData("/v1/contacts/import", ServiceDefaultsLimits.MaxUploadBodyBytes)]
    public async Task A_body_over_its_routes_limit_gets_413_stating_that_limit(string path, long limit)
    {
        using var client = gateway.Client();
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(new byte[limit + 1]) };
        request.Headers.ExpectContinue = true; // refused before the body is sent
        var problem = await (await client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge, ErrorCodes.PayloadTooLarge);
        Assert.Equal($"The body must not exceed {limit / 1024} KiB.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task A_request_line_that_is_not_http_gets_400()
    {
        Assert.StartsWith("400", await RawStatusAsync(gateway.Gateway.Address, "HELLO\r\n\r\n"), StringComparison.Ordinal);
    }

    private static async Task<string> RawStatusAsync(Uri address, string request)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request));
        var buffer = new byte[256];
        var read = await stream.ReadAsync(buffer);
        var line = Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n")[0]; // HTTP/1.1 431 ...
        return line.Split(' ')[1];
    }
}
