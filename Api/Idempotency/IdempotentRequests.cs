using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Net.Http.Headers;
using Npgsql;
using NpgsqlTypes;
using Ujumbe.Api.Extensions;
using Ujumbe.Api.Identity;
using Ujumbe.Shared.Messaging;

namespace Ujumbe.Api.Idempotency;

/// <summary>Marks an endpoint whose answers <see cref="IdempotentRequests"/> stores and replays for a repeated Idempotency-Key.</summary>
public sealed class StoredIdempotentAnswers;

public static class IdempotentEndpoints
{
    /// <summary>
    /// The endpoint takes an Idempotency-Key: a retry with the same key and request within 24 hours gets the first
    /// success replayed instead of doing the work again. Not for answers that carry a secret shown once (decision 0027).
    /// </summary>
    public static TBuilder StoresIdempotentAnswers<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new StoredIdempotentAnswers()).AcceptsIdempotencyKey();
}

/// <summary>
/// Idempotency-Key for the POSTs that create something (API.md "Conventions"), in front of their handlers: the
/// key is claimed for the calling account before the handler runs, and a success (2xx) is stored with it; the
/// same key with the same request (method, path, body) replays that answer with <c>Idempotent-Replayed: true</c>,
/// with another request it is 422, and while the first is still running 409. A request that fails gives its key
/// back, so a corrected retry may use it. Sends keep their own claim, committed with the send (SendWriter).
/// </summary>
public sealed class IdempotentRequests(RequestDelegate next, NpgsqlDataSource database, TimeProvider time)
{
    /// <summary>Answers larger than this are not kept: a retry of such a request does the work again.</summary>
    private const int MaxStoredAnswer = 1024 * 1024;

    public async Task InvokeAsync(HttpContext context, Caller caller)
    {
        var request = context.Request;
        if (!HttpMethods.IsPost(request.Method) || context.GetEndpoint()?.Metadata.GetMetadata<StoredIdempotentAnswers>() is null
            || caller.AccountIdOrEmpty == Guid.Empty)
        {
            await next(context);
            return;
        }
        var (key, problem) = IdempotencyKey.Read(request);
        if (problem is not null)
        {
            await problem.ExecuteAsync(context);
            return;
        }
        if (key is null)
        {
            await next(context);
            return;
        }

        var account = caller.AccountIdOrEmpty;
        var hash = await FingerprintAsync(request, context.RequestAborted);
        var existing = await ClaimAsync(account, key, hash, context.RequestAborted);
        if (existing is not null)
        {
            await AnswerRepeatAsync(context, existing, hash);
            return;
        }

        var answered = false;
        var original = context.Response.Body;
        await using var captured = new MemoryStream();
        context.Response.Body = captured;
        try
        {
            await next(context);
            var response = context.Response;
            if (response.StatusCode is >= 200 and < 300 && captured.Length <= MaxStoredAnswer)
            {
                await StoreAnswerAsync(account, key, response, captured.ToArray());
                answered = true;
            }
        }
        finally
        {
            context.Response.Body = original;
            if (!answered)
            {
                await ReleaseAsync(account, key);
            }
        }
        captured.Position = 0;
        await captured.CopyToAsync(original, context.RequestAborted);
    }

