using System.Diagnostics;
using System.Threading.RateLimiting;
using Polly;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Timeout;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Worker.Providers;

public sealed class ProvidersOptions
{
    public const string Section = "Providers";

    /// <summary>Where providers reach Ujumbe's public gateway for delivery reports (e.g. <c>https://api.example.com</c>).</summary>
    public string? CallbackBaseUrl { get; set; }

    /// <summary>How often the Worker rereads providers and routes (changes apply without a restart).</summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Requests in flight per provider per Worker.</summary>
    public int Concurrency { get; set; } = 16;

    public CircuitBreakerSettings CircuitBreaker { get; set; } = new();
}

/// <summary>When a provider counts as broken and for how long it is skipped (Polly's circuit breaker).</summary>
public sealed class CircuitBreakerSettings
{
    /// <summary>Share of failed submissions (errors, timeouts, "come back later") within the sampling window that opens the circuit.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Submissions in the window before the ratio counts.</summary>
    public int MinimumThroughput { get; set; } = 5;

    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The cool-down: how long an open circuit skips the provider before one trial submission.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>
/// One configured provider as the Worker runs it: its submitter behind the standard resilience pipeline (a circuit
/// breaker; the provider's throughput cap as a token bucket; a per-request timeout) and what it has done
/// (submissions, failures, latency) for the health endpoint and metrics. Never retries by itself: a message
/// goes round the retry queues, so whether it may go to another provider is decided in one place (routing).
/// </summary>
public sealed class UpstreamProvider : ISmsProvider, IDisposable
{
    private readonly IMessageSubmitter? _submitter;
    private readonly SimulatorProvider? _simulator;
    private readonly ResiliencePipeline<SubmitResult> _pipeline;
    private readonly CircuitBreakerStateProvider _circuit = new();
    private readonly RateLimiter? _limiter;
    private readonly int _concurrency;
    private long _submitted;
    private long _failed;
    private long _accepted;
    private long _latencyMicroseconds;
    private long _answered;

    public UpstreamProvider(Guid id, string name, DateTime version, bool enabled, int? maxPerSecond, TimeSpan timeout,
        IMessageSubmitter? submitter, SimulatorProvider? simulator, ProvidersOptions options, ILogger logger)
    {
        Id = id;
        Name = name;
        Version = version;
        Enabled = enabled;
        _submitter = submitter;
        _simulator = simulator;
        _concurrency = Math.Max(1, options.Concurrency);
        var breaker = options.CircuitBreaker;
        var builder = new ResiliencePipelineBuilder<SubmitResult>().AddCircuitBreaker(new CircuitBreakerStrategyOptions<SubmitResult>
        {
            FailureRatio = breaker.FailureRatio,
            MinimumThroughput = Math.Max(2, breaker.MinimumThroughput),
            SamplingDuration = breaker.SamplingDuration,
            BreakDuration = breaker.BreakDuration,
            StateProvider = _circuit,
            ShouldHandle = new PredicateBuilder<SubmitResult>()
                .Handle<HttpRequestException>()
                .Handle<TimeoutRejectedException>()
                .HandleResult(result => result.Status is SubmitStatus.Unavailable or SubmitStatus.Uncertain),
            OnOpened = arguments =>
            {
                WorkerTelemetry.CircuitOpened.Add(1, new KeyValuePair<string, object?>("provider", name));
                ProviderLog.CircuitOpened(logger, name, arguments.BreakDuration.TotalSeconds);
                return default;
            },
            OnClosed = _ =>
            {
                ProviderLog.CircuitClosed(logger, name);
                return default;
            },
        });
        if (maxPerSecond is { } rate)
        {
            // About a tenth of the rate every tenth of a second (exactly the rate per second): the cap holds within
            // every second, without a burst at its start.
            var perTick = Math.Max(1, rate / 10);
            _limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
            {
                TokenLimit = perTick,
                TokensPerPeriod = perTick,
                ReplenishmentPeriod = TimeSpan.FromSeconds((double)perTick / rate),
                QueueLimit = int.MaxValue,
                QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                AutoReplenishment = true,
            });
            builder.AddRateLimiter(_limiter);
        }
        _pipeline = builder.AddTimeout(timeout).Build();
    }

    public Guid Id { get; }

    public string Name { get; }

    /// <summary>The provider row's <c>updated_at</c>: a changed row gets a new runtime (a new circuit, limiter and settings).</summary>
    public DateTime Version { get; }

    public bool Enabled { get; }

    public CircuitState Circuit => _circuit.CircuitState;

    /// <summary>Skipped for now: its circuit is open (cool-down) or held open.</summary>
    public bool IsBroken => Circuit is CircuitState.Open or CircuitState.Isolated;

