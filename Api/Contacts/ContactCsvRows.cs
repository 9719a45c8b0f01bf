using System.Collections.ObjectModel;
using System.Globalization;
using System.Text;
using System.Text.Unicode;
using CsvHelper;

namespace Ujumbe.Api.Contacts;

/// <summary>
/// Turns the records CsvHelper reads into contacts: the first record is the header (which column is the
/// phone, the name, the tags...), each later one a contact row or a row error that says what to fix.
/// </summary>
internal sealed class ContactRowReader(int maxRows)
{
    private enum ColumnKind
    {
        Ignored,
        Name,
        Phone,
        Email,
        Tags,
        OptOut,
        Attribute,
    }

    private sealed record Column(string Header, ColumnKind Kind, string? AttributeKey);

    private static readonly char[] TagSeparators = [';', '|'];

    private Column[]? _columns;
    private int _dataRows;

    public bool HasHeader => _columns is not null;

    /// <summary>The reader's current record, which starts on <paramref name="line"/>; null once a header is accepted.</summary>
    public CsvItem? Read(CsvReader record, int line, CsvMalformedReason? malformed)
    {
        if (_columns is null)
        {
            var problem = FindHeaderProblem(record, malformed, out var columns);
            if (problem is not null)
            {
                return new CsvHeaderProblem(problem);
            }

            _columns = columns;
            return null;
        }

        _dataRows++;
        if (_dataRows > maxRows)
        {
            return new CsvRowError(line,
                $"The file has more than {maxRows.ToString("N0", CultureInfo.InvariantCulture)} rows; the rest was not read.", CsvStopReason.TooManyRows);
        }

        var error = FindRowError(record, malformed);
        return error is null ? BuildRow(record, line) : new CsvRowError(line, error);
    }

    private static int FindTooLongField(CsvReader record, int fields)
    {
        for (var i = 0; i < fields; i++)
        {
            var field = record.GetSpan(i);
            if (field.Length > ContactCsv.MaxFieldLength && Encoding.UTF8.GetCharCount(field) > ContactCsv.MaxFieldLength)
            {
                return i;
            }
        }

        return -1;
    }

    private static string FieldText(CsvReader record, int index) => (record.GetString(index) ?? "").Trim();

    private static string? FindHeaderProblem(CsvReader record, CsvMalformedReason? malformed, out Column[] columns)
    {
        columns = [];
        var fieldCount = record.FieldCount;
        if (malformed == CsvMalformedReason.UnterminatedQuote)
        {
            return "The header row has a quote (\") that is never closed.";
        }

        if (fieldCount > ContactCsv.MaxColumns)
        {
            return $"The header has {fieldCount.ToString("N0", CultureInfo.InvariantCulture)} columns; at most {ContactCsv.MaxColumns.ToString("N0", CultureInfo.InvariantCulture)} are allowed.";
        }

        if (FindTooLongField(record, fieldCount) >= 0)
        {
            return $"A column name in the header is longer than {ContactCsv.MaxFieldLength.ToString("N0", CultureInfo.InvariantCulture)} characters.";
        }

        if (!Utf8.IsValid(record.RawRecord) || record.RawRecord.Contains((byte)0))
        {
            return ContactCsv.NotUtf8Message;
        }

        if (malformed == CsvMalformedReason.TextAfterClosingQuote)
        {
            return "The header has text after a closing quote; put each whole column name inside the quotes.";
        }

        var result = new Column[fieldCount];
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < fieldCount; i++)
        {
            var header = FieldText(record, i);
            var column = Classify(header);
            if (column.Kind == ColumnKind.Attribute && column.AttributeKey!.Length == 0)
            {
                return $"The column '{header}' has no attribute name after 'attributes.'.";
            }

            result[i] = column;
            if (column.Kind == ColumnKind.Ignored)
            {
                continue;
            }

            var key = column.Kind == ColumnKind.Attribute ? "attributes." + column.AttributeKey : column.Kind.ToString();
            if (seen.TryGetValue(key, out var earlier))
            {
                return string.Equals(earlier, header, StringComparison.OrdinalIgnoreCase)
                    ? $"The column '{header}' appears more than once in the header."
                    : $"The columns '{earlier}' and '{header}' are the same column; keep only one of them.";
            }

            seen.Add(key, header);
        }

        if (!result.Any(c => c.Kind == ColumnKind.Phone))
        {
            // Not a separator CsvHelper should guess: a file of another delimiter is refused with what to do about it.
            if (fieldCount == 1)
            {
                var only = record.GetSpan(0);
                var semicolons = only.Count((byte)';');
                var tabs = only.Count((byte)'\t');
                if (semicolons > 0 || tabs > 0)
                {
                    var delimiter = semicolons >= tabs ? "';' (semicolon)" : "tab";
                    return $"The file seems to use {delimiter} as delimiter; use commas. Save it as \"CSV UTF-8 (comma delimited)\".";
                }
            }

            return $"The header has no phone column; name it one of: {string.Join(", ", ContactCsv.PhoneColumnNames)}.";
        }

