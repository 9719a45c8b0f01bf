using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Ujumbe.ServiceDefaults;

namespace Ujumbe.Shared.Compat;

/// <summary>How a dialect's request counts against the rate limits, besides "everything authenticated".</summary>
public enum RatePolicy
{
    None,
    Send,
    Contacts,
}

/// <summary>What a dialect's credential headers held.</summary>
public enum DialectCredentialKind
{
    /// <summary>No credential at all.</summary>
    None,

    /// <summary>Something credential-like that is malformed or contradicts itself; the value says what.</summary>
    Invalid,

    /// <summary>An API key secret (<c>sk_…</c>) to check like any other.</summary>
    Secret,

    /// <summary>A portal user's email (the value) and password, checked like a sign-in.</summary>
    Password,
}

/// <summary>What a dialect's caller presented; <see cref="Password"/> only for <see cref="DialectCredentialKind.Password"/>.</summary>
public readonly record struct DialectCredential(DialectCredentialKind Kind, string Value, string? Password = null);

/// <summary>An error as a dialect words it: the status it answers with and the JSON body.</summary>
public sealed record DialectError(int Status, object Body);

/// <summary>
/// A compatibility dialect (decision 0026): another SMS API's paths, credentials and error shapes, served
/// under <see cref="Root"/> by thin translations onto the same services as /v1. This class is the part the
/// gateway and the Api share: where the dialect lives, how its callers present a key, which of its requests
/// are sends, and how it words an error. Its endpoints live in the Api (Api/Compat/&lt;Dialect&gt;).
/// </summary>
public abstract class Dialect
{
    /// <summary>The dialect's name, as in <c>/openapi/compat-&lt;name&gt;.json</c>.</summary>
    public abstract string Name { get; }

    /// <summary>Every path of the dialect starts with this (e.g. <c>/compat/wasambazie</c>).</summary>
    public abstract PathString Root { get; }

    /// <summary>The part of <see cref="Root"/> the gateway forwards (the rest it answers 404 itself).</summary>
    public abstract PathString Base { get; }

    /// <summary>The headers the dialect's credentials travel in: never forwarded to the Api.</summary>
    public abstract IReadOnlyList<string> CredentialHeaders { get; }

    public abstract DialectCredential ReadCredential(IHeaderDictionary headers);

    /// <summary>
    /// Whether the dialect's document also offers signing in (a portal token as its Bearer credential, besides an
    /// API key). Only a dialect whose seed documents a login takes portal tokens; the others hold API keys only.
    /// </summary>
    public virtual bool AcceptsPortalTokens => false;


    /// <summary>
    /// The credential of a whole request. A dialect whose credentials travel in the query or the body too reads
    /// them there and takes them out of the request (so the Api never receives them); the rest read the headers.
    /// </summary>
    public virtual ValueTask<DialectCredential> TakeCredentialAsync(HttpRequest request) => ValueTask.FromResult(ReadCredential(request.Headers));

    /// <summary>
    /// Routes of the dialect that need no credentials (its sign-in, a documentation page), routed by the gateway as
    /// public like <c>/v1/auth/login</c>.
    /// </summary>
    public virtual IReadOnlyList<DialectPublicRoute> PublicRoutes => [];

    /// <summary>What a request without credentials is told to send.</summary>
    public abstract string CredentialHint { get; }

    public abstract RatePolicy PolicyOf(string method, PathString path);

    /// <summary>
    /// An error of the platform (status, /v1 code, detail, field errors) in the dialect's words. A dialect may
    /// answer another status where its document says so (e.g. 404 for an unapproved sender ID).
    /// </summary>
    public abstract DialectError Error(int status, string code, string? detail, IDictionary<string, string[]>? errors);

    /// <summary>The error for this request: a dialect whose words differ between its paths says so here.</summary>
    public virtual DialectError Error(HttpContext context, int status, string code, string? detail, IDictionary<string, string[]>? errors) =>
        Error(status, code, detail, errors);

    public Task WriteErrorAsync(HttpContext context, int status, string code, string? detail, IDictionary<string, string[]>? errors = null) =>
        WriteAsync(context, Error(context, status, code, detail, errors));

    /// <summary><c>Authorization: Bearer &lt;key&gt;</c>, once: the form of the dialects whose keys are bearer tokens.</summary>
    protected DialectCredential ReadBearer(IHeaderDictionary headers)
    {
        var values = headers.Authorization;
        if (values.Count == 0)
        {
            return new(DialectCredentialKind.None, "");
        }
        const string scheme = "Bearer ";
        var value = values.Count == 1 ? values[0] ?? "" : "";
        return value.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) && value.Length > scheme.Length
            ? new(DialectCredentialKind.Secret, value[scheme.Length..].Trim())
            : new(DialectCredentialKind.Invalid, CredentialHint);
    }

    public static async Task WriteAsync(HttpContext context, DialectError error)
    {
        var response = context.Response;
        response.StatusCode = error.Status;
        response.ContentType = "application/json; charset=utf-8";
        await JsonSerializer.SerializeAsync(response.Body, error.Body, error.Body.GetType(), JsonDefaults.Options, context.RequestAborted);
    }
}

/// <summary>Every dialect, and which one a path belongs to.</summary>
public static class Dialects
{
    public static IReadOnlyList<Dialect> All { get; } =
        [Wasambazie.WasambazieDialect.Instance, Mifumo.MifumoDialect.Instance, SmsPop.SmsPopDialect.Instance, Classic.ClassicDialect.Instance];

    /// <summary>Every dialect's credential headers (the gateway strips them all before forwarding).</summary>
    public static IReadOnlyList<string> CredentialHeaders { get; } = [.. All.SelectMany(d => d.CredentialHeaders).Distinct(StringComparer.OrdinalIgnoreCase)];

    /// <summary>The dialect whose paths <paramref name="path"/> is one of, or null for /v1 and everything else.</summary>
    public static Dialect? For(PathString path)
    {
        foreach (var dialect in All)
        {
            if (path.StartsWithSegments(dialect.Root, StringComparison.OrdinalIgnoreCase))
            {
                return dialect;
            }
        }
        return null;
    }

    /// <summary>
    /// Errors of dialect paths in the dialect's shape, however they were produced (an endpoint's problem, the
    /// exception handler, a 404/405 status page, the gateway's own refusals): every problem+json of these
    /// services goes through <see cref="IProblemDetailsService"/>, and this writer is asked first.
    /// </summary>
    public static IServiceCollection AddDialectErrors(this IServiceCollection services)
    {
        // First in line: the default writer would take any request that accepts JSON.
        services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, DialectProblemWriter>());
        return services;
    }
}

/// <summary>Writes a problem of a dialect path in that dialect's error shape instead of problem+json.</summary>
public sealed class DialectProblemWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => Dialects.For(context.HttpContext.Request.Path) is not null;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        // The same code and headers (Retry-After on 503) as a problem+json answer would carry.
        Problems.Customize(context);
        var problem = context.ProblemDetails;
        var status = problem.Status ?? context.HttpContext.Response.StatusCode;
        var code = problem.Extensions.TryGetValue("code", out var named) && named is string text ? text : ErrorCodes.ForStatus(status);
        var errors = problem.Extensions.TryGetValue("errors", out var listed) ? listed as IDictionary<string, string[]> : null;
        var dialect = Dialects.For(context.HttpContext.Request.Path)!;
        return new ValueTask(dialect.WriteErrorAsync(context.HttpContext, status, code, problem.Detail, errors));
    }
}

/// <summary>A method and path of a dialect answered without credentials.</summary>
public sealed record DialectPublicRoute(string Method, string Path);
