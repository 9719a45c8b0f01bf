using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.ApiKeys;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Messages;
using Ujumbe.Api.Validation;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Compat.Classic;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Lifecycle;

namespace Ujumbe.Api.Compat.Classic;

/// <summary>The send's fields as the OpenAPI document shows them (form parameters or a JSON object; the v2 GET takes them as query parameters).</summary>
public sealed record ClassicSendBody(string Numbers, string MessageBody, string? SenderId);

public sealed record ClassicSentMessage(string Id, string Number, string Status);

public sealed record ClassicSent(
    bool Success, string Message, string BatchId, int Recipients, long Credits, IReadOnlyList<ClassicSentMessage> Messages, IReadOnlyList<string> Skipped);

public sealed record ClassicBalance(long Balance);

/// <summary>generate-key's and regenerate-key's body as the OpenAPI document shows it.</summary>
public sealed record ClassicKeyBody(int? ExpiryDays);

/// <summary>A key made or given a new secret: the secret is in this answer only (Ujumbe keeps its hash).</summary>
public sealed record ClassicIssuedKey(string Message, string ApiKey, string KeyId, DateTime? ExpiresAt);

public sealed record ClassicDone(string Message);

/// <summary>
/// The classic key/password SMS API (seed 002) under <c>/compat/classic</c>: the <c>/v1</c> send authenticated by
/// the portal user's email and password, the <c>/api/v2</c> send and balance by an API key, and API keys made,
/// revoked and regenerated. Each endpoint calls what /v1 calls (<see cref="MessageSender"/>, the balance and API key
/// handlers) and words the outcome as <c>{"error": …}</c> (<see cref="ClassicDialect"/>). The gateway has checked the
/// credentials and taken them out of the request. docs/dialects/classic.md says what the seed leaves open.
/// </summary>
public static class ClassicApi
{
    private const string ErrorSchema = "ClassicError";
    private const string KeyName = "Classic API key";
    private const int MaxExpiryDays = ApiKeysApi.MaxExpiryDays;

    // The credential forms, as the OpenAPI document's security schemes.
    private static readonly string[] PasswordForm = ["username", "password"];
    private static readonly string[] KeyHeaderForm = ["api_key_header"];
    private static readonly string[] KeyParameterForm = ["api_key_parameter"];

    /// <summary>Ujumbe's field names in a refusal, as the classic API's clients know them.</summary>
    private static readonly Dictionary<string, string> FieldNames = new(StringComparer.Ordinal)
    {
        ["to"] = "numbers",
        ["text"] = "message_body",
        ["expires_in_days"] = "expiry_days",
    };

