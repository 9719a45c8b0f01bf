using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;

namespace Ujumbe.Api.Extensions;

/// <summary>Settings of the published OpenAPI document (section <c>OpenApi</c>).</summary>
public sealed class OpenApiDocumentOptions
{
    public const string Section = "OpenApi";

    /// <summary>
    /// The gateway's public address (e.g. https://api.ujumbe.africa), written as the document's server.
    /// Unset, the server is "/": the root of wherever the document was fetched, which is the gateway,
    /// since only the gateway serves it to the outside.
    /// </summary>
    public string? ServerUrl { get; set; }
}

/// <summary>
/// The OpenAPI document (<c>/openapi/v1.json</c>, published through the gateway). Endpoints state only
/// what is theirs (name, summary, success answers, the problems only they give); the transformers here
/// add what every endpoint shares: the credentials the gateway accepts, the problem+json shape and the
/// errors any request can get, the gateway as server. See docs/decisions (OpenAPI document).
/// </summary>
public static class OpenApiExtensions
{
    public const string ApiKeyScheme = "api_key";
    public const string ApiKeyHeaderScheme = "api_key_header";
    public const string PortalTokenScheme = "portal_token";
    public const string ProblemSchema = "Problem";

    public static IServiceCollection AddUjumbeOpenApi(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<OpenApiDocumentOptions>().Bind(configuration.GetSection(OpenApiDocumentOptions.Section));
        services.AddOpenApi(options =>
        {
            // PageOf<T> would be "PageOfOfT".
            options.CreateSchemaReferenceId = type => OpenApiOptions.CreateDefaultSchemaReferenceId(type)?.Replace("OfOf", "Of", StringComparison.Ordinal);
            options.AddSchemaTransformer((schema, _, _) =>
            {
                // The web JSON defaults also read numbers written as strings; the document states the form we
                // write and ask for (a number), not every lenient reading.
                if (schema.Type is { } type && (type & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && (type & JsonSchemaType.String) != 0)
                {
                    schema.Type = type & ~JsonSchemaType.String;
                    schema.Pattern = null;
                }
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer<UjumbeDocumentTransformer>();
            options.AddOperationTransformer<CallerAndErrorsTransformer>();
        });
        return services;
    }

    /// <summary>
    /// The contact import's body, which the handler reads itself (so nothing is inferred): the CSV as the
    /// whole body, or as the <c>file</c> part of a form.
    /// </summary>
    public static TBuilder AcceptsCsvUpload<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = "The CSV file (UTF-8, a header row naming at least a phone column), as the body or as the `file` part of a form.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["text/csv"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The CSV text." } },
                    ["multipart/form-data"] = new()
                    {
                        Schema = new OpenApiSchema
                        {
                            Type = JsonSchemaType.Object,
                            Required = new HashSet<string> { "file" },
                            Properties = new Dictionary<string, IOpenApiSchema>
                            {
                                ["file"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "The CSV file." },
                            },
                        },
                        Encoding = new Dictionary<string, OpenApiEncoding> { ["file"] = new() { ContentType = "text/csv" } },
                    },
                },
            };
            return Task.CompletedTask;
        });

    /// <summary>The endpoint honours an <c>Idempotency-Key</c> header (API.md "Conventions"), which its handler reads itself.</summary>
    public static TBuilder AcceptsIdempotencyKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = Idempotency.IdempotencyKey.Header,
                In = ParameterLocation.Header,
                Description = "Makes retries safe: the same key with the same body within 24 hours replays the first answer "
                    + "(with Idempotent-Replayed: true); with a different body it is 422; while the first is still in flight, 409.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = 255 },
            });
            return Task.CompletedTask;
        });

    /// <summary>The problem+json body every error has (ServiceDefaults' Problems; API.md "Errors").</summary>
    internal static OpenApiSchema Problem() => new()
    {
        Type = JsonSchemaType.Object,
        Description = "An RFC 9457 problem with the stable `code` to act on. Some problems add members (e.g. `credits_required`, `category`).",
        Required = new HashSet<string> { "type", "title", "status", "code", "trace_id" },
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri", Description = "A URI naming the error: " + Problems.TypeBase + "<code, lower case, dashes>." },
            ["title"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A short summary of the kind of error." },
            ["status"] = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Description = "The HTTP status code." },
            ["detail"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "What went wrong with this request, for people." },
            ["code"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The stable, machine-readable error code, e.g. VALIDATION_FAILED, INSUFFICIENT_BALANCE." },
            ["trace_id"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "Identifies the request; quote it when reporting a problem." },
            ["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "Field errors (VALIDATION_FAILED, INVALID_PHONE): the field's name → what is wrong with it.",
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            },
        },
    };

    /// <summary>The shared error answers, by status: a name for components.responses and what it means here.</summary>
    internal static readonly IReadOnlyDictionary<int, (string Name, string Description)> ErrorResponses = new Dictionary<int, (string, string)>
    {
        [400] = ("BadRequest", "The request is not valid (VALIDATION_FAILED with `errors` per field, INVALID_PHONE, MESSAGE_TOO_LONG)."),
        [401] = ("Unauthorized", "No valid credential (INVALID_CREDENTIALS, KEY_EXPIRED, KEY_REVOKED)."),
        [402] = ("PaymentRequired", "Not enough credits (INSUFFICIENT_BALANCE); nothing was queued or charged."),
        [403] = ("Forbidden", "The credential may not do this (FORBIDDEN: a scope or role is missing; ACCOUNT_SUSPENDED; SENDER_ID_NOT_APPROVED; CONTENT_REJECTED)."),
        [404] = ("NotFound", "No such resource in this account (NOT_FOUND)."),
        [409] = ("Conflict", "The request conflicts with the current state (CONFLICT), e.g. a duplicate, or the same Idempotency-Key still in flight."),
        [413] = ("PayloadTooLarge", "The body is over the limit (PAYLOAD_TOO_LARGE)."),
        [415] = ("UnsupportedMediaType", "The body's media type is not accepted here (UNSUPPORTED_MEDIA_TYPE)."),
        [422] = ("UnprocessableContent", "IDEMPOTENCY_KEY_REUSED (same key, different body) or ALL_RECIPIENTS_OPTED_OUT."),
        [429] = ("TooManyRequests", "A rate limit is spent (RATE_LIMIT_EXCEEDED); retry after Retry-After seconds."),
        [503] = ("ServiceUnavailable", "A dependency is unavailable (SERVICE_UNAVAILABLE); nothing was applied. Retry shortly."),
    };

    internal static OpenApiResponse ErrorResponse(int status)
    {
        var response = new OpenApiResponse
        {
            Description = ErrorResponses[status].Description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference(ProblemSchema) },
            },
        };
        if (status is 429 or 503)
        {
            response.Headers = new Dictionary<string, IOpenApiHeader>
            {
                ["Retry-After"] = new OpenApiHeader
                {
                    Description = "Seconds to wait before retrying.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32" },
                },
            };
        }
        if (status == 401)
        {
            response.Headers = new Dictionary<string, IOpenApiHeader>
            {
                ["WWW-Authenticate"] = new OpenApiHeader { Description = "The scheme to authenticate with (Bearer).", Schema = new OpenApiSchema { Type = JsonSchemaType.String } },
            };
        }
        return response;
    }
}

