namespace Ujumbe.Shared.Redis;

/// <summary>Base of every error the Redis client raises; catch this to fall back when Redis is unavailable.</summary>
public class RedisException : Exception
{
    public RedisException()
    {
    }

    public RedisException(string message) : base(message)
    {
    }

    public RedisException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

/// <summary>The server answered the command with an error reply (<c>-ERR …</c>, <c>-WRONGTYPE …</c>); the connection is fine.</summary>
public sealed class RedisServerException : RedisException
{
    public RedisServerException()
    {
    }

    public RedisServerException(string message) : base(message)
    {
    }

    public RedisServerException(string message, Exception? innerException) : base(message, innerException)
    {
    }

    /// <summary>The error's first word: <c>ERR</c>, <c>WRONGTYPE</c>, <c>NOSCRIPT</c>, <c>NOAUTH</c>, …</summary>
    public string ErrorCode
    {
        get
        {
            var space = Message.IndexOf(' ', StringComparison.Ordinal);
            return space < 0 ? Message : Message[..space];
        }
    }
}

/// <summary>
/// No usable connection: the server cannot be reached, refused the handshake (authentication), or the
/// connection broke while the command was pending. The client keeps reconnecting in the background.
/// </summary>
public class RedisConnectionException : RedisException
{
    public RedisConnectionException()
    {
    }

    public RedisConnectionException(string message) : base(message)
    {
    }

    public RedisConnectionException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

/// <summary>The reply did not arrive within the command timeout (the connection stays open).</summary>
public sealed class RedisTimeoutException : RedisException
{
    public RedisTimeoutException()
    {
    }

    public RedisTimeoutException(string message) : base(message)
    {
    }

    public RedisTimeoutException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}
