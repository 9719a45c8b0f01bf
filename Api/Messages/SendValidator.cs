using System.Security.Cryptography;
using System.Text;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Phones;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Api.Messages;

/// <summary>A send that passed validation; not yet a command (no ids, no account state read).</summary>
/// <param name="Origins">Each recipient's country and operator, in the order of <paramref name="Recipients"/>.</param>
public sealed record ValidSend(
    IReadOnlyList<string> Recipients, IReadOnlyList<PhoneOrigin> Origins, string Text, SmsEncoding Encoding, int Segments, string SenderId,
    string? CallbackUrl, DateTime? ScheduledAt, string? Reference)
{
    public long Credits => (long)Segments * Recipients.Count;

    /// <summary>What makes two requests "the same" for an Idempotency-Key: the meaning, not the bytes.</summary>
    public byte[] Fingerprint()
    {
        var text = new StringBuilder();
        text.Append("POST /v1/messages\n").AppendJoin(',', Recipients).Append('\n').Append(Text).Append('\n').Append(SenderId)
            .Append('\n').Append(CallbackUrl).Append('\n').Append(ScheduledAt?.ToString("O")).Append('\n').Append(Reference);
        return SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text.ToString()));
    }
}

/// <summary>The problem a send was refused with: status, code, field errors and any further members (e.g. <c>category</c>).</summary>
public sealed record SendProblem(
    int Status, string Code, string Title, string Detail, Dictionary<string, string[]>? Errors = null,
    IReadOnlyList<KeyValuePair<string, object?>>? Extensions = null)
{
    public static SendProblem AllOptedOut { get; } = new(422, ErrorCodes.AllRecipientsOptedOut, "Every recipient has opted out.",
        "Every number in this send has opted out of messages from this account; nothing was queued or charged.");

    public static SendProblem Field(string field, string message) =>
        new(400, ErrorCodes.ValidationFailed, "The request is not valid.", "One or more fields are invalid; see errors.", new() { [field] = [message] });
}

/// <summary>
/// Validates a send against the contract (API.md "Messages"): every field error at once, then the
/// phone numbers (all bad ones listed), then the length in segments against the account's limit.
/// </summary>
public static class SendValidator
{
    public const int MaxRecipients = 10_000;
    public const int MaxScheduleDays = 35;
    public const int MaxTextLength = 10_000;
    public const int MaxReferenceLength = 255;
    public const int MaxCallbackUrlLength = 2048;

    public static (ValidSend? Send, SendProblem? Problem) Validate(SendRequest request, AccountSettings account, DateTime now)
    {
        var errors = new Dictionary<string, string[]>();
        if (request.To is null || request.To.Count == 0)
        {
            errors["to"] = ["is required: an array of phone numbers or a comma-separated string"];
        }
        else if (request.To.Count > MaxRecipients)
        {
            errors["to"] = [$"has {request.To.Count} numbers; at most {MaxRecipients} are allowed per request (use a campaign for more)"];
        }
        if (string.IsNullOrEmpty(request.Text))
        {
            errors["text"] = ["is required"];
        }
        else if (request.Text.Length > MaxTextLength)
        {
            errors["text"] = [$"must be at most {MaxTextLength} characters"];
        }
        var (sender, scheduledAt) = ValidateDelivery(request.SenderId, request.CallbackUrl, request.ScheduledAt, request.Reference, now, errors);
        if (errors.Count > 0)
        {
            return (null, new SendProblem(400, ErrorCodes.ValidationFailed, "The request is not valid.", "One or more fields are invalid; see errors.", errors));
        }

        var (recipients, origins, phoneProblem) = NormalizeRecipients(request.To!, account.DefaultCountry, "to", MaxRecipients);
        if (phoneProblem is not null)
        {
            return (null, phoneProblem);
        }

        var text = SmsSegments.Normalize(request.Text!);
        var measured = SmsSegments.Measure(text);
        if (measured.Segments > account.MaxSegments)
        {
            return (null, new SendProblem(400, ErrorCodes.MessageTooLong, "The message is too long.",
                $"The text needs {measured.Segments} segments ({SmsSegments.EncodingName(measured.Encoding)}); this account allows at most {account.MaxSegments}.",
                new() { ["text"] = [$"is {measured.Segments} segments long; the limit is {account.MaxSegments}"] }));
        }
        return (new ValidSend(recipients, origins, text, measured.Encoding, measured.Segments, sender!, request.CallbackUrl,
            scheduledAt, request.Reference), null);
    }

