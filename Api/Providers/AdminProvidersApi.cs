using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Ujumbe.Api.Data;
using Ujumbe.Api.Idempotency;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Phones;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Providers;
using Ujumbe.Shared.Webhooks;

namespace Ujumbe.Api.Providers;

/// <summary>
/// A provider as operators write it. <c>secrets</c> are write-only: a key with a value sets it, a key with null
/// removes it, a key left out keeps it (Kannel: <c>password</c>; HTTP: <c>auth_header_value</c>).
/// </summary>
public sealed record ProviderRequest(
    string? Name, string? Kind, JsonElement? Settings, Dictionary<string, string?>? Secrets, int? MaxPerSecond, bool? Enabled);

/// <summary>A provider as shown: its settings and which secrets are set, never their values.</summary>
public sealed record ProviderResponse(
    string Id, string Name, string Kind, JsonElement Settings, IReadOnlyList<string> SecretsSet, int? MaxPerSecond, bool Enabled,
    string CallbackPath, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>Creation's answer: the provider, and once only, the token its delivery reports must carry.</summary>
public sealed record CreatedProviderResponse(
    string Id, string Name, string Kind, JsonElement Settings, IReadOnlyList<string> SecretsSet, int? MaxPerSecond, bool Enabled,
    string CallbackPath, DateTime CreatedAt, DateTime UpdatedAt, string CallbackToken);

/// <summary>A route: a prefix of E.164 digits (or a country, which stands for its calling code), optionally one account's, and providers in failover order.</summary>
public sealed record RouteRequest(string? Prefix, string? Country, string? AccountId, IReadOnlyList<string>? Providers);

public sealed record RouteResponse(string Id, string Prefix, string? Country, string? AccountId, IReadOnlyList<string> Providers, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>What the Workers last reported of a provider (its circuit is theirs), freshest first.</summary>
/// <remarks><c>dlr_rate</c>: final delivery reports per message the provider took (null before it took any).</remarks>
public sealed record ProviderHealthResponse(
    string Id, string Name, string Kind, bool Enabled, string Circuit, long Submitted, long Failed, long Accepted, long Reports, double? DlrRate,
    double? LatencyMsAvg, DateTime? ReportedAt);

/// <summary>
/// Operators' providers and routes (<c>/v1/admin/providers</c>, <c>/v1/admin/routes</c>) and provider health. The
/// Worker rereads both within a second: a change applies without a restart. Secrets are sealed at rest with the
/// same AES-256-GCM key as webhook secrets, and never shown.
/// </summary>
public static class AdminProvidersApi
{
    private static readonly Dictionary<string, string[]> AllowedSecrets = new()
    {
        [ProviderKinds.Kannel] = ["password"],
        [ProviderKinds.Http] = ["auth_header_value"],
        [ProviderKinds.Simulator] = [],
    };

    private static readonly string[] OurFields = ["to", "to_digits", "from", "text", "reference", "callback_url"];

    public static RouteGroupBuilder MapAdminProvidersApi(this RouteGroupBuilder v1)
    {
        var providers = v1.MapGroup("/admin/providers").RequireScope(Scopes.Admin).WithTags("Operators");
        providers.MapGet("/", ListProvidersAsync).WithName("ListProviders").WithSummary("List upstream SMS providers (secrets never shown)");
        providers.MapGet("/health", HealthAsync).WithName("ProviderHealth").WithSummary("Each provider's circuit, submissions, failures and latency, as the Workers last saw them");
        providers.MapGet("/{id}", GetProviderAsync).WithName("GetProvider").WithSummary("Get one provider");
        providers.MapPost("/", CreateProviderAsync).WithName("CreateProvider").WithSummary("Add a provider (Kannel, generic HTTP or simulator)")
            .StoresIdempotentAnswers().ProducesProblem(StatusCodes.Status409Conflict);
        providers.MapPut("/{id}", UpdateProviderAsync).WithName("UpdateProvider").WithSummary("Change a provider (secrets: set, remove with null, keep by leaving out)")
            .ProducesProblem(StatusCodes.Status409Conflict);
        providers.MapDelete("/{id}", DeleteProviderAsync).WithName("DeleteProvider").WithSummary("Delete a provider (routes naming it skip it)");

        var routes = v1.MapGroup("/admin/routes").RequireScope(Scopes.Admin).WithTags("Operators");
        routes.MapGet("/", ListRoutesAsync).WithName("ListRoutes").WithSummary("List routes");
        routes.MapPost("/", CreateRouteAsync).WithName("CreateRoute").WithSummary("Route a prefix or country (optionally one account's) to providers in failover order")
            .StoresIdempotentAnswers().ProducesProblem(StatusCodes.Status409Conflict);
        routes.MapPut("/{id}", UpdateRouteAsync).WithName("UpdateRoute").WithSummary("Change a route").ProducesProblem(StatusCodes.Status409Conflict);
        routes.MapDelete("/{id}", DeleteRouteAsync).WithName("DeleteRoute").WithSummary("Delete a route");
        return v1;
    }

    // ------------------------------------------------------------------ providers

    public static async Task<Ok<PageOf<ProviderResponse>>> ListProvidersAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        var rows = await ReadProvidersAsync(database, null, cancellationToken);
        return TypedResults.Ok(new PageOf<ProviderResponse>(rows, 1, Math.Max(1, rows.Count), rows.Count));
    }

    public static async Task<Results<Ok<ProviderResponse>, ProblemHttpResult>> GetProviderAsync(
        string id, NpgsqlDataSource database, CancellationToken cancellationToken) =>
        PublicId.TryParse(PublicId.Provider, id, out var providerId)
        && (await ReadProvidersAsync(database, providerId, cancellationToken)) is [var provider]
            ? TypedResults.Ok(provider)
            : Problems.NotFound("No provider with this id.");

    public static async Task<Results<Created<CreatedProviderResponse>, ProblemHttpResult>> CreateProviderAsync(
        ProviderRequest request, NpgsqlDataSource database, WebhookSecrets secrets, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var kind = request.Kind?.Trim().ToLowerInvariant();
        if (kind is null || !ProviderKinds.All.Contains(kind))
        {
            errors["kind"] = [$"is required: one of {string.Join(", ", ProviderKinds.All)}"];
        }
        var name = ValidateName(request.Name, errors);
        var settings = kind is null || errors.ContainsKey("kind") ? null : ValidateSettings(kind, request.Settings, errors);
        var secretValues = ValidateSecrets(kind, request.Secrets, new Dictionary<string, string>(), errors);
        ValidateRate(request.MaxPerSecond, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var now = time.UtcNow();
        var id = Guid.CreateVersion7(now);
        var token = ProviderCallbacks.NewToken();
        await using var command = database.CreateCommand("""
            insert into providers (id, name, kind, settings, secrets, secret_names, callback_token, max_per_second, enabled, created_at, updated_at)
            values ($1, $2, $3, $4::jsonb, $5, $6, $7, $8, $9, $10, $10)
            """);
        command.Parameters.Add(new() { Value = id });
        command.Parameters.Add(new() { Value = name! });
        command.Parameters.Add(new() { Value = kind! });
        command.Parameters.Add(new() { Value = settings! });
        command.Parameters.Add(new() { Value = secretValues.Count == 0 ? DBNull.Value : (object)secrets.Encrypt(JsonSerializer.Serialize(secretValues)), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
        command.Parameters.Add(new() { Value = secretValues.Keys.Order().ToArray() });
        command.Parameters.Add(new() { Value = secrets.Encrypt(token) });
        command.Parameters.Add(new() { Value = (object?)request.MaxPerSecond ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        command.Parameters.Add(new() { Value = request.Enabled ?? true });
        command.Parameters.Add(new() { Value = now });
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return Problems.Conflict($"A provider named {name} exists already.");
        }
        var created = (await ReadProvidersAsync(database, id, cancellationToken))[0];
        return TypedResults.Created($"/v1/admin/providers/{created.Id}", new CreatedProviderResponse(created.Id, created.Name, created.Kind,
            created.Settings, created.SecretsSet, created.MaxPerSecond, created.Enabled, created.CallbackPath, created.CreatedAt, created.UpdatedAt, token));
    }

    public static async Task<Results<Ok<ProviderResponse>, ProblemHttpResult>> UpdateProviderAsync(
        string id, ProviderRequest request, NpgsqlDataSource database, WebhookSecrets secrets, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Provider, id, out var providerId))
        {
            return Problems.NotFound("No provider with this id.");
        }
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        string kind;
        byte[]? sealedSecrets;
        await using (var read = new NpgsqlCommand("select kind, secrets from providers where id = $1 for update", connection, transaction))
        {
            read.Parameters.Add(new() { Value = providerId });
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return Problems.NotFound("No provider with this id.");
            }
            kind = reader.GetString(0);
            sealedSecrets = reader.IsDBNull(1) ? null : reader.GetFieldValue<byte[]>(1);
        }
        var errors = new Dictionary<string, string[]>();
        if (request.Kind is not null && !string.Equals(request.Kind.Trim(), kind, StringComparison.OrdinalIgnoreCase))
        {
            errors["kind"] = [$"cannot change (this provider is {kind}); add a new provider instead"];
        }
        var name = ValidateName(request.Name, errors);
        var settings = ValidateSettings(kind, request.Settings, errors);
        var current = sealedSecrets is null ? [] : JsonSerializer.Deserialize<Dictionary<string, string>>(secrets.Decrypt(sealedSecrets)) ?? [];
        var secretValues = ValidateSecrets(kind, request.Secrets, current, errors);
        ValidateRate(request.MaxPerSecond, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        await using (var update = new NpgsqlCommand("""
            update providers set name = $2, settings = $3::jsonb, secrets = $4, secret_names = $5, max_per_second = $6, enabled = $7, updated_at = $8
             where id = $1
            """, connection, transaction))
        {
            update.Parameters.Add(new() { Value = providerId });
            update.Parameters.Add(new() { Value = name! });
            update.Parameters.Add(new() { Value = settings! });
            update.Parameters.Add(new() { Value = secretValues.Count == 0 ? DBNull.Value : (object)secrets.Encrypt(JsonSerializer.Serialize(secretValues)), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
            update.Parameters.Add(new() { Value = secretValues.Keys.Order().ToArray() });
            update.Parameters.Add(new() { Value = (object?)request.MaxPerSecond ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
            update.Parameters.Add(new() { Value = request.Enabled ?? true });
            update.Parameters.Add(new() { Value = time.UtcNow() });
            try
            {
                await update.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                return Problems.Conflict($"A provider named {name} exists already.");
            }
        }
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Ok((await ReadProvidersAsync(database, providerId, cancellationToken))[0]);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteProviderAsync(string id, NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Provider, id, out var providerId))
        {
            return Problems.NotFound("No provider with this id.");
        }
        await using var command = database.CreateCommand("""
            with gone as (delete from providers where id = $1 returning id), health as (delete from provider_health where provider_id = $1)
            select count(*) from gone
            """);
        command.Parameters.Add(new() { Value = providerId });
        return (long)(await command.ExecuteScalarAsync(cancellationToken))! == 0 ? Problems.NotFound("No provider with this id.") : TypedResults.NoContent();
    }

    public static async Task<Ok<PageOf<ProviderHealthResponse>>> HealthAsync(NpgsqlDataSource database, TimeProvider time, CancellationToken cancellationToken)
    {
        // A Worker that has not reported for a while is gone (stopped or scaled in): its view no longer counts.
        await using var command = database.CreateCommand("""
            select p.id, p.name, p.kind, p.enabled,
                   coalesce((select h.circuit from provider_health h where h.provider_id = p.id and h.updated_at > $1
                              order by (h.circuit = 'closed'), h.updated_at desc limit 1), 'unknown'),
                   coalesce(sum(h.submitted), 0)::bigint, coalesce(sum(h.failed), 0)::bigint,
                   sum(h.latency_ms_avg * h.submitted) / nullif(sum(h.submitted) filter (where h.latency_ms_avg is not null), 0),
                   max(h.updated_at), coalesce(sum(h.accepted), 0)::bigint, coalesce(sum(h.reports), 0)::bigint
              from providers p left join provider_health h on h.provider_id = p.id and h.updated_at > $1
             group by p.id order by p.name
            """);
        command.Parameters.Add(new() { Value = time.UtcNow() - TimeSpan.FromSeconds(30) });
        var rows = new List<ProviderHealthResponse>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var accepted = reader.GetInt64(9);
            var reports = reader.GetInt64(10);
            rows.Add(new ProviderHealthResponse(PublicId.Format(PublicId.Provider, reader.GetGuid(0)), reader.GetString(1), reader.GetString(2),
                reader.GetBoolean(3), reader.GetString(4), reader.GetInt64(5), reader.GetInt64(6), accepted, reports,
                accepted == 0 ? null : Math.Round((double)reports / accepted, 4),
                reader.IsDBNull(7) ? null : reader.GetDouble(7), reader.IsDBNull(8) ? null : reader.GetDateTime(8)));
        }
        return TypedResults.Ok(new PageOf<ProviderHealthResponse>(rows, 1, Math.Max(1, rows.Count), rows.Count));
    }

    private static async Task<List<ProviderResponse>> ReadProvidersAsync(NpgsqlDataSource database, Guid? id, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            select id, name, kind, settings::text, secret_names, max_per_second, enabled, created_at, updated_at
              from providers where $1::uuid is null or id = $1 order by name
            """);
        command.Parameters.Add(new() { Value = (object?)id ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        var rows = new List<ProviderResponse>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var providerId = reader.GetGuid(0);
            using var settings = JsonDocument.Parse(reader.GetString(3));
            rows.Add(new ProviderResponse(PublicId.Format(PublicId.Provider, providerId), reader.GetString(1), reader.GetString(2),
                settings.RootElement.Clone(), reader.GetFieldValue<string[]>(4), reader.IsDBNull(5) ? null : reader.GetInt32(5), reader.GetBoolean(6),
                ProviderCallbacks.Path(providerId), reader.GetDateTime(7), reader.GetDateTime(8)));
        }
        return rows;
    }

    private static string? ValidateName(string? name, Dictionary<string, string[]> errors)
    {
        var trimmed = name?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(trimmed) || trimmed.Length > 50 || trimmed == "simulator"
            || !trimmed.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_'))
        {
            errors["name"] = ["is required: 1 to 50 lower-case letters, digits, '-' or '_' (not \"simulator\", the built-in default)"];
            return null;
        }
        return trimmed;
    }

    private static void ValidateRate(int? maxPerSecond, Dictionary<string, string[]> errors)
    {
        if (maxPerSecond is < 1 or > 100_000)
        {
            errors["max_per_second"] = ["must be 1 to 100000 messages a second, or null for no cap"];
        }
    }

    /// <summary>The kind's settings, checked and normalized to the JSON stored (defaults filled in); null with errors when wrong.</summary>
    private static string? ValidateSettings(string kind, JsonElement? raw, Dictionary<string, string[]> errors)
    {
        var json = raw is { ValueKind: JsonValueKind.Object } element ? element.GetRawText() : "{}";
        if (raw is { } given && given.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null or JsonValueKind.Undefined))
        {
            errors["settings"] = ["must be an object"];
            return null;
        }
        try
        {
            switch (kind)
            {
                case ProviderKinds.Kannel:
                {
                    var settings = JsonSerializer.Deserialize<KannelSettings>(json, ProviderJson.Options)!;
                    if (!IsHttpUrl(settings.Url))
                    {
                        errors["settings.url"] = ["is required: Kannel's sendsms URL, e.g. http://127.0.0.1:13013/cgi-bin/sendsms"];
                    }
                    if (string.IsNullOrWhiteSpace(settings.Username))
                    {
                        errors["settings.username"] = ["is required: the sendsms-user's username"];
                    }
                    if (settings.DlrMask is < 0 or > 31)
                    {
                        errors["settings.dlr_mask"] = ["must be a sum of 1, 2, 4, 8 and 16 (0 to 31)"];
                    }
                    if (settings.CallbackBaseUrl is not null && !IsHttpUrl(settings.CallbackBaseUrl))
                    {
                        errors["settings.callback_base_url"] = ["must be an http(s) URL: where Kannel reaches Ujumbe's gateway"];
                    }
                    CheckTimeout(settings.TimeoutSeconds, errors);
                    return JsonSerializer.Serialize(settings, ProviderJson.Options);
                }
                case ProviderKinds.Http:
                {
                    var settings = JsonSerializer.Deserialize<HttpProviderSettings>(json, ProviderJson.Options)!;
                    // Explicit nulls for the parts that have defaults: refused as a whole, as a wrong shape would be.
                    if (settings.Fields is null || settings.StaticFields is null || settings.Dlr is null
                        || settings.Dlr.DeliveredValues is null || settings.Dlr.FailedValues is null
                        || settings.Dlr.MessageIdField is null || settings.Dlr.StatusField is null || settings.AuthHeader is null || settings.Format is null
                        || settings.Fields.Values.Any(v => string.IsNullOrWhiteSpace(v)) || settings.StaticFields.Values.Any(v => v is null))
                    {
                        throw new JsonException("null where the settings need a value");
                    }
                    if (!IsHttpUrl(settings.Url))
                    {
                        errors["settings.url"] = ["is required: the aggregator's submit URL"];
                    }
                    if (settings.Format is not ("json" or "form"))
                    {
                        errors["settings.format"] = ["must be json or form"];
                    }
                    if (settings.Fields.Keys.FirstOrDefault(k => !OurFields.Contains(k)) is { } unknown)
                    {
                        errors["settings.fields"] = [$"{unknown} is not one of ours: {string.Join(", ", OurFields)}"];
                    }
                    if (!settings.Fields.ContainsKey("to") && !settings.Fields.ContainsKey("to_digits") || !settings.Fields.ContainsKey("text"))
                    {
                        errors["settings.fields"] = ["must map at least to (or to_digits) and text"];
                    }
                    if (settings.SuccessStatuses?.Any(s => s is < 100 or > 599) == true)
                    {
                        errors["settings.success_statuses"] = ["must be HTTP statuses (100 to 599)"];
                    }
                    if (settings.Dlr.DeliveredValues.Length == 0 || settings.Dlr.FailedValues.Length == 0)
                    {
                        errors["settings.dlr"] = ["needs delivered_values and failed_values"];
                    }
                    CheckTimeout(settings.TimeoutSeconds, errors);
                    return JsonSerializer.Serialize(settings, ProviderJson.Options);
                }
                default:
                    return "{}";
            }
        }
        catch (JsonException)
        {
            errors["settings"] = [$"do not have the shape a {kind} provider's settings have (see the API reference)"];
            return null;
        }
    }

    private static void CheckTimeout(double seconds, Dictionary<string, string[]> errors)
    {
        if (seconds is < 1 or > 60)
        {
            errors["settings.timeout_seconds"] = ["must be 1 to 60"];
        }
    }

    private static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private static Dictionary<string, string> ValidateSecrets(
        string? kind, Dictionary<string, string?>? given, Dictionary<string, string> current, Dictionary<string, string[]> errors)
    {
        var result = new Dictionary<string, string>(current);
        if (given is null || kind is null || !AllowedSecrets.TryGetValue(kind, out var allowed))
        {
            return result;
        }
        foreach (var (key, value) in given)
        {
            if (!allowed.Contains(key))
            {
                errors["secrets." + key] = [allowed.Length == 0 ? $"a {kind} provider has no secrets" : $"is not a {kind} secret: {string.Join(", ", allowed)}"];
            }
            else if (value is null)
            {
                result.Remove(key);
            }
            else if (value.Length is 0 or > 500)
            {
                errors["secrets." + key] = ["must be 1 to 500 characters, or null to remove it"];
            }
            else
            {
                result[key] = value;
            }
        }
        return result;
    }

    // ------------------------------------------------------------------ routes

    public static async Task<Ok<PageOf<RouteResponse>>> ListRoutesAsync(NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        var rows = await ReadRoutesAsync(database, null, cancellationToken);
        return TypedResults.Ok(new PageOf<RouteResponse>(rows, 1, Math.Max(1, rows.Count), rows.Count));
    }

    public static async Task<Results<Created<RouteResponse>, ProblemHttpResult>> CreateRouteAsync(
        RouteRequest request, NpgsqlDataSource database, TimeProvider time, CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7(time.UtcNow());
        var saved = await SaveRouteAsync(database, id, request, time, create: true, cancellationToken);
        return saved.Result is { } route
            ? TypedResults.Created($"/v1/admin/routes/{route.Id}", route)
            : saved.Problem!;
    }

    public static async Task<Results<Ok<RouteResponse>, ProblemHttpResult>> UpdateRouteAsync(
        string id, RouteRequest request, NpgsqlDataSource database, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Route, id, out var routeId))
        {
            return Problems.NotFound("No route with this id.");
        }
        var saved = await SaveRouteAsync(database, routeId, request, time, create: false, cancellationToken);
        return saved.Result is { } route ? TypedResults.Ok(route) : saved.Problem!;
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteRouteAsync(string id, NpgsqlDataSource database, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Route, id, out var routeId))
        {
            return Problems.NotFound("No route with this id.");
        }
        await using var command = database.CreateCommand("delete from routes where id = $1");
        command.Parameters.Add(new() { Value = routeId });
        return await command.ExecuteNonQueryAsync(cancellationToken) == 0 ? Problems.NotFound("No route with this id.") : TypedResults.NoContent();
    }

    private static async Task<(RouteResponse? Result, ProblemHttpResult? Problem)> SaveRouteAsync(
        NpgsqlDataSource database, Guid id, RouteRequest request, TimeProvider time, bool create, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        string? prefix = null, country = null;
        if (request.Country is not null && request.Prefix is not null)
        {
            errors["prefix"] = ["give a prefix or a country, not both"];
        }
        else if (request.Country is { } given)
        {
            country = given.Trim().ToUpperInvariant();
            var code = country.Length == 2 ? PhoneNumbers.CallingCode(country) : 0;
            if (code == 0)
            {
                errors["country"] = ["must be an ISO 3166 country code, e.g. TZ"];
            }
            prefix = code.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            prefix = request.Prefix?.Trim().TrimStart('+') ?? "";
            if (prefix.Length > 15 || !prefix.All(char.IsAsciiDigit))
            {
                errors["prefix"] = ["must be up to 15 digits of an E.164 number (a leading + is allowed), or empty for every number"];
            }
        }
        Guid? accountId = null;
        if (request.AccountId is { } account)
        {
            if (PublicId.TryParse(PublicId.Account, account, out var parsed))
            {
                accountId = parsed;
            }
            else
            {
                errors["account_id"] = ["must be an account id (acct_…), or null for every account"];
            }
        }
        var providerIds = new List<Guid>();
        if (request.Providers is not { Count: >= 1 and <= 5 })
        {
            errors["providers"] = ["is required: 1 to 5 provider ids, in failover order"];
        }
        else
        {
            foreach (var provider in request.Providers)
            {
                if (!PublicId.TryParse(PublicId.Provider, provider, out var providerId) || providerIds.Contains(providerId))
                {
                    errors["providers"] = ["must be distinct provider ids (prv_…)"];
                    break;
                }
                providerIds.Add(providerId);
            }
        }
        if (errors.Count > 0)
        {
            return (null, Problems.Validation(errors));
        }
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using (var check = new NpgsqlCommand("""
            select (select count(*) from providers where id = any($1)), $2::uuid is null or exists (select 1 from accounts where id = $2)
            """, connection))
        {
            check.Parameters.Add(new() { Value = providerIds.ToArray() });
            check.Parameters.Add(new() { Value = (object?)accountId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
            await using var reader = await check.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            if (reader.GetInt64(0) != providerIds.Count)
            {
                errors["providers"] = ["names a provider that does not exist"];
            }
            if (!reader.GetBoolean(1))
            {
                errors["account_id"] = ["names an account that does not exist"];
            }
        }
        if (errors.Count > 0)
        {
            return (null, Problems.Validation(errors));
        }
        var now = time.UtcNow();
        await using var save = new NpgsqlCommand(create
            ? "insert into routes (id, prefix, country, account_id, provider_ids, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6)"
            : "update routes set prefix = $2, country = $3, account_id = $4, provider_ids = $5, updated_at = $6 where id = $1", connection);
        save.Parameters.Add(new() { Value = id });
        save.Parameters.Add(new() { Value = prefix! });
        save.Parameters.Add(new() { Value = (object?)country ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        save.Parameters.Add(new() { Value = (object?)accountId ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        save.Parameters.Add(new() { Value = providerIds.ToArray() });
        save.Parameters.Add(new() { Value = now });
        try
        {
            if (await save.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return (null, Problems.NotFound("No route with this id."));
            }
        }
        catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return (null, Problems.Conflict($"A route for prefix '{prefix}' {(accountId is null ? "for every account" : "for this account")} exists already."));
        }
        return ((await ReadRoutesAsync(database, id, cancellationToken))[0], null);
    }

    private static async Task<List<RouteResponse>> ReadRoutesAsync(NpgsqlDataSource database, Guid? id, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("""
            select id, prefix, country, account_id, provider_ids, created_at, updated_at
              from routes where $1::uuid is null or id = $1 order by prefix, account_id nulls first
            """);
        command.Parameters.Add(new() { Value = (object?)id ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Uuid });
        var rows = new List<RouteResponse>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new RouteResponse(PublicId.Format(PublicId.Route, reader.GetGuid(0)), reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetString(2),
                reader.IsDBNull(3) ? null : PublicId.Format(PublicId.Account, reader.GetGuid(3)),
                reader.GetFieldValue<Guid[]>(4).Select(p => PublicId.Format(PublicId.Provider, p)).ToArray(),
                reader.GetDateTime(5), reader.GetDateTime(6)));
        }
        return rows;
    }
}
