using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>One webhook request as a receiver got it.</summary>
public sealed record ReceivedWebhook(string Path, IReadOnlyDictionary<string, string> Headers, byte[] Body, DateTime At)
{
    public string Text => System.Text.Encoding.UTF8.GetString(Body);

    public System.Text.Json.JsonElement Json => System.Text.Json.JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// A real HTTP receiver on loopback for webhook tests. Each path behaves as the test tells it:
/// answer a status, fail a number of times first, hang, or ask to come back later.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, Func<int, HttpResponse, Task>> _behaviours = new();
    private readonly ConcurrentDictionary<string, int> _calls = new();

    public ConcurrentQueue<ReceivedWebhook> Received { get; } = new();

    private WebhookReceiver(WebApplication app) => _app = app;

    public string Url(string path) => _app.Urls.First() + "/" + path.TrimStart('/');

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new WebhookReceiver(app);
        app.MapPost("/{**path}", async (HttpContext context, string path) =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            receiver.Received.Enqueue(new ReceivedWebhook(path,
                context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()), body.ToArray(), DateTime.UtcNow));
            var call = receiver._calls.AddOrUpdate(path, 1, (_, n) => n + 1);
            if (receiver._behaviours.TryGetValue(path, out var behave))
            {
                await behave(call, context.Response);
            }
            else
            {
                context.Response.StatusCode = 204;
            }
        });
        await app.StartAsync();
        return receiver;
    }

    /// <summary>How <paramref name="path"/> answers its n-th call (from 1).</summary>
    public void On(string path, Func<int, HttpResponse, Task> behave) => _behaviours[path.TrimStart('/')] = behave;

    public void Answer(string path, int status) => On(path, (_, response) =>
    {
        response.StatusCode = status;
        return Task.CompletedTask;
    });

    public IReadOnlyList<ReceivedWebhook> At(string path) => Received.Where(r => r.Path == path.TrimStart('/')).ToList();

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
