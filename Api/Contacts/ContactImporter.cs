using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;

namespace Ujumbe.Api.Contacts;

/// <param name="FileProblem">Why nothing was imported; <paramref name="StoppedBy"/> says when it was a limit.</param>
public sealed record ContactImportResult(
    int Rows, int Created, int Updated, int OptedOut, IReadOnlyList<ImportRowError> Errors, string? FileProblem, CsvStopReason? StoppedBy = null);

/// <summary>
/// Imports contacts from CSV: reads and checks every row (the same rules as the API), then writes the
/// good rows in one transaction — binary COPY into a temporary table, one upsert by phone number, and
/// the opt-outs the file records. A row whose number appears again later in the file is replaced by
/// the later one (and reported). On an existing contact an empty cell changes nothing, tags are added
/// to its tags and attributes merged into its attributes, so importing a partial file never erases.
/// </summary>
public sealed class ContactImporter(NpgsqlDataSource database, TimeProvider time)
{
    private const string TooLargeProblem = "The file is larger than 10 MB.";

    private static readonly string TooManyRowsProblem =
        $"The file has more than {ContactCsv.MaxRows.ToString("N0", CultureInfo.InvariantCulture)} rows.";

    private sealed record GoodRow(int Row, ValidContact Contact, bool OptOut);

    public async Task<ContactImportResult> ImportAsync(Guid accountId, string country, Stream csv, CancellationToken cancellationToken)
    {
        var rows = 0;
        var errors = new List<ImportRowError>();
        var byPhone = new Dictionary<string, GoodRow>(StringComparer.Ordinal);
        await foreach (var item in ContactCsv.ReadAsync(csv, cancellationToken))
        {
            switch (item)
            {
                case CsvHeaderProblem header:
                    return new ContactImportResult(0, 0, 0, 0, [], header.Message, header.StoppedBy);
                // Past a limit the reader stops; importing the part before it would leave a half-imported file.
                case CsvRowError { StoppedBy: { } limit } stop:
                    return new ContactImportResult(0, 0, 0, 0, [], limit switch
                    {
                        CsvStopReason.TooLarge => TooLargeProblem,
                        CsvStopReason.TooManyRows => TooManyRowsProblem,
                        _ => stop.Error.Replace("; the rest was not read.", ".", StringComparison.Ordinal),
                    }, limit);
                case CsvRowError error:
                    rows++;
                    errors.Add(new ImportRowError(error.RowNumber, error.Error));
                    break;
                case CsvContactRow row:
                    rows++;
                    if (Check(row, country, errors) is { } good)
                    {
                        if (byPhone.TryGetValue(good.Contact.Phone, out var earlier))
                        {
                            errors.Add(new ImportRowError(earlier.Row, $"the number {good.Contact.Phone} is also on row {row.RowNumber}, which was imported instead"));
                        }
                        byPhone[good.Contact.Phone] = good;
                    }
                    break;
            }
        }
        if (byPhone.Count == 0)
        {
            return new ContactImportResult(rows, 0, 0, 0, Sorted(errors), null);
        }
        var (created, updated, optedOut) = await WriteAsync(accountId, byPhone.Values, errors, cancellationToken);
        return new ContactImportResult(rows, created, updated, optedOut, Sorted(errors), null);
    }

    private static List<ImportRowError> Sorted(List<ImportRowError> errors) => [.. errors.OrderBy(e => e.Row)];