/// <summary>Title, server, credentials, tag descriptions and the problem schema: the document-wide parts.</summary>
internal sealed class UjumbeDocumentTransformer(IOptions<OpenApiDocumentOptions> options) : IOpenApiDocumentTransformer
{
    private static readonly Dictionary<string, string> TagDescriptions = new(StringComparer.Ordinal)
    {
        ["Portal"] = "Signing in to the dashboard: a portal token for a user's email and password.",
        ["Account"] = "The calling account: its settings, balance and credit ledger.",
        ["API keys"] = "The account's API keys: create, list, revoke, regenerate. A secret is shown once.",
        ["Messages"] = "Sending SMS, quoting a send, and reading messages and their batches' delivery reports.",
        ["Sender IDs"] = "The names messages are sent from; each must be approved before use.",
        ["Webhooks"] = "Endpoints that receive signed events (Standard Webhooks) and their delivery attempts.",
        ["Contacts"] = "The address book: contacts, search, CSV import, and opt-outs.",
        ["Segments"] = "Saved groups of contacts, chosen by tags.",
        ["Campaigns"] = "One text (with placeholders) to many recipients: numbers, a segment or contacts.",
        ["Operators"] = "The platform operator's administration (needs the admin scope).",
        ["Partners"] = "A partner's tenants (needs the partner scope): create and manage them, move credits to and from them, buy them credits; act for one with X-Tenant-Id.",
        ["Payments"] = "Buying credits by mobile money (vodacom, tigo, airtel, halotel): the payer confirms on the phone, the aggregator calls back (signed), the credits arrive once.",
        ["Providers"] = "Delivery reports from upstream SMS providers (Kannel's dlr-url, aggregators' callbacks), authenticated by each provider's callback token.",
    };

    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Ujumbe API",
            Version = "v1",
            Description = "SMS for businesses and resellers in East and Southern Africa. JSON in snake_case, times in ISO 8601 UTC, "
                + "errors as application/problem+json with a stable `code`. Every request goes through the gateway.",
        };
        document.Servers = [new OpenApiServer { Url = options.Value.ServerUrl ?? "/", Description = "The Ujumbe gateway" }];

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes = new Dictionary<string, IOpenApiSecurityScheme>
        {
            [OpenApiExtensions.ApiKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key's secret (sk_…) as `Authorization: Bearer <secret>`. Its scopes decide what it may call.",
            },
            [OpenApiExtensions.ApiKeyHeaderScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = "X-API-Key",
                Description = "The same API key secret in the X-API-Key header instead.",
            },
            [OpenApiExtensions.PortalTokenScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "A portal token from POST /v1/auth/login, as `Authorization: Bearer <token>`. The user's role decides what it may call.",
            },
        };
        document.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        document.Components.Schemas[OpenApiExtensions.ProblemSchema] = OpenApiExtensions.Problem();
        // Endpoints that declare a problem answer (ProducesProblem) bring ASP.NET's ProblemDetails schema; every
        // error answer refers to our Problem instead, which has the members ours really have.
        document.Components.Schemas.Remove("ProblemDetails");
        document.Components.Schemas.Remove("HttpValidationProblemDetails");

        RelaxRequestFields(document);

        if (document.Tags is not null)
        {
            foreach (var tag in document.Tags)
            {
                if (tag.Name is not null && TagDescriptions.TryGetValue(tag.Name, out var description))
                {
                    tag.Description = description;
                }
            }
        }
        return Task.CompletedTask;
    }

    /// <summary>
    /// A request record's parameters all look required to the generator, but a field that may be null may
    /// also be left out (it binds to null and the endpoint says if it is needed): in request bodies only
    /// the non-nullable fields stay required. Answers always carry every field, null or not.
    /// </summary>
    private static void RelaxRequestFields(OpenApiDocument document)
    {
        var visited = new HashSet<string>(StringComparer.Ordinal);
        void Relax(IOpenApiSchema? schema)
        {
            if (schema is OpenApiSchemaReference reference)
            {
                if (reference.Reference.Id is { } id && visited.Add(id)
                    && document.Components?.Schemas?.TryGetValue(id, out var target) == true)
                {
                    Relax(target);
                }
                return;
            }
            if (schema is not OpenApiSchema concrete)
            {
                return;
            }
            foreach (var (name, property) in concrete.Properties ?? new Dictionary<string, IOpenApiSchema>())
            {
                if (IsNullable(property))
                {
                    concrete.Required?.Remove(name);
                }
                Relax(property);
            }
            Relax(concrete.Items);
            foreach (var option in (concrete.OneOf ?? []).Concat(concrete.AnyOf ?? []).Concat(concrete.AllOf ?? []))
            {
                Relax(option);
            }
        }
        foreach (var operation in (document.Paths ?? []).SelectMany(path => path.Value.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>()))
        {
            foreach (var media in operation.RequestBody?.Content?.Values ?? [])
            {
                Relax(media.Schema);
            }
        }
    }

    private static bool IsNullable(IOpenApiSchema schema) =>
        (schema.Type is { } type && (type & JsonSchemaType.Null) != 0)
        || (schema.OneOf ?? []).Any(option => option.Type == JsonSchemaType.Null);
}

