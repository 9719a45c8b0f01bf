using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Ujumbe.Api.Accounts;
using Ujumbe.Api.Data;
using Ujumbe.Api.Extensions;
using Ujumbe.Api.Identity;
using Ujumbe.Api.Phones;
using Ujumbe.ServiceDefaults;
using Ujumbe.Shared.Identity;
using Ujumbe.Api.Idempotency;

namespace Ujumbe.Api.Contacts;

public sealed record ContactRequest(
    string? Name, string? PhoneNumber, string? Email, List<string?>? Tags, JsonElement? Attributes, bool? OptedOut);

public sealed record ContactResponse(
    string Id, string? Name, string PhoneNumber, string? Email, string[] Tags, JsonObject Attributes, bool OptedOut,
    DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>
/// A page of contacts. Counting every match of a broad search over a million contacts costs more
/// than the page itself, so <c>total</c> is exact up to <see cref="ContactsApi.MaxCounted"/> and
/// <c>total_exact</c> says whether it was capped.
/// </summary>
public sealed record ContactPage(IReadOnlyList<ContactResponse> Data, int Page, int PageSize, int Total, bool TotalExact);

/// <summary>Contacts (API.md "Contacts, segments, campaigns"): CRUD, search, opt-outs and CSV import.</summary>
public static class ContactsApi
{
    public const int MaxCounted = 50_000;

    public static RouteGroupBuilder MapContactsApi(this RouteGroupBuilder v1)
    {
        var contacts = v1.MapGroup("/contacts").RequireScope(Scopes.Contacts).WithTags("Contacts");
        contacts.MapPost("/", CreateAsync)
            .WithName("CreateContact").WithSummary("Add a contact").StoresIdempotentAnswers()
            .ProducesProblem(StatusCodes.Status409Conflict);
        contacts.MapGet("/", ListAsync)
            .WithName("ListContacts").WithSummary("List or search contacts by name, phone, email or tag");
        contacts.MapGet("/{id}", GetAsync)
            .WithName("GetContact").WithSummary("Get a contact");
        contacts.MapPut("/{id}", UpdateAsync)
            .WithName("UpdateContact").WithSummary("Replace a contact's fields")
            .ProducesProblem(StatusCodes.Status409Conflict);
        contacts.MapDelete("/{id}", DeleteAsync)
            .WithName("DeleteContact").WithSummary("Delete a contact (an opt-out of its number stays)");
        contacts.MapPost("/{id}/opt-out", (string id, UjumbeDb db, Caller caller, TimeProvider time, CancellationToken ct) =>
            SetOptOutAsync(id, true, db, caller, time, ct))
            .WithName("OptOutContact").WithSummary("Opt a contact's number out of messages");
        contacts.MapDelete("/{id}/opt-out", (string id, UjumbeDb db, Caller caller, TimeProvider time, CancellationToken ct) =>
            SetOptOutAsync(id, false, db, caller, time, ct))
            .WithName("OptInContact").WithSummary("Remove the opt-out of a contact's number");
        contacts.MapPost("/import", ContactImportApi.ImportAsync).DisableAntiforgery()
            .WithName("ImportContacts").WithSummary("Import contacts from a CSV file, with errors reported per row")
            .AcceptsCsvUpload()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return v1;
    }

    public static async Task<Results<Created<ContactResponse>, ProblemHttpResult>> CreateAsync(
        ContactRequest request, Caller caller, UjumbeDb db, AccountSettingsCache accounts, TimeProvider time, CancellationToken cancellationToken)
    {
        var country = await accounts.DefaultCountryAsync(caller.AccountId, cancellationToken);
        var errors = new Dictionary<string, string[]>();
        var valid = ContactFields.Validate(request.Name, request.PhoneNumber, request.Email, request.Tags, request.Attributes, country, nameRequired: true, errors);
        if (valid is null)
        {
            return Problems.Validation(errors);
        }
        var now = time.UtcNow();
        var contact = new Contact
        {
            Id = Guid.CreateVersion7(now),
            AccountId = caller.AccountId,
            CreatedAt = now,
            Phone = valid.Phone,
            Attributes = valid.Attributes,
        };
        Apply(contact, valid, now);
        db.Contacts.Add(contact);
        // The contact and its opt-out are written together or not at all.
        await using var transaction = request.OptedOut == true ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException error) when (error.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return DuplicatePhone(valid.Phone);
        }
        if (transaction is not null)
        {
            await OptOutAsync(db, caller.AccountId, valid.Phone, "contact", now, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        var optedOut = request.OptedOut == true || await db.OptOuts.AnyAsync(o => o.Phone == valid.Phone, cancellationToken);
        var response = ToResponse(contact, optedOut);
        return TypedResults.Created($"/v1/contacts/{response.Id}", response);
    }

    public static async Task<Results<Ok<ContactResponse>, ProblemHttpResult>> GetAsync(string id, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Contact, id, out var contactId))
        {
            return NotFound();
        }
        var found = await WithOptOut(db, db.Contacts.AsNoTracking().Where(c => c.Id == contactId)).FirstOrDefaultAsync(cancellationToken);
        return found is null ? NotFound() : TypedResults.Ok(ToResponse(found.Contact, found.OptedOut));
    }

    /// <summary>
    /// Replaces the contact's fields with the request's (an omitted email, tags or attributes is cleared).
    /// <c>opted_out</c> changes only when given, so a client that does not know about opt-outs cannot
    /// opt a number back in by accident.
    /// </summary>
    public static async Task<Results<Ok<ContactResponse>, ProblemHttpResult>> UpdateAsync(
        string id, ContactRequest request, Caller caller, UjumbeDb db, AccountSettingsCache accounts, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Contact, id, out var contactId))
        {
            return NotFound();
        }
        var country = await accounts.DefaultCountryAsync(caller.AccountId, cancellationToken);
        var errors = new Dictionary<string, string[]>();
        var valid = ContactFields.Validate(request.Name, request.PhoneNumber, request.Email, request.Tags, request.Attributes, country, nameRequired: true, errors);
        if (valid is null)
        {
            return Problems.Validation(errors);
        }
        var contact = await db.Contacts.FirstOrDefaultAsync(c => c.Id == contactId, cancellationToken);
        if (contact is null)
        {
            return NotFound();
        }
        var now = time.UtcNow();
        var previousPhone = contact.Phone;
        Apply(contact, valid, now);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException error) when (error.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return DuplicatePhone(valid.Phone);
        }
        if (request.OptedOut is { } optedOut)
        {
            if (optedOut)
            {
                await OptOutAsync(db, caller.AccountId, valid.Phone, "contact", now, cancellationToken);
            }
            else
            {
                await db.OptOuts.Where(o => o.Phone == valid.Phone || o.Phone == previousPhone).ExecuteDeleteAsync(cancellationToken);
            }
        }
        await transaction.CommitAsync(cancellationToken);
        var isOptedOut = request.OptedOut ?? await db.OptOuts.AnyAsync(o => o.Phone == contact.Phone, cancellationToken);
        return TypedResults.Ok(ToResponse(contact, isOptedOut));
    }

    /// <summary>Deletes the contact. An opt-out of its number stays: forgetting a contact must not make its number messageable.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string id, UjumbeDb db, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Contact, id, out var contactId))
        {
            return NotFound();
        }
        var deleted = await db.Contacts.Where(c => c.Id == contactId).ExecuteDeleteAsync(cancellationToken);
        return deleted == 0 ? NotFound() : TypedResults.NoContent();
    }

    public static async Task<Results<Ok<ContactPage>, ProblemHttpResult>> ListAsync(
        string? q, string? tag, string? page, [FromQuery(Name = "page_size")] string? pageSize,
        Caller caller, UjumbeDb db, AccountSettingsCache accounts, CancellationToken cancellationToken)
    {
        if (!Paging.TryParse(page, pageSize, out var paging, out var errors))
        {
            return Problems.Validation(errors);
        }
        var country = await accounts.DefaultCountryAsync(caller.AccountId, cancellationToken);
        var (contacts, matchesFirst, problem) = Search(db, q, tag, country, caller.AccountId);
        if (problem is not null)
        {
            return problem;
        }
        var counted = await contacts.Select(c => c.Id).Take(MaxCounted + 1).CountAsync(cancellationToken);
        // Few matches: collect them by the index, then sort. Many: walking the account's contacts
        // newest first finds a page of them soonest. (Left to itself the planner misjudges how many
        // rows a substring matches and can walk a million contacts to find twenty.)
        var source = counted <= MaxCounted && matchesFirst is not null ? matchesFirst : contacts;
        var rows = await WithOptOut(db, source.OrderByDescending(c => c.Id).Skip(paging.Skip).Take(paging.Size)).ToListAsync(cancellationToken);
        return TypedResults.Ok(new ContactPage(
            rows.Select(r => ToResponse(r.Contact, r.OptedOut)).ToList(), paging.Number, paging.Size,
            Math.Min(counted, MaxCounted), counted <= MaxCounted));
    }

    /// <summary>
    /// The contacts matching <c>q</c> and <c>tag</c>, as a query the account filter still applies to
    /// (SQL for the operators EF does not produce: trigram LIKE on the search column, array containment
    /// for tags, both served by GIN indexes that lead with the account id; the SQL is fixed fragments and
    /// every value a parameter). A <c>q</c> that is a phone
    /// number, in any format the account's country allows, finds that number exactly.
    /// </summary>
    /// <remarks>
    /// <c>MatchesFirst</c>, when there is a substring condition, is the same set behind an optimisation
    /// fence (<c>offset 0</c>) that keeps the planner on the search index.
    /// </remarks>
    internal static (IQueryable<Contact> Contacts, IQueryable<Contact>? MatchesFirst, ProblemHttpResult? Problem) Search(
        UjumbeDb db, string? q, string? tag, string country, Guid accountId)
    {
        var substring = false;
        var conditions = new List<string>();
        var parameters = new List<object>();
        if (!string.IsNullOrWhiteSpace(q))
        {
            var text = q.Trim();
            if (text.Length > 200)
            {
                return (db.Contacts, null, Problems.Validation("q", "must be at most 200 characters"));
            }
            if (LooksLikePhone(text) && PhoneNumbers.TryNormalize(text, country, out var e164, out _))
            {
                conditions.Add($"phone = {{{parameters.Count}}}");
                parameters.Add(e164);
            }
            else
            {
                conditions.Add($"search like {{{parameters.Count}}} escape '\\'");
                parameters.Add("%" + EscapeLike(text.ToLowerInvariant()) + "%");
                substring = true;
            }
        }
        if (!string.IsNullOrWhiteSpace(tag))
        {
            conditions.Add($"tags @> array[{{{parameters.Count}}}]::text[]");
            parameters.Add(tag.Trim().ToLowerInvariant());
        }
        IQueryable<Contact> contacts = conditions.Count == 0
            ? db.Contacts
            : db.Contacts.FromSql(FormattableStringFactory.Create("select * from contacts where " + string.Join(" and ", conditions), [.. parameters]));
        IQueryable<Contact>? matchesFirst = null;
        if (substring)
        {
            var fenced = $"select * from contacts where account_id = {{{parameters.Count}}} and {string.Join(" and ", conditions)} offset 0";
            matchesFirst = db.Contacts.FromSql(FormattableStringFactory.Create(fenced, [.. parameters, accountId])).AsNoTracking();
        }
        return (contacts.AsNoTracking(), matchesFirst, null);
    }

    internal sealed record ContactRow(Contact Contact, bool OptedOut);

    internal static IQueryable<ContactRow> WithOptOut(UjumbeDb db, IQueryable<Contact> contacts) =>
        contacts.Select(c => new ContactRow(c, db.OptOuts.Any(o => o.Phone == c.Phone)));

    public static async Task<Results<Ok<ContactResponse>, ProblemHttpResult>> SetOptOutAsync(
        string id, bool optOut, UjumbeDb db, Caller caller, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!PublicId.TryParse(PublicId.Contact, id, out var contactId))
        {
            return NotFound();
        }
        var contact = await db.Contacts.AsNoTracking().FirstOrDefaultAsync(c => c.Id == contactId, cancellationToken);
        if (contact is null)
        {
            return NotFound();
        }
        if (optOut)
        {
            await OptOutAsync(db, caller.AccountId, contact.Phone, "contact", time.UtcNow(), cancellationToken);
        }
        else
        {
            await db.OptOuts.Where(o => o.Phone == contact.Phone).ExecuteDeleteAsync(cancellationToken);
        }
        return TypedResults.Ok(ToResponse(contact, optOut));
    }

    /// <summary>
    /// Adds the opt-out unless the number has one already (the first one's time and source stay): one
    /// statement, so an opt-out of the same number committed meanwhile (a STOP, another request) is not
    /// a conflict. Runs at once, in the context's current transaction if it has one.
    /// </summary>
    internal static Task OptOutAsync(UjumbeDb db, Guid accountId, string phone, string source, DateTime now, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlInterpolatedAsync($"""
            insert into opt_outs (account_id, phone, source, created_at) values ({accountId}, {phone}, {source}, {now})
            on conflict (account_id, phone) do nothing
            """, cancellationToken);

    internal static ContactResponse ToResponse(Contact contact, bool optedOut) => new(
        PublicId.Format(PublicId.Contact, contact.Id), contact.Name, contact.Phone, contact.Email, contact.Tags, contact.Attributes,
        optedOut, contact.CreatedAt, contact.UpdatedAt);

    private static void Apply(Contact contact, ValidContact valid, DateTime now)
    {
        contact.Name = valid.Name;
        contact.Phone = valid.Phone;
        contact.Email = valid.Email;
        contact.Tags = valid.Tags;
        contact.Attributes = valid.Attributes;
        contact.UpdatedAt = now;
    }

    private static bool LooksLikePhone(string text) =>
        text.Count(char.IsAsciiDigit) >= 7 && text.All(c => char.IsAsciiDigit(c) || c is '+' or ' ' or '-' or '(' or ')' or '.');

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);

    private static ProblemHttpResult DuplicatePhone(string phone) =>
        Problems.Conflict($"A contact with phone number {phone} already exists in this account.");

    private static ProblemHttpResult NotFound() => Problems.NotFound("No contact with this id.");
}