    private static GoodRow? Check(CsvContactRow row, string country, List<ImportRowError> errors)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in row.Attributes)
        {
            // Spreadsheet headers ("First visit", "loyalty-tier") become attribute names templates can use.
            attributes[AttributeName(key)] = value;
        }
        var fieldErrors = new Dictionary<string, string[]>();
        var attributesJson = JsonSerializer.SerializeToElement(attributes);
        var valid = ContactFields.Validate(row.Name, row.Phone, row.Email, row.Tags, attributesJson, country, nameRequired: false, fieldErrors);
        if (valid is null)
        {
            errors.Add(new ImportRowError(row.RowNumber, string.Join("; ", fieldErrors.Select(e => $"{e.Key} {string.Join(", ", e.Value)}"))));
            return null;
        }
        return new GoodRow(row.RowNumber, valid, row.OptedOut);
    }

    private static string AttributeName(string header) =>
        new([.. header.Trim().Select(c => char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_')]);

    private async Task<(int Created, int Updated, int OptedOut)> WriteAsync(
        Guid accountId, IEnumerable<GoodRow> rows, List<ImportRowError> errors, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var create = new NpgsqlCommand("""
            create temporary table import_rows (
                id uuid, row_number integer, name text, phone text, email text, tags text[], attributes jsonb, opt_out boolean,
                over_limits boolean not null default false
            ) on commit drop
            """, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        await using (var copy = await connection.BeginBinaryImportAsync(
            "copy import_rows (id, row_number, name, phone, email, tags, attributes, opt_out) from stdin (format binary)", cancellationToken))
        {
            foreach (var row in rows)
            {
                var contact = row.Contact;
                await copy.StartRowAsync(cancellationToken);
                await copy.WriteAsync(Guid.CreateVersion7(now), NpgsqlDbType.Uuid, cancellationToken);
                await copy.WriteAsync(row.Row, NpgsqlDbType.Integer, cancellationToken);
                await WriteNullableAsync(copy, contact.Name, cancellationToken);
                await copy.WriteAsync(contact.Phone, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(copy, contact.Email, cancellationToken);
                await copy.WriteAsync(contact.Tags, NpgsqlDbType.Array | NpgsqlDbType.Text, cancellationToken);
                await copy.WriteAsync(contact.Attributes.ToJsonString(), NpgsqlDbType.Jsonb, cancellationToken);
                await copy.WriteAsync(row.OptOut, NpgsqlDbType.Boolean, cancellationToken);
            }
            await copy.CompleteAsync(cancellationToken);
        }

        // Tags and attributes merge into an existing contact's; a row that would take it past the limits the
        // API enforces does not change the contact (reported with its row number). Its opt-out still counts:
        // a "stop" is never dropped.
        await using (var overLimits = new NpgsqlCommand("""
            update import_rows r set over_limits = true
              from contacts c
             where c.account_id = $1 and c.phone = r.phone
               and (cardinality(array(select distinct t from unnest(c.tags || r.tags) as t)) > $2
                    or (select count(*) from jsonb_object_keys(c.attributes || r.attributes)) > $3)
            returning r.row_number, r.opt_out
            """, connection, transaction))
        {
            overLimits.Parameters.Add(new() { Value = accountId });
            overLimits.Parameters.Add(new() { Value = ContactFields.MaxTags });
            overLimits.Parameters.Add(new() { Value = ContactFields.MaxAttributes });
            await using var reader = await overLimits.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                errors.Add(new ImportRowError(reader.GetInt32(0),
                    $"merged with the existing contact it would have more than {ContactFields.MaxTags} tags or {ContactFields.MaxAttributes} attributes"
                    + (reader.GetBoolean(1) ? "; the contact was not changed, its opt-out was recorded" : "; the contact was not changed")));
            }
        }

        int created, updated, optedOut;
        await using (var upsert = new NpgsqlCommand("""
            with upserted as (
                insert into contacts (id, account_id, name, phone, email, tags, attributes, created_at, updated_at)
                select id, $1, name, phone, email, tags, attributes, $2, $2 from import_rows where not over_limits
                on conflict (account_id, phone) do update set
                    name = coalesce(excluded.name, contacts.name),
                    email = coalesce(excluded.email, contacts.email),
                    tags = array(select distinct t from unnest(contacts.tags || excluded.tags) as t order by t),
                    attributes = contacts.attributes || excluded.attributes,
                    updated_at = excluded.updated_at
                returning xmax = 0 as inserted
            ), opted as (
                insert into opt_outs (account_id, phone, source, created_at)
                select $1, phone, 'import', $2 from import_rows where opt_out
                on conflict (account_id, phone) do nothing
                returning 1
            )
            select (select count(*) filter (where inserted) from upserted),
                   (select count(*) filter (where not inserted) from upserted),
                   (select count(*) from opted)
            """, connection, transaction))
        {
            upsert.Parameters.Add(new() { Value = accountId });
            upsert.Parameters.Add(new() { Value = now });
            await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            (created, updated, optedOut) = ((int)reader.GetInt64(0), (int)reader.GetInt64(1), (int)reader.GetInt64(2));
        }
        await transaction.CommitAsync(cancellationToken);
        return (created, updated, optedOut);
    }

    private static async Task WriteNullableAsync(NpgsqlBinaryImporter copy, string? value, CancellationToken cancellationToken)
    {
        if (value is null)
        {
            await copy.WriteNullAsync(cancellationToken);
        }
        else
        {
            await copy.WriteAsync(value, NpgsqlDbType.Text, cancellationToken);
        }
    }
}
