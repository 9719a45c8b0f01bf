using System.Buffers;
using System.Collections.ObjectModel;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Unicode;

namespace Ujumbe.Api.Contacts;

/// <summary>One result of reading a contact CSV: a header problem, a contact row or a row error.</summary>
public abstract record CsvItem
{
    // Closed hierarchy: callers can switch over the three subtypes below without a default branch surprise.
    private protected CsvItem()
    {
    }
}

/// <summary>A limit the reader stopped at: what it read before is only part of the file.</summary>
public enum CsvStopReason
{
    TooLarge,
    TooManyRows,
}

/// <summary>The whole file is refused; this is the first and only item. <paramref name="StoppedBy"/> is set when a limit refused it.</summary>
public sealed record CsvHeaderProblem(string Message, CsvStopReason? StoppedBy = null) : CsvItem;

/// <param name="OptedOut">The row's opt-out column says yes (true, yes, y or 1); false without such a column.</param>
public sealed record CsvContactRow(
    int RowNumber,
    string? Name,
    string Phone,
    string? Email,
    string[] Tags,
    IReadOnlyDictionary<string, string> Attributes,
    bool OptedOut = false) : CsvItem;

/// <summary>
/// A single row was skipped; reading goes on, unless <paramref name="StoppedBy"/> is set: then the reader
/// stopped at a limit here, this is the last item and the rest was not read.
/// </summary>
public sealed record CsvRowError(int RowNumber, string Error, CsvStopReason? StoppedBy = null) : CsvItem;

internal sealed record CsvReadLimits(
    long MaxBytes = ContactCsv.MaxBytes,
    int MaxRows = ContactCsv.MaxRows,
    int ChunkSize = ContactCsv.SniffBytes);

public static class ContactCsv
{
    public const long MaxBytes = 10 * 1024 * 1024;
    public const int MaxRows = 200_000;
    public const int MaxFieldLength = 1_000;
    public const int MaxColumns = 1_000;

    internal const int SniffBytes = 64 * 1024;

    public static IReadOnlyList<string> PhoneColumnNames { get; } = ["phone", "phone_number", "msisdn", "number", "mobile"];

    public static IReadOnlyList<string> OptOutColumnNames { get; } = ["opted_out", "opt_out", "optout", "unsubscribed"];

    internal const string NotUtf8Message =
        "The file is not UTF-8 CSV text. Save it as \"CSV UTF-8 (comma delimited)\" and upload it again.";

    private static readonly CsvReadLimits DefaultLimits = new();

    /// <summary>
    /// Reads the header, then yields rows and row errors in file order.
    /// A header problem is the first and only item; a row error with a <see cref="CsvRowError.StoppedBy"/> is the last one.
    /// </summary>
    public static IAsyncEnumerable<CsvItem> ReadAsync(Stream utf8OrBomStream, CancellationToken ct = default) =>
        ReadAsync(utf8OrBomStream, DefaultLimits, ct);

    internal static IAsyncEnumerable<CsvItem> ReadAsync(Stream utf8OrBomStream, CsvReadLimits limits, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(utf8OrBomStream);
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfNegative(limits.MaxBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(limits.MaxRows);
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.ChunkSize, 1);
        return ReadCoreAsync(utf8OrBomStream, limits, ct);
    }

