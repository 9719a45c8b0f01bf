using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;
using Ujumbe.Shared.Compat.Wasambazie;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Worker.Webhooks;

public sealed class WebhookDeliveryOptions
{
    public const string Section = "Webhooks:Delivery";

    /// <summary>API.md: up to 6 attempts, at 0, 30 s, 2 min, 10 min, 1 h and 4 h.</summary>
    public static readonly TimeSpan[] DefaultRetrySchedule =
        [TimeSpan.Zero, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10), TimeSpan.FromHours(1), TimeSpan.FromHours(4)];

    /// <summary>
    /// Delay before each attempt (the first is immediate); after the last failed attempt a delivery is
    /// failed. Null: <see cref="DefaultRetrySchedule"/> (configuration binding appends to arrays, so the
    /// default is not the initial value).
    /// </summary>
    public TimeSpan[]? RetrySchedule { get; set; }

    public TimeSpan[] Schedule => RetrySchedule is { Length: > 0 } schedule ? schedule : DefaultRetrySchedule;

    /// <summary>± this share of each delay, so retries of many deliveries do not arrive together.</summary>
    public double Jitter { get; set; } = 0.1;

    /// <summary>An answer slower than this is a failed attempt.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Deliveries one Worker holds at once: being attempted, or taken and waiting for their endpoint's turn.</summary>
    public int MaxClaimed { get; set; } = 1024;

    /// <summary>At most this many at once to one endpoint (or callback URL), so a slow one cannot hold up the others.</summary>
    public int MaxInFlightPerEndpoint { get; set; } = 32;

    /// <summary>
    /// How long a taken delivery is ours; if this Worker dies it becomes due again after it. It must
    /// outlast the timeout: a Worker takes only as many deliveries per endpoint as it can attempt
    /// within the lease even if every attempt times out.
    /// </summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Deliveries taken ahead per endpoint: a few rounds of its in-flight cap (so deliveries are taken in
    /// batches, not a query per attempt), no more rounds than fit in the lease with every attempt timing out.
    /// </summary>
    public int ClaimAheadPerEndpoint =>
        MaxInFlightPerEndpoint * Math.Clamp((int)(Lease.Ticks / Math.Max(1, Timeout.Ticks)) - 1, 1, 4);

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// While the database is unreachable, recording results is retried for as long as that lasts, the
    /// wait between tries doubling from 200 ms up to this.
    /// </summary>
    public TimeSpan RecordRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Delivers webhook events: takes due deliveries (each pushed a lease ahead, so a crash loses none),