    public static DialectDocument Document { get; } = new(
        ClassicDialect.Instance,
        "Ujumbe — classic dialect",
        "The classic key/password SMS API (form-parameter send with username and password, X-API-Key v2 routes, API keys) "
            + "served by Ujumbe: change only the base URL and the credentials. The username and password are the portal "
            + "user's email and password. Errors are {\"error\": \"…\"}.",
        new Dictionary<string, string>
        {
            ["SMS"] = "Sending SMS: /v1 with the username and password, /api/v2 with an API key.",
            ["Account"] = "The credit balance.",
            ["API keys"] = "Making, revoking and regenerating API keys (the secret is shown once).",
            ["Documentation"] = "The API's pages.",
        },
        new Dictionary<string, OpenApiSecurityScheme>
        {
            ["username"] = Parameter(ParameterLocation.Query, ClassicDialect.UsernameParameter,
                "The portal user's email, as a URL or form parameter (generate-key: a JSON body field too), with the password."),
            ["password"] = Parameter(ParameterLocation.Query, ClassicDialect.PasswordParameter, "The portal user's password, where the username goes."),
            ["api_key_header"] = Parameter(ParameterLocation.Header, ClassicDialect.ApiKeyHeader, "An API key (sk_…), e.g. one generate-key made."),
            ["api_key_parameter"] = Parameter(ParameterLocation.Query, ClassicDialect.ApiKeyParameter,
                "The API key as a URL, form or JSON body parameter instead of the header."),
        },
        new Dictionary<string, OpenApiSchema>
        {
            [ErrorSchema] = new()
            {
                Type = JsonSchemaType.Object,
                Required = new HashSet<string> { "error" },
                Properties = new Dictionary<string, IOpenApiSchema>
                {
                    ["error"] = new OpenApiSchema { Type = JsonSchemaType.String },
                    ["help"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "With \"API key is required\": how to send one." },
                    ["errors"] = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object, Description = "With a refusal of fields: field → messages.",
                        AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
                    },
                },
            },
        },
        [
            (429, ErrorSchema, "\"Too Many Attempts.\" (a rate limit, or sign-in locked after failed passwords); retry after Retry-After seconds."),
        ],
        path => path,
        [KeyHeaderForm, KeyParameterForm]);

    private static OpenApiSecurityScheme Parameter(ParameterLocation location, string name, string description) =>
        new() { Type = SecuritySchemeType.ApiKey, In = location, Name = name, Description = description };

    public static WebApplication MapClassicApi(this WebApplication app)
    {
        var document = DialectOpenApi.DocumentName(ClassicDialect.Instance);
        // Routing matches a path with or without a trailing slash: the seed writes none, clients may add one.
        var api = app.MapGroup(ClassicDialect.Instance.Base.Value!).RequireAuthorization(CallerPolicies.Account).WithGroupName(document);
        var keyUnauthorized = (401, ErrorSchema, "No key: {\"error\": \"API key is required\", \"help\": …}; a wrong, revoked or expired key: {\"error\": …}.");

        api.MapPost("/v1/sms/send", SendAsync).RequireScope(Scopes.Messages).WithTags("SMS")
            .WithName("ClassicSendSms").WithSummary("Send one message to comma-separated numbers, with the username and password")
            .Accepts<ClassicSendBody>("application/x-www-form-urlencoded", "application/json")
            .Produces<ClassicSent>()
            .WithDialectSecurity(PasswordForm)
            .WithDialectErrors(SendErrors((401, ErrorSchema, "\"Unauthorized.\": the username or password is missing or wrong.")));
        api.MapGet("/api/v2/sms/send", SendAsync).RequireScope(Scopes.Messages).WithTags("SMS")
            .WithName("ClassicSendSmsV2Get").WithSummary("Send one message, the fields as query parameters, with an API key")
            .WithQueryParameters(("numbers", true), ("message_body", true), ("sender_id", false))
            .Produces<ClassicSent>()
            .WithDialectErrors(SendErrors(keyUnauthorized));
        api.MapPost("/api/v2/sms/send", SendAsync).RequireScope(Scopes.Messages).WithTags("SMS")
            .WithName("ClassicSendSmsV2").WithSummary("Send one message to comma-separated numbers, with an API key")
            .Accepts<ClassicSendBody>("application/x-www-form-urlencoded", "application/json")
            .Produces<ClassicSent>()
            .WithDialectErrors(SendErrors(keyUnauthorized));
        api.MapGet("/api/v2/account/balance", BalanceAsync).WithTags("Account")
            .WithName("ClassicBalance").WithSummary("The SMS credits available (1 credit = 1 segment to 1 recipient)")
            .Produces<ClassicBalance>()
            .WithDialectErrors(keyUnauthorized);

        api.MapPost("/api/generate-key", GenerateKeyAsync).RequireScope(Scopes.Account).WithTags("API keys")
            .WithName("ClassicGenerateKey").WithSummary("Make an API key, with the username and password (its secret is shown only here)")
            .Accepts<ClassicKeyBody>("application/json", "application/x-www-form-urlencoded")
            .Produces<ClassicIssuedKey>(StatusCodes.Status201Created)
            .WithDialectSecurity(PasswordForm)
            .WithDialectErrors(
                (401, ErrorSchema, "\"Unauthorized.\": the username or password is missing or wrong."),
                (403, ErrorSchema, "The user may not manage API keys, or the account is suspended."),
                (422, ErrorSchema, "expiry_days is not an integer from 1 to 365."));
        api.MapPost("/api/revoke-key", RevokeKeyAsync).WithTags("API keys")
            .WithName("ClassicRevokeKey").WithSummary("Revoke the key this request is made with, at once")
            .Produces<ClassicDone>()
            .WithDialectErrors(keyUnauthorized);
        api.MapPost("/api/regenerate-key", RegenerateKeyAsync).WithTags("API keys")
            .WithName("ClassicRegenerateKey").WithSummary("A new secret for the key this request is made with; the old one stops working")
            .Accepts<ClassicKeyBody>("application/json", "application/x-www-form-urlencoded")
            .Produces<ClassicIssuedKey>()
            .WithDialectErrors(keyUnauthorized, (422, ErrorSchema, "expiry_days is not an integer from 1 to 365."));

        // The pages the seed shows answered without credentials (the gateway routes them as public).
        var pages = app.MapGroup(ClassicDialect.Instance.Base.Value!).WithGroupName(document).WithTags("Documentation").WithDialectSecurity();
        pages.MapGet("/api/v2", () => TypedResults.Content(SwaggerPage, "text/html; charset=UTF-8"))
            .WithName("ClassicSwaggerPage").WithSummary("Display Swagger API page.")
            .Produces<string>(StatusCodes.Status200OK, "text/html");
        pages.MapGet("/api/oauth2-callback", () => TypedResults.Content(OAuth2CallbackPage, "text/html; charset=UTF-8"))
            .WithName("ClassicOAuth2Callback").WithSummary("Display Oauth2 callback pages.")
            .Produces<string>(StatusCodes.Status200OK, "text/html");
        return app;
    }

    private static (int, string, string)[] SendErrors((int, string, string) unauthorized) =>
    [
        (400, ErrorSchema, "\"Invalid phone number format.\", a field missing (\"The numbers field is required.\") or a text over the segment limit."),
        unauthorized,
        (402, ErrorSchema, "Not enough credits: nothing was sent or charged."),
        (403, ErrorSchema, "The credential may not send, the sender ID is not approved (or none is), the content is blocked, or the account is suspended."),
    ];

    // ---- Sending ------------------------------------------------------------------------------------------

    /// <summary>
    /// The send of /v1 for <c>numbers</c> (comma-separated) and <c>message_body</c>, from the form, the query or a JSON
    /// body. <c>sender_id</c> is optional (the seed has none): without it the account's default sender ID is used.
    /// </summary>
    public static async Task<IResult> SendAsync(HttpRequest http, Caller caller, MessageSender sender, UjumbeDb db, CancellationToken cancellationToken)
    {
        var input = await ClassicInput.ReadAsync(http, cancellationToken);
        if (input.BodyUnreadable)
        {
            return Error(400, "The request body is not a valid JSON object.");
        }
        var errors = new Dictionary<string, string[]>();
        var numbers = Text(input, "numbers", required: true, errors);
        var text = Text(input, "message_body", required: true, errors);
        var senderId = Text(input, "sender_id", required: false, errors);
        var recipients = numbers?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) ?? [];
        if (numbers is not null && recipients.Length == 0)
        {
            errors["numbers"] = ["is required."];
        }
        if (errors.Count > 0)
        {
            return new DialectResult(ClassicDialect.Instance.Error(400, ErrorCodes.ValidationFailed, null, errors));
        }
        if (string.IsNullOrWhiteSpace(senderId))
        {
            senderId = await DefaultSenderId.FindAsync(db, cancellationToken);
            if (senderId is null)
            {
                return Error(403, "No sender ID is approved for this account; request one before sending.");
            }
        }
        var decision = await sender.SendAsync(caller.AccountId,
            new SendRequest(recipients, text, senderId, CallbackUrl: null, ScheduledAt: null, Reference: null),
            idempotencyKey: null, respond: null, cancellationToken);
        if (decision.Problem is { } problem)
        {
            return Refusal(problem.Status, problem.Code, problem.Detail, problem.Errors);
        }
        var command = decision.Command!;
        var messages = command.Recipients.Select((to, i) => new ClassicSentMessage(PublicId.Format(PublicId.Message, command.MessageIds[i]), to, MessageStatus.Queued));
        return TypedResults.Json(new ClassicSent(true, "Message sent successfully.", PublicId.Format(PublicId.Batch, command.BatchId),
            command.Recipients.Count, command.Credits, [.. messages], command.Skipped), JsonDefaults.Options);
    }

    /// <summary>The credits that can be spent now: /v1's <c>available</c>.</summary>
    public static async Task<IResult> BalanceAsync(UjumbeDb db, CancellationToken cancellationToken) =>
        (await AccountApi.GetBalanceAsync(db, cancellationToken)).Result switch
        {
            Ok<BalanceResponse> { Value: { } balance } => TypedResults.Json(new ClassicBalance(balance.Available), JsonDefaults.Options),
            var other => Refusal(other),
        };

    // ---- API keys -----------------------------------------------------------------------------------------

    /// <summary>/v1's key creation: a key with the user's default scopes, for <c>expiry_days</c> (none: it does not expire).</summary>
    public static async Task<IResult> GenerateKeyAsync(HttpRequest http, Caller caller, ApiKeyService keys, CancellationToken cancellationToken)
    {
        var (days, invalid) = await ReadExpiryAsync(http, cancellationToken);
        if (invalid is not null)
        {
            return invalid;
        }
        return (await ApiKeysApi.CreateAsync(new CreateApiKeyRequest(KeyName, null, days), caller, keys, cancellationToken)).Result switch
        {
            Created<IssuedApiKeyResponse> { Value: { } issued } => TypedResults.Json(
                new ClassicIssuedKey("API key generated successfully.", issued.Secret, issued.Id, issued.ExpiresAt), JsonDefaults.Options,
                statusCode: StatusCodes.Status201Created),
            var other => Refusal(other),
        };
    }

    /// <summary>/v1's revoke, of the key the request is made with (any key may revoke itself).</summary>
    public static async Task<IResult> RevokeKeyAsync(Caller caller, ApiKeyService keys, TimeProvider time, CancellationToken cancellationToken)
    {
        if (caller.Identity.KeyId is not { } keyId)
        {
            return Error(400, $"Revoke a key with the key itself ({ClassicDialect.ApiKeyHeader} or {ClassicDialect.ApiKeyParameter}).");
        }
        return (await ApiKeysApi.RevokeAsync(PublicId.Format(PublicId.ApiKey, keyId), keys, time, cancellationToken)).Result switch
        {
            Ok<ApiKeyResponse> => TypedResults.Json(new ClassicDone("API key revoked successfully."), JsonDefaults.Options),
            var other => Refusal(other),
        };
    }

    /// <summary>/v1's regenerate, of the key the request is made with: the same key, a new secret; <c>expiry_days</c> from now if given.</summary>
    public static async Task<IResult> RegenerateKeyAsync(HttpRequest http, Caller caller, ApiKeyService keys, CancellationToken cancellationToken)
    {
        if (caller.Identity.KeyId is not { } keyId)
        {
            return Error(400, $"Regenerate a key with the key itself ({ClassicDialect.ApiKeyHeader} or {ClassicDialect.ApiKeyParameter}).");
        }
        var (days, invalid) = await ReadExpiryAsync(http, cancellationToken);
        if (invalid is not null)
        {
            return invalid;
        }
        return (await ApiKeysApi.RegenerateAsync(PublicId.Format(PublicId.ApiKey, keyId), new RegenerateApiKeyRequest(days), keys, cancellationToken)).Result switch
        {
            Ok<IssuedApiKeyResponse> { Value: { } issued } => TypedResults.Json(
                new ClassicIssuedKey("API key regenerated successfully.", issued.Secret, issued.Id, issued.ExpiresAt), JsonDefaults.Options),
            var other => Refusal(other),
        };
    }

    /// <summary>
    /// <c>expiry_days</c>, optional: an integer from 1 to 365, else 422 in the words of the seed's validation rules
    /// ("Must be at least 1. Must not be greater than 365."). Empty is absent, as the seed's framework takes it.
    /// </summary>
    private static async Task<(int? Days, IResult? Invalid)> ReadExpiryAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        var input = await ClassicInput.ReadAsync(http, cancellationToken);
        if (input.BodyUnreadable)
        {
            return (null, Error(400, "The request body is not a valid JSON object."));
        }
        var field = input["expiry_days"];
        if (!field.Present || (!field.WrongType && string.IsNullOrWhiteSpace(field.Text)))
        {
            return (null, null);
        }
        string? problem;
        if (field.WrongType || !int.TryParse(field.Text!.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var days))
        {
            problem = "must be an integer.";
        }
        else if (days < 1)
        {
            problem = "must be at least 1.";
        }
        else if (days > MaxExpiryDays)
        {
            problem = $"must not be greater than {MaxExpiryDays}.";
        }
        else
        {
            return (days, null);
        }
        return (null, new DialectResult(ClassicDialect.Instance.Error(422, ErrorCodes.ValidationFailed, null,
            new Dictionary<string, string[]> { ["expiry_days"] = [problem] })));
    }

    // ---- Input and errors ---------------------------------------------------------------------------------

    /// <summary>A text field of the input; its error (missing, not text, characters no text has) goes into <paramref name="errors"/>.</summary>
    private static string? Text(ClassicInput input, string name, bool required, Dictionary<string, string[]> errors)
    {
        var field = input[name];
        if (field.WrongType)
        {
            errors[name] = ["must be a string."];
            return null;
        }
        if (string.IsNullOrWhiteSpace(field.Text))
        {
            if (required)
            {
                errors[name] = ["is required."];
            }
            return null;
        }
        if (!InputText.IsAcceptable(field.Text))
        {
            errors[name] = [InputText.ForbiddenMessage];
            return null;
        }
        return field.Text;
    }

    /// <summary>A /v1 handler's problem, in the classic words.</summary>
    private static DialectResult Refusal(IResult result)
    {
        var problem = ((ProblemHttpResult)result).ProblemDetails;
        var code = problem.Extensions.TryGetValue("code", out var named) && named is string text ? text : ErrorCodes.ForStatus(problem.Status ?? 400);
        var errors = problem.Extensions.TryGetValue("errors", out var listed) ? listed as IDictionary<string, string[]> : null;
        return Refusal(problem.Status ?? StatusCodes.Status400BadRequest, code, problem.Detail, errors);
    }

    private static DialectResult Refusal(int status, string code, string? detail, IDictionary<string, string[]>? errors) =>
        new(ClassicDialect.Instance.Error(status, code, detail,
            errors?.ToDictionary(e => FieldNames.GetValueOrDefault(e.Key, e.Key), e => e.Value)));

    private static DialectResult Error(int status, string error) => new(ClassicDialect.Words(status, error));

    /// <summary>The seed's Swagger page (its own example answers 500); here a page that links the dialect's OpenAPI document.</summary>
    private const string SwaggerPage = """
        <!doctype html>
        <html lang="en-US">
        <head><meta charset="utf-8"><title>Classic SMS API</title></head>
        <body>
        <h1>Classic SMS API</h1>
        <p>The OpenAPI document of this API: <a href="/openapi/compat-classic.json">/openapi/compat-classic.json</a>.</p>
        </body>
        </html>

        """;

    /// <summary>The seed's OAuth2 callback page, as its example shows it.</summary>
    private const string OAuth2CallbackPage = """
        <!doctype html>
        <html lang="en-US">
        <body>
        <script src="oauth2-redirect.js"></script>
        </body>
        </html>

        """;
}