        columns = result;
        return null;
    }

    private static Column Classify(string header)
    {
        const string attributePrefix = "attributes.";
        if (header.Length == 0)
        {
            // Spreadsheets often export trailing separators; a column without a name has nowhere to go.
            return new Column(header, ColumnKind.Ignored, null);
        }

        if (header.StartsWith(attributePrefix, StringComparison.OrdinalIgnoreCase))
        {
            return new Column(header, ColumnKind.Attribute, header[attributePrefix.Length..].Trim());
        }

        // "Phone Number" and "phone-number" are what people type in spreadsheets for phone_number
        // ("Opted Out" and "opt-out" for opted_out: missing one would message people who said stop).
        var normalized = header.Replace(' ', '_').Replace('-', '_');
        if (ContactCsv.PhoneColumnNames.Contains(normalized, StringComparer.OrdinalIgnoreCase))
        {
            return new Column(header, ColumnKind.Phone, null);
        }

        if (ContactCsv.OptOutColumnNames.Contains(normalized, StringComparer.OrdinalIgnoreCase))
        {
            return new Column(header, ColumnKind.OptOut, null);
        }

        var kind = normalized.ToUpperInvariant() switch
        {
            "NAME" => ColumnKind.Name,
            "EMAIL" => ColumnKind.Email,
            "TAGS" => ColumnKind.Tags,
            _ => ColumnKind.Attribute,
        };
        return new Column(header, kind, kind == ColumnKind.Attribute ? header : null);
    }

    private string? FindRowError(CsvReader record, CsvMalformedReason? malformed)
    {
        var columns = _columns!;
        if (malformed == CsvMalformedReason.UnterminatedQuote)
        {
            return "The row has a quote (\") that is never closed; the rest of the file was read as part of this row.";
        }

        if (record.FieldCount != columns.Length)
        {
            return $"The row has {record.FieldCount.ToString(CultureInfo.InvariantCulture)} fields; the header has {columns.Length.ToString(CultureInfo.InvariantCulture)}.";
        }

        var tooLong = FindTooLongField(record, columns.Length);
        if (tooLong >= 0)
        {
            return $"The value in column '{columns[tooLong].Header}' is longer than {ContactCsv.MaxFieldLength.ToString("N0", CultureInfo.InvariantCulture)} characters.";
        }

        var raw = record.RawRecord;
        if (!Utf8.IsValid(raw))
        {
            return "The row contains bytes that are not valid UTF-8 text.";
        }

        // PostgreSQL text cannot hold NUL, and no contact has one: the file is not (only) text here.
        if (raw.Contains((byte)0))
        {
            return "The row contains a NUL character; the file is not plain text here.";
        }

        // A quote inside an unquoted value (5'10") is kept as text, as RFC 4180 readers do; text after a
        // closing quote ("A"B) is ambiguous, so the row is refused rather than guessed at.
        if (malformed == CsvMalformedReason.TextAfterClosingQuote)
        {
            return "The row has text after a closing quote; put the whole value inside the quotes.";
        }

        return null;
    }

    private CsvItem BuildRow(CsvReader record, int line)
    {
        var columns = _columns!;
        string? name = null;
        string? phone = null;
        string? email = null;
        string[] tags = [];
        var optedOut = false;
        Dictionary<string, string>? attributes = null;
        for (var i = 0; i < columns.Length; i++)
        {
            var column = columns[i];
            if (column.Kind == ColumnKind.Ignored)
            {
                continue;
            }

            var value = FieldText(record, i);
            switch (column.Kind)
            {
                case ColumnKind.Name:
                    name = NullIfEmpty(value);
                    break;
                case ColumnKind.Phone:
                    phone = NullIfEmpty(value);
                    break;
                case ColumnKind.Email:
                    email = NullIfEmpty(value);
                    break;
                case ColumnKind.Tags:
                    tags = SplitTags(value);
                    break;
                case ColumnKind.OptOut:
                    optedOut = value.ToUpperInvariant() is "TRUE" or "YES" or "Y" or "1";
                    break;
                case ColumnKind.Attribute when value.Length > 0:
                    attributes ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                    attributes[column.AttributeKey!] = value;
                    break;
            }
        }

        if (phone is null)
        {
            return new CsvRowError(line, "Phone is required.");
        }

        return new CsvContactRow(
            line,
            name,
            phone,
            email,
            tags,
            attributes is null ? ReadOnlyDictionary<string, string>.Empty : attributes.AsReadOnly(),
            optedOut);
    }

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    private static string[] SplitTags(string value)
    {
        if (value.Length == 0)
        {
            return [];
        }

        var tags = value.Split(TagSeparators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return HasDuplicate(tags) ? [.. tags.Distinct(StringComparer.OrdinalIgnoreCase)] : tags;
    }

    // Rows carry a handful of tags; a quadratic scan avoids building a set for every row.
    private static bool HasDuplicate(string[] tags)
    {
        for (var i = 1; i < tags.Length; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (string.Equals(tags[i], tags[j], StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
