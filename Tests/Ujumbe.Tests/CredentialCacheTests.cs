extern alias GatewayApp;

using HttpStatusCode = System.Net.HttpStatusCode;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Tests.Infrastructure;
using GatewayApp::Ujumbe.Gateway;
using GatewayApp::Ujumbe.Gateway.Authentication;

namespace Ujumbe.Tests;

/// <summary>
/// The gateway's credential cache against a stand-in for the Api's /internal lookups, whose answers
/// the test controls, to pin down the race between a lookup in flight and a published change.
/// </summary>
public sealed class CredentialCacheTests : IAsyncLifetime
{
    private StackRedis _redis = null!;

    public async Task InitializeAsync() => _redis = await StackRedis.ConnectAsync();

    public async Task DisposeAsync() => await _redis.DisposeAsync();

    [Fact]
    public async Task An_answer_that_was_in_flight_when_a_change_arrived_is_not_kept()
    {
        var accountId = Guid.NewGuid();
        var api = ScriptedAccountLookups();
        var cache = NewCache(api);

        var inFlight = cache.FindAccountAsync(accountId, CancellationToken.None).AsTask();
        await api.FirstRequestArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        cache.Apply(CredentialChangeMessages.Account(accountId)); // suspended while the Api was answering
        api.ReleaseFirstAnswer();
        Assert.Equal("active", (await inFlight)!.Status);

        var next = await cache.FindAccountAsync(accountId, CancellationToken.None);

        Assert.Equal("suspended", next!.Status);
        Assert.Equal(2, api.Requests);
    }

    [Fact]
    public async Task Without_a_change_an_answer_is_kept()
    {
        var accountId = Guid.NewGuid();
        var api = ScriptedAccountLookups();
        api.ReleaseFirstAnswer();
        var cache = NewCache(api);

        await cache.FindAccountAsync(accountId, CancellationToken.None);
        var again = await cache.FindAccountAsync(accountId, CancellationToken.None);

        Assert.Equal("active", again!.Status);
        Assert.Equal(1, api.Requests);
    }

