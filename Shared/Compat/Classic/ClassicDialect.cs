using Microsoft.AspNetCore.Http;
using Ujumbe.ServiceDefaults;

namespace Ujumbe.Shared.Compat.Classic;

/// <summary>The classic API's error body: <c>{"error": "…"}</c>.</summary>
public sealed record ClassicError(string Error);

/// <summary>The v2 routes' answer to a request without a key, as the seed shows it.</summary>
public sealed record ClassicKeyRequired(string Error, string Help);

/// <summary>An error about fields: the sentence, and each field's messages (the seed's validation rules' words).</summary>
public sealed record ClassicFieldErrors(string Error, IDictionary<string, string[]> Errors);

/// <summary>
/// The classic key/password API (seed 002, docs/dialects/classic.md) under <c>/compat/classic</c>: the portal user's
/// email and password as <c>username</c>/<c>password</c> parameters on <c>/v1/sms/send</c> and <c>/api/generate-key</c>;
/// an API key as <c>X-API-Key</c> or the <c>api_key</c> parameter on the <c>/api/v2</c> routes and on revoke-key and
/// regenerate-key. Errors are <c>{"error": "…"}</c>.
/// </summary>
public sealed class ClassicDialect : Dialect
{
    public const string ApiKeyHeader = "X-API-Key";
    public const string ApiKeyParameter = "api_key";
    public const string UsernameParameter = "username";
    public const string PasswordParameter = "password";

    // The seed's own words, exactly.
    public const string Unauthorized = "Unauthorized.";
    public const string InvalidPhone = "Invalid phone number format.";
    public const string KeyRequired = "API key is required";
    public const string KeyHelp = "Provide X-API-Key header or api_key parameter";

    /// <summary>Taken out of every request, whichever of them its path reads: none of them is ever forwarded.</summary>
    private static readonly string[] CredentialFields = [UsernameParameter, PasswordParameter, ApiKeyParameter];

    public static ClassicDialect Instance { get; } = new();

    private ClassicDialect()
    {
    }

    public override string Name => "classic";

    public override PathString Root { get; } = "/compat/classic";

    /// <summary>The seed's paths start at its host's root (<c>/v1/…</c>, <c>/api/…</c>): all of the root is forwarded.</summary>
    public override PathString Base { get; } = "/compat/classic";

    public override IReadOnlyList<string> CredentialHeaders { get; } = [ApiKeyHeader];

    public override string CredentialHint => KeyHelp;

    /// <summary>The Swagger page and its OAuth2 callback page: the seed shows them answered without any credential.</summary>
    public override IReadOnlyList<DialectPublicRoute> PublicRoutes { get; } =
        [new("GET", "/compat/classic/api/v2"), new("GET", "/compat/classic/api/oauth2-callback")];