    /// <summary>What makes two requests "the same": method, path and query, and the body's bytes.</summary>
    private static async Task<byte[]> FingerprintAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.Path}{request.QueryString}\n"));
        request.EnableBuffering(); // JSON bodies are in memory already (TextInputGuard); the handler reads it again
        await AppendAsync(hash, request.Body, cancellationToken);
        request.Body.Position = 0;
        return hash.GetHashAndReset();
    }

    private static async Task AppendAsync(IncrementalHash hash, Stream content, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }
    }

    private sealed record StoredKey(byte[] RequestHash, int? Status, byte[]? Body, string? Headers);

    /// <summary>Claims the key for this request (null), or gives what holds it: an earlier request's claim or answer.</summary>
    private async Task<StoredKey?> ClaimAsync(Guid account, string key, byte[] hash, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        // A key past its 24 hours, or claimed by a request that never answered, is taken over; any other is left alone.
        await using (var claim = new NpgsqlCommand("""
            insert into idempotency_keys (account_id, key, request_hash, created_at) values ($1, $2, $3, $4)
            on conflict (account_id, key) do update
               set request_hash = excluded.request_hash, created_at = excluded.created_at,
                   response_status = null, response_body = null, response_headers = null
             where idempotency_keys.created_at < $5
                or (idempotency_keys.response_status is null and idempotency_keys.created_at < $6)
            """, connection))
        {
            claim.Parameters.Add(new() { Value = account });
            claim.Parameters.Add(new() { Value = key });
            claim.Parameters.Add(new() { Value = hash });
            claim.Parameters.Add(new() { Value = now });
            claim.Parameters.Add(new() { Value = now - IdempotencyKeys.Window });
            claim.Parameters.Add(new() { Value = now - IdempotencyKeys.AbandonedAfter });
            if (await claim.ExecuteNonQueryAsync(cancellationToken) == 1)
            {
                return null;
            }
        }
        await using var read = new NpgsqlCommand(
            "select request_hash, response_status, response_body, response_headers::text from idempotency_keys where account_id = $1 and key = $2",
            connection);
        read.Parameters.Add(new() { Value = account });
        read.Parameters.Add(new() { Value = key });
        await using var row = await read.ExecuteReaderAsync(cancellationToken);
        if (!await row.ReadAsync(cancellationToken))
        {
            // Given back between the two statements: it was a failed request's; treat it as still in flight.
            return new StoredKey(hash, null, null, null);
        }
        return new StoredKey(
            row.GetFieldValue<byte[]>(0),
            row.IsDBNull(1) ? null : row.GetInt32(1),
            row.IsDBNull(2) ? null : row.GetFieldValue<byte[]>(2),
            row.IsDBNull(3) ? null : row.GetString(3));
    }

    private static async Task AnswerRepeatAsync(HttpContext context, StoredKey existing, byte[] hash)
    {
        // As for sends: a key whose first request is still running is in flight, whatever this request is.
        if (existing.Status is not { } status || existing.Body is null)
        {
            await IdempotencyKey.InFlight().ExecuteAsync(context);
            return;
        }
        if (!existing.RequestHash.AsSpan().SequenceEqual(hash))
        {
            await IdempotencyKey.Reused().ExecuteAsync(context);
            return;
        }
        var response = context.Response;
        response.StatusCode = status;
        foreach (var (name, value) in existing.Headers is null ? [] : JsonSerializer.Deserialize<Dictionary<string, string>>(existing.Headers)!)
        {
            response.Headers[name] = value;
        }
        response.Headers[IdempotencyKey.ReplayedHeader] = "true";
        response.ContentLength = existing.Body.Length;
        await response.Body.WriteAsync(existing.Body, context.RequestAborted);
    }

    /// <summary>The headers that belong to the answer itself (what it is, where the created thing lives).</summary>
    private static readonly string[] ReplayedHeaders = [HeaderNames.ContentType, HeaderNames.Location];

    private async Task StoreAnswerAsync(Guid account, string key, HttpResponse response, byte[] body)
    {
        var headers = ReplayedHeaders.Where(name => response.Headers.ContainsKey(name))
            .ToDictionary(name => name, name => response.Headers[name].ToString());
        await using var store = database.CreateCommand(
            "update idempotency_keys set response_status = $3, response_body = $4, response_headers = $5 where account_id = $1 and key = $2");
        store.Parameters.Add(new() { Value = account });
        store.Parameters.Add(new() { Value = key });
        store.Parameters.Add(new() { Value = response.StatusCode });
        store.Parameters.Add(new() { Value = body });
        store.Parameters.Add(new() { Value = JsonSerializer.Serialize(headers), NpgsqlDbType = NpgsqlDbType.Jsonb });
        // Not the request's token: the work is done, and its answer must be kept even if the client has gone.
        await store.ExecuteNonQueryAsync(CancellationToken.None);
    }

    private async Task ReleaseAsync(Guid account, string key)
    {
        await using var release = database.CreateCommand("delete from idempotency_keys where account_id = $1 and key = $2 and response_status is null");
        release.Parameters.Add(new() { Value = account });
        release.Parameters.Add(new() { Value = key });
        await release.ExecuteNonQueryAsync(CancellationToken.None);
    }
}
