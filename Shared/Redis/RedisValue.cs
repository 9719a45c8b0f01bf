using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Ujumbe.Shared.Redis;

/// <summary>The RESP2 reply types.</summary>
public enum RedisValueKind
{
    /// <summary>A null bulk string (<c>$-1</c>) or null array (<c>*-1</c>): a missing key, a Lua false/nil.</summary>
    Null,

    /// <summary><c>+OK</c>, <c>+PONG</c>.</summary>
    SimpleString,

    /// <summary>
    /// <c>-ERR …</c>. An error answering a command is thrown as <see cref="RedisServerException"/>; this kind
    /// appears only nested inside an array (a Lua script returning an error table).
    /// </summary>
    Error,

    /// <summary><c>:42</c>.</summary>
    [SuppressMessage("Naming", "CA1720:Identifier contains type name", Justification = "RESP's own name for the type.")]
    Integer,

    /// <summary><c>$5\r\nhello</c>: binary-safe bytes.</summary>
    BulkString,

    /// <summary><c>*2\r\n…</c>: elements of any kind, nested arrays included.</summary>
    Array,
}

/// <summary>One reply from the server: a small immutable value (no allocation for integers, nulls and OK).</summary>
public readonly struct RedisValue : IEquatable<RedisValue>
{
    private readonly object? _payload; // string (simple string, error), byte[] (bulk string), RedisValue[] (array)
    private readonly long _integer;

    private RedisValue(RedisValueKind kind, object? payload, long integer)
    {
        Kind = kind;
        _payload = payload;
        _integer = integer;
    }

    public static RedisValue Null => default;

    public RedisValueKind Kind { get; }

    public bool IsNull => Kind == RedisValueKind.Null;

    /// <summary>Elements of an array reply (0 for any other kind).</summary>
    public int Length => _payload is RedisValue[] elements ? elements.Length : 0;

    /// <summary>Element <paramref name="index"/> of an array reply.</summary>
    public RedisValue this[int index] => Kind == RedisValueKind.Array
        ? ((RedisValue[])_payload!)[index]
        : throw new InvalidOperationException($"A {Kind} reply has no elements.");

    internal static RedisValue FromSimpleString(string text) => new(RedisValueKind.SimpleString, text, 0);

    internal static RedisValue FromError(string message) => new(RedisValueKind.Error, message, 0);

    internal static RedisValue FromInteger(long value) => new(RedisValueKind.Integer, null, value);

    internal static RedisValue FromBulkString(byte[] bytes) => new(RedisValueKind.BulkString, bytes, 0);

    internal static RedisValue FromArray(RedisValue[] elements) => new(RedisValueKind.Array, elements, 0);

    /// <summary>The value as text (bulk strings decoded as UTF-8, integers in invariant form); null for <see cref="RedisValueKind.Null"/>.</summary>
    public string? AsString() => Kind switch
    {
        RedisValueKind.Null => null,
        RedisValueKind.SimpleString or RedisValueKind.Error => (string)_payload!,
        RedisValueKind.Integer => _integer.ToString(CultureInfo.InvariantCulture),
        RedisValueKind.BulkString => Encoding.UTF8.GetString((byte[])_payload!),
        _ => throw new InvalidCastException("An array reply is not a string."),
    };

    /// <summary>
    /// The value as bytes; null for <see cref="RedisValueKind.Null"/>. For a bulk string this is the array the
    /// reply was read into (not a copy).
    /// </summary>
    public byte[]? AsBytes() => Kind switch
    {
        RedisValueKind.Null => null,
        RedisValueKind.BulkString => (byte[])_payload!,
        RedisValueKind.SimpleString or RedisValueKind.Error or RedisValueKind.Integer => Encoding.UTF8.GetBytes(AsString()!),
        _ => throw new InvalidCastException("An array reply is not a byte string."),
    };

    /// <summary>An integer reply, or a string holding a whole number.</summary>
    public long AsInt64()
    {
        if (Kind == RedisValueKind.Integer)
        {
            return _integer;
        }
        if (Kind is RedisValueKind.BulkString or RedisValueKind.SimpleString
            && long.TryParse(AsString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }
        throw new InvalidCastException($"A {Kind} reply ({this}) is not an integer.");
    }

    /// <summary>The elements of an array reply (empty for a null reply).</summary>
    public IReadOnlyList<RedisValue> AsArray() => Kind switch
    {
        RedisValueKind.Array => (RedisValue[])_payload!,
        RedisValueKind.Null => [],
        _ => throw new InvalidCastException($"A {Kind} reply is not an array."),
    };

    public bool Equals(RedisValue other)
    {
        if (Kind != other.Kind)
        {
            return false;
        }
        return Kind switch
        {
            RedisValueKind.Null => true,
            RedisValueKind.Integer => _integer == other._integer,
            RedisValueKind.SimpleString or RedisValueKind.Error => string.Equals((string)_payload!, (string)other._payload!, StringComparison.Ordinal),
            RedisValueKind.BulkString => ((byte[])_payload!).AsSpan().SequenceEqual((byte[])other._payload!),
            _ => ((RedisValue[])_payload!).AsSpan().SequenceEqual((RedisValue[])other._payload!),
        };
    }

    public override bool Equals(object? obj) => obj is RedisValue other && Equals(other);

    public override int GetHashCode() => Kind switch
    {
        RedisValueKind.Null => 0,
        RedisValueKind.Integer => _integer.GetHashCode(),
        RedisValueKind.SimpleString or RedisValueKind.Error => StringComparer.Ordinal.GetHashCode((string)_payload!),
        RedisValueKind.BulkString => ((byte[])_payload!).Length,
        _ => ((RedisValue[])_payload!).Length,
    };

    public static bool operator ==(RedisValue left, RedisValue right) => left.Equals(right);

    public static bool operator !=(RedisValue left, RedisValue right) => !left.Equals(right);

    /// <summary>For messages and debugging: nulls as <c>(nil)</c>, arrays as <c>[a, b]</c>.</summary>
    public override string ToString() => Kind switch
    {
        RedisValueKind.Null => "(nil)",
        RedisValueKind.Array => "[" + string.Join(", ", (RedisValue[])_payload!) + "]",
        RedisValueKind.Error => "(error) " + (string)_payload!,
        _ => AsString()!,
    };
}
