using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Messaging;
using Ujumbe.Shared.Providers;

namespace Ujumbe.Worker.Providers;

/// <summary>
/// A generic HTTP aggregator as its settings describe it: a JSON or form POST with our fields under the
/// aggregator's names, an Authorization header whose value is a secret, success by status (and optionally a
/// value in the answer), and the aggregator's message id read from a path in the answer.
/// </summary>
public sealed class HttpSubmitter(
    Guid providerId, HttpProviderSettings settings, string? authHeaderValue, string callbackBaseUrl, string callbackToken, HttpClient http)
    : IMessageSubmitter
{
    public async Task<SubmitResult> SubmitOneAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.Url) { Content = Body(message) };
        if (!string.IsNullOrEmpty(authHeaderValue))
        {
            request.Headers.TryAddWithoutValidation(settings.AuthHeader, authHeaderValue);
        }
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return Interpret(message.Id, (int)response.StatusCode, body);
    }

    private HttpContent Body(OutboundMessage message)
    {
        var values = new Dictionary<string, string>(settings.StaticFields);
        foreach (var (ours, theirs) in settings.Fields)
        {
            var value = ours switch
            {
                "to" => message.To,
                "to_digits" => message.To.TrimStart('+'),
                "from" => message.From,
                "text" => message.Text,
                "reference" => PublicId.Format(PublicId.Message, message.Id),
                "callback_url" => ProviderCallbacks.CallbackUrl(callbackBaseUrl, providerId, callbackToken, message.Id),
                _ => null,
            };
            if (value is not null)
            {
                values[theirs] = value;
            }
        }
        if (string.Equals(settings.Format, "form", StringComparison.OrdinalIgnoreCase))
        {
            return new FormUrlEncodedContent(values);
        }
        var root = new JsonObject();
        foreach (var (path, value) in values)
        {
            var node = root;
            var parts = path.Split('.');
            foreach (var part in parts[..^1])
            {
                if (node[part] is not JsonObject child)
                {
                    child = new JsonObject();
                    node[part] = child;
                }
                node = child;
            }
            node[parts[^1]] = value;
        }
        return new StringContent(root.ToJsonString(), System.Text.Encoding.UTF8, "application/json");
    }

    /// <summary>
    /// Success: a success status (and the success value, when one is configured) → accepted, with the aggregator's id.
    /// 429 and 5xx → not taken now. Any other 4xx, or a success status whose answer is not what the mapping expects
    /// (the success value differs) → rejected, with the status as the error code; an answer without the success
    /// value at all → uncertain (see <see cref="SubmitStatus.Uncertain"/>).
    /// </summary>
    public const string UnexpectedAnswer = "PROVIDER_ANSWER_UNEXPECTED";

    public SubmitResult Interpret(Guid messageId, int status, string body)
    {
        if (status == 429 || status >= 500)
        {
            return new SubmitResult(messageId, SubmitStatus.Unavailable, ErrorCode: "HTTP_" + status.ToString(CultureInfo.InvariantCulture));
        }
        var successStatus = settings.SuccessStatuses is { Length: > 0 } statuses ? statuses.Contains(status) : status is >= 200 and < 300;
        JsonElement? answer = null;
        try
        {
            if (body.Length > 0)
            {
                using var document = JsonDocument.Parse(body);
                answer = document.RootElement.Clone();
            }
        }
        catch (JsonException)
        {
            answer = null;
        }
        if (!successStatus)
        {
            return new SubmitResult(messageId, SubmitStatus.Rejected, ErrorCode: "HTTP_" + status.ToString(CultureInfo.InvariantCulture));
        }
        if (settings.SuccessPath is { } successPath)
        {
            var value = answer is { } json ? ProviderJson.ReadPath(json, successPath) : null;
            if (value is null)
            {
                // Not the answer the mapping describes: it may have taken the message, so it is neither retried
                // elsewhere nor given up (an operator fixes the mapping; the retries go to this provider only).
                return new SubmitResult(messageId, SubmitStatus.Uncertain, ErrorCode: UnexpectedAnswer);
            }
            if (!string.Equals(value, settings.SuccessValue, StringComparison.OrdinalIgnoreCase))
            {
                return new SubmitResult(messageId, SubmitStatus.Rejected, ErrorCode: "PROVIDER_REJECTED");
            }
        }
        var aggregatorId = settings.MessageIdPath is { } idPath && answer is { } root ? ProviderJson.ReadPath(root, idPath) : null;
        return new SubmitResult(messageId, SubmitStatus.Accepted, aggregatorId);
    }
}
