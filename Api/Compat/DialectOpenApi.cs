using System.Globalization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using Ujumbe.Api.Extensions;
using Ujumbe.Shared.Compat;

namespace Ujumbe.Api.Compat;

/// <summary>
/// How one dialect's OpenAPI document describes what every one of its operations shares. <see cref="PathAsWritten"/>
/// gives a path back the trailing slash its seed writes (the generator drops it; routing takes both).
/// <see cref="SecurityAlternatives"/>: the credential forms an operation may use, each naming schemes that go together
/// (default: one form, all of the schemes); an operation that differs says so with
/// <see cref="DialectOpenApi.WithDialectSecurity{TBuilder}"/>.
/// </summary>
public sealed record DialectDocument(
    Dialect Dialect, string Title, string Description, IReadOnlyDictionary<string, string> Tags,
    IReadOnlyDictionary<string, OpenApiSecurityScheme> SecuritySchemes,
    IReadOnlyDictionary<string, OpenApiSchema> ErrorSchemas,
    IReadOnlyList<(int Status, string Schema, string Description)> CommonErrors,
    Func<string, string> PathAsWritten,
    IReadOnlyList<string[]>? SecurityAlternatives = null);

/// <summary>
/// Each dialect's own OpenAPI document, <c>/openapi/compat-&lt;name&gt;.json</c> (through the gateway), so an
/// integrator can set it beside the API they wrote against: the dialect's paths relative to its base URL
/// (the document's server), its credential headers, and its error bodies. The endpoints name the errors
/// they answer with <see cref="WithDialectErrors{TBuilder}"/>.
/// </summary>
public static class DialectOpenApi
{
    public static string DocumentName(Dialect dialect) => "compat-" + dialect.Name;

    public static IServiceCollection AddDialectOpenApi(this IServiceCollection services, DialectDocument document)
    {
        var name = DocumentName(document.Dialect);
        services.AddOpenApi(name, options =>
        {
            // Only the dialect's own endpoints (those without a group, /v1's, belong to the v1 document).
            options.ShouldInclude = description => description.GroupName == name;
            options.AddDocumentTransformer((openApi, context, _) => Describe(openApi, document,
                context.ApplicationServices.GetService<IOptions<OpenApiDocumentOptions>>()?.Value.ServerUrl));
        });
        return services;
    }

    /// <summary>
    /// The errors an operation answers, each with its description and the name of its schema (one of the
    /// dialect's <see cref="DialectDocument.ErrorSchemas"/>).
    /// </summary>
    public static TBuilder WithDialectErrors<TBuilder>(this TBuilder builder, params (int Status, string Schema, string Description)[] errors)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, context, _) =>
        {
            AddErrors(operation, context.Document, errors);
            return Task.CompletedTask;
        });

    /// <summary>
    /// The credential forms this operation takes instead of the document's: each one the names of schemes sent
    /// together. None: the operation is public.
    /// </summary>
    public static TBuilder WithDialectSecurity<TBuilder>(this TBuilder builder, params string[][] alternatives)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, context, _) =>
        {
            operation.Security = alternatives.Length == 0
                ? [new OpenApiSecurityRequirement()]
                : [.. alternatives.Select(schemes => Requirement(schemes, context.Document))];
            return Task.CompletedTask;
        });

    /// <summary>Query parameters of an operation whose handler reads the request itself (a dialect's fields may come from the query or the body).</summary>
    public static TBuilder WithQueryParameters<TBuilder>(this TBuilder builder, params (string Name, bool Required)[] parameters)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            foreach (var (name, required) in parameters)
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = name, In = ParameterLocation.Query, Required = required, Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
            }
            return Task.CompletedTask;
        });

    private static OpenApiSecurityRequirement Requirement(IEnumerable<string> schemes, OpenApiDocument? document)
    {
        var requirement = new OpenApiSecurityRequirement();
        foreach (var scheme in schemes)
        {
            requirement[new OpenApiSecuritySchemeReference(scheme, document)] = [];
        }
        return requirement;
    }

    private static void AddErrors(OpenApiOperation operation, OpenApiDocument? document, IEnumerable<(int Status, string Schema, string Description)> errors)
    {
        operation.Responses ??= new OpenApiResponses();
        foreach (var (status, schema, description) in errors)
        {
            operation.Responses.TryAdd(status.ToString(CultureInfo.InvariantCulture), new OpenApiResponse
            {
                Description = description,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new() { Schema = new OpenApiSchemaReference(schema, document) },
                },
            });
        }
    }

    private static Task Describe(OpenApiDocument openApi, DialectDocument document, string? serverUrl)
    {
        var basePath = document.Dialect.Base.Value!;
        openApi.Info = new OpenApiInfo { Title = document.Title, Version = "v1", Description = document.Description };
        openApi.Servers = [new OpenApiServer { Url = (serverUrl ?? "").TrimEnd('/') + basePath, Description = "The Ujumbe gateway" }];

        // Paths as the dialect's own documentation writes them: relative to its base URL.
        var paths = new OpenApiPaths();
        foreach (var (path, item) in openApi.Paths ?? new OpenApiPaths())
        {
            paths[document.PathAsWritten(path.StartsWith(basePath, StringComparison.Ordinal) ? path[basePath.Length..] : path)] = item;
        }
        openApi.Paths = paths;
        // What any operation can answer (credentials, limits), besides what each names itself; in order of status.
        foreach (var operation in paths.Values.SelectMany(item => item.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>()))
        {
            AddErrors(operation, openApi, document.CommonErrors);
            var responses = operation.Responses!;
            var ordered = responses.OrderBy(r => r.Key, StringComparer.Ordinal).ToList();
            responses.Clear();
            foreach (var (status, response) in ordered)
            {
                responses[status] = response;
            }
        }

        openApi.Tags = new HashSet<OpenApiTag>(document.Tags.Select(tag => new OpenApiTag { Name = tag.Key, Description = tag.Value }));
        openApi.Components ??= new OpenApiComponents();
        openApi.Components.SecuritySchemes = document.SecuritySchemes.ToDictionary(s => s.Key, s => (IOpenApiSecurityScheme)s.Value);
        openApi.Components.Schemas ??= new Dictionary<string, IOpenApiSchema>();
        foreach (var (name, schema) in document.ErrorSchemas)
        {
            openApi.Components.Schemas[name] = schema;
        }
        // Unless the dialect names its forms, every operation needs all of its credential headers at once (one requirement naming them all).
        IReadOnlyList<string[]> alternatives = document.SecurityAlternatives ?? [[.. document.SecuritySchemes.Keys]];
        openApi.Security = [.. alternatives.Select(schemes => Requirement(schemes, openApi))];
        return Task.CompletedTask;
    }
}
