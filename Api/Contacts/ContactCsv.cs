using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Unicode;
using CsvHelper;

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
    RowTooLarge,
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
    int MaxRowBytes = ContactCsv.MaxRowBytes);

/// <summary>
/// Reads contact CSV with CsvHelper (decision 0024): RFC 4180 quoting, any line ending, UTF-8 only. The
/// parsing is the library's; this class holds what is ours: the encoding check, the limits, which column
/// is which, and a per-row report with the line each row starts on.
/// </summary>
public static class ContactCsv
{
    public const long MaxBytes = 10 * 1024 * 1024;
    public const int MaxRows = 200_000;
    public const int MaxFieldLength = 1_000;
    public const int MaxColumns = 1_000;

    // A row of 50 attributes of 1,000 characters is far below this; what is above it is a quote that is never
    // closed or not contact data, and the reader must not buffer it.
    public const int MaxRowBytes = 1024 * 1024;

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
        ArgumentOutOfRangeException.ThrowIfLessThan(limits.MaxRowBytes, 256);
        return ReadCoreAsync(utf8OrBomStream, limits, ct);
    }

    private static async IAsyncEnumerable<CsvItem> ReadCoreAsync(
        Stream stream,
        CsvReadLimits limits,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var input = new SizeLimitedStream(stream, limits.MaxBytes);
        var head = await input.PeekAsync(SniffBytes, ct);
        var bom = HasUtf8Bom(head.Span) ? 3 : 0;
        if (!LooksLikeUtf8Text(head.Span[bom..], isFinalBlock: input.EndedWithinLimit))
        {
            yield return new CsvHeaderProblem(NotUtf8Message);
            yield break;
        }

        // The reader scans ahead of the record it returns, so the quoting problems it finds are kept by record
        // number until that record is reached.
        var malformed = new Dictionary<long, CsvMalformedReason>();
        var options = new CsvReaderOptions
        {
            Separator = ',',
            HasHeader = false,
            Mode = CsvMode.Rfc4180,
            AllowLineBreaksInQuotes = true,
            // Blanks around values are not part of them, and `a, "b,c"` is a quoted field; blank lines are skipped.
            TrimWhitespace = true,
            SkipEmptyLines = true,
            TrackLineNumbers = true,
            MaxRecordSize = limits.MaxRowBytes,
            OnMalformedRecord = record => malformed.TryAdd(record.RecordNumber, record.Reason),
        };
        var reader = CsvReader.Create(input, options, leaveOpen: true);
        await using (reader)
        {
            var rows = new ContactRowReader(limits.MaxRows);
            // A record is only known to be whole once the next one is read or the input ended within the limit:
            // the one before a cut at the size limit is held back, never reported as if it were the file's.
            CsvItem? pending = null;
            var lastLine = 0;
            var lastWasHeader = true;
            while (true)
            {
                bool more;
                CsvFormatException? recordTooLarge = null;
                try
                {
                    more = await reader.ReadAsync(ct);
                }
                catch (CsvFormatException error)
                {
                    // With quoting problems recovered and any field count allowed, the only one left is MaxRecordSize.
                    (more, recordTooLarge) = (false, error);
                }

                if (pending is not null && (more || (recordTooLarge is not null && !input.Exceeded)))
                {
                    yield return pending;
                    if (pending is CsvHeaderProblem)
                    {
                        yield break;
                    }

                    pending = null;
                }

                if (recordTooLarge is not null && !input.Exceeded)
                {
                    var line = (int)Math.Max(recordTooLarge.LineNumber, lastLine + 1);
                    var message = string.Create(CultureInfo.InvariantCulture,
                        $"Row {line} is larger than {FormatSize(limits.MaxRowBytes)} (a quote that is never closed, or not contact data); the rest was not read.");
                    yield return rows.HasHeader
                        ? new CsvRowError(line, message, CsvStopReason.RowTooLarge)
                        : new CsvHeaderProblem(message, CsvStopReason.RowTooLarge);
                    yield break;
                }

                if (!more)
                {
                    break;
                }

                lastWasHeader = !rows.HasHeader;
                lastLine = (int)reader.LineNumber;
                CsvMalformedReason? reason = malformed.Remove(reader.RowNumber, out var found) ? found : null;
                pending = rows.Read(reader, lastLine, reason);
                if (pending is CsvRowError { StoppedBy: not null })
                {
                    yield return pending;
                    yield break;
                }
            }

            if (input.Exceeded)
            {
                var message = $"The file is larger than {FormatSize(limits.MaxBytes)}";
                yield return lastWasHeader
                    ? new CsvHeaderProblem(message + ".", CsvStopReason.TooLarge)
                    : new CsvRowError(lastLine, message + "; the rest was not read.", CsvStopReason.TooLarge);
                yield break;
            }

            if (pending is not null)
            {
                yield return pending;
            }
            else if (!rows.HasHeader)
            {
                yield return new CsvHeaderProblem("The file is empty.");
            }
        }
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

    // The sniffed start can end inside a multi-byte character; that is not an encoding error.
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
/// Reads at most <c>maxBytes</c> of the body (plus one byte, which is how a stream without a length reveals that
/// it is larger) and lets the start be looked at before the CSV reader gets it.
/// </summary>
internal sealed class SizeLimitedStream(Stream inner, long maxBytes) : Stream
{
    private byte[] _head = [];
    private int _headOffset;
    private long _served;

    /// <summary>The body is larger than the limit; what was read stops at the limit.</summary>
    public bool Exceeded { get; private set; }

    /// <summary>The body ended before the limit (known once a read came back short).</summary>
    public bool EndedWithinLimit { get; private set; }

    public async ValueTask<ReadOnlyMemory<byte>> PeekAsync(int count, CancellationToken ct)
    {
        var head = new byte[(int)Math.Min(count, maxBytes)];
        var filled = 0;
        while (filled < head.Length)
        {
            var read = await inner.ReadAsync(head.AsMemory(filled), ct);
            if (read == 0)
            {
                EndedWithinLimit = true;
                break;
            }

            filled += read;
        }

        _head = head[..filled];
        return _head;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        if (_headOffset < _head.Length)
        {
            var count = Math.Min(buffer.Length, _head.Length - _headOffset);
            _head.AsMemory(_headOffset, count).CopyTo(buffer);
            _headOffset += count;
            _served += count;
            return count;
        }

        if (EndedWithinLimit || Exceeded)
        {
            return 0;
        }

        if (_served == maxBytes)
        {
            var probe = new byte[1];
            Exceeded = await inner.ReadAsync(probe, cancellationToken) > 0;
            EndedWithinLimit = !Exceeded;
            return 0;
        }

        var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, maxBytes - _served)], cancellationToken);
        _served += read;
        EndedWithinLimit = read == 0;
        return read;
    }

    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
