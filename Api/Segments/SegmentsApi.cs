using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Ujumbe.Api.Contacts;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Api.Idempotency;

namespace Ujumbe.Api.Segments;

public sealed record SegmentRequest(string? Name, List<string?>? TagsAny, List<string?>? TagsAll);

public sealed record SegmentResponse(string Id, string Name, string[] TagsAny, string[] TagsAll, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>
/// Segments: saved filters over contacts' tags. Membership is evaluated when a segment is used (listed
/// or messaged), never stored, so a contact tagged later belongs at once.
/// </summary>
public static class SegmentsApi
{
    public static RouteGroupBuilder MapSegmentsApi(this RouteGroupBuilder v1)
    {
        var segments = v1.MapGroup("/segments").RequireScope(Scopes.Contacts).WithTags("Segments");
        segments.MapPost("/", CreateAsync)
            .WithName("CreateSegment").WithSummary("Create a segment of contacts chosen by tags").StoresIdempotentAnswers();
        segments.MapGet("/", ListAsync)
            .WithName("ListSegments").WithSummary("List segments");
        segments.MapGet("/{id}", GetAsync)
            .WithName("GetSegment").WithSummary("Get a segment");
        segments.MapPut("/{id}", UpdateAsync)
            .WithName("UpdateSegment").WithSummary("Replace a segment's name and tags");
        segments.MapDelete("/{id}", DeleteAsync)
            .WithName("DeleteSegment").WithSummary("Delete a segment (its contacts stay)");
        segments.MapGet("/{id}/contacts", ContactsAsync)
            .WithName("ListSegmentContacts").WithSummary("List the contacts a segment selects now");
        return v1;
    }

    public static async Task<Results<Created<SegmentResponse>, ProblemHttpResult>> CreateAsync(
        SegmentRequest request, Caller caller, UjumbeDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (name, tagsAny, tagsAll, problem) = Validate(request);
        if (problem is not null)
        {
            return problem;
        }
        var now = time.UtcNow();
        var segment = db.Segments.Add(new Segment
        {
            Id = Guid.CreateVersion7(now), AccountId = caller.AccountId, Name = name, TagsAny = tagsAny, TagsAll = tagsAll,
            CreatedAt = now, UpdatedAt = now,
        }).Entity;
        await db.SaveChangesAsync(cancellationToken);
        var response = ToResponse(segment);
        return TypedResults.Created($"/v1/segments/{response.Id}", response);
    }

    public static async Task<Results<Ok<PageOf<SegmentResponse>>, ProblemHttpResult>> ListAsync(
        string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        return TypedResults.Ok(await paging.PageAsync(db.Segments.AsNoTracking().OrderByDescending(s => s.Id), ToResponse, cancellationToken));
    }

    public static async Task<Results<Ok<SegmentResponse>, ProblemHttpResult>> GetAsync(string id, UjumbeDb db, CancellationToken cancellationToken) =>
        await FindAsync(db, id, tracking: false, cancellationToken) is { } segment ? TypedResults.Ok(ToResponse(segment)) : NotFound();

    public static async Task<Results<Ok<SegmentResponse>, ProblemHttpResult>> UpdateAsync(
        string id, SegmentRequest request, UjumbeDb db, TimeProvider time, CancellationToken cancellationToken)
    {
        var (name, tagsAny, tagsAll, problem) = Validate(request);
        if (problem is not null)
        {
            return problem;
        }
        if (await FindAsync(db, id, tracking: true, cancellationToken) is not { } segment)
        {
            return NotFound();
        }
        segment.Name = name;
        segment.TagsAny = tagsAny;
        segment.TagsAll = tagsAll;
        segment.UpdatedAt = time.UtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(ToResponse(segment));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Segment, id, out var segmentId))
        {
            return NotFound();
        }
        return await db.Segments.Where(s => s.Id == segmentId).ExecuteDeleteAsync(cancellationToken) == 0 ? NotFound() : TypedResults.NoContent();
    }

    public static async Task<Results<Ok<ContactPage>, ProblemHttpResult>> ContactsAsync(
        string id, string? page, [FromQuery(Name = "page_size")] string? pageSize, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        if (await FindAsync(db, id, tracking: false, cancellationToken) is not { } segment)
        {
            return NotFound();
        }
        var members = Members(db, segment);
        var counted = await members.Select(c => c.Id).Take(ContactsApi.MaxCounted + 1).CountAsync(cancellationToken);
        var rows = await ContactsApi.WithOptOut(db, members.OrderByDescending(c => c.Id).Skip(paging.Skip).Take(paging.Size)).ToListAsync(cancellationToken);
        return TypedResults.Ok(new ContactPage(
            rows.Select(r => ContactsApi.ToResponse(r.Contact, r.OptedOut)).ToList(), paging.Number, paging.Size,
            Math.Min(counted, ContactsApi.MaxCounted), counted <= ContactsApi.MaxCounted));
    }

    /// <summary>
    /// The segment's contacts: at least one of <c>tags_any</c> (when it has any) and all of <c>tags_all</c>;
    /// a segment with neither is every contact. Tag operators in SQL (GIN-indexed), the account filter by EF.
    /// </summary>
    internal static IQueryable<Contact> Members(UjumbeDb db, Segment segment)
    {
        var conditions = new List<string>();
        var parameters = new List<object>();
        if (segment.TagsAny.Length > 0)
        {
            conditions.Add($"tags && {{{parameters.Count}}}::text[]");
            parameters.Add(segment.TagsAny);
        }
        if (segment.TagsAll.Length > 0)
        {
            conditions.Add($"tags @> {{{parameters.Count}}}::text[]");
            parameters.Add(segment.TagsAll);
        }
        IQueryable<Contact> members = conditions.Count == 0
            ? db.Contacts
            : db.Contacts.FromSql(FormattableStringFactory.Create("select * from contacts where " + string.Join(" and ", conditions), [.. parameters]));
        return members.AsNoTracking();
    }

    internal static async Task<Segment?> FindAsync(UjumbeDb db, string id, bool tracking, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Segment, id, out var segmentId))
        {
            return null;
        }
        var segments = tracking ? db.Segments : db.Segments.AsNoTracking();
        return await segments.FirstOrDefaultAsync(s => s.Id == segmentId, cancellationToken);
    }

    private static (string Name, string[] TagsAny, string[] TagsAll, ProblemHttpResult? Problem) Validate(SegmentRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 200)
        {
            errors["name"] = ["is required, up to 200 characters"];
        }
        var tagsAny = ContactFields.NormalizeTags(request.TagsAny, errors, "tags_any");
        var tagsAll = ContactFields.NormalizeTags(request.TagsAll, errors, "tags_all");
        return (name ?? "", tagsAny, tagsAll, errors.Count > 0 ? Problems.Validation(errors) : null);
    }

    private static SegmentResponse ToResponse(Segment segment) => new(
        PublicId.Format(PublicId.Segment, segment.Id), segment.Name, segment.TagsAny, segment.TagsAll, segment.CreatedAt, segment.UpdatedAt);

    private static ProblemHttpResult NotFound() => Problems.NotFound("No segment with this id.");
}
