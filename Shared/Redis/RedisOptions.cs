using System.Globalization;
using System.Text;

namespace Ujumbe.Shared.Redis;

/// <summary>
/// Settings of a <see cref="RedisClient"/>, parsed from a connection string in the
/// StackExchange.Redis format that Aspire injects as <c>ConnectionStrings__redis</c>:
/// <c>host:port[,password=…][,user=…][,defaultDatabase=N][,ssl=false][,connectTimeout=ms][,abortConnect=false]</c>
/// (plus <c>asyncTimeout=ms</c>/<c>syncTimeout=ms</c> for the per-command timeout and <c>name=</c> for
/// CLIENT SETNAME). Anything else is refused with a message naming it rather than silently ignored.
/// </summary>
public sealed record RedisOptions
{
    private const string Supported =
        "password, user, defaultDatabase, ssl=false, connectTimeout, asyncTimeout, syncTimeout, abortConnect, name";

    public RedisOptions(string host, int port = DefaultPort)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        Host = host;
        Port = port;
    }

    public const int DefaultPort = 6379;

    public string Host { get; }

    public int Port { get; }

    /// <summary>ACL user name (Redis 6+); sent as <c>AUTH user password</c>. Needs <see cref="Password"/>.</summary>
    public string? User { get; init; }

    public string? Password { get; init; }

    /// <summary>Database selected (SELECT) on every connection.</summary>
    public int DefaultDatabase { get; init; }

    /// <summary>Name shown by CLIENT LIST (CLIENT SETNAME on every connection).</summary>
    public string? ClientName { get; init; }

    /// <summary>Socket connect plus handshake (AUTH, SELECT, PING), per attempt. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a command may wait for its reply before it fails with <see cref="RedisTimeoutException"/>.
    /// The connection stays open: a late reply is read and discarded. Default 2 s.
    /// </summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// <see cref="RedisClient.ConnectAsync(RedisOptions, Microsoft.Extensions.Logging.ILogger{RedisClient}?, CancellationToken)"/>
    /// throws when the first attempt fails (default, as in StackExchange.Redis); with <c>abortConnect=false</c>
    /// it returns a client that keeps reconnecting in the background. The constructor never throws for an
    /// unreachable server.
    /// </summary>
    public bool AbortConnect { get; init; } = true;

    /// <summary>First delay between reconnect attempts; doubles up to <see cref="ReconnectMaxDelay"/>.</summary>
    public TimeSpan ReconnectMinDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A connection whose oldest unanswered command has waited this long is considered dead (a hung or
    /// unreachable server) and is dropped and reconnected, so commands fail fast instead of each waiting
    /// for its timeout. Default: the larger of 10 s and five command timeouts.
    /// </summary>
    public TimeSpan? StalledConnectionTimeout { get; init; }

    /// <summary>
    /// Commands sent but not yet answered on one connection above which new commands fail at once with
    /// <see cref="RedisConnectionException"/> rather than pile up behind a slow server. Default 100,000.
    /// </summary>
    public int MaxPendingCommands { get; init; } = 100_000;

    internal TimeSpan EffectiveStalledConnectionTimeout =>
        StalledConnectionTimeout ?? TimeSpan.FromTicks(Math.Max(TimeSpan.FromSeconds(10).Ticks, CommandTimeout.Ticks * 5));

    /// <summary><c>host:port</c> (IPv6 addresses in brackets).</summary>
    public string Endpoint => (Host.Contains(':', StringComparison.Ordinal) ? "[" + Host + "]" : Host) + ":" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses a StackExchange.Redis-style connection string; see the type's summary for what it accepts.</summary>
    /// <exception cref="ArgumentException">Malformed or unsupported content (the message names it).</exception>
    /// <exception cref="NotSupportedException">TLS (<c>ssl=true</c> and the ssl* options).</exception>
    public static RedisOptions Parse(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        string? endpoint = null;
        string? user = null, password = null, name = null;
        int database = 0;
        TimeSpan? connectTimeout = null, commandTimeout = null;
        bool? abortConnect = null;

        foreach (var rawPart in connectionString.Split(','))
        {
            var part = rawPart.Trim();
            if (part.Length == 0)
            {
                continue;
            }
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                if (endpoint is not null)
                {
                    throw new ArgumentException(
                        $"The Redis connection string names more than one endpoint ('{endpoint}', '{part}'); only a single server is supported (no cluster, sentinel or replicas).",
                        nameof(connectionString));
                }
                endpoint = part;
                continue;
            }
            var key = part[..equals].Trim();
            var value = part[(equals + 1)..].Trim();
            switch (key.ToUpperInvariant())
            {
                case "PASSWORD":
                    password = value.Length == 0 ? null : value;
                    break;
                case "USER":
                    user = value.Length == 0 ? null : value;
                    break;
                case "DEFAULTDATABASE":
                    database = ParseInt(key, value, 0, int.MaxValue);
                    break;
                case "NAME":
                    name = value.Length == 0 ? null : value;
                    break;
                case "CONNECTTIMEOUT":
                    connectTimeout = TimeSpan.FromMilliseconds(ParseInt(key, value, 1, int.MaxValue));
                    break;
                case "ASYNCTIMEOUT":
                case "SYNCTIMEOUT":
                    commandTimeout = TimeSpan.FromMilliseconds(ParseInt(key, value, 1, int.MaxValue));
                    break;
                case "ABORTCONNECT":
                    abortConnect = ParseBool(key, value);
                    break;
                case "SSL":
                    if (ParseBool(key, value))
                    {
                        throw new NotSupportedException(
                            "TLS (ssl=true) is not supported by Ujumbe's Redis client yet; connect over plain TCP on a private network, or switch to StackExchange.Redis (docs/decisions/0009-redis-client.md).");
                    }
                    break;
                case "SSLHOST":
                case "SSLPROTOCOLS":
                case "CHECKCERTIFICATEREVOCATION":
                    throw new NotSupportedException(
                        $"'{key}' configures TLS, which is not supported by Ujumbe's Redis client yet (docs/decisions/0009-redis-client.md).");
                case "SERVICENAME":
                    throw new ArgumentException(
                        "'serviceName' selects Redis Sentinel, which is not supported; give the address of one server.", nameof(connectionString));
                default:
                    throw new ArgumentException(
                        $"Unsupported option '{key}' in the Redis connection string; supported: host:port, {Supported}.", nameof(connectionString));
            }
        }

        if (endpoint is null)
        {
            throw new ArgumentException("The Redis connection string has no host:port.", nameof(connectionString));
        }
        var (host, port) = ParseEndpoint(endpoint);
        if (user is not null && password is null)
        {
            throw new ArgumentException("The Redis connection string has 'user' without 'password'.", nameof(connectionString));
        }
        var options = new RedisOptions(host, port)
        {
            User = user,
            Password = password,
            DefaultDatabase = database,
            ClientName = name,
        };
        if (connectTimeout is { } connect)
        {
            options = options with { ConnectTimeout = connect };
        }
        if (commandTimeout is { } command)
        {
            options = options with { CommandTimeout = command };
        }
        if (abortConnect is { } abort)
        {
            options = options with { AbortConnect = abort };
        }
        return options;
    }

    /// <summary>The settings without the password, for logs and messages.</summary>
    public override string ToString()
    {
        var text = new StringBuilder(Endpoint);
        if (User is not null)
        {
            text.Append(",user=").Append(User);
        }
        if (Password is not null)
        {
            text.Append(",password=*****");
        }
        if (DefaultDatabase != 0)
        {
            text.Append(CultureInfo.InvariantCulture, $",defaultDatabase={DefaultDatabase}");
        }
        if (ClientName is not null)
        {
            text.Append(",name=").Append(ClientName);
        }
        text.Append(CultureInfo.InvariantCulture, $",connectTimeout={(long)ConnectTimeout.TotalMilliseconds}");
        text.Append(CultureInfo.InvariantCulture, $",asyncTimeout={(long)CommandTimeout.TotalMilliseconds}");
        text.Append(AbortConnect ? ",abortConnect=true" : ",abortConnect=false");
        return text.ToString();
    }

    private static (string Host, int Port) ParseEndpoint(string endpoint)
    {
        if (endpoint.Contains("://", StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"'{endpoint}' looks like a URI; the Redis connection string is 'host:port,password=…'.", nameof(endpoint));
        }
        string host;
        string? port = null;
        if (endpoint.StartsWith('['))
        {
            var close = endpoint.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new ArgumentException($"Malformed Redis endpoint '{endpoint}' (unclosed '[').", nameof(endpoint));
            }
            host = endpoint[1..close];
            var rest = endpoint[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    throw new ArgumentException($"Malformed Redis endpoint '{endpoint}'.", nameof(endpoint));
                }
                port = rest[1..];
            }
        }
        else
        {
            var colon = endpoint.LastIndexOf(':');
            if (colon >= 0 && endpoint.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                throw new ArgumentException($"Write the IPv6 address in '{endpoint}' in brackets: [address]:port.", nameof(endpoint));
            }
            host = colon < 0 ? endpoint : endpoint[..colon];
            port = colon < 0 ? null : endpoint[(colon + 1)..];
        }
        if (host.Length == 0)
        {
            throw new ArgumentException($"The Redis endpoint '{endpoint}' has no host.", nameof(endpoint));
        }
        return (host, port is null ? DefaultPort : ParseInt("port", port, 1, 65535));
    }

    private static int ParseInt(string key, string value, int min, int max)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < min || number > max)
        {
            throw new ArgumentException($"Redis connection string: '{key}' must be a whole number from {min} to {max}, not '{value}'.", nameof(value));
        }
        return number;
    }

    private static bool ParseBool(string key, string value) =>
        bool.TryParse(value, out var flag)
            ? flag
            : throw new ArgumentException($"Redis connection string: '{key}' must be true or false, not '{value}'.", nameof(value));
}
