using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Compat.Wasambazie;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Api.Webhooks;

/// <param name="Format">
/// The shape events are delivered in: <c>ujumbe</c> (default, Standard Webhooks) or a compatibility dialect's
/// (<c>wasambazie</c>, decision 0026). Chosen when the endpoint is made.
/// </param>
public sealed record WebhookRequest(string? Url, string[]? Events, bool? Enabled, string? Format = null);

public sealed record WebhookResponse(
    string Id, string Url, string[] Events, bool Enabled, string? DisabledReason, DateTime CreatedAt, DateTime UpdatedAt, string Format);

/// <summary>The one answer that carries <c>secret</c>.</summary>
public sealed record CreatedWebhookResponse(string Id, string Url, string[] Events, bool Enabled, string Secret, DateTime CreatedAt, string Format);

public sealed record WebhookAttemptResponse(DateTime AttemptedAt, int? StatusCode, int? LatencyMs, string? Error, DateTime? NextAttemptAt);

public sealed record WebhookDeliveryResponse(
    string Id, string EventId, string EventType, string Url, string Status, int Attempts, DateTime? NextAttemptAt,
    int? LastStatusCode, string? LastError, DateTime CreatedAt, DateTime? CompletedAt, IReadOnlyList<WebhookAttemptResponse> History);

public sealed record CallbackSecretResponse(string Secret);

/// <summary>Webhook endpoints, their delivery history, manual retries (API.md "Webhooks").</summary>
public static class WebhooksApi
{
    /// <summary>Each event fans out to every endpoint, so an account's endpoints are few.</summary>
    public const int MaxEndpointsPerAccount = 20;

    public static readonly string[] EventTypes =
    [
        "message.sent", "message.delivered", "message.failed", "batch.finalized",
        "payment.completed", "payment.failed", "sender_id.approved", "sender_id.rejected",
    ];

    public const string DefaultFormat = "ujumbe";