    /// <summary>
    /// The fields a send shares with a campaign: sender ID, callback URL, schedule and reference. Adds
    /// their errors to <paramref name="errors"/>; returns the sender ID upper-cased and the time in UTC.
    /// </summary>
    internal static (string? SenderId, DateTime? ScheduledAt) ValidateDelivery(
        string? senderId, string? callbackUrl, DateTimeOffset? scheduledAt, string? reference, DateTime now, Dictionary<string, string[]> errors)
    {
        var sender = senderId?.Trim().ToUpperInvariant();
        if (string.IsNullOrEmpty(sender))
        {
            errors["sender_id"] = ["is required"];
        }
        else if (!SenderIdNames.IsValidName(sender))
        {
            errors["sender_id"] = ["must be 3 to 11 letters and digits"];
        }
        if (callbackUrl is not null && !IsHttpUrl(callbackUrl))
        {
            errors["callback_url"] = [$"must be an absolute http or https URL of at most {MaxCallbackUrlLength} characters"];
        }
        var at = scheduledAt?.UtcDateTime;
        if (at < now)
        {
            errors["scheduled_at"] = ["is in the past"];
        }
        else if (at > now.AddDays(MaxScheduleDays))
        {
            errors["scheduled_at"] = [$"must be within {MaxScheduleDays} days"];
        }
        if (reference is { Length: > MaxReferenceLength })
        {
            errors["reference"] = [$"must be at most {MaxReferenceLength} characters"];
        }
        return (sender, at);
    }

    /// <summary>
    /// The numbers in E.164, in the order given and each once (a number given twice, in any format, is sent
    /// once), with each one's country and operator; or 400 INVALID_PHONE with the errors of the first
    /// <paramref name="listed"/> bad ones under <paramref name="field"/>.
    /// </summary>
    internal static (List<string> Recipients, List<PhoneOrigin> Origins, SendProblem? Problem) NormalizeRecipients(
        IReadOnlyCollection<string> inputs, string country, string field, int listed)
    {
        var recipients = new List<string>(inputs.Count);
        var origins = new List<PhoneOrigin>(inputs.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var bad = new List<string>();
        foreach (var input in inputs)
        {
            if (PhoneNumbers.TryNormalize(input, country, out var e164, out var origin, out var error))
            {
                if (seen.Add(e164))
                {
                    recipients.Add(e164);
                    origins.Add(origin);
                }
            }
            else
            {
                bad.Add(error);
            }
        }
        return bad.Count == 0
            ? (recipients, origins, null)
            : (recipients, origins, new SendProblem(400, ErrorCodes.InvalidPhone, "Invalid phone number.",
                $"{bad.Count} of the numbers are not valid; nothing was sent.", new() { [field] = [.. bad.Take(listed)] }));
    }

    private static bool IsHttpUrl(string value) =>
        value.Length <= MaxCallbackUrlLength
        && Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
        && !string.IsNullOrEmpty(uri.Host);
}

public static class SenderIdNames
{
    /// <summary>3–11 letters and digits (API.md "Sender IDs"), already upper-cased.</summary>
    public static bool IsValidName(string name)
    {
        if (name.Length is < 3 or > 11)
        {
            return false;
        }
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterUpper(c) && !char.IsAsciiDigit(c))
            {
                return false;
            }
        }
        return true;
    }
}
