using System.Globalization;
using System.Text;
using Ujumbe.Shared.Messaging;
using Ujumbe.Shared.Providers;

namespace Ujumbe.Worker.Providers;

/// <summary>
/// One upstream that takes a message per HTTP request (Kannel's sendsms, an aggregator's API). Implementations
/// throw <see cref="HttpRequestException"/> (or are canceled) when no answer came; the caller decides what that means.
/// </summary>
public interface IMessageSubmitter
{
    Task<SubmitResult> SubmitOneAsync(OutboundMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// Kannel's smsbox <c>sendsms</c> interface: one GET per message with from, to and text (UTF-8; <c>coding=2</c> when
/// the text needs UCS-2, so Kannel converts it), the delivery reports wanted (<c>dlr-mask</c>) and a <c>dlr-url</c>
/// back to Ujumbe that names the message and carries the provider's callback token.
/// </summary>
public sealed class KannelSubmitter(
    Guid providerId, KannelSettings settings, string? password, string callbackBaseUrl, string callbackToken, HttpClient http)
    : IMessageSubmitter
{
    public async Task<SubmitResult> SubmitOneAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(RequestUri(message), HttpCompletionOption.ResponseContentRead, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return Interpret(message.Id, (int)response.StatusCode, body);
    }

    public string RequestUri(OutboundMessage message)
    {
        var query = new StringBuilder(settings.Url);
        query.Append(settings.Url!.Contains('?', StringComparison.Ordinal) ? '&' : '?');
        Add(query, "username", settings.Username);
        Add(query, "password", password);
        Add(query, "from", message.From);
        Add(query, "to", message.To);
        Add(query, "text", message.Text);
        Add(query, "charset", "UTF-8");
        Add(query, "coding", SmsSegments.Measure(message.Text).Encoding == SmsEncoding.Ucs2 ? "2" : "0");
        Add(query, "dlr-mask", settings.DlrMask.ToString(CultureInfo.InvariantCulture));
        Add(query, "dlr-url", ProviderCallbacks.KannelDlrUrl(callbackBaseUrl, providerId, callbackToken, message.Id));
        Add(query, "smsc", settings.Smsc);
        query.Length--; // the last '&'
        return query.ToString();
    }

    private static void Add(StringBuilder query, string name, string? value)
    {
        if (value is not null)
        {
            query.Append(name).Append('=').Append(Uri.EscapeDataString(value)).Append('&');
        }
    }

    /// <summary>
    /// Kannel 1.4's answers: 202 "0: Accepted for delivery" or "3: Queued for later delivery" (it has the message);
    /// 4xx for a request it will never take (bad number, not routable) except a refused login, which is our
    /// configuration and no fault of the message; 5xx (e.g. 503 "Temporal failure") for come back later.
    /// </summary>
    public static SubmitResult Interpret(Guid messageId, int status, string body)
    {
        if (status is >= 200 and < 300 && (body.StartsWith("0:", StringComparison.Ordinal) || body.StartsWith("3:", StringComparison.Ordinal)
            || body.Contains("Accepted", StringComparison.OrdinalIgnoreCase) || body.Contains("Queued", StringComparison.OrdinalIgnoreCase)))
        {
            return new SubmitResult(messageId, SubmitStatus.Accepted);
        }
        if (status is 401 or 403 && body.Contains("Authorization", StringComparison.OrdinalIgnoreCase))
        {
            return new SubmitResult(messageId, SubmitStatus.Unavailable, ErrorCode: "KANNEL_AUTHORIZATION_FAILED");
        }
        if (status is >= 400 and < 500)
        {
            return new SubmitResult(messageId, SubmitStatus.Rejected,
                ErrorCode: body.Contains("routable", StringComparison.OrdinalIgnoreCase) ? "KANNEL_NOT_ROUTABLE" : "KANNEL_REJECTED");
        }
        // 5xx, or a 2xx that is not one of Kannel's acceptances (something else answers on that port): not taken.
        return new SubmitResult(messageId, SubmitStatus.Unavailable, ErrorCode: status == 503 ? "KANNEL_THROTTLED" : "KANNEL_UNAVAILABLE");
    }
}