    /// <summary>The send of <c>/v1</c> and key generation take the portal user's email and password; everything else a key.</summary>
    public bool UsesPassword(PathString path) =>
        path.StartsWithSegments(Root + "/v1", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments(Root + "/api/generate-key", StringComparison.OrdinalIgnoreCase);

    private bool IsPublic(PathString path) =>
        PublicRoutes.Any(r => string.Equals(r.Path, (path.Value ?? "").TrimEnd('/'), StringComparison.OrdinalIgnoreCase));

    /// <summary><c>X-API-Key</c>, once (what a request's headers alone can say).</summary>
    public override DialectCredential ReadCredential(IHeaderDictionary headers)
    {
        var values = headers[ApiKeyHeader];
        return values.Count switch
        {
            0 => new(DialectCredentialKind.None, ""),
            1 => new(DialectCredentialKind.Secret, (values.ToString() ?? "").Trim()),
            _ => new(DialectCredentialKind.Invalid, $"The {ApiKeyHeader} header is sent more than once."),
        };
    }

    /// <summary>
    /// The credentials of the request's path, wherever the seed lets them travel, taken out of the query and the body
    /// so the Api never receives them. Given twice (the query and the body, the header and a parameter with another
    /// value), or only half of a username/password pair, they are refused rather than guessed at.
    /// </summary>
    public override async ValueTask<DialectCredential> TakeCredentialAsync(HttpRequest request)
    {
        var input = await ClassicInput.TakeAsync(request, CredentialFields, request.HttpContext.RequestAborted);
        if (IsPublic(request.Path))
        {
            return new(DialectCredentialKind.None, "");
        }
        if (UsesPassword(request.Path))
        {
            var (username, password) = (input[UsernameParameter], input[PasswordParameter]);
            if (!username.Present && !password.Present)
            {
                return new(DialectCredentialKind.None, "");
            }
            if (username.Count != 1 || password.Count != 1 || string.IsNullOrWhiteSpace(username.Text) || string.IsNullOrEmpty(password.Text))
            {
                return new(DialectCredentialKind.Invalid, "Send username and password, once each.");
            }
            return new(DialectCredentialKind.Password, username.Text.Trim(), password.Text);
        }
        var fromHeader = ReadCredential(request.Headers);
        var fromParameter = input[ApiKeyParameter];
        if (fromHeader.Kind == DialectCredentialKind.Invalid || fromParameter.Count > 1 || fromParameter.WrongType)
        {
            return new(DialectCredentialKind.Invalid, $"Send the API key once, as {ApiKeyHeader} or {ApiKeyParameter}.");
        }
        if (!fromParameter.Present)
        {
            return fromHeader;
        }
        var key = (fromParameter.Text ?? "").Trim();
        return fromHeader.Kind == DialectCredentialKind.Secret && !string.Equals(fromHeader.Value, key, StringComparison.Ordinal)
            ? new(DialectCredentialKind.Invalid, $"{ApiKeyHeader} and {ApiKeyParameter} name different keys; send one.")
            : new(DialectCredentialKind.Secret, key);
    }

    public override RatePolicy PolicyOf(string method, PathString path)
    {
        var trimmed = (path.Value ?? "").TrimEnd('/');
        if (HttpMethods.IsPost(method) && trimmed.Equals(Root + "/v1/sms/send", StringComparison.OrdinalIgnoreCase))
        {
            return RatePolicy.Send;
        }
        // The v2 send is a GET as well as a POST (the seed lists both).
        return (HttpMethods.IsPost(method) || HttpMethods.IsGet(method)) && trimmed.Equals(Root + "/api/v2/sms/send", StringComparison.OrdinalIgnoreCase)
            ? RatePolicy.Send
            : RatePolicy.None;
    }

    /// <summary>
    /// A 401 in the words of the path's credential form: the seed's "Unauthorized." for username/password, its
    /// "API key is required" (with the help line) for a request without a key, and what is wrong with a key otherwise.
    /// </summary>
    public override DialectError Error(HttpContext context, int status, string code, string? detail, IDictionary<string, string[]>? errors)
    {
        if (status != StatusCodes.Status401Unauthorized)
        {
            return Error(status, code, detail, errors);
        }
        if (UsesPassword(context.Request.Path))
        {
            return Words(401, Unauthorized);
        }
        if (code == ErrorCodes.InvalidCredentials && detail == KeyHelp)
        {
            return new(401, new ClassicKeyRequired(KeyRequired, KeyHelp));
        }
        return Words(401, code switch
        {
            ErrorCodes.KeyRevoked => "API key has been revoked",
            ErrorCodes.KeyExpired => "API key has expired",
            _ => "Invalid API key",
        });
    }

    public override DialectError Error(int status, string code, string? detail, IDictionary<string, string[]>? errors) => code switch
    {
        ErrorCodes.InvalidCredentials or ErrorCodes.KeyExpired or ErrorCodes.KeyRevoked => Words(401, Unauthorized),
        // The seed's sentence; which numbers are wrong besides it (a client reading "error" sees the seed's words).
        ErrorCodes.InvalidPhone => errors is { Count: > 0 } ? new(400, new ClassicFieldErrors(InvalidPhone, errors)) : Words(400, InvalidPhone),
        ErrorCodes.RateLimitExceeded => Words(429, "Too Many Attempts."),
        ErrorCodes.NotFound => Words(404, "Not Found."),
        ErrorCodes.MethodNotAllowed => Words(405, "Method Not Allowed."),
        ErrorCodes.InternalError => Words(500, "Server Error"),
        _ when errors is { Count: > 0 } => FieldErrors(status, errors),
        _ => Words(status, detail ?? "The request failed."),
    };

    public static DialectError Words(int status, string error) => new(status, new ClassicError(error));

    /// <summary>Each field's messages as sentences that name it (as the seed's framework words them), the first of each as the error.</summary>
    private static DialectError FieldErrors(int status, IDictionary<string, string[]> errors)
    {
        var sentences = errors.ToDictionary(e => e.Key, e => e.Value.Select(message => Sentence(e.Key, message)).ToArray());
        return new(status, new ClassicFieldErrors(string.Join(" ", sentences.Values.Select(s => s.FirstOrDefault() ?? "")), sentences));
    }

    /// <summary>A field's message as a sentence that names it ("numbers must …").</summary>
    public static string Sentence(string field, string? message)
    {
        var text = $"The {field.Replace('_', ' ')} field {message ?? "is invalid"}".TrimEnd();
        return text.EndsWith('.') ? text : text + ".";
    }
}
