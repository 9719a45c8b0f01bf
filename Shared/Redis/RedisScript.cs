using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Ujumbe.Shared.Redis;

/// <summary>
/// A Lua script, with the SHA1 Redis knows it by computed once. <see cref="IRedis.EvalAsync"/> sends EVALSHA
/// and falls back to EVAL when the server answers NOSCRIPT (its script cache is emptied by a restart or
/// SCRIPT FLUSH), which loads it again. Create one instance per script and keep it (a static field).
/// </summary>
public sealed class RedisScript
{
    [SuppressMessage("Security", "CA5350:Do Not Use Weak Cryptographic Algorithms",
        Justification = "Redis names scripts by SHA1; this is an identifier, not a security measure.")]
    public RedisScript(string source)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(source);
        Source = source;
        Sha1 = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(source)));
    }

    public string Source { get; }

    /// <summary>Lowercase hex, as SCRIPT LOAD returns it.</summary>
    public string Sha1 { get; }

    public override string ToString() => "script " + Sha1;
}

/// <summary>A message received on a subscribed channel.</summary>
public readonly record struct RedisMessage(string Channel, ReadOnlyMemory<byte> Payload)
{
    /// <summary>The payload decoded as UTF-8.</summary>
    public string Text => Encoding.UTF8.GetString(Payload.Span);
}

/// <summary>Which of the client's two connections changed state.</summary>
public enum RedisConnectionRole
{
    /// <summary>The multiplexed connection every command uses.</summary>
    Commands,

    /// <summary>The connection in subscriber mode (opened on the first subscription).</summary>
    Subscriptions,
}

/// <summary>A connection came up, or went down (with the reason).</summary>
public sealed class RedisConnectionStateChangedEventArgs(RedisConnectionRole role, bool isConnected, string endpoint, Exception? error) : EventArgs
{
    public RedisConnectionRole Role { get; } = role;

    public bool IsConnected { get; } = isConnected;

    public string Endpoint { get; } = endpoint;

    /// <summary>Why the connection went down; null when it came up.</summary>
    public Exception? Error { get; } = error;
}