/// <summary>
/// Per operation, what follows from where it sits rather than from its handler: who may call it (any
/// account credential, the scope it needs, or nobody for sign-in), and the error answers any request of
/// its shape can get through the gateway: 400 (bad input; the gateway's own checks too), 401/403 for
/// credentials, 404 for an id in the path, 413/415 for a body, 429 for rate limits, 503 when a dependency
/// is down. The problems only an endpoint gives (402, 409, 422, …) it declares with ProducesProblem; all
/// of them become references to one shared response per status with the Problem schema.
/// </summary>
internal sealed class CallerAndErrorsTransformer : IOpenApiOperationTransformer
{
    private static readonly Dictionary<string, string> ScopeOfPolicy = Enum.GetValues<Scopes>()
        .Where(scope => scope != Scopes.None)
        .ToDictionary(CallerPolicies.ForScope, ScopeNames.Format, StringComparer.Ordinal);

    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var policies = context.Description.ActionDescriptor.EndpointMetadata.OfType<IAuthorizeData>()
            .Select(data => data.Policy).OfType<string>().ToList();
        var scopes = policies.Where(ScopeOfPolicy.ContainsKey).Select(policy => ScopeOfPolicy[policy]).Distinct().ToList();
        var needsAccount = scopes.Count > 0 || policies.Contains(CallerPolicies.Account);

