using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Content;
using Ujumbe.Api.Data;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Shared.Messaging;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Api.Messages;

/// <summary>
/// What became of a send request: refused (<see cref="Problem"/>, in /v1's terms, which a dialect words its
/// own way), accepted (<see cref="Command"/> holds the batch and message ids) or replayed (<see cref="Outcome"/>).
/// </summary>
public sealed record SendDecision(SendProblem? Problem, SendCommand? Command = null, SendOutcome? Outcome = null);

/// <summary>
/// The one way a send request becomes a committed send, for <c>POST /v1/messages</c> and for every
/// compatibility dialect alike: validation against the account, the content policy, the callback URL's
/// address rules, then the group-committing <see cref="SendPipeline"/> (credits, sender ID, opt-outs).
/// </summary>
public sealed class MessageSender(
    AccountSettingsCache accounts, SendPipeline pipeline, IOptions<WebhookOptions> webhookOptions,
    ContentPolicyProvider contentPolicy, TimeProvider time)
{
    /// <param name="respond">Serialises the accepted answer (stored with an Idempotency-Key); null when there is none.</param>
    public async Task<SendDecision> SendAsync(
        Guid accountId, SendRequest request, string? idempotencyKey, Func<SendCommand, byte[]>? respond, CancellationToken cancellationToken)
    {
        var settings = await accounts.GetAsync(accountId, cancellationToken);
        if (settings is null)
        {
            return new(new SendProblem(404, ErrorCodes.NotFound, "Not found.", "The account no longer exists."));
        }
        var now = time.UtcNow();
        var (send, problem) = SendValidator.Validate(request, settings, now);
        if (problem is not null)
        {
            return new(problem);
        }
        if ((await contentPolicy.GetAsync(cancellationToken)).Match(send!.Text) is { } blocked)
        {
            return new(ContentProblems.Refusal(blocked));
        }
        if (send.CallbackUrl is { } callback
            && await UrlGuard.CheckAsync(callback, webhookOptions.Value.AllowPrivateNetworks, cancellationToken) is { } callbackError)
        {
            return new(SendProblem.Field("callback_url", callbackError));
        }

        var messageIds = new Guid[send.Recipients.Count];
        for (var i = 0; i < messageIds.Length; i++)
        {
            messageIds[i] = Guid.CreateVersion7(now);
        }
        var command = new SendCommand
        {
            AccountId = accountId,
            BatchId = Guid.CreateVersion7(now),
            SenderId = send.SenderId,
            Text = send.Text,
            Encoding = send.Encoding,
            Segments = send.Segments,
            Recipients = send.Recipients,
            MessageIds = messageIds,
            Origins = [.. send.Origins],
            CreatedAt = now,
            ScheduledAt = send.ScheduledAt,
            CallbackUrl = send.CallbackUrl,
            Reference = send.Reference,
            TraceParent = Activity.Current?.Id,
            Idempotency = idempotencyKey is null ? null : new IdempotencyClaim(idempotencyKey, send.Fingerprint()),
            RespondAfterSkipping = respond,
        };
        command.AcceptedResponse = respond?.Invoke(command);
        var outcome = await pipeline.SendAsync(command, cancellationToken);
        return outcome.Result switch
        {
            SendResult.Accepted or SendResult.Replayed => new(null, command, outcome),
            SendResult.AllRecipientsOptedOut => new(SendProblem.AllOptedOut),
            SendResult.InsufficientBalance => new(new SendProblem(402, ErrorCodes.InsufficientBalance, "Insufficient balance.",
                // command, not send: opted-out numbers have been left out of what it needs.
                $"This send needs {command.Credits} credits and {outcome.Available} are available. Nothing was queued or charged.",
                Extensions: [new("credits_required", command.Credits), new("credits_available", outcome.Available)])),
            SendResult.SenderIdNotApproved => new(new SendProblem(403, ErrorCodes.SenderIdNotApproved, "Forbidden.",
                $"Sender ID {send.SenderId} is not approved for this account. Request it with POST /v1/sender-ids.")),
            SendResult.IdempotencyKeyReused => new(new SendProblem(422, ErrorCodes.IdempotencyKeyReused, "Idempotency-Key reused.",
                "This Idempotency-Key was used with a different request in the last 24 hours.")),
            _ => new(new SendProblem(409, ErrorCodes.Conflict, "Conflict.",
                "A request with this Idempotency-Key is still being processed; retry shortly.")),
        };
    }

    /// <summary><c>/v1/messages</c>' 202 answer for a send (built again if opted-out numbers were left out).</summary>
    public static byte[] AcceptedBody(SendCommand sending)
    {
        var status = MessageStatus.Initial(sending.ScheduledAt);
        var accepted = new AcceptedMessage[sending.MessageIds.Length];
        for (var i = 0; i < accepted.Length; i++)
        {
            accepted[i] = new AcceptedMessage(PublicId.Format(PublicId.Message, sending.MessageIds[i]), sending.Recipients[i], status);
        }
        var response = new SendAcceptedResponse(PublicId.Format(PublicId.Batch, sending.BatchId), status, sending.Recipients.Count,
            SmsSegments.EncodingName(sending.Encoding), sending.Segments, sending.Credits, sending.ScheduledAt, sending.Reference, accepted,
            [.. sending.Skipped.Select(to => new SkippedRecipient(to, "opted_out"))]);
        return JsonSerializer.SerializeToUtf8Bytes(response, JsonDefaults.Options);
    }
}
