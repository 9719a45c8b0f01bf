using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Shared.Payments;

/// <summary>
/// A simulated mobile-money aggregator, like the SMS simulator: configurable decline, timeout and
/// lost-callback rates and delay, seeded (the same seed and payment id always give the same outcome). It
/// keeps no state, so the Api (which initiates and receives its callbacks) and the Worker (which asks it for
/// statuses) agree without sharing anything: its reference (opaque to Ujumbe, as a real aggregator's is)
/// carries when the payer answers, how, and for what amount. Test numbers force an outcome whatever the
/// rates: a phone number ending in 0000 declines, 9999 never answers, 8888 succeeds without a callback.
/// </summary>
public sealed partial class MobileMoneySimulator(
    IOptions<MobileMoneySimulatorOptions> options, IHttpClientFactory clients, TimeProvider time,
    IHostApplicationLifetime lifetime, ILogger<MobileMoneySimulator> logger) : IMobileMoneyProvider
{
    public const string HttpClientName = "mobile-money-simulator";

    private readonly MobileMoneySimulatorOptions _options = options.Value;
    // Without a secret the simulator is not set up: nothing can be initiated and no callback verifies.
    private readonly byte[]? _secret = string.IsNullOrWhiteSpace(options.Value.CallbackSecret)
        ? null : SigningKeys.Decode(options.Value.CallbackSecret, "MobileMoneySimulator:CallbackSecret");

    /// <summary>Where callbacks go; settable because whoever runs the simulator may learn Ujumbe's public address only once it listens.</summary>
    public Uri? CallbackBaseUrl { get; set; } = string.IsNullOrWhiteSpace(options.Value.CallbackBaseUrl) ? null : new Uri(options.Value.CallbackBaseUrl);

    public Task<string> InitiateAsync(Guid paymentId, string network, string phone, decimal amount, string currency, CancellationToken cancellationToken)
    {
        if (_secret is null)
        {
            throw new HttpRequestException("The mobile-money simulator has no MobileMoneySimulator:CallbackSecret.");
        }
        var answered = time.GetUtcNow() + _options.Delay;
        var outcome = OutcomeOf(paymentId, phone);
        var reference = string.Create(CultureInfo.InvariantCulture,
            $"SIM-{answered.ToUnixTimeMilliseconds()}-{(int)outcome}-{amount:0.00}-{paymentId:N}");
        if (outcome is SimulatedOutcome.Success or SimulatedOutcome.Decline && CallbackBaseUrl is { } target)
        {
            var callback = outcome == SimulatedOutcome.Success
                ? new MobileMoneyCallback(PaymentReference(paymentId), TransactionIdOf(paymentId), "SUCCESS", amount, currency)
                : new MobileMoneyCallback(PaymentReference(paymentId), null, "FAILED", amount, currency, "declined by the payer");
            _ = Task.Run(() => CallBackAsync(target, callback), CancellationToken.None);
        }
        return Task.FromResult(reference);
    }

    public Task<MobileMoneyState> GetStatusAsync(Guid paymentId, string providerReference, CancellationToken cancellationToken)
    {
        var parts = providerReference.Split('-');
        if (parts.Length != 5 || parts[0] != "SIM"
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var answeredMs)
            || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var code) || !Enum.IsDefined((SimulatedOutcome)code)
            || !decimal.TryParse(parts[3], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount)
            || parts[4] != paymentId.ToString("N"))
        {
            return Task.FromResult(new MobileMoneyState(MobileMoneyStatus.Failed, FailureReason: "unknown to the provider"));
        }
        if (time.GetUtcNow() < DateTimeOffset.FromUnixTimeMilliseconds(answeredMs))
        {
            return Task.FromResult(new MobileMoneyState(MobileMoneyStatus.Pending));
        }
        return Task.FromResult((SimulatedOutcome)code switch
        {
            SimulatedOutcome.Decline => new MobileMoneyState(MobileMoneyStatus.Failed, FailureReason: "declined by the payer"),
            SimulatedOutcome.Timeout => new MobileMoneyState(MobileMoneyStatus.Pending),
            _ => new MobileMoneyState(MobileMoneyStatus.Completed, TransactionIdOf(paymentId), amount),
        });
    }

    public bool VerifyCallback(IReadOnlyDictionary<string, string?> headers, ReadOnlySpan<byte> body) =>
        _secret is not null && SimulatorSignature.Verify(_secret, headers.GetValueOrDefault(SimulatorSignature.TimestampHeader),
            headers.GetValueOrDefault(SimulatorSignature.SignatureHeader), body, time.GetUtcNow());

    /// <summary>The outcome a payment gets: forced by a test number, otherwise by the seeded shares.</summary>
    public SimulatedOutcome OutcomeOf(Guid paymentId, string phone) => phone switch
    {
        _ when phone.EndsWith("0000", StringComparison.Ordinal) => SimulatedOutcome.Decline,
        _ when phone.EndsWith("9999", StringComparison.Ordinal) => SimulatedOutcome.Timeout,
        _ when phone.EndsWith("8888", StringComparison.Ordinal) => SimulatedOutcome.LostCallback,
        _ => BySeed(paymentId),
    };

    private SimulatedOutcome BySeed(Guid paymentId)
    {
        Span<byte> input = stackalloc byte[20];
        BitConverter.TryWriteBytes(input, _options.Seed);
        paymentId.TryWriteBytes(input[4..]);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(input, hash);
        var roll = BitConverter.ToUInt32(hash) / (double)uint.MaxValue;
        return roll < _options.DeclineRate ? SimulatedOutcome.Decline
            : roll < _options.DeclineRate + _options.TimeoutRate ? SimulatedOutcome.Timeout
            : roll < _options.DeclineRate + _options.TimeoutRate + _options.LostCallbackRate ? SimulatedOutcome.LostCallback
            : SimulatedOutcome.Success;
    }

    /// <summary>Our id for the payment, given to the aggregator at initiation and named in its callbacks.</summary>
    public static string PaymentReference(Guid paymentId) => PublicId.Format(PublicId.Payment, paymentId);

    /// <summary>The aggregator's id of the money movement that pays <paramref name="paymentId"/>.</summary>
    public static string TransactionIdOf(Guid paymentId) =>
        "SIMTX" + Convert.ToHexString(SHA256.HashData(paymentId.ToByteArray()).AsSpan(0, 8));

    /// <summary>A callback as the aggregator sends it, signed now (tests deliver their own with it too).</summary>
    public HttpRequestMessage SignedCallback(Uri baseUrl, MobileMoneyCallback callback)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(callback, JsonDefaults.Options);
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(baseUrl, MobileMoneyCallbacks.Path)) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Add(SimulatorSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add(SimulatorSignature.SignatureHeader, SimulatorSignature.Sign(
            _secret ?? throw new InvalidOperationException("The mobile-money simulator has no MobileMoneySimulator:CallbackSecret."), timestamp, body));
        return request;
    }

    private async Task CallBackAsync(Uri target, MobileMoneyCallback callback)
    {
        try
        {
            await Task.Delay(_options.Delay, time, lifetime.ApplicationStopping);
            using var request = SignedCallback(target, callback);
            using var response = await clients.CreateClient(HttpClientName).SendAsync(request, lifetime.ApplicationStopping);
            LogCalledBack(logger, callback.Reference, (int)response.StatusCode);
        }
        catch (Exception error) when (error is HttpRequestException or OperationCanceledException)
        {
            // A real aggregator's callbacks get lost too; reconciliation covers them.
            LogCallbackFailed(logger, error, callback.Reference);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Mobile-money simulator called back for {Reference}: {Status}")]
    private static partial void LogCalledBack(ILogger logger, string? reference, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Mobile-money simulator could not call back for {Reference}")]
    private static partial void LogCallbackFailed(ILogger logger, Exception error, string? reference);
}

public static class MobileMoneyRegistration
{
    /// <summary>The simulator as the mobile-money provider (the Api initiates and verifies callbacks; the Worker asks for statuses).</summary>
    public static IServiceCollection AddMobileMoneySimulator(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MobileMoneySimulatorOptions>().Bind(configuration.GetSection(MobileMoneySimulatorOptions.Section));
        services.AddHttpClient(MobileMoneySimulator.HttpClientName);
        services.AddSingleton<MobileMoneySimulator>();
        services.AddSingleton<IMobileMoneyProvider>(provider => provider.GetRequiredService<MobileMoneySimulator>());
        return services;
    }
}