    public long Submitted => Interlocked.Read(ref _submitted);

    public long Failed => Interlocked.Read(ref _failed);

    public long Accepted => Interlocked.Read(ref _accepted);

    public double? AverageLatencyMilliseconds => Interlocked.Read(ref _answered) is > 0 and var answered
        ? Interlocked.Read(ref _latencyMicroseconds) / 1000.0 / answered : null;

    public async Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<OutboundMessage> messages, CancellationToken cancellationToken)
    {
        if (_simulator is not null)
        {
            var answers = await _simulator.SubmitAsync(messages, cancellationToken);
            return answers.Select(answer => answer with { Provider = Name }).ToList();
        }
        var results = new SubmitResult[messages.Count];
        using var gate = new SemaphoreSlim(_concurrency);
        await Task.WhenAll(messages.Select(async (message, index) =>
        {
            await gate.WaitAsync(CancellationToken.None);
            try
            {
                results[index] = await SubmitOneAsync(message, cancellationToken) with { Provider = Name };
            }
            finally
            {
                gate.Release();
            }
        }));
        return results;
    }

    /// <summary>One message through the pipeline; never throws: every failure is an answer (unavailable or uncertain).</summary>
    private async Task<SubmitResult> SubmitOneAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var requestLeft = false;
        var outcome = "accepted";
        try
        {
            var result = await _pipeline.ExecuteAsync(async token =>
            {
                requestLeft = true;
                var started = Stopwatch.GetTimestamp();
                var answer = await _submitter!.SubmitOneAsync(message, token);
                var elapsed = Stopwatch.GetElapsedTime(started);
                Interlocked.Add(ref _latencyMicroseconds, (long)elapsed.TotalMicroseconds);
                Interlocked.Increment(ref _answered);
                WorkerTelemetry.ProviderLatency.Record(elapsed.TotalMilliseconds, new KeyValuePair<string, object?>("provider", Name));
                return answer;
            }, cancellationToken);
            outcome = result.ErrorCode == HttpSubmitter.UnexpectedAnswer ? "unexpected_answer" : result.Status.ToString().ToLowerInvariant();
            return result;
        }
        catch (BrokenCircuitException)
        {
            outcome = "circuit_open";
            return new SubmitResult(message.Id, SubmitStatus.Unavailable, ErrorCode: "PROVIDER_CIRCUIT_OPEN");
        }
        catch (HttpRequestException error) when (error.HttpRequestError == HttpRequestError.ConnectionError)
        {
            outcome = "unreachable";  // no connection: the request never reached the provider
            return new SubmitResult(message.Id, SubmitStatus.Unavailable, ErrorCode: "PROVIDER_UNREACHABLE");
        }
        catch (Exception error) when (error is HttpRequestException or TimeoutRejectedException
            || (error is OperationCanceledException && requestLeft))
        {
            outcome = "uncertain";
            return new SubmitResult(message.Id, SubmitStatus.Uncertain, ErrorCode: "PROVIDER_NO_ANSWER");
        }
        catch (Exception error) when (error is OperationCanceledException or RateLimiterRejectedException)
        {
            outcome = "not_submitted"; // canceled while waiting for its turn under the throughput cap
            return new SubmitResult(message.Id, SubmitStatus.Unavailable, ErrorCode: "PROVIDER_NOT_SUBMITTED");
        }
        finally
        {
            Interlocked.Increment(ref _submitted);
            if (outcome == "accepted")
            {
                Interlocked.Increment(ref _accepted);
            }
            else if (outcome != "rejected")
            {
                Interlocked.Increment(ref _failed);
            }
            WorkerTelemetry.ProviderSubmits.Add(1, new KeyValuePair<string, object?>("provider", Name), new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    public void Dispose() => _limiter?.Dispose();
}

internal static partial class ProviderLog
{
    [LoggerMessage(Level = LogLevel.Warning, Message = "Provider {Provider}: too many failures, its circuit is open; it is skipped for {Seconds} s and traffic fails over")]
    public static partial void CircuitOpened(ILogger logger, string provider, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Provider {Provider}: a trial submission succeeded, its circuit is closed again")]
    public static partial void CircuitClosed(ILogger logger, string provider);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Route {Route} names provider {ProviderId}, which does not exist (deleted?); it is skipped")]
    public static partial void MissingProvider(ILogger logger, Guid route, Guid providerId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Provider {Provider} answered in a way its mapping does not describe ({Code}); {Count} message(s) wait for it")]
    public static partial void UnexpectedAnswer(ILogger logger, string provider, string code, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "Providers and routes could not be read; the last ones read are used")]
    public static partial void RefreshFailed(ILogger logger, Exception error);
}
