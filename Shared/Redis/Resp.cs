using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Ujumbe.Shared.Redis;

/// <summary>Encodes commands as RESP2 arrays of bulk strings.</summary>
internal static class RespWriter
{
    /// <summary>Throws before anything is written, so a bad argument can never leave half a command on the wire.</summary>
    public static void Validate(string command, ReadOnlySpan<RedisArgument> arguments)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        for (var i = 0; i < arguments.Length; i++)
        {
            if (arguments[i].IsDefault)
            {
                throw new ArgumentException($"Argument {i} of {command} is empty (default RedisArgument).", nameof(arguments));
            }
        }
    }

    public static void WriteCommand(IBufferWriter<byte> writer, string command, ReadOnlySpan<RedisArgument> arguments)
    {
        WriteHeader(writer, (byte)'*', arguments.Length + 1);
        WriteBulk(writer, new RedisArgument(command));
        foreach (ref readonly var argument in arguments)
        {
            WriteBulk(writer, argument);
        }
    }

    private static void WriteBulk(IBufferWriter<byte> writer, in RedisArgument argument)
    {
        WriteHeader(writer, (byte)'$', argument.GetByteCount());
        argument.WriteTo(writer);
        var end = writer.GetSpan(2);
        end[0] = (byte)'\r';
        end[1] = (byte)'\n';
        writer.Advance(2);
    }

    private static void WriteHeader(IBufferWriter<byte> writer, byte type, int length)
    {
        var span = writer.GetSpan(16);
        span[0] = type;
        Utf8Formatter.TryFormat(length, span[1..], out var written);
        span[1 + written] = (byte)'\r';
        span[2 + written] = (byte)'\n';
        writer.Advance(3 + written);
    }
}

/// <summary>
/// Parses RESP2 replies from a buffer that may hold a partial reply. Malformed input throws
/// <see cref="RedisConnectionException"/> (the connection cannot be trusted after it).
/// </summary>
internal static class RespReader
{
    private const int MaxDepth = 64;
    private const int MaxLineLength = 64 * 1024;
    private const long MaxArrayLength = 1 << 28;
    private const long MaxBulkLength = 512L * 1024 * 1024; // Redis's own proto-max-bulk-len default

    private static readonly RedisValue Ok = RedisValue.FromSimpleString("OK");
    private static readonly RedisValue Pong = RedisValue.FromSimpleString("PONG");
    private static readonly RedisValue Queued = RedisValue.FromSimpleString("QUEUED");

    /// <summary>Reads one complete reply from the front of <paramref name="buffer"/> and slices it off; false if incomplete.</summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out RedisValue value)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryPeek(out var type))
        {
            value = default;
            return false;
        }
        if (type == (byte)'*')
        {
            // Check that the whole (possibly large, nested) array is here before allocating anything for it.
            var probe = reader;
            if (!TryReadValue(ref probe, materialize: false, 0, out _))
            {
                value = default;
                return false;
            }
        }
        if (!TryReadValue(ref reader, materialize: true, 0, out value))
        {
            return false;
        }
        buffer = buffer.Slice(reader.Position);
        return true;
    }

    private static bool TryReadValue(ref SequenceReader<byte> reader, bool materialize, int depth, out RedisValue value)
    {
        value = default;
        if (!reader.TryRead(out var type) || !TryReadLine(ref reader, out var line))
        {
            return false;
        }
        switch (type)
        {
            case (byte)'+':
                if (materialize)
                {
                    value = SimpleString(line);
                }
                return true;
            case (byte)'-':
                if (materialize)
                {
                    value = RedisValue.FromError(Decode(line));
                }
                return true;
            case (byte)':':
                value = RedisValue.FromInteger(ParseInteger(line));
                return true;
            case (byte)'$':
                return TryReadBulk(ref reader, ParseInteger(line), materialize, out value);
            case (byte)'*':
                return TryReadArray(ref reader, ParseInteger(line), materialize, depth, out value);
            default:
                throw Protocol($"unexpected reply type '{(char)type}' (0x{type:x2})");
        }
    }

    private static bool TryReadBulk(ref SequenceReader<byte> reader, long length, bool materialize, out RedisValue value)
    {
        value = default;
        if (length == -1)
        {
            return true;
        }
        if (length < 0 || length > MaxBulkLength)
        {
            throw Protocol($"bulk string length {length}");
        }
        if (reader.Remaining < length + 2)
        {
            return false;
        }
        if (materialize)
        {
            var bytes = length == 0 ? [] : new byte[length];
            reader.TryCopyTo(bytes);
            value = RedisValue.FromBulkString(bytes);
        }
        reader.Advance(length);
        if (!reader.IsNext("\r\n"u8, advancePast: true))
        {
            throw Protocol("bulk string not followed by CRLF");
        }
        return true;
    }

    private static bool TryReadArray(ref SequenceReader<byte> reader, long count, bool materialize, int depth, out RedisValue value)
    {
        value = default;
        if (count == -1)
        {
            return true;
        }
        if (count < 0 || count > MaxArrayLength || depth >= MaxDepth)
        {
            throw Protocol(depth >= MaxDepth ? "arrays nested too deep" : $"array length {count}");
        }
        if (count > reader.Remaining / 3)
        {
            return false; // every element takes at least three bytes; not all here yet
        }
        var elements = materialize ? new RedisValue[count] : null;
        for (var i = 0; i < count; i++)
        {
            if (!TryReadValue(ref reader, materialize, depth + 1, out var element))
            {
                return false;
            }
            if (elements is not null)
            {
                elements[i] = element;
            }
        }
        if (elements is not null)
        {
            value = RedisValue.FromArray(elements);
        }
        return true;
    }

    private static bool TryReadLine(ref SequenceReader<byte> reader, out ReadOnlySequence<byte> line)
    {
        if (reader.TryReadTo(out line, "\r\n"u8, advancePastDelimiter: true))
        {
            if (line.Length > MaxLineLength)
            {
                throw Protocol("reply line too long");
            }
            return true;
        }
        if (reader.Remaining > MaxLineLength)
        {
            throw Protocol("reply line too long");
        }
        return false;
    }

    private static long ParseInteger(ReadOnlySequence<byte> line)
    {
        Span<byte> scratch = stackalloc byte[24];
        if (line.Length is 0 or > 21)
        {
            throw Protocol("malformed integer");
        }
        line.CopyTo(scratch);
        if (!Utf8Parser.TryParse(scratch[..(int)line.Length], out long number, out var consumed) || consumed != line.Length)
        {
            throw Protocol("malformed integer");
        }
        return number;
    }

    private static RedisValue SimpleString(ReadOnlySequence<byte> line)
    {
        if (line.IsSingleSegment)
        {
            var span = line.FirstSpan;
            if (span.SequenceEqual("OK"u8))
            {
                return Ok;
            }
            if (span.SequenceEqual("PONG"u8))
            {
                return Pong;
            }
            if (span.SequenceEqual("QUEUED"u8))
            {
                return Queued;
            }
        }
        return RedisValue.FromSimpleString(Decode(line));
    }

    private static string Decode(ReadOnlySequence<byte> line) => Encoding.UTF8.GetString(line);

    private static RedisConnectionException Protocol(string what) =>
        new($"Redis protocol error: {what}; the connection is closed.");
}