        // Who may call: any one of the credentials, holding the scopes the endpoint needs; or, for sign-in, no one in particular.
        operation.Security = needsAccount
            ? [.. new[] { OpenApiExtensions.ApiKeyScheme, OpenApiExtensions.ApiKeyHeaderScheme, OpenApiExtensions.PortalTokenScheme }
                .Select(scheme => new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [.. scopes] })]
            : [];

        var statuses = new SortedSet<int> { 400, 429, 503 };
        if (needsAccount)
        {
            statuses.Add(401);
            statuses.Add(403);
        }
        if (operation.Parameters?.Any(parameter => parameter.In == ParameterLocation.Path) == true)
        {
            statuses.Add(404);
        }
        if (operation.RequestBody is not null)
        {
            statuses.Add(413);
            statuses.Add(415);
        }
        // Success answers first, then the errors in order of status.
        var responses = new OpenApiResponses();
        foreach (var (declared, response) in operation.Responses ?? [])
        {
            if (int.TryParse(declared, out var status) && status >= 400)
            {
                statuses.Add(status);
            }
            else
            {
                responses[declared] = response;
            }
        }
        operation.Responses = responses;
        var document = context.Document!;
        document.Components ??= new OpenApiComponents();
        document.Components.Responses ??= new Dictionary<string, IOpenApiResponse>();
        foreach (var status in statuses)
        {
            if (!OpenApiExtensions.ErrorResponses.TryGetValue(status, out var shared))
            {
                throw new InvalidOperationException($"No shared error response for status {status}; add one to OpenApiExtensions.ErrorResponses.");
            }
            if (!document.Components.Responses.ContainsKey(shared.Name))
            {
                document.Components.Responses[shared.Name] = OpenApiExtensions.ErrorResponse(status);
            }
            operation.Responses[status.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new OpenApiResponseReference(shared.Name, document);
        }
        return Task.CompletedTask;
    }
}
