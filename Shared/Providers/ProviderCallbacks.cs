using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Shared.Providers;

/// <summary>
/// Where providers send delivery reports: <c>/v1/providers/{id}/dlr</c> on the public gateway, with the
/// provider's callback token in the <c>token</c> query parameter (Kannel cannot add headers to its dlr-url
/// requests; an aggregator may send it in <c>X-Ujumbe-Callback-Token</c> instead).
/// </summary>
public static class ProviderCallbacks
{
    public const string PathPrefix = "/v1/providers/";
    public const string TokenHeader = "X-Callback-Token";

    public static string Path(Guid providerId) => $"{PathPrefix}{PublicId.Format(PublicId.Provider, providerId)}/dlr";

    /// <summary>Whether a request path is a provider callback (the gateway routes and limits these on their own).</summary>
    public static bool IsCallbackPath(string? path) =>
        path is not null && path.StartsWith(PathPrefix, StringComparison.OrdinalIgnoreCase) && path.EndsWith("/dlr", StringComparison.OrdinalIgnoreCase);

    /// <summary>A fresh callback token: 32 random bytes, base64url (no characters a URL or Kannel's %-codes would touch).</summary>
    public static string NewToken() => Base64Url(RandomNumberGenerator.GetBytes(32));

    /// <summary>Constant-time comparison (of digests, so not even the length leaks).</summary>
    public static bool TokenMatches(string? given, string expected) =>
        given is not null && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(given)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    /// <summary>
    /// The dlr-url Kannel calls for one message: our message id and token are fixed, Kannel fills in the report's
    /// type (%d), its SMSC's answer (%A) and the SMSC's message id (%F).
    /// </summary>
    public static string KannelDlrUrl(string baseUrl, Guid providerId, string token, Guid messageId) =>
        CallbackUrl(baseUrl, providerId, token, messageId) + "&type=%d&smsc_id=%F&answer=%A";

    /// <summary>The callback URL for one message: the provider's path with its token and our message id.</summary>
    public static string CallbackUrl(string baseUrl, Guid providerId, string token, Guid messageId) =>
        string.Create(CultureInfo.InvariantCulture, $"{baseUrl.TrimEnd('/')}{Path(providerId)}?token={token}&msg={PublicId.Format(PublicId.Message, messageId)}");

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>What one delivery report means for a message.</summary>
public enum ReportOutcome
{
    /// <summary>On the handset: the message becomes <c>delivered</c>.</summary>
    Delivered,

    /// <summary>Not delivered, for good: the message becomes <c>failed</c>, with the provider's error code.</summary>
    Failed,

    /// <summary>On the way (queued at or accepted by the SMSC): the message stays <c>sent</c>.</summary>
    Intermediate,
}

/// <summary>Kannel's delivery report types (the <c>%d</c> of a dlr-url) and what they mean here.</summary>
public static class KannelReports
{
    public const int DeliveredToPhone = 1;
    public const int NotDeliveredToPhone = 2;
    public const int QueuedOnSmsc = 4;
    public const int DeliveredToSmsc = 8;
    public const int NotDeliveredToSmsc = 16;

    /// <summary>The outcome and error code of a report of <paramref name="type"/>; false for a type Kannel does not send.</summary>
    public static bool TryRead(int type, string? answer, out ReportOutcome outcome, out string? errorCode)
    {
        errorCode = null;
        switch (type)
        {
            case DeliveredToPhone:
                outcome = ReportOutcome.Delivered;
                return true;
            case NotDeliveredToPhone:
                outcome = ReportOutcome.Failed;
                errorCode = "UNDELIVERED" + Detail(SmppReceiptError(answer));
                return true;
            case NotDeliveredToSmsc:
                outcome = ReportOutcome.Failed;
                errorCode = "SMSC_REJECTED" + Detail(SmscNackCode(answer));
                return true;
            case QueuedOnSmsc:
            case DeliveredToSmsc:
                outcome = ReportOutcome.Intermediate;
                return true;
            default:
                outcome = default;
                return false;
        }
    }

    private static string Detail(string? code) => code is null ? "" : ":" + code;

    /// <summary>The <c>err:NNN</c> of an SMPP delivery receipt ("id:… stat:UNDELIV err:034 …"), unless it is 000.</summary>
    private static string? SmppReceiptError(string? answer)
    {
        if (answer is null)
        {
            return null;
        }
        var at = answer.IndexOf("err:", StringComparison.OrdinalIgnoreCase);
        if (at < 0)
        {
            return null;
        }
        var code = new string(answer.AsSpan(at + 4).ToString().TakeWhile(char.IsAsciiLetterOrDigit).Take(10).ToArray());
        return code.Length == 0 || code.All(c => c == '0') ? null : code;
    }

    /// <summary>The command status of Kannel's "NACK/0x0000000b/…" answer for a refused submit.</summary>
    private static string? SmscNackCode(string? answer)
    {
        if (answer is null || !answer.StartsWith("NACK/", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var code = new string(answer.AsSpan(5).ToString().TakeWhile(c => char.IsAsciiLetterOrDigit(c)).Take(12).ToArray());
        return code.Length == 0 ? null : code;
    }
}