    /// <summary>Each format and the events it can carry (a dialect's webhooks know only what its seed documents).</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Formats = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        [DefaultFormat] = EventTypes,
        [WasambazieWebhook.Format] = [WasambazieWebhook.SourceEvent],
    };

    public static RouteGroupBuilder MapWebhooksApi(this RouteGroupBuilder v1)
    {
        var webhooks = v1.MapGroup("/webhooks").RequireScope(Scopes.Account).WithTags("Webhooks");
        webhooks.MapPost("/", CreateAsync)
            .WithName("CreateWebhook").WithSummary("Add a webhook endpoint (its signing secret is shown only here)")
            .ProducesProblem(StatusCodes.Status409Conflict);
        webhooks.MapGet("/", ListAsync)
            .WithName("ListWebhooks").WithSummary("List webhook endpoints");
        webhooks.MapPatch("/{id}", UpdateAsync)
            .WithName("UpdateWebhook").WithSummary("Change a webhook endpoint's URL, events or enabled state");
        webhooks.MapDelete("/{id}", DeleteAsync)
            .WithName("DeleteWebhook").WithSummary("Delete a webhook endpoint");
        webhooks.MapGet("/{id}/deliveries", DeliveriesAsync)
            .WithName("ListWebhookDeliveries").WithSummary("List an endpoint's deliveries and their attempts");
        webhooks.MapPost("/deliveries/{id}/retry", RetryAsync)
            .WithName("RetryWebhookDelivery").WithSummary("Deliver an event again now");
        webhooks.MapPost("/callback-secret", RotateCallbackSecretAsync)
            .WithName("RotateCallbackSecret").WithSummary("Issue a new secret for signing per-message callbacks");
        return v1;
    }

    public static async Task<Results<Created<CreatedWebhookResponse>, ProblemHttpResult>> CreateAsync(
        WebhookRequest request, Caller caller, NpgsqlDataSource database, WebhookSecrets secrets, IOptions<WebhookOptions> options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        if (await UrlGuard.CheckAsync(request.Url, options.Value.AllowPrivateNetworks, cancellationToken) is { } urlError)
        {
            errors["url"] = [urlError];
        }
        var format = request.Format ?? DefaultFormat;
        if (!Formats.TryGetValue(format, out var formatEvents))
        {
            errors["format"] = [$"must be one of {string.Join(", ", Formats.Keys)}"];
            formatEvents = EventTypes;
        }
        var events = ValidateEvents(request.Events ?? formatEvents, errors, formatEvents, format);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var now = time.UtcNow();
        var id = Guid.CreateVersion7(now);
        var secret = WebhookSecrets.NewSecret();
        // Two creates counting at once would both see room for one more: the account's row lock makes them
        // take turns, and the insert, a statement of its own, counts after the lock is held (a fresh snapshot).
        // NO KEY UPDATE: the foreign-key checks of the account's sends (KEY SHARE) need not wait for it.
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new("select 1 from accounts where id = $1 for no key update") { Parameters = { new() { Value = caller.AccountId } } },
                new("""
                    insert into webhook_endpoints (id, account_id, url, events, secret_ciphertext, enabled, created_at, updated_at, format)
                    select $1, $2, $3, $4, $5, true, $6, $6, $8
                     where (select count(*) from webhook_endpoints where account_id = $2) < $7
                    """)
                {
                    Parameters =
                    {
                        new() { Value = id }, new() { Value = caller.AccountId }, new() { Value = request.Url! }, new() { Value = events },
                        new() { Value = secrets.Encrypt(secret) }, new() { Value = now }, new() { Value = MaxEndpointsPerAccount },
                        new() { Value = format },
                    },
                },
            },
        };
        await batch.ExecuteNonQueryAsync(cancellationToken);
        if (batch.BatchCommands[1].RecordsAffected == 0)
        {
            return Problems.Conflict($"An account can have at most {MaxEndpointsPerAccount} webhook endpoints; delete one first.");
        }
        await transaction.CommitAsync(cancellationToken);
        var response = new CreatedWebhookResponse(PublicId.Format(PublicId.Webhook, id), request.Url!, events, true, secret, now, format);
        return TypedResults.Created($"/v1/webhooks/{response.Id}", response);
    }

    public static async Task<Results<Ok<PageOf<WebhookResponse>>, ProblemHttpResult>> ListAsync(
        string? page, [FromQuery(Name = "page_size")] string? pageSize, Caller caller, NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        await using var command = database.CreateCommand("""
            select id, url, events, enabled, disabled_reason, created_at, updated_at, format, count(*) over ()
              from webhook_endpoints where account_id = $1 order by created_at offset $2 limit $3
            """);
        command.Parameters.Add(new() { Value = caller.AccountId });
        command.Parameters.Add(new() { Value = paging.Skip });
        command.Parameters.Add(new() { Value = paging.Size });
        var rows = new List<WebhookResponse>();
        var total = 0;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(ReadEndpoint(reader));
                total = (int)reader.GetInt64(8);
            }
        }
        if (rows.Count == 0 && paging.Skip > 0)
        {
            total = await CountAsync(database, caller.AccountId, cancellationToken);
        }
        return TypedResults.Ok(paging.Of(rows, total));
    }

    public static async Task<Results<Ok<WebhookResponse>, ProblemHttpResult>> UpdateAsync(
        string id, WebhookRequest request, Caller caller, NpgsqlDataSource database, IOptions<WebhookOptions> options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Webhook, id, out var endpointId))
        {
            return Problems.NotFound("No webhook with this id.");
        }
        var errors = new Dictionary<string, string[]>();
        if (request.Url is not null && await UrlGuard.CheckAsync(request.Url, options.Value.AllowPrivateNetworks, cancellationToken) is { } urlError)
        {
            errors["url"] = [urlError];
        }
        if (request.Format is not null)
        {
            errors["format"] = ["is chosen when the endpoint is made; make a new endpoint for another format"];
        }
        string[]? events = null;
        if (request.Events is not null)
        {
            var format = await FormatOfAsync(database, endpointId, caller.AccountId, cancellationToken);
            if (format is null)
            {
                return Problems.NotFound("No webhook with this id.");
            }
            events = ValidateEvents(request.Events, errors, Formats[format], format);
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        // Re-enabling clears the reason it was disabled (e.g. a 410 from the receiver) and makes the events held
        // for it meanwhile due now, attempts starting again; those older than the retention are failed (decision 0017).
        await using var command = database.CreateCommand("""
            with updated as (
                update webhook_endpoints
                   set url = coalesce($3, url),
                       events = coalesce($4, events),
                       enabled = coalesce($5, enabled),
                       disabled_reason = case when $5 then null when $5 = false then 'Disabled by the account' else disabled_reason end,
                       updated_at = $6
                 where id = $1 and account_id = $2
                returning id, url, events, enabled, disabled_reason, created_at, updated_at, format
            ), released as (
                update webhook_deliveries d
                   set status = case when d.created_at >= $7 then 'pending' else 'failed' end,
                       next_attempt_at = case when d.created_at >= $7 then $6 end,
                       attempts = case when d.created_at >= $7 then 0 else d.attempts end,
                       last_error = case when d.created_at >= $7 then d.last_error else 'Held longer than the retention while the endpoint was disabled' end,
                       completed_at = case when d.created_at >= $7 then null else $6 end
                  from updated u
                 where $5 and u.enabled and d.endpoint_id = u.id and d.status = 'held'
            )
            select * from updated
            """);
        command.Parameters.Add(new() { Value = endpointId });
        command.Parameters.Add(new() { Value = caller.AccountId });
        command.Parameters.Add(new() { Value = (object?)request.Url ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)events ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)request.Enabled ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Boolean });
        command.Parameters.Add(new() { Value = time.UtcNow() });
        command.Parameters.Add(new() { Value = time.UtcNow() - WebhookOptions.HeldRetention });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? TypedResults.Ok(ReadEndpoint(reader))
            : Problems.NotFound("No webhook with this id.");
    }

    /// <summary>Deletes the endpoint; what was still to be delivered to it is given up (recorded as failed).</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string id, Caller caller, NpgsqlDataSource database, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Webhook, id, out var endpointId))
        {
            return Problems.NotFound("No webhook with this id.");
        }
        await using var command = database.CreateCommand("""
            with gone as (delete from webhook_endpoints where id = $1 and account_id = $2 returning id),
                 given_up as (
                     update webhook_deliveries d
                        set status = 'failed', last_error = 'The endpoint was deleted', completed_at = $3, next_attempt_at = null
                       from gone where d.endpoint_id = gone.id and d.status in ('pending', 'held'))
            select count(*) from gone
            """);
        command.Parameters.Add(new() { Value = endpointId });
        command.Parameters.Add(new() { Value = caller.AccountId });
        command.Parameters.Add(new() { Value = time.UtcNow() });
        var deleted = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        return deleted > 0 ? TypedResults.NoContent() : Problems.NotFound("No webhook with this id.");
    }

    public static async Task<Results<Ok<PageOf<WebhookDeliveryResponse>>, ProblemHttpResult>> DeliveriesAsync(
        string id, string? page, [FromQuery(Name = "page_size")] string? pageSize, Caller caller, NpgsqlDataSource database,
        CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        if (!PublicId.TryParse(PublicId.Webhook, id, out var endpointId) || !await OwnsEndpointAsync(database, endpointId, caller.AccountId, cancellationToken))
        {
            return Problems.NotFound("No webhook with this id.");
        }
        var deliveries = new List<(Guid Id, WebhookDeliveryResponse Row)>();
        var total = 0;
        await using (var command = database.CreateCommand("""
            select d.id, d.event_id, e.type, d.url, d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_error,
                   d.created_at, d.completed_at, count(*) over ()
              from webhook_deliveries d join webhook_events e on e.id = d.event_id
             where d.endpoint_id = $1 and d.account_id = $2
             order by d.id desc offset $3 limit $4
            """))
        {
            command.Parameters.Add(new() { Value = endpointId });
            command.Parameters.Add(new() { Value = caller.AccountId });
            command.Parameters.Add(new() { Value = paging.Skip });
            command.Parameters.Add(new() { Value = paging.Size });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                deliveries.Add((reader.GetGuid(0), ReadDelivery(reader, [])));
                total = (int)reader.GetInt64(11);
            }
        }
        var history = await AttemptsAsync(database, deliveries.Select(d => d.Id).ToArray(), cancellationToken);
        return TypedResults.Ok(paging.Of(
            deliveries.Select(d => d.Row with { History = history.GetValueOrDefault(d.Id) ?? [] }).ToList(), total));
    }

    /// <summary>Delivers again, with a fresh retry schedule: for a delivery that failed (or one to redo).</summary>
    public static async Task<Results<Ok<WebhookDeliveryResponse>, ProblemHttpResult>> RetryAsync(
        string id, Caller caller, NpgsqlDataSource database, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.WebhookDelivery, id, out var deliveryId))
        {
            return Problems.NotFound("No delivery with this id.");
        }
        await using var command = database.CreateCommand("""
            with retried as (
                update webhook_deliveries set status = 'pending', attempts = 0, next_attempt_at = $3, completed_at = null,
                       trace_parent = nullif($4, '') -- delivered again in the trace of the request that asked for it
                 where id = $1 and account_id = $2 and status <> 'pending'
                returning *
            )
            select d.id, d.event_id, e.type, d.url, d.status, d.attempts, d.next_attempt_at, d.last_status_code, d.last_error,
                   d.created_at, d.completed_at, 1
              from (select * from retried union all
                    select * from webhook_deliveries where id = $1 and account_id = $2 and not exists (select 1 from retried)) d
              join webhook_events e on e.id = d.event_id
            """);
        command.Parameters.Add(new() { Value = deliveryId });
        command.Parameters.Add(new() { Value = caller.AccountId });
        command.Parameters.Add(new() { Value = time.UtcNow() });
        command.Parameters.Add(new() { Value = WebhookTrace.Current });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? TypedResults.Ok(ReadDelivery(reader, []))
            : Problems.NotFound("No delivery with this id.");
    }

    /// <summary>
    /// A new secret for the account's per-message callback URLs (callbacks have no endpoint of their
    /// own to hold one). Shown once; deliveries signed from now on use it.
    /// </summary>
    public static async Task<Ok<CallbackSecretResponse>> RotateCallbackSecretAsync(
        Caller caller, NpgsqlDataSource database, WebhookSecrets secrets, CancellationToken cancellationToken)
    {
        var secret = WebhookSecrets.NewSecret();
        await using var command = database.CreateCommand("update accounts set callback_secret_ciphertext = $2 where id = $1");
        command.Parameters.Add(new() { Value = caller.AccountId });
        command.Parameters.Add(new() { Value = secrets.Encrypt(secret) });
        await command.ExecuteNonQueryAsync(cancellationToken);
        return TypedResults.Ok(new CallbackSecretResponse(secret));
    }

    private static string[] ValidateEvents(string[] events, Dictionary<string, string[]> errors, string[] allowed, string format)
    {
        var unknown = events.Where(e => !allowed.Contains(e)).ToArray();
        if (unknown.Length > 0)
        {
            errors["events"] = [format == DefaultFormat
                ? $"unknown event(s) {string.Join(", ", unknown)}; valid events are {string.Join(", ", allowed)}"
                : $"the {format} format carries only {string.Join(", ", allowed)}, not {string.Join(", ", unknown)}"];
        }
        else if (events.Length == 0)
        {
            errors["events"] = [$"must name at least one event: {string.Join(", ", allowed)}"];
        }
        return events.Distinct().ToArray();
    }

    private static WebhookResponse ReadEndpoint(NpgsqlDataReader reader) => new(
        PublicId.Format(PublicId.Webhook, reader.GetGuid(0)), reader.GetString(1), reader.GetFieldValue<string[]>(2),
        reader.GetBoolean(3), reader.IsDBNull(4) ? null : reader.GetString(4),
        reader.GetDateTime(5), reader.GetDateTime(6), reader.GetString(7));

    private static async Task<string?> FormatOfAsync(NpgsqlDataSource database, Guid endpointId, Guid accountId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select format from webhook_endpoints where id = $1 and account_id = $2");
        command.Parameters.Add(new() { Value = endpointId });
        command.Parameters.Add(new() { Value = accountId });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    private static WebhookDeliveryResponse ReadDelivery(NpgsqlDataReader reader, IReadOnlyList<WebhookAttemptResponse> history) => new(
        PublicId.Format(PublicId.WebhookDelivery, reader.GetGuid(0)), PublicId.Format(PublicId.WebhookEvent, reader.GetGuid(1)),
        reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5),
        reader.IsDBNull(6) ? null : reader.GetDateTime(6), reader.IsDBNull(7) ? null : reader.GetInt32(7),
        reader.IsDBNull(8) ? null : reader.GetString(8), reader.GetDateTime(9), reader.IsDBNull(10) ? null : reader.GetDateTime(10), history);

    private static async Task<Dictionary<Guid, List<WebhookAttemptResponse>>> AttemptsAsync(
        NpgsqlDataSource database, Guid[] deliveryIds, CancellationToken cancellationToken)
    {
        var attempts = new Dictionary<Guid, List<WebhookAttemptResponse>>();
        if (deliveryIds.Length == 0)
        {
            return attempts;
        }
        await using var command = database.CreateCommand("""
            select delivery_id, attempted_at, status_code, latency_ms, error, next_attempt_at
              from webhook_attempts where delivery_id = any($1) order by delivery_id, id
            """);
        command.Parameters.Add(new() { Value = deliveryIds });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetGuid(0);
            if (!attempts.TryGetValue(id, out var list))
            {
                attempts[id] = list = [];
            }
            list.Add(new WebhookAttemptResponse(reader.GetDateTime(1), reader.IsDBNull(2) ? null : reader.GetInt32(2),
                reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetDateTime(5)));
        }
        return attempts;
    }

    private static async Task<bool> OwnsEndpointAsync(NpgsqlDataSource database, Guid endpointId, Guid accountId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select exists (select 1 from webhook_endpoints where id = $1 and account_id = $2)");
        command.Parameters.Add(new() { Value = endpointId });
        command.Parameters.Add(new() { Value = accountId });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<int> CountAsync(NpgsqlDataSource database, Guid accountId, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select count(*) from webhook_endpoints where account_id = $1");
        command.Parameters.Add(new() { Value = accountId });
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