    private static async IAsyncEnumerable<CsvItem> ReadCoreAsync(
        Stream stream,
        CsvReadLimits limits,
        [EnumeratorCancellation] CancellationToken ct)
    {
        // The first read always covers the sniffed start, so BOM and encoding checks do not depend on the chunk size.
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(limits.ChunkSize, SniffBytes));
        try
        {
            var parser = new ContactCsvParser(limits.MaxRows);
            var items = new List<CsvItem>();
            long total = 0;
            var firstChunk = true;
            while (true)
            {
                ct.ThrowIfCancellationRequested();
                // Asking for one byte past the limit is how a stream without a length reveals that it is too large.
                var wanted = (int)Math.Min(firstChunk ? SniffBytes : limits.ChunkSize, limits.MaxBytes + 1 - total);
                var read = await ReadUpToAsync(stream, buffer.AsMemory(0, wanted), ct);
                var endOfStream = read < wanted;
                total += read;
                var overLimit = total > limits.MaxBytes;
                var usable = overLimit ? read - (int)(total - limits.MaxBytes) : read;

                var start = 0;
                if (firstChunk)
                {
                    firstChunk = false;
                    start = HasUtf8Bom(buffer.AsSpan(0, usable)) ? 3 : 0;
                    if (!LooksLikeUtf8Text(buffer.AsSpan(start, usable - start), isFinalBlock: endOfStream))
                    {
                        yield return new CsvHeaderProblem(NotUtf8Message);
                        yield break;
                    }
                }

                parser.Feed(buffer.AsSpan(start, usable - start), items);
                if (!parser.Stopped)
                {
                    if (overLimit)
                    {
                        parser.StopAtSizeLimit(limits.MaxBytes, items);
                    }
                    else if (endOfStream)
                    {
                        parser.Complete(items);
                    }
                }

                foreach (var item in items)
                {
                    yield return item;
                }

                items.Clear();
                if (parser.Stopped || endOfStream || overLimit)
                {
                    yield break;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async ValueTask<int> ReadUpToAsync(Stream stream, Memory<byte> destination, CancellationToken ct)
    {
        var filled = 0;
        while (filled < destination.Length)
        {
            var read = await stream.ReadAsync(destination[filled..], ct);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return filled;
    }

    private static bool HasUtf8Bom(ReadOnlySpan<byte> data) => data.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]);

    // Any NUL or invalid sequence near the start means a spreadsheet, UTF-16 or ANSI (e.g. Windows-1252) file;
    // refusing it is kinder than importing names full of replacement characters.
    private static bool LooksLikeUtf8Text(ReadOnlySpan<byte> head, bool isFinalBlock)
    {
        if (head.Contains((byte)0))
        {
            return false;
        }

        if (!isFinalBlock)
        {
            head = head[..LengthWithoutTruncatedSequence(head)];
        }

        return Utf8.IsValid(head);
    }

    // A chunk boundary can split a multi-byte character; that is not an encoding error.
    private static int LengthWithoutTruncatedSequence(ReadOnlySpan<byte> data)
    {
        var index = data.Length - 1;
        var continuationBytes = 0;
        while (index >= 0 && continuationBytes < 3 && (data[index] & 0xC0) == 0x80)
        {
            index--;
            continuationBytes++;
        }

        if (index < 0)
        {
            return data.Length;
        }

        var lead = data[index];
        var sequenceLength = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return sequenceLength > continuationBytes + 1 ? index : data.Length;
    }

    internal static string FormatSize(long bytes) =>
        bytes % (1024 * 1024) == 0
            ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024)} MB")
            : string.Create(CultureInfo.InvariantCulture, $"{bytes:N0} bytes");
}

/// <summary>
/// Byte-level RFC 4180 state machine. Every structural character is ASCII and UTF-8 never uses ASCII bytes inside
/// a multi-byte sequence, so fields can be split on bytes and decoded (and validated) one row at a time.
/// </summary>
internal sealed class ContactCsvParser(int maxRows)
{
    private const byte Comma = (byte)',';
    private const byte Quote = (byte)'"';
    private const byte Cr = (byte)'\r';
    private const byte Lf = (byte)'\n';

    // Three UTF-8 bytes is the most one UTF-16 char can take, so past this a field is certainly too long
    // and keeping more of it would only cost memory.
    private const int FieldByteCap = 3 * ContactCsv.MaxFieldLength;

    private enum State
    {
        FieldStart,
        Unquoted,
        Quoted,
        QuoteInQuoted,
        AfterClosingQuote,
    }

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

    private byte[] _row = new byte[4096];
    private int _rowLength;
    private readonly List<int> _fieldEnds = [];
    private int _fieldCount;
    private int _fieldStart;
    private bool _fieldAllWhitespace = true;
    private int _tooLongField = -1;
    private bool _textAfterClosingQuote;
    private bool _recordStarted;
    private bool _recordHasQuotes;
    private int _recordLine = 1;
    private int _line = 1;
    private bool _previousWasCr;
    private State _state;
    private Column[]? _columns;
    private int _storedFieldLimit = ContactCsv.MaxColumns + 1;
    private int _dataRows;

    public bool Stopped { get; private set; }

