using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Ujumbe.Api.Data;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Shared.Messaging;
using Ujumbe.Shared.Providers;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Api.Providers;

/// <summary>What a delivery report did: <c>accepted</c> (passed on), or why nothing changed.</summary>
public sealed record ReportResponse(string Outcome);

/// <summary>
/// Delivery reports from providers: public (the gateway routes them without an API key), authenticated by the
/// provider's callback token (constant-time compare). A report is passed on by the message lifecycle
/// (<see cref="MessageLifecycle.QueueDeliveryReportAsync"/>) through the outbox to the Worker's delivery-report queue, which applies it only to a message that is <c>sent</c> (so a repeated report, or one for a
/// message already final, changes nothing, and nothing moves backwards) and holds one that arrives before the
/// submission's answer was recorded until it is. Bad reports are answered (never a 500), logged and counted.
/// </summary>
public static partial class ProviderCallbacksApi
{
    private const int MaxFieldLength = 500;

    public static IEndpointRouteBuilder MapProviderCallbacks(this IEndpointRouteBuilder app)
    {
        const string path = ProviderCallbacks.PathPrefix + "{id}/dlr";
        app.MapGet(path, ReceiveAsync).WithTags("Providers")
            .WithName("ReceiveDeliveryReport").WithSummary("A provider reports a message's delivery in the query (Kannel's dlr-url)")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized);
        app.MapPost(path, ReceiveAsync).WithTags("Providers")
            .WithName("PostDeliveryReport").WithSummary("A provider reports a message's delivery in a JSON or form body (an aggregator's callback)")
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status401Unauthorized);
        return app;
    }

    public static async Task<Results<Ok<ReportResponse>, ProblemHttpResult>> ReceiveAsync(
        string id, HttpRequest request, NpgsqlDataSource database, WebhookSecrets secrets, MessageLifecycle lifecycle, TimeProvider time,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(ProviderCallbacksApi));
        var fields = await ReadFieldsAsync(request, cancellationToken);
        var token = fields.GetValueOrDefault("token") ?? request.Headers[ProviderCallbacks.TokenHeader].ToString();
        var provider = PublicId.TryParse(PublicId.Provider, id, out var providerId)
            ? await LoadProviderAsync(database, providerId, cancellationToken) : null;
        if (provider is null || !ProviderCallbacks.TokenMatches(token, secrets.Decrypt(provider.Token)))
        {
            Count(provider?.Name ?? "unknown", "forged"); // never the id as given: an attacker would choose the metric's tags
            LogForged(logger, id, request.HttpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown");
            return Problems.Unauthorized(ErrorCodes.InvalidCredentials, "The delivery report does not carry this provider's callback token.");
        }

        if (!TryRead(provider, fields, out var messageId, out var outcome, out var errorCode, out var problem))
        {
            Count(provider.Name, problem == "unmapped" ? "unmapped" : "malformed");
            LogBadReport(logger, provider.Name, problem);
            return problem == "unmapped"
                ? TypedResults.Ok(new ReportResponse("unmapped"))
                : Problems.Validation("report", problem);
        }
        if (outcome == ReportOutcome.Intermediate)
        {
            Count(provider.Name, "intermediate");
            return TypedResults.Ok(new ReportResponse("intermediate"));
        }

        var report = new DeliveryReport(messageId, Truncate(fields.GetValueOrDefault("smsc_id")), outcome == ReportOutcome.Delivered,
            errorCode, time.UtcNow(), provider.Name);
        var receipt = await lifecycle.QueueDeliveryReportAsync(report, cancellationToken);
        if (receipt is ReportReceipt.UnknownMessage or ReportReceipt.WrongProvider)
        {
            var why = receipt == ReportReceipt.UnknownMessage ? "unknown_message" : "wrong_provider";
            Count(provider.Name, why);
            LogUnknownMessage(logger, provider.Name, messageId, why);
            return TypedResults.Ok(new ReportResponse("unknown_message"));
        }
        if (receipt == ReportReceipt.Duplicate)
        {
            Count(provider.Name, "duplicate");
            return TypedResults.Ok(new ReportResponse("duplicate"));
        }
        Count(provider.Name, "accepted");
        return TypedResults.Ok(new ReportResponse("accepted"));
    }

    private sealed record CallbackProvider(string Name, string Kind, string Settings, byte[] Token);

    private static async Task<CallbackProvider?> LoadProviderAsync(NpgsqlDataSource database, Guid id, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select name, kind, settings::text, callback_token from providers where id = $1");
        command.Parameters.Add(new() { Value = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new CallbackProvider(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<byte[]>(3))
            : null;
    }

    /// <summary>Reads the report as the provider's kind writes it; false with the reason when it cannot be read.</summary>
    private static bool TryRead(CallbackProvider provider, Dictionary<string, string> fields,
        out Guid messageId, out ReportOutcome outcome, out string? errorCode, out string problem)
    {
        messageId = Guid.Empty;
        outcome = default;
        errorCode = null;
        problem = "";
        string? reference;
        if (provider.Kind == ProviderKinds.Kannel)
        {
            reference = fields.GetValueOrDefault("msg");
            if (!int.TryParse(fields.GetValueOrDefault("type"), NumberStyles.None, CultureInfo.InvariantCulture, out var type)
                || !KannelReports.TryRead(type, fields.GetValueOrDefault("answer"), out outcome, out errorCode))
            {
                problem = "type must be one of Kannel's delivery report types 1, 2, 4, 8 or 16";
                return false;
            }
        }
        else if (provider.Kind == ProviderKinds.Http)
        {
            var mapping = JsonSerializer.Deserialize<HttpProviderSettings>(provider.Settings, ProviderJson.Options)?.Dlr ?? new HttpDlrMapping();
            reference = fields.GetValueOrDefault(mapping.MessageIdField) ?? fields.GetValueOrDefault("msg");
            var status = fields.GetValueOrDefault(mapping.StatusField);
            if (status is null)
            {
                problem = $"the field {mapping.StatusField} (the delivery status) is missing";
                return false;
            }
            if (mapping.DeliveredValues.Contains(status, StringComparer.OrdinalIgnoreCase))
            {
                outcome = ReportOutcome.Delivered;
            }
            else if (mapping.FailedValues.Contains(status, StringComparer.OrdinalIgnoreCase))
            {
                outcome = ReportOutcome.Failed;
                errorCode = Truncate(mapping.ErrorCodeField is { } field ? fields.GetValueOrDefault(field) : null, 50) ?? "UNDELIVERED";
            }
            else
            {
                problem = "unmapped"; // a status the mapping does not name: nothing changes, an operator looks
                return false;
            }
        }
        else
        {
            problem = "this provider does not send delivery reports over HTTP";
            return false;
        }
        if (!PublicId.TryParse(PublicId.Message, reference, out messageId) && !Guid.TryParse(reference, out messageId))
        {
            problem = "the message id is missing or not one of ours";
            return false;
        }
        return true;
    }

    /// <summary>Query parameters, then a form or JSON body (top-level fields, and dotted paths for nested JSON).</summary>
    private static async Task<Dictionary<string, string>> ReadFieldsAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in request.Query)
        {
            fields[name] = value.ToString();
        }
        if (!HttpMethods.IsPost(request.Method))
        {
            return fields;
        }
        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken);
            foreach (var (name, value) in form)
            {
                fields[name] = value.ToString();
            }
        }
        else if (request.ContentType?.Contains("json", StringComparison.OrdinalIgnoreCase) == true)
        {
            try
            {
                using var document = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
                Flatten(document.RootElement, "", fields);
            }
            catch (JsonException)
            {
                // Unreadable: judged below by the fields that are missing.
            }
        }
        return fields;
    }

    private static void Flatten(JsonElement element, string prefix, Dictionary<string, string> fields)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                Flatten(property.Value, prefix.Length == 0 ? property.Name : $"{prefix}.{property.Name}", fields);
            }
        }
        else if (element.ValueKind is JsonValueKind.String)
        {
            fields[prefix] = element.GetString()!;
        }
        else if (element.ValueKind is JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
        {
            fields[prefix] = element.GetRawText();
        }
    }

    private static string? Truncate(string? value, int length = MaxFieldLength) =>
        string.IsNullOrEmpty(value) ? null : value.Length > length ? value[..length] : value;

    private static void Count(string provider, string outcome) =>
        ApiTelemetry.ProviderReports.Add(1, new KeyValuePair<string, object?>("provider", provider), new KeyValuePair<string, object?>("outcome", outcome));

    [LoggerMessage(Level = LogLevel.Warning, Message = "A delivery report for provider {Provider} from {Address} was refused: unknown provider or wrong callback token")]
    private static partial void LogForged(ILogger logger, string provider, string address);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A delivery report from provider {Provider} could not be read: {Reason}")]
    private static partial void LogBadReport(ILogger logger, string provider, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Provider {Provider} reported on message {MessageId}, which it did not send ({Reason}); ignored")]
    private static partial void LogUnknownMessage(ILogger logger, string provider, Guid messageId, string reason);
}
