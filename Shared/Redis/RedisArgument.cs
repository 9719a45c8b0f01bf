using System.Globalization;
using System.Text;

namespace Ujumbe.Shared.Redis;

/// <summary>
/// One argument of a command: text (sent as UTF-8), bytes, or a number (sent in invariant decimal form, as
/// Redis expects). Converts implicitly, so <c>redis.ExecuteAsync("INCRBY", [key, 5])</c> reads naturally.
/// </summary>
public readonly struct RedisArgument : IEquatable<RedisArgument>
{
    private readonly string? _text;
    private readonly ReadOnlyMemory<byte> _bytes;
    private readonly long _number; // the integer, or the double's bits
    private readonly ArgumentKind _kind;

    private enum ArgumentKind : byte
    {
        None,
        Text,
        Bytes,
        Integer,
        Double,
    }

    public RedisArgument(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _text = text;
        _kind = ArgumentKind.Text;
    }

    public RedisArgument(ReadOnlyMemory<byte> bytes)
    {
        _bytes = bytes;
        _kind = ArgumentKind.Bytes;
    }

    public RedisArgument(long number)
    {
        _number = number;
        _kind = ArgumentKind.Integer;
    }

    public RedisArgument(double number)
    {
        if (double.IsNaN(number))
        {
            throw new ArgumentException("Redis has no NaN.", nameof(number));
        }
        _number = BitConverter.DoubleToInt64Bits(number);
        _kind = ArgumentKind.Double;
    }

    public static implicit operator RedisArgument(string text) => new(text);

    public static implicit operator RedisArgument(byte[] bytes) => new((ReadOnlyMemory<byte>)(bytes ?? throw new ArgumentNullException(nameof(bytes))));

    public static implicit operator RedisArgument(ReadOnlyMemory<byte> bytes) => new(bytes);

    public static implicit operator RedisArgument(long number) => new(number);

    public static implicit operator RedisArgument(int number) => new((long)number);

    public static implicit operator RedisArgument(double number) => new(number);

    public static RedisArgument FromString(string text) => new(text);

    public static RedisArgument FromBytes(ReadOnlyMemory<byte> bytes) => new(bytes);

    public static RedisArgument FromInt64(long number) => new(number);

    public static RedisArgument FromInt32(int number) => new((long)number);

    public static RedisArgument FromDouble(double number) => new(number);

    internal bool IsDefault => _kind == ArgumentKind.None;

    /// <summary>Encoded length in bytes.</summary>
    internal int GetByteCount()
    {
        Span<byte> scratch = stackalloc byte[32];
        return _kind switch
        {
            ArgumentKind.Text => Encoding.UTF8.GetByteCount(_text!),
            ArgumentKind.Bytes => _bytes.Length,
            _ => FormatNumber(scratch),
        };
    }

    /// <summary>Writes the encoded bytes (exactly <see cref="GetByteCount"/> of them).</summary>
    internal void WriteTo(System.Buffers.IBufferWriter<byte> writer)
    {
        switch (_kind)
        {
            case ArgumentKind.Text:
                Encoding.UTF8.GetBytes(_text.AsSpan(), writer);
                break;
            case ArgumentKind.Bytes:
                System.Buffers.BuffersExtensions.Write(writer, _bytes.Span);
                break;
            default:
                var span = writer.GetSpan(32);
                writer.Advance(FormatNumber(span));
                break;
        }
    }

    private int FormatNumber(Span<byte> destination)
    {
        if (_kind == ArgumentKind.Integer)
        {
            _number.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture);
            return written;
        }
        var value = BitConverter.Int64BitsToDouble(_number);
        if (double.IsInfinity(value))
        {
            var text = value > 0 ? "+inf"u8 : "-inf"u8;
            text.CopyTo(destination);
            return text.Length;
        }
        value.TryFormat(destination, out var length, "R", CultureInfo.InvariantCulture);
        return length;
    }

    public bool Equals(RedisArgument other) =>
        _kind == other._kind && _number == other._number && string.Equals(_text, other._text, StringComparison.Ordinal)
        && _bytes.Span.SequenceEqual(other._bytes.Span);

    public override bool Equals(object? obj) => obj is RedisArgument other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_kind, _number, _text, _bytes.Length);

    public static bool operator ==(RedisArgument left, RedisArgument right) => left.Equals(right);

    public static bool operator !=(RedisArgument left, RedisArgument right) => !left.Equals(right);

    public override string ToString() => _kind switch
    {
        ArgumentKind.Text => _text!,
        ArgumentKind.Bytes => $"({_bytes.Length} bytes)",
        ArgumentKind.None => "(none)",
        _ => Encoding.ASCII.GetString(Format()),
    };

    private byte[] Format()
    {
        Span<byte> scratch = stackalloc byte[32];
        return scratch[..FormatNumber(scratch)].ToArray();
    }
}
