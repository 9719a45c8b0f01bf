using System.Net;
using System.Net.Sockets;

namespace Ujumbe.Shared.Webhooks;

/// <summary>
/// Keeps webhooks from being turned against our own network (SSRF): a URL must be absolute http(s),
/// at most 2,048 characters, without credentials, and every address its host resolves to must be
/// public — no loopback, private, link-local (169.254/16: cloud metadata), carrier-grade NAT,
/// multicast or unspecified addresses — unless private networks are allowed by configuration. Even
/// then, link-local addresses (169.254.0.0/16, fe80::/10) and the clouds' metadata services are never
/// allowed: they hand out instance credentials. Checked when an endpoint is registered and again, on
/// the addresses actually connected to, at every delivery (DNS can change between the two).
/// </summary>
public static class UrlGuard
{
    public const int MaxLength = 2048;

    /// <summary>The shape checks that need no DNS; null if fine, else the reason.</summary>
    public static string? CheckShape(string? value, out Uri? uri)
    {
        uri = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            return "is required";
        }
        if (value.Length > MaxLength)
        {
            return $"must be at most {MaxLength} characters";
        }
        if (!Uri.TryCreate(value, UriKind.Absolute, out uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            return "must be an absolute http or https URL";
        }
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "must not contain credentials (user:password@)";
        }
        if (string.IsNullOrEmpty(uri.Host))
        {
            return "must name a host";
        }
        return null;
    }

    /// <summary>Shape and addresses; null if the URL may be called, else the reason.</summary>
    public static async Task<string?> CheckAsync(string? value, bool allowPrivateNetworks, CancellationToken cancellationToken)
    {
        if (CheckShape(value, out var uri) is { } shape)
        {
            return shape;
        }
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(uri!.IdnHost.Trim('[', ']'), out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken);
        }
        catch (SocketException)
        {
            return $"host {uri!.Host} does not resolve";
        }
        if (addresses.Length == 0)
        {
            return $"host {uri.Host} does not resolve";
        }
        if (addresses.FirstOrDefault(IsLinkLocalOrMetadata) is { } metadata)
        {
            return $"points inside a private network: a link-local or cloud metadata address ({metadata}), never allowed; webhooks must be reachable on the public internet";
        }
        if (!allowPrivateNetworks && addresses.FirstOrDefault(IsInternal) is { } inside)
        {
            return $"points inside a private network ({inside}); webhooks must be reachable on the public internet";
        }
        return null;
    }

    /// <summary>Whether a webhook may connect to <paramref name="address"/>.</summary>
    public static bool IsAllowed(IPAddress address, bool allowPrivateNetworks) =>
        !IsLinkLocalOrMetadata(address) && (allowPrivateNetworks || !IsInternal(address));

    /// <summary>
    /// Cloud metadata services outside the link-local ranges: Alibaba (100.100.100.200), Azure's wire server
    /// (168.63.129.16), Oracle (192.0.0.192), AWS over IPv6 (fd00:ec2::/32, e.g. fd00:ec2::254) and Google's
    /// over IPv6 (fd20:ce::254).
    /// </summary>
    private static readonly IPAddress[] MetadataAddresses =
        [IPAddress.Parse("100.100.100.200"), IPAddress.Parse("168.63.129.16"), IPAddress.Parse("192.0.0.192"), IPAddress.Parse("fd20:ce::254")];

    /// <summary>
    /// Link-local (169.254.0.0/16 — where most clouds serve instance metadata — and fe80::/10) or a known
    /// metadata service, also when carried inside an IPv6 address (mapped, NAT64, 6to4, compatible).
    /// Refused even where private networks are allowed.
    /// </summary>
    public static bool IsLinkLocalOrMetadata(IPAddress address)
    {
        address = EmbeddedIPv4(address) ?? address;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return (b[0] == 169 && b[1] == 254) || MetadataAddresses.Contains(address);
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            return address.IsIPv6LinkLocal
                || (b[0] == 0xfd && b[1] == 0x00 && b[2] == 0x0e && b[3] == 0xc2)   // fd00:ec2::/32
                || MetadataAddresses.Contains(address);
        }
        return false;
    }

    /// <summary>The IPv4 address an IPv6 address reaches (mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, compatible ::a.b.c.d, 6to4 2002::/16), if any.</summary>
    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }
        var b = address.GetAddressBytes();
        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
        {
            return new IPAddress(b.AsSpan(12, 4));
        }
        if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0 && !IPAddress.IsLoopback(address) && !address.Equals(IPAddress.IPv6Any))
        {
            return new IPAddress(b.AsSpan(12, 4));
        }
        return b[0] == 0x20 && b[1] == 0x02 ? new IPAddress(b.AsSpan(2, 4)) : null;
    }

    public static bool IsInternal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IsLinkLocalOrMetadata(address))
        {
            return true;
        }
        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any)
            || address.Equals(IPAddress.None) || address.Equals(IPAddress.IPv6None))
        {
            return true;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            var b = address.GetAddressBytes();
            return b[0] == 0                                        // "this network"
                || b[0] == 10                                       // private
                || (b[0] == 100 && b[1] is >= 64 and <= 127)        // carrier-grade NAT
                || (b[0] == 169 && b[1] == 254)                     // link-local, cloud metadata
                || (b[0] == 172 && b[1] is >= 16 and <= 31)         // private
                || (b[0] == 192 && b[1] == 168)                     // private
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)          // IETF protocol assignments
                || (b[0] == 198 && b[1] is 18 or 19)                // benchmarking
                || b[0] >= 224;                                     // multicast, reserved, broadcast
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var b = address.GetAddressBytes();
            // Addresses that carry an IPv4 address reach that address: judge it instead.
            if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b.AsSpan(4, 8).IndexOfAnyExcept((byte)0) < 0)
            {
                return IsInternal(new IPAddress(b.AsSpan(12, 4)));   // NAT64 64:ff9b::/96
            }
            if (b.AsSpan(0, 12).IndexOfAnyExcept((byte)0) < 0)
            {
                return IsInternal(new IPAddress(b.AsSpan(12, 4)));   // IPv4-compatible ::a.b.c.d (::1 and :: were caught above)
            }
            if (b[0] == 0x20 && b[1] == 0x02)
            {
                return IsInternal(new IPAddress(b.AsSpan(2, 4)));    // 6to4 2002::/16
            }
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast
                || (b[0] & 0xfe) == 0xfc                            // unique local fc00::/7
                || address.IsIPv6Teredo || address.IsIPv4MappedToIPv6;
        }
        return true;
    }

    /// <summary>
    /// A connect callback for <see cref="SocketsHttpHandler"/> that resolves the host itself and refuses
    /// to connect to an internal address: the check and the connection use the same resolution.
    /// </summary>
    public static Func<SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>> ConnectCallback(bool allowPrivateNetworks) =>
        async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
                ? [literal]
                : await Dns.GetHostAddressesAsync(host, cancellationToken);
            var allowed = addresses.Where(a => IsAllowed(a, allowPrivateNetworks)).ToArray();
            if (allowed.Length == 0)
            {
                throw new HttpRequestException($"Refused to connect to {host}: it resolves only to internal addresses.");
            }
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        };
}