/// POSTs them signed per Standard Webhooks, and records every attempt. Results are written in batches.
/// 2xx within the timeout is success; 410 disables the endpoint; anything else is retried on the
/// schedule (or after the receiver's Retry-After), and after the last attempt the delivery is failed
/// (an account can retry it by hand). Each endpoint has its own concurrency cap, so a slow receiver
/// only delays itself. Redirects are not followed, and the address connected to is checked again
/// here (DNS may have changed since the endpoint was registered).
/// </summary>
public sealed partial class WebhookDispatcher(
    NpgsqlDataSource database, WebhookSecrets secrets, IHttpClientFactory clients, IOptions<WebhookDeliveryOptions> options,
    TimeProvider time, ILogger<WebhookDispatcher> logger) : BackgroundService
{
    public const string ClientName = "webhooks";
    private readonly WebhookDeliveryOptions _options = options.Value;
    private readonly Channel<AttemptResult> _results = Channel.CreateUnbounded<AttemptResult>(new UnboundedChannelOptions { SingleReader = true });

    // What this Worker holds, per target (an endpoint's id, or a callback URL). Guarded by _gate.
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Target> _targets = new(StringComparer.Ordinal);
    private int _held;
    private bool _stopping;

    // Signalled when the claim loop, which found nothing it could take, may find something now: a
    // target has room for a batch again, or this Worker has.
    private readonly SemaphoreSlim _roomMade = new(0, 1);

    private sealed class Target
    {
        public readonly Queue<Claim> Waiting = new();
        public int InFlight;
        public int Held => Waiting.Count + InFlight;
    }

    /// <param name="SigningKey">Null for a callback whose account has no callback secret yet.</param>
    /// <param name="Format">The endpoint's format: Ujumbe's own (Standard Webhooks), or a dialect's (decision 0026).</param>
    /// <param name="TraceParent">The trace of the change that caused the event (migration 0014); null: none was named.</param>
    private sealed record Claim(Guid Id, Guid EventId, Guid AccountId, Guid? EndpointId, string Url, int Attempt, byte[] Body,
        Lazy<byte[]>? SigningKey, bool EndpointUsable, bool EndpointDisabled, string Format, string EventType, string? TraceParent)
    {
        public string Target => EndpointId?.ToString() ?? Url;  // as the claim query computes it
    }

    /// <param name="Attempt">
    /// The claim's attempt number. The delivery is updated only while it still has it: a result that comes
    /// after the lease ran out and another Worker took the delivery again must not overwrite that claim.
    /// </param>
    private sealed record AttemptResult(
        Guid DeliveryId, int Attempt, Guid? EndpointId, DateTime AttemptedAt, int? StatusCode, int LatencyMs, string? Error, string Status,
        DateTime? NextAttemptAt, bool Gone)
    {
        /// <summary>Taken but never attempted (the Worker is stopping): due again at once, the attempt not counted.</summary>
        public static AttemptResult Released(Claim claim, DateTime at) =>
            new(claim.Id, claim.Attempt, claim.EndpointId, at, null, 0, null, "released", at, false);

        /// <summary>
        /// Its endpoint is disabled: kept for it, not attempted (the attempt not counted), until the endpoint is
        /// enabled again or the retention ends (decision 0017).
        /// </summary>
        public static AttemptResult Held(Claim claim, DateTime at) =>
            new(claim.Id, claim.Attempt, claim.EndpointId, at, null, 0, null, "held", null, false);

        /// <summary>Written without an attempt row: nothing was sent.</summary>
        public bool Unattempted => Status is "released" || (Status is "held" && StatusCode is null);
    }

    /// <summary>A target holding more than this is not claimed for until a quarter of its claim-ahead is free again.</summary>
    private int TargetThreshold => _options.ClaimAheadPerEndpoint - Math.Max(1, _options.ClaimAheadPerEndpoint / 4);

    /// <summary>The Worker claims again once it has room for at least this many.</summary>
    private int MinimumClaim => Math.Max(1, _options.MaxClaimed / 8);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var stopRecording = new CancellationTokenSource();
        var recorder = Task.Run(() => RecordLoopAsync(stopRecording.Token), CancellationToken.None);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                if (recorder.IsCompleted)
                {
                    // It ends only when told to, below. Without it nothing would be recorded again and every
                    // delivery would be repeated each lease: fail the service, so the Worker stops and is restarted.
                    await recorder;
                    throw new InvalidOperationException("Recording webhook attempts stopped unexpectedly.");
                }
                var claimed = 0;
                try
                {
                    claimed = await ClaimAndStartAsync(stoppingToken);
                }
                catch (Exception error) when (error is NpgsqlException or TimeoutException)
                {
                    LogClaimFailed(logger, error);
                }
                if (claimed == 0)
                {
                    await _roomMade.WaitAsync(_options.PollInterval, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping: hand back what was taken but not started, let what is in flight finish (bounded by the timeout)
        }
        var releasedAt = time.GetUtcNow().UtcDateTime;
        lock (_gate)
        {
            _stopping = true;
            foreach (var target in _targets.Values)
            {
                while (target.Waiting.TryDequeue(out var claim))
                {
                    _held--;
                    _results.Writer.TryWrite(AttemptResult.Released(claim, releasedAt));
                }
            }
        }
        var deadline = DateTime.UtcNow + _options.Timeout + TimeSpan.FromSeconds(1);
        while (Volatile.Read(ref _held) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, CancellationToken.None);
        }
        _results.Writer.TryComplete();
        // A database still down must not hold up the stop: an unrecorded result costs only a repeat of
        // its delivery once the lease ends.
        stopRecording.CancelAfter(TimeSpan.FromSeconds(5));
        try
        {
            await recorder;
        }
        catch (OperationCanceledException) when (stopRecording.IsCancellationRequested)
        {
            LogUnrecordedAtStop(logger);
        }
    }

    private async Task<int> ClaimAndStartAsync(CancellationToken cancellationToken)
    {
        int room;
        KeyValuePair<string, int>[] held;
        lock (_gate)
        {
            room = _options.MaxClaimed - _held;
            if (room < MinimumClaim)
            {
                return 0;
            }
            held = _targets.Select(t => KeyValuePair.Create(t.Key, t.Value.Held)).ToArray();
        }
        var claims = await ClaimAsync(room, held, cancellationToken);
        var touched = new HashSet<string>(StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var claim in claims)
            {
                if (!_targets.TryGetValue(claim.Target, out var target))
                {
                    _targets[claim.Target] = target = new Target();
                }
                target.Waiting.Enqueue(claim);
                _held++;
                touched.Add(claim.Target);
            }
        }
        foreach (var key in touched)
        {
            StartWhatFits(key);
        }
        return claims.Count;
    }

    /// <summary>Starts the target's waiting deliveries while it is under its in-flight cap.</summary>
    private void StartWhatFits(string key)
    {
        List<Claim>? starting = null;
        lock (_gate)
        {
            if (_stopping || !_targets.TryGetValue(key, out var target))
            {
                return;
            }
            while (target.InFlight < _options.MaxInFlightPerEndpoint && target.Waiting.TryDequeue(out var claim))
            {
                target.InFlight++;
                (starting ??= []).Add(claim);
            }
        }
        foreach (var claim in starting ?? [])
        {
            _ = Task.Run(() => DeliverAsync(claim), CancellationToken.None);
        }
    }

    private void Finished(Claim claim)
    {
        bool roomMade;
        lock (_gate)
        {
            var target = _targets[claim.Target];
            target.InFlight--;
            _held--;
            roomMade = target.Held == TargetThreshold || _options.MaxClaimed - _held == MinimumClaim;
            if (target.Held == 0)
            {
                _targets.Remove(claim.Target);
            }
        }
        StartWhatFits(claim.Target);
        if (roomMade && _roomMade.CurrentCount == 0)
        {
            try
            {
                _roomMade.Release();
            }
            catch (SemaphoreFullException)
            {
                // signalled already; once is enough
            }
        }
    }

    /// <summary>
    /// Takes up to <paramref name="limit"/> due deliveries, oldest first, but per target no more than its
    /// claim-ahead leaves room for. Targets already holding enough are skipped in the scan, so a target
    /// with a large backlog cannot crowd the others out.
    /// </summary>
    private async Task<List<Claim>> ClaimAsync(int limit, KeyValuePair<string, int>[] held, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var command = database.CreateCommand("""
            with held as (
                select * from unnest($5::text[], $6::int[]) as h(target, n)
            ), candidates as (
                select d.id, coalesce(d.endpoint_id::text, d.url) as target, d.next_attempt_at
                  from webhook_deliveries d
                 where d.status = 'pending' and d.next_attempt_at <= $1
                   and coalesce(d.endpoint_id::text, d.url) not in (select target from held where n > $7)
                 order by d.next_attempt_at
                 limit $2
            ), ranked as (
                select c.id, c.next_attempt_at,
                       row_number() over (partition by c.target order by c.next_attempt_at) as n,
                       coalesce((select n from held h where h.target = c.target), 0) as held
                  from candidates c
            ), due as (
                select d.id, e.url as endpoint_url from webhook_deliveries d
                  join ranked r on r.id = d.id
                  left join webhook_endpoints e on e.id = d.endpoint_id
                 where r.n <= $3 - r.held and d.status = 'pending' and d.next_attempt_at <= $1
                 for update of d skip locked
            ), taken as (
                -- An endpoint's deliveries go to its URL as it is now (it may have changed since the event);
                -- a callback has only the URL the send gave.
                update webhook_deliveries d set next_attempt_at = $1 + $4, attempts = d.attempts + 1, url = coalesce(due.endpoint_url, d.url)
                  from due where d.id = due.id
                returning d.id, d.event_id, d.account_id, d.endpoint_id, d.url, d.attempts, d.created_at, d.trace_parent
            )
            select t.id, t.event_id, t.account_id, t.endpoint_id, t.url, t.attempts, ev.payload::text,
                   case when t.endpoint_id is null then a.callback_secret_ciphertext else e.secret_ciphertext end,
                   t.endpoint_id is null or coalesce(e.enabled, false), e.id is not null and not e.enabled,
                   coalesce(e.format, 'ujumbe'), ev.type, t.trace_parent
              from taken t
              join webhook_events ev on ev.id = t.event_id
              left join webhook_endpoints e on e.id = t.endpoint_id
              left join accounts a on a.id = t.account_id
             order by t.created_at, t.id
            """);
        command.Parameters.Add(new() { Value = now });
        command.Parameters.Add(new() { Value = limit });
        command.Parameters.Add(new() { Value = _options.ClaimAheadPerEndpoint });
        command.Parameters.Add(new() { Value = _options.Lease });
        command.Parameters.Add(new() { Value = held.Select(h => h.Key).ToArray() });
        command.Parameters.Add(new() { Value = held.Select(h => h.Value).ToArray() });
        command.Parameters.Add(new() { Value = TargetThreshold });
        var claims = new List<Claim>();
        // An event fans out to several endpoints and an endpoint has many deliveries: encode each body and
        // decrypt each secret once per batch. Decrypting waits for the first delivery that needs it, so a
        // secret that cannot be decrypted fails its deliveries (recorded), not the claim.
        var bodies = new Dictionary<(Guid, string), byte[]>();
        var keys = new Dictionary<Guid, Lazy<byte[]>>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var eventId = reader.GetGuid(1);
            var accountId = reader.GetGuid(2);
            Guid? endpointId = reader.IsDBNull(3) ? null : reader.GetGuid(3);
            var format = reader.GetString(10);
            if (!bodies.TryGetValue((eventId, format), out var body))
            {
                var payload = reader.IsDBNull(6) ? "{}" : reader.GetString(6);
                bodies[(eventId, format)] = body = format == WasambazieWebhook.Format
                    ? WasambazieWebhook.Body(payload)
                    : Encoding.UTF8.GetBytes(payload);
            }
            Lazy<byte[]>? key = null;
            if (!reader.IsDBNull(7) && !keys.TryGetValue(endpointId ?? accountId, out key))
            {
                var ciphertext = reader.GetFieldValue<byte[]>(7);
                keys[endpointId ?? accountId] = key = format == WasambazieWebhook.Format
                    ? new(() => WasambazieWebhook.Key(secrets.Decrypt(ciphertext)))
                    : new(() => WebhookSecrets.SigningKey(secrets.Decrypt(ciphertext)));
            }
            claims.Add(new Claim(reader.GetGuid(0), eventId, accountId, endpointId, reader.GetString(4), reader.GetInt32(5), body, key,
                reader.GetBoolean(8), reader.GetBoolean(9), format, reader.GetString(11), reader.IsDBNull(12) ? null : reader.GetString(12)));
        }
        return claims;
    }

    private async Task DeliverAsync(Claim claim)
    {
        if (claim.EndpointDisabled)
        {
            _results.Writer.TryWrite(AttemptResult.Held(claim, time.GetUtcNow().UtcDateTime));
            Finished(claim);
            return;
        }
        var started = Stopwatch.GetTimestamp();
        var attemptedAt = time.GetUtcNow().UtcDateTime;
        int? statusCode = null;
        string? error = null;
        string? errorKind = null;  // for the log line: what kind of failure, without the details
        TimeSpan? retryAfter = null;
        // A child of the change that caused the event (a send's dispatch or delivery report, …), so the
        // webhook shows in that trace; a delivery with no trace named starts its own. Never a child of the
        // ambient activity: this task may have been started by another delivery finishing.
        Activity.Current = null;
        var cause = claim.TraceParent is not null && ActivityContext.TryParse(claim.TraceParent, null, isRemote: true, out var parent)
            ? parent
            : default;
        using var activity = WorkerTelemetry.Source.StartActivity("webhook deliver", ActivityKind.Client, cause);
        activity?.SetTag("url.full", claim.Url);
        activity?.SetTag("ujumbe.webhook.event_type", claim.EventType);
        activity?.SetTag("ujumbe.webhook.delivery_id", claim.Id);
        activity?.SetTag("ujumbe.webhook.attempt", claim.Attempt);
        try
        {
            if (!claim.EndpointUsable)
            {
                error = "The endpoint was deleted";
                errorKind = "endpoint_deleted";
            }
            else
            {
                var key = claim.SigningKey?.Value ?? WebhookSecrets.SigningKey(await EnsureCallbackSecretAsync(claim.AccountId));
                var body = claim.Body;
                var id = PublicId.Format(PublicId.WebhookEvent, claim.EventId);
                var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
                using var request = new HttpRequestMessage(HttpMethod.Post, claim.Url) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                if (claim.Format == WasambazieWebhook.Format)
                {
                    request.Headers.TryAddWithoutValidation(WasambazieWebhook.SignatureHeader, WasambazieWebhook.Signature(key, body));
                }
                else
                {
                    request.Headers.TryAddWithoutValidation("webhook-id", id);
                    request.Headers.TryAddWithoutValidation("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
                    request.Headers.TryAddWithoutValidation("webhook-signature", WebhookSignature.Sign(key, id, timestamp, body));
                }
                using var timeout = new CancellationTokenSource(_options.Timeout);
                using var response = await clients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                statusCode = (int)response.StatusCode;
                retryAfter = response.Headers.RetryAfter switch
                {
                    { Delta: { } delta } => delta,
                    { Date: { } date } => date - time.GetUtcNow(),
                    _ => null,
                };
                if (!response.IsSuccessStatusCode)
                {
                    error = $"The endpoint answered {statusCode} {response.ReasonPhrase}";
                    errorKind = "status " + statusCode.Value.ToString(CultureInfo.InvariantCulture);
                }
            }
        }
        catch (OperationCanceledException)
        {
            error = $"No answer within {_options.Timeout.TotalSeconds:0.#} s";
            errorKind = "timeout";
        }
        catch (HttpRequestException failure)
        {
            // Expected of receivers that are down: recorded for the account, logged as one line without a stack trace.
            error = failure.InnerException is { } inner ? $"{failure.Message} ({inner.Message})" : failure.Message;
            errorKind = ErrorKind(failure);
        }
        catch (Exception failure) when (failure is not OutOfMemoryException)
        {
            error = failure.Message;
            errorKind = "unexpected";
            LogDeliveryError(logger, failure, claim.Id);
        }

        var latency = (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var succeeded = error is null && statusCode is >= 200 and < 300;
        var gone = statusCode == (int)HttpStatusCode.Gone;
        string status;
        DateTime? next = null;
        if (succeeded)
        {
            status = "succeeded";
        }
        else if (gone && claim.EndpointId is not null)
        {
            // The endpoint is disabled (below, with the result); this event waits for it like the ones after it.
            status = "held";
        }
        else if (!claim.EndpointUsable || claim.Attempt >= _options.Schedule.Length)
        {
            status = "failed";
        }
        else
        {
            status = "pending";
            next = time.GetUtcNow().UtcDateTime + NextDelay(claim.Attempt, retryAfter);
        }
        WorkerTelemetry.WebhookAttempts.Add(1, new KeyValuePair<string, object?>("outcome", succeeded ? "succeeded" : gone ? "gone" : "failed"));
        WorkerTelemetry.WebhookLatency.Record(latency);
        activity?.SetTag("http.response.status_code", statusCode);
        if (!succeeded)
        {
            activity?.SetStatus(ActivityStatusCode.Error, error);
            if (logger.IsEnabled(LogLevel.Information))
            {
                var endpoint = claim.EndpointId?.ToString() ?? "callback";
                var nextAttempt = next is { } at ? at.ToString("O", CultureInfo.InvariantCulture)
                    : status == "held" ? "when the endpoint is enabled again" : "none (failed)";
                LogAttemptFailed(logger, endpoint, claim.Id, claim.Attempt, errorKind ?? "failed", nextAttempt);
            }
        }
        _results.Writer.TryWrite(new AttemptResult(claim.Id, claim.Attempt, claim.EndpointId, attemptedAt, statusCode, latency, error, status, next, gone));
        Finished(claim);
    }

    /// <summary>A short, stable name for why a request failed (the full message is recorded with the attempt).</summary>
    private static string ErrorKind(HttpRequestException failure) => failure.HttpRequestError switch
    {
        HttpRequestError.NameResolutionError => "dns",
        HttpRequestError.ConnectionError when failure.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.ConnectionRefused } => "connection_refused",
        HttpRequestError.ConnectionError => "connection_error",
        HttpRequestError.SecureConnectionError => "tls",
        HttpRequestError.ResponseEnded or HttpRequestError.InvalidResponse => "invalid_response",
        HttpRequestError.ProxyTunnelError => "proxy",
        _ when failure.Message.StartsWith("Refused to connect", StringComparison.Ordinal) => "internal_address_refused",
        _ => "request_error",
    };

    /// <summary>The delay before the next attempt: the schedule's, jittered, unless the receiver asked for another (Retry-After).</summary>
    private TimeSpan NextDelay(int attemptsMade, TimeSpan? retryAfter)
    {
        if (retryAfter is { } asked && asked > TimeSpan.Zero)
        {
            return asked < TimeSpan.FromDays(1) ? asked : TimeSpan.FromDays(1);
        }
        var delay = _options.Schedule[Math.Min(attemptsMade, _options.Schedule.Length - 1)];
        var jitter = 1 + ((Random.Shared.NextDouble() * 2) - 1) * _options.Jitter;
        return TimeSpan.FromTicks((long)(delay.Ticks * jitter));
    }

    /// <summary>Callbacks are signed with the account's callback secret; the first callback creates it (the account rotates it to learn it).</summary>
    private async Task<string> EnsureCallbackSecretAsync(Guid accountId)
    {
        var fresh = WebhookSecrets.NewSecret();
        await using var command = database.CreateCommand("""
            update accounts set callback_secret_ciphertext = coalesce(callback_secret_ciphertext, $2) where id = $1
            returning callback_secret_ciphertext
            """);
        command.Parameters.Add(new() { Value = accountId });
        command.Parameters.Add(new() { Value = secrets.Encrypt(fresh) });
        var stored = (byte[])(await command.ExecuteScalarAsync())!;
        return secrets.Decrypt(stored);
    }

    /// <summary>Writes attempt results in batches: one transaction for up to a few hundred attempts.</summary>
    private async Task RecordLoopAsync(CancellationToken cancellationToken)
    {
        var batch = new List<AttemptResult>(512);
        while (await _results.Reader.WaitToReadAsync(cancellationToken))
        {
            while (batch.Count < 512 && _results.Reader.TryRead(out var result))
            {
                batch.Add(result);
            }
            await RecordOrDropAsync(batch, cancellationToken);
            batch.Clear();
        }
    }

    /// <summary>
    /// Records the batch, waiting out a database outage however long it lasts: a recorder that gave up
    /// would leave every delivery from then on unrecorded and repeated each lease. A batch the database
    /// refuses outright is recorded result by result, so only a result it still refuses is dropped
    /// (logged as an error). Dropping loses no delivery: its lease ends and it is tried again.
    /// </summary>
    private async Task RecordOrDropAsync(IReadOnlyList<AttemptResult> batch, CancellationToken cancellationToken)
    {
        for (var failures = 0; ; failures++)
        {
            try
            {
                await RecordAsync(batch, cancellationToken);
                return;
            }
            catch (Exception error) when (error is NpgsqlException { IsTransient: true } or TimeoutException)
            {
                LogRecordFailed(logger, error, batch.Count);
                await Task.Delay(RecordRetryDelay(failures), cancellationToken);
            }
            catch (Exception error) when (error is not OutOfMemoryException && !cancellationToken.IsCancellationRequested)
            {
                if (batch.Count == 1)
                {
                    LogResultDropped(logger, error, batch[0].DeliveryId);
                    return;
                }
                LogBatchRefused(logger, error, batch.Count);
                foreach (var result in batch)
                {
                    await RecordOrDropAsync([result], cancellationToken);
                }
                return;
            }
        }
    }

    private TimeSpan RecordRetryDelay(int failures)
    {
        var delay = TimeSpan.FromMilliseconds(200 * Math.Pow(2, Math.Min(failures, 16)));
        return delay < _options.RecordRetryMaxDelay ? delay : _options.RecordRetryMaxDelay;
    }

    private async Task RecordAsync(IReadOnlyList<AttemptResult> results, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var npgsqlBatch = new NpgsqlBatch(connection, transaction);
        var released = results.Where(r => r.Status == "released").ToArray();
        var held = results.Where(r => r.Unattempted && r.Status == "held").ToArray();
        if (held.Length > 0)
        {
            npgsqlBatch.BatchCommands.Add(Command("""
                update webhook_deliveries d set status = 'held', next_attempt_at = null, attempts = d.attempts - 1
                  from unnest($1::uuid[], $2::int[]) as r(id, attempt)
                 where d.id = any($1) and d.id = r.id and d.status = 'pending' and d.attempts = r.attempt
                """, held.Select(r => r.DeliveryId).ToArray(), held.Select(r => r.Attempt).ToArray()));
        }
        if (released.Length > 0)
        {
            npgsqlBatch.BatchCommands.Add(Command("""
                update webhook_deliveries d set next_attempt_at = $3, attempts = d.attempts - 1
                  from unnest($1::uuid[], $2::int[]) as r(id, attempt)
                 where d.id = any($1) and d.id = r.id and d.status = 'pending' and d.attempts = r.attempt
                """, released.Select(r => r.DeliveryId).ToArray(), released.Select(r => r.Attempt).ToArray(), released[0].AttemptedAt));
        }
        var batch = results.Where(r => !r.Unattempted).ToList();
        var ids = batch.Select(r => r.DeliveryId).ToArray();
        var codes = batch.Select(r => r.StatusCode).ToArray();
        var errors = batch.Select(r => r.Error).ToArray();
        var next = batch.Select(r => r.NextAttemptAt).ToArray();
        var at = batch.Select(r => r.AttemptedAt).ToArray();
        npgsqlBatch.BatchCommands.Add(Command("""
            insert into webhook_attempts (delivery_id, attempted_at, status_code, latency_ms, error, next_attempt_at)
            select * from unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::int[], $5::text[], $6::timestamptz[])
            """, ids, at, codes, batch.Select(r => r.LatencyMs).ToArray(), errors, next));
        npgsqlBatch.BatchCommands.Add(Command("""
            update webhook_deliveries d
               set status = r.status, next_attempt_at = r.next_attempt_at, last_status_code = r.status_code, last_error = r.error,
                   completed_at = case when r.status in ('pending', 'held') then null else r.attempted_at end
              from unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[], $5::text[], $6::timestamptz[], $7::int[])
                   as r(id, status, next_attempt_at, status_code, error, attempted_at, attempt)
             where d.id = any($1) and d.id = r.id and d.status = 'pending' and d.attempts = r.attempt
            """, ids, batch.Select(r => r.Status).ToArray(), next, codes, errors, at, batch.Select(r => r.Attempt).ToArray()));
        var gone = batch.Where(r => r.Gone && r.EndpointId is not null).Select(r => r.EndpointId!.Value).Distinct().ToArray();
        if (gone.Length > 0)
        {
            npgsqlBatch.BatchCommands.Add(Command("""
                update webhook_endpoints set enabled = false, disabled_reason = 'The endpoint answered 410 Gone', updated_at = $2
                 where id = any($1) and enabled
                """, gone, time.GetUtcNow().UtcDateTime));
        }
        await npgsqlBatch.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static NpgsqlBatchCommand Command(string sql, params object?[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter ?? DBNull.Value });
        }
        return command;
    }

    public override void Dispose()
    {
        _roomMade.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Taking due webhook deliveries failed; will try again")]
    private static partial void LogClaimFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Recording {Count} webhook attempts failed; retrying")]
    private static partial void LogRecordFailed(ILogger logger, Exception error, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "The database refused {Count} webhook attempt results; recording them one by one")]
    private static partial void LogBatchRefused(ILogger logger, Exception error, int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "The result of webhook delivery {DeliveryId} cannot be recorded; dropped (the delivery is made again when its lease ends)")]
    private static partial void LogResultDropped(ILogger logger, Exception error, Guid deliveryId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopped with webhook attempt results unrecorded; their deliveries are made again when their leases end")]
    private static partial void LogUnrecordedAtStop(ILogger logger);

    /// <summary>One line per failed attempt, whatever the cause: a dead receiver costs a line per attempt, never a stack trace.</summary>
    [LoggerMessage(Level = LogLevel.Information,
        Message = "Webhook attempt failed: endpoint {EndpointId}, delivery {DeliveryId}, attempt {Attempt}: {ErrorKind}; next attempt {NextAttempt}")]
    private static partial void LogAttemptFailed(ILogger logger, string endpointId, Guid deliveryId, int attempt, string errorKind, string nextAttempt);

    [LoggerMessage(Level = LogLevel.Error, Message = "Delivering webhook {DeliveryId} failed unexpectedly")]
    private static partial void LogDeliveryError(ILogger logger, Exception error, Guid deliveryId);
}
