using Microsoft.Extensions.Primitives;
using Ujumbe.Shared.Compat;

namespace Ujumbe.Gateway.Authentication;

public enum CredentialKind
{
    None,
    Invalid,
    Token,

    /// <summary>A portal user's email (the value) and password: a dialect's credential form (decision 0026).</summary>
    Password,
}

public readonly record struct Credential(CredentialKind Kind, string Value, string? Password = null)
{
    public static Credential None => new(CredentialKind.None, "");
    public static Credential Invalid(string reason) => new(CredentialKind.Invalid, reason);
}

/// <summary>
/// Reads the caller's credential from <c>Authorization: Bearer …</c> or <c>X-API-Key: …</c>.
/// Anything ambiguous (a header repeated, both headers with different values, another scheme)
/// is refused rather than guessed at.
/// </summary>
public static class CredentialReader
{
    public const string ApiKeyHeader = "X-API-Key";
    private const int MaxLength = 4096;

    /// <summary>
    /// A dialect path takes its dialect's credential form only (e.g. Wasambazie's key pair); /v1's headers
    /// there are not credentials. A dialect whose credentials travel in the query or the body takes them out
    /// of the request here, so they are never forwarded.
    /// </summary>
    public static async ValueTask<Credential> ReadAsync(HttpRequest request, Dialect? dialect)
    {
        if (dialect is null)
        {
            return Read(request.Headers);
        }
        var presented = await dialect.TakeCredentialAsync(request);
        return presented.Kind switch
        {
            DialectCredentialKind.None => Credential.None,
            DialectCredentialKind.Invalid => Credential.Invalid(presented.Value),
            DialectCredentialKind.Password => Password(presented.Value, presented.Password ?? ""),
            _ => Token(presented.Value),
        };
    }

    /// <summary>An email and password within the bounds /v1's sign-in accepts, and with no character no email or password has.</summary>
    private static Credential Password(string email, string password)
    {
        if (email.Length is 0 or > 254 || password.Length is 0 or > 1024)
        {
            return Credential.Invalid("The username or password is empty or too long.");
        }
        if (email.Any(char.IsControl) || password.Contains('\0', StringComparison.Ordinal))
        {
            return Credential.Invalid("The username or password contains characters no credential has.");
        }
        return new Credential(CredentialKind.Password, email, password);
    }

    public static Credential Read(IHeaderDictionary headers)
    {
        var fromAuthorization = ReadAuthorization(headers.Authorization);
        var fromApiKey = ReadApiKey(headers[ApiKeyHeader]);
        if (fromAuthorization.Kind == CredentialKind.Invalid)
        {
            return fromAuthorization;
        }
        if (fromApiKey.Kind == CredentialKind.Invalid)
        {
            return fromApiKey;
        }
        if (fromAuthorization.Kind == CredentialKind.Token && fromApiKey.Kind == CredentialKind.Token
            && !string.Equals(fromAuthorization.Value, fromApiKey.Value, StringComparison.Ordinal))
        {
            return Credential.Invalid("Authorization and X-API-Key name different credentials; send one.");
        }
        return fromAuthorization.Kind == CredentialKind.Token ? fromAuthorization : fromApiKey;
    }

    private static Credential ReadAuthorization(StringValues values)
    {
        if (values.Count == 0)
        {
            return Credential.None;
        }
        if (values.Count > 1)
        {
            return Credential.Invalid("The Authorization header is sent more than once.");
        }
        var value = values[0] ?? "";
        const string scheme = "Bearer ";
        if (!value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return Credential.Invalid("Use the Bearer scheme: Authorization: Bearer <secret>.");
        }
        return Token(value[scheme.Length..].Trim());
    }

    private static Credential ReadApiKey(StringValues values) => values.Count switch
    {
        0 => Credential.None,
        1 => Token((values[0] ?? "").Trim()),
        _ => Credential.Invalid("The X-API-Key header is sent more than once."),
    };

    private static Credential Token(string token)
    {
        if (token.Length == 0)
        {
            return Credential.Invalid("The credential is empty.");
        }
        if (token.Length > MaxLength)
        {
            return Credential.Invalid("The credential is too long.");
        }
        foreach (var c in token)
        {
            if (c is < '!' or > '~')
            {
                return Credential.Invalid("The credential contains characters no credential has.");
            }
        }
        return new Credential(CredentialKind.Token, token);
    }
}
