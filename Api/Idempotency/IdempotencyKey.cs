using Microsoft.AspNetCore.Http.HttpResults;
using Ujumbe.ServiceDefaults;

namespace Ujumbe.Api.Idempotency;

/// <summary>The <c>Idempotency-Key</c> header (API.md "Conventions"): how it is read, and the answers its misuse gets.</summary>
public static class IdempotencyKey
{
    public const string Header = "Idempotency-Key";

    /// <summary>Set on an answer replayed for a repeated key.</summary>
    public const string ReplayedHeader = "Idempotent-Replayed";

    /// <summary>The key, or none, or the problem with what was sent (more than one value, empty, too long, not printable ASCII).</summary>
    public static (string? Key, ProblemHttpResult? Problem) Read(HttpRequest request)
    {
        var values = request.Headers[Header];
        if (values.Count == 0)
        {
            return (null, null);
        }
        var key = values.Count == 1 ? values[0] : null;
        if (key is null || key.Length is < 1 or > 255 || key.Any(c => c is < ' ' or > '~'))
        {
            return (null, Problems.Validation(Header, "must be one value of 1 to 255 printable ASCII characters"));
        }
        return (key, null);
    }

    public static ProblemHttpResult Reused() => Problems.Create(422, ErrorCodes.IdempotencyKeyReused, "Idempotency-Key reused.",
        "This Idempotency-Key was used with a different request in the last 24 hours.");

    public static ProblemHttpResult InFlight() =>
        Problems.Conflict("A request with this Idempotency-Key is still being processed; retry shortly.");
}