    [Fact]
    public async Task Expired_entries_do_not_stay()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var cache = NewCache(new UnknownKeys(), new GatewayOptions { MissingCacheLifetime = TimeSpan.FromMilliseconds(100) }, clock);
        await cache.StartAsync(CancellationToken.None);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                Assert.Null(await cache.FindKeyAsync(ApiKeySecret.NewPublicKey(), CancellationToken.None));
            }
            Assert.Equal(3, cache.Count);

            clock.Now += TimeSpan.FromMinutes(10); // past every lifetime; nobody asks for these keys again
            await HttpAssertions.EventuallyAsync(() => Task.FromResult(cache.Count == 0), because: "expired entries are swept");
        }
        finally
        {
            await cache.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Made_up_keys_do_not_grow_it_past_its_capacity()
    {
        var api = new UnknownKeys();
        var cache = NewCache(api, new GatewayOptions { CacheCapacity = 2 });
        var keys = Enumerable.Range(0, 3).Select(_ => ApiKeySecret.NewPublicKey()).ToList();
        foreach (var key in keys)
        {
            Assert.Null(await cache.FindKeyAsync(key, CancellationToken.None));
        }
        Assert.Equal(2, cache.Count);

        await cache.FindKeyAsync(keys[0], CancellationToken.None); // remembered
        await cache.FindKeyAsync(keys[2], CancellationToken.None); // not: asked again
        Assert.Equal(4, api.Requests);
    }

    [Fact]
    public async Task A_key_change_during_a_lookup_makes_later_requests_ask_again()
    {
        var api = HeldUnknownKeys();
        var cache = NewCache(api);
        var publicKey = ApiKeySecret.NewPublicKey();
        var admitted = 0;
        ValueTask<bool> Admit() { Interlocked.Increment(ref admitted); return ValueTask.FromResult(true); }
        static ValueTask Settle(KeyLookup? key, bool asked) => ValueTask.CompletedTask;

        var before = cache.FindUncachedKeyAsync(publicKey, Admit, Settle, CancellationToken.None).AsTask();
        await api.FirstRequestArrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        cache.Apply(CredentialChangeMessages.Key(publicKey)); // e.g. the key was just created
        var after = cache.FindUncachedKeyAsync(publicKey, Admit, Settle, CancellationToken.None).AsTask();
        api.ReleaseFirstAnswer();
        await Task.WhenAll(before, after);

        Assert.Equal(2, admitted);
        Assert.Equal(2, api.Requests);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task When_the_starter_may_not_ask_or_hangs_up_a_waiting_request_asks_on_its_own(bool starterHangsUp)
    {
        var api = new UnknownKeys();
        var cache = NewCache(api);
        var publicKey = ApiKeySecret.NewPublicKey();
        var starterAdmission = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var starterAsked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        static ValueTask Settle(KeyLookup? key, bool asked) => ValueTask.CompletedTask;

        var starter = cache.FindUncachedKeyAsync(publicKey, async () =>
        {
            starterAsked.TrySetResult();
            return await starterAdmission.Task;
        }, Settle, CancellationToken.None).AsTask();
        await starterAsked.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var waiter = cache.FindUncachedKeyAsync(publicKey, () => ValueTask.FromResult(true), Settle, CancellationToken.None).AsTask();
        if (starterHangsUp)
        {
            starterAdmission.SetException(new TaskCanceledException("the client hung up"));
            await Assert.ThrowsAsync<TaskCanceledException>(() => starter);
        }
        else
        {
            starterAdmission.SetResult(false);
            Assert.True((await starter).Refused);
        }

        var answer = await waiter.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(answer.Refused);
        Assert.Null(answer.Key);
        Assert.Equal(1, api.Requests);
    }

    private CredentialCache NewCache(HttpMessageHandler api, GatewayOptions? options = null, TimeProvider? time = null)
    {
        var signing = Options.Create(new GatewaySigningOptions { Key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) });
        var http = new HttpClient(api) { BaseAddress = new Uri("http://api.invalid") };
        var directory = new KeyDirectory(http, new GatewaySignature(signing, TimeProvider.System));
        return new CredentialCache(directory, _redis.Client, Options.Create(options ?? new GatewayOptions()),
            Options.Create(new RedisNamingOptions { Prefix = _redis.Prefix }), time ?? TimeProvider.System, NullLogger<CredentialCache>.Instance);
    }

    /// <summary>Knows no key at all.</summary>
    private sealed class UnknownKeys : HttpMessageHandler
    {
        private int _requests;

        public int Requests => Volatile.Read(ref _requests);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.NotFound));
        }
    }

    /// <summary>Holds its first answer until released; <paramref name="respond"/> makes each answer (first: true for the first).</summary>
    private sealed class HeldFirstAnswer(Func<HttpRequestMessage, bool, HttpResponseMessage> respond) : HttpMessageHandler
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _requests;

        public TaskCompletionSource FirstRequestArrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Requests => Volatile.Read(ref _requests);

        public void ReleaseFirstAnswer() => _release.TrySetResult();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var first = Interlocked.Increment(ref _requests) == 1;
            if (first)
            {
                FirstRequestArrived.TrySetResult();
                await _release.Task.WaitAsync(cancellationToken);
            }
            return respond(request, first);
        }
    }

    /// <summary>Knows no key; holds its first answer until released.</summary>
    private static HeldFirstAnswer HeldUnknownKeys() => new((_, _) => new HttpResponseMessage(HttpStatusCode.NotFound));

    /// <summary>Answers "active" first (held until released), "suspended" afterwards.</summary>
    private static HeldFirstAnswer ScriptedAccountLookups() => new((request, first) => new HttpResponseMessage(HttpStatusCode.OK)
    {
        Content = JsonContent.Create(
            new AccountLookup(Guid.ParseExact(request.RequestUri!.Segments[^1], "N"), first ? "active" : "suspended"), options: JsonDefaults.Options),
    });
}
