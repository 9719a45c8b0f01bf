using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Api.Idempotency;

namespace Ujumbe.Api.Content;

public sealed record ContentRuleRequest(string? Category, string? Phrase);

public sealed record ContentRuleResponse(string Id, string Category, string Phrase, DateTime CreatedAt);

/// <summary>
/// The content policy, kept by operators: blocked categories (e.g. <c>gambling</c>, <c>political</c>),
/// each a set of words or phrases. A send or campaign whose text contains one is refused with 403
/// <c>CONTENT_REJECTED</c> and the category.
/// </summary>
public static class AdminContentRulesApi
{
    public const int MaxPhraseLength = 200;

    public static RouteGroupBuilder MapAdminContentRulesApi(this RouteGroupBuilder v1)
    {
        var rules = v1.MapGroup("/admin/content-rules").RequireScope(Scopes.Admin).WithTags("Operators");
        rules.MapGet("/", ListAsync)
            .WithName("ListContentRules").WithSummary("List the content policy's blocked phrases");
        rules.MapPost("/", CreateAsync)
            .WithName("CreateContentRule").WithSummary("Block a phrase under a category").StoresIdempotentAnswers()
            .ProducesProblem(StatusCodes.Status409Conflict);
        rules.MapDelete("/{id}", DeleteAsync)
            .WithName("DeleteContentRule").WithSummary("Remove a blocked phrase");
        return v1;
    }

    public static async Task<Results<Created<ContentRuleResponse>, ProblemHttpResult>> CreateAsync(
        ContentRuleRequest request, UjumbeDb db, ContentPolicyProvider policy, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var category = request.Category?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(category) || category.Length > 50 || !category.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '-'))
        {
            errors["category"] = ["is required: 1 to 50 lower-case letters, digits, '-' or '_' (e.g. gambling)"];
        }
        var phrase = request.Phrase is null ? "" : ContentPolicy.NormalizePhrase(request.Phrase);
        if (phrase.Length == 0)
        {
            errors["phrase"] = ["is required: a word or phrase with at least one letter or digit"];
        }
        else if (phrase.Length > MaxPhraseLength)
        {
            errors["phrase"] = [$"must be at most {MaxPhraseLength} characters"];
        }
        if (errors.Count > 0)
        {
            return Problems.Validation(errors);
        }
        var now = time.UtcNow();
        var rule = db.ContentRules.Add(new ContentRuleRow { Id = Guid.CreateVersion7(now), Category = category!, Phrase = phrase, CreatedAt = now }).Entity;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException error) when (error.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return Problems.Conflict($"The category {category} already has the phrase \"{phrase}\".");
        }
        policy.Invalidate();
        var response = ToResponse(rule);
        return TypedResults.Created($"/v1/admin/content-rules/{response.Id}", response);
    }

    public static async Task<Results<Ok<PageOf<ContentRuleResponse>>, ProblemHttpResult>> ListAsync(
        string? category, string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        var rules = db.ContentRules.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(category))
        {
            var wanted = category.Trim().ToLowerInvariant();
            rules = rules.Where(r => r.Category == wanted);
        }
        return TypedResults.Ok(await paging.PageAsync(rules.OrderBy(r => r.Category).ThenBy(r => r.Phrase), ToResponse, cancellationToken));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string id, UjumbeDb db, ContentPolicyProvider policy, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.ContentRule, id, out var ruleId))
        {
            return Problems.NotFound("No content rule with this id.");
        }
        var deleted = await db.ContentRules.Where(r => r.Id == ruleId).ExecuteDeleteAsync(cancellationToken);
        policy.Invalidate();
        return deleted == 0 ? Problems.NotFound("No content rule with this id.") : TypedResults.NoContent();
    }

    private static ContentRuleResponse ToResponse(ContentRuleRow rule) =>
        new(PublicId.Format(PublicId.ContentRule, rule.Id), rule.Category, rule.Phrase, rule.CreatedAt);
}