    public void Feed(ReadOnlySpan<byte> data, List<CsvItem> items)
    {
        foreach (var b in data)
        {
            if (Stopped)
            {
                return;
            }

            if (_previousWasCr && b == Lf)
            {
                _previousWasCr = false;
                if (_state == State.Quoted)
                {
                    Append(b);
                }

                continue;
            }

            _previousWasCr = b == Cr;
            var isNewLine = b is Cr or Lf;
            if (!_recordStarted && !isNewLine)
            {
                _recordStarted = true;
                _recordLine = _line;
            }

            if (_state == State.QuoteInQuoted)
            {
                if (b == Quote)
                {
                    Append(b);
                    _state = State.Quoted;
                    continue;
                }

                _state = State.AfterClosingQuote;
            }

            switch (_state)
            {
                case State.FieldStart:
                    if (b == Quote)
                    {
                        _state = State.Quoted;
                        _recordHasQuotes = true;
                    }
                    else if (b == Comma)
                    {
                        EndField();
                    }
                    else if (isNewLine)
                    {
                        EndLine(items);
                    }
                    else
                    {
                        Append(b);
                        _fieldAllWhitespace = IsBlankByte(b);
                        _state = State.Unquoted;
                    }

                    break;

                case State.Unquoted:
                    if (b == Comma)
                    {
                        EndField();
                    }
                    else if (isNewLine)
                    {
                        EndLine(items);
                    }
                    else if (b == Quote && _fieldAllWhitespace)
                    {
                        // Tolerate `a, "b,c"`: blanks before an opening quote are not part of the value.
                        _rowLength = _fieldStart;
                        if (_tooLongField == _fieldCount)
                        {
                            _tooLongField = -1;
                        }

                        _state = State.Quoted;
                        _recordHasQuotes = true;
                    }
                    else
                    {
                        // A stray quote inside an unquoted value (5'10") is kept literally.
                        Append(b);
                        _fieldAllWhitespace &= IsBlankByte(b);
                    }

                    break;

                case State.Quoted:
                    if (b == Quote)
                    {
                        _state = State.QuoteInQuoted;
                    }
                    else
                    {
                        Append(b);
                        if (isNewLine)
                        {
                            _line++;
                        }
                    }

                    break;

                case State.AfterClosingQuote:
                    if (b == Comma)
                    {
                        EndField();
                    }
                    else if (isNewLine)
                    {
                        EndLine(items);
                    }
                    else if (!IsBlankByte(b))
                    {
                        _textAfterClosingQuote = true;
                    }

                    break;
            }
        }
    }

    public void Complete(List<CsvItem> items)
    {
        if (Stopped)
        {
            return;
        }

        if (_state == State.Quoted)
        {
            EndField();
            if (_columns is null)
            {
                Stop(items, new CsvHeaderProblem("The header row has a quote (\") that is never closed."));
                return;
            }

            ProcessDataRow(items, unterminatedQuote: true);
        }
        else
        {
            EndRecord(items);
        }

        if (!Stopped && _columns is null)
        {
            Stop(items, new CsvHeaderProblem("The file is empty."));
            return;
        }

        Stopped = true;
    }

    public void StopAtSizeLimit(long maxBytes, List<CsvItem> items)
    {
        if (Stopped)
        {
            return;
        }

        var size = ContactCsv.FormatSize(maxBytes);
        Stop(items, _columns is null
            ? new CsvHeaderProblem($"The file is larger than {size}.", CsvStopReason.TooLarge)
            : new CsvRowError(_recordStarted ? _recordLine : _line, $"The file is larger than {size}; the rest was not read.", CsvStopReason.TooLarge));
    }

    private void Stop(List<CsvItem> items, CsvItem last)
    {
        items.Add(last);
        Stopped = true;
    }

    private static bool IsBlankByte(byte b) => b is (byte)' ' or (byte)'\t';

    private void Append(byte b)
    {
        if (_fieldCount >= _storedFieldLimit)
        {
            return;
        }

        if (_rowLength - _fieldStart >= FieldByteCap)
        {
            if (_tooLongField < 0)
            {
                _tooLongField = _fieldCount;
            }

            return;
        }

        if (_rowLength == _row.Length)
        {
            Array.Resize(ref _row, _row.Length * 2);
        }

        _row[_rowLength++] = b;
    }

    private void EndField()
    {
        if (_fieldCount < _storedFieldLimit)
        {
            _fieldEnds.Add(_rowLength);
        }

        _fieldCount++;
        _fieldStart = _rowLength;
        _fieldAllWhitespace = true;
        _state = State.FieldStart;
    }

    private void EndLine(List<CsvItem> items)
    {
        EndRecord(items);
        _line++;
    }

