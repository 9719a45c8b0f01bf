using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Ujumbe.Shared.Payments;

/// <summary>The mobile-money networks payers can pay from (API.md "Partners").</summary>
public static class MobileMoneyNetworks
{
    public static readonly string[] All = ["vodacom", "tigo", "airtel", "halotel"];

    // Tanzanian mobile ranges (+255 then these two digits) by network: a network charges only its own wallets.
    private static readonly Dictionary<string, string[]> Prefixes = new(StringComparer.Ordinal)
    {
        ["vodacom"] = ["74", "75", "76"],
        ["tigo"] = ["65", "67", "71", "77"],
        ["airtel"] = ["68", "69", "78"],
        ["halotel"] = ["61", "62"],
    };

    /// <summary>Whether <paramref name="network"/> can charge the wallet of <paramref name="e164"/> (+255…).</summary>
    public static bool CanCharge(string network, string e164) =>
        Prefixes.TryGetValue(network, out var prefixes)
        && e164.Length == 13 && e164.StartsWith("+255", StringComparison.Ordinal)
        && prefixes.Any(p => e164.AsSpan(4).StartsWith(p, StringComparison.Ordinal));
}

/// <summary>
/// Where aggregators call Ujumbe back: a public route (no API key) at the gateway, authenticated by the
/// aggregator's own signature in the Api, with a rate limit of its own per client address.
/// </summary>
public static class MobileMoneyCallbacks
{
    public const string Path = "/v1/payments/callbacks/mobile-money";
}

public enum MobileMoneyStatus
{
    Pending,
    Completed,
    Failed,
}

/// <summary>What the aggregator says about a request: its transaction id and amount once the money moved, or why it failed.</summary>
public sealed record MobileMoneyState(MobileMoneyStatus Status, string? TransactionId = null, decimal? Amount = null, string? FailureReason = null);

/// <summary>
/// The aggregator's callback body (its own shape, not ours): <c>{reference, transaction_id, status, amount,
/// currency, reason}</c>; <c>reference</c> is our payment id, given at initiation; <c>status</c> is SUCCESS or FAILED.
/// </summary>
public sealed record MobileMoneyCallback(
    string? Reference, string? TransactionId, string? Status, decimal? Amount = null, string? Currency = null, string? Reason = null);

/// <summary>
/// A mobile-money aggregator: it pushes a payment prompt to the payer's phone and later calls us back
/// (signed its own way); asked for a request's status, it answers it (reconciliation). The simulator is
/// the one the local stack, the tests and the benchmarks use; a real aggregator is another implementation.
/// </summary>
public interface IMobileMoneyProvider
{
    /// <summary>Sends the prompt; returns the aggregator's reference for the request. Unreachable: <see cref="HttpRequestException"/>.</summary>
    Task<string> InitiateAsync(Guid paymentId, string network, string phone, decimal amount, string currency, CancellationToken cancellationToken);

    Task<MobileMoneyState> GetStatusAsync(Guid paymentId, string providerReference, CancellationToken cancellationToken);

    /// <summary>Whether a callback request carries the aggregator's valid signature over exactly this body.</summary>
    bool VerifyCallback(IReadOnlyDictionary<string, string?> headers, ReadOnlySpan<byte> body);
}

public sealed class MobileMoneySimulatorOptions
{
    public const string Section = "MobileMoneySimulator";

    /// <summary>HMAC key the simulator signs its callbacks with (base64, at least 32 bytes).</summary>
    public string CallbackSecret { get; set; } = "";

    /// <summary>Where it calls back: Ujumbe's public base URL (the gateway). Empty: it never calls back (reconciliation only).</summary>
    public string? CallbackBaseUrl { get; set; }

    /// <summary>Shares of outcomes; what is left of 1 after decline, timeout and lost callbacks succeeds.</summary>
    public double DeclineRate { get; set; }

    /// <summary>The payer never answers the prompt: no callback, and the status stays pending.</summary>
    public double TimeoutRate { get; set; }

    /// <summary>The payment succeeds but its callback is never sent: only reconciliation finds it.</summary>
    public double LostCallbackRate { get; set; }

    /// <summary>How long the payer takes to confirm (the local stack completes a payment within 10 s).</summary>
    public TimeSpan Delay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Makes outcomes reproducible: the same seed and payment id always give the same outcome.</summary>
    public int Seed { get; set; } = 1;
}

public enum SimulatedOutcome
{
    Success,
    Decline,
    Timeout,
    LostCallback,
}

/// <summary>
/// Signatures of the simulated aggregator, its own scheme (not ours, not Standard Webhooks):
/// <c>X-Sim-Timestamp</c> (unix seconds) and <c>X-Sim-Signature: sha256=hex(HMAC-SHA256(secret, "{timestamp}.{body}"))</c>,
/// refused when the timestamp is more than <see cref="MaxAge"/> away from now.
/// </summary>
public static class SimulatorSignature
{
    public const string TimestampHeader = "X-Sim-Timestamp";
    public const string SignatureHeader = "X-Sim-Signature";
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    public static string Sign(byte[] secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.ASCII.GetBytes(timestamp.ToString(CultureInfo.InvariantCulture) + ".");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(secret, message));
    }

    public static bool Verify(byte[] secret, string? timestamp, string? signature, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        if (timestamp is null || signature is null || timestamp.Length > 12
            || !long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            || Math.Abs(seconds - now.ToUnixTimeSeconds()) > MaxAge.TotalSeconds)
        {
            return false;
        }
        var expected = Encoding.ASCII.GetBytes(Sign(secret, seconds, body));
        var presented = Encoding.ASCII.GetBytes(signature);
        return CryptographicOperations.FixedTimeEquals(expected, presented);
    }
}

/// <summary>Payments settings both the Api and the Worker read (section <c>Payments</c>).</summary>
public sealed class PaymentOptions
{
    public const string Section = "Payments";

    /// <summary>What one credit costs where the operator set no tariff for the account (in its currency, TZS by default).</summary>
    public decimal DefaultPricePerCredit { get; set; } = 25m;

    /// <summary>The most one payment may charge: mobile-money wallets refuse more in one transaction.</summary>
    public decimal MaxAmount { get; set; } = 5_000_000m;

    /// <summary>A payment still pending after this long fails as expired (after one last status query).</summary>
    public TimeSpan PendingLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A pending payment whose callback has not come this long after it was made is asked about (reconciliation).</summary>
    public TimeSpan ReconcileAfter { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long after one status query the Worker asks about the same payment again.</summary>
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the Worker looks for payments to reconcile or expire.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
}