    private void EndRecord(List<CsvItem> items)
    {
        if (!_recordStarted)
        {
            return;
        }

        EndField();
        var blank = !_recordHasQuotes && _fieldCount == 1 && _row.AsSpan(0, _rowLength).IndexOfAnyExcept((byte)' ', (byte)'\t') < 0;
        if (!blank)
        {
            if (_columns is null)
            {
                ProcessHeader(items);
            }
            else
            {
                ProcessDataRow(items, unterminatedQuote: false);
            }
        }

        _rowLength = 0;
        _fieldStart = 0;
        _fieldEnds.Clear();
        _fieldCount = 0;
        _tooLongField = -1;
        _textAfterClosingQuote = false;
        _recordStarted = false;
        _recordHasQuotes = false;
        _state = State.FieldStart;
    }

    private ReadOnlySpan<byte> Field(int index) =>
        _row.AsSpan()[(index == 0 ? 0 : _fieldEnds[index - 1]).._fieldEnds[index]];

    private string FieldText(int index) => Encoding.UTF8.GetString(Field(index)).Trim();

    private int FindTooLongField()
    {
        if (_tooLongField >= 0)
        {
            return _tooLongField;
        }

        var stored = Math.Min(_fieldCount, _storedFieldLimit);
        for (var i = 0; i < stored; i++)
        {
            var field = Field(i);
            if (field.Length > ContactCsv.MaxFieldLength && Encoding.UTF8.GetCharCount(field) > ContactCsv.MaxFieldLength)
            {
                return i;
            }
        }

        return -1;
    }

    private void ProcessHeader(List<CsvItem> items)
    {
        var problem = FindHeaderProblem(out var columns);
        if (problem is not null)
        {
            Stop(items, new CsvHeaderProblem(problem));
            return;
        }

        _columns = columns;
        // One extra stored field is enough to report "has N fields"; the count itself is tracked without storing.
        _storedFieldLimit = columns.Length + 1;
    }

    private string? FindHeaderProblem(out Column[] columns)
    {
        columns = [];
        if (_fieldCount > ContactCsv.MaxColumns)
        {
            return $"The header has {_fieldCount.ToString("N0", CultureInfo.InvariantCulture)} columns; at most {ContactCsv.MaxColumns.ToString("N0", CultureInfo.InvariantCulture)} are allowed.";
        }

        if (FindTooLongField() >= 0)
        {
            return $"A column name in the header is longer than {ContactCsv.MaxFieldLength.ToString("N0", CultureInfo.InvariantCulture)} characters.";
        }

        if (!Utf8.IsValid(_row.AsSpan(0, _rowLength)))
        {
            return ContactCsv.NotUtf8Message;
        }

        if (_textAfterClosingQuote)
        {
            return "The header has text after a closing quote; put each whole column name inside the quotes.";
        }

        var result = new Column[_fieldCount];
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < _fieldCount; i++)
        {
            var header = FieldText(i);
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
            if (_fieldCount == 1)
            {
                var only = Field(0);
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

    private void ProcessDataRow(List<CsvItem> items, bool unterminatedQuote)
    {
        _dataRows++;
        if (_dataRows > maxRows)
        {
            Stop(items, new CsvRowError(_recordLine,
                $"The file has more than {maxRows.ToString("N0", CultureInfo.InvariantCulture)} rows; the rest was not read.", CsvStopReason.TooManyRows));
            return;
        }

        var error = FindRowError(unterminatedQuote);
        items.Add(error is null ? BuildRow() : new CsvRowError(_recordLine, error));
    }

    private string? FindRowError(bool unterminatedQuote)
    {
        var columns = _columns!;
        if (unterminatedQuote)
        {
            return "The row has a quote (\") that is never closed; the rest of the file was read as part of this row.";
        }

        if (_fieldCount != columns.Length)
        {
            return $"The row has {_fieldCount.ToString(CultureInfo.InvariantCulture)} fields; the header has {columns.Length.ToString(CultureInfo.InvariantCulture)}.";
        }

        var tooLong = FindTooLongField();
        if (tooLong >= 0)
        {
            return $"The value in column '{columns[tooLong].Header}' is longer than {ContactCsv.MaxFieldLength.ToString("N0", CultureInfo.InvariantCulture)} characters.";
        }

        if (!Utf8.IsValid(_row.AsSpan(0, _rowLength)))
        {
            return "The row contains bytes that are not valid UTF-8 text.";
        }

        if (_textAfterClosingQuote)
        {
            return "The row has text after a closing quote; put the whole value inside the quotes.";
        }

        return null;
    }

    private CsvItem BuildRow()
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

            var value = FieldText(i);
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
            return new CsvRowError(_recordLine, "Phone is required.");
        }

        return new CsvContactRow(
            _recordLine,
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
