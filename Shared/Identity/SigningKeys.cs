namespace Ujumbe.Shared.Identity;

/// <summary>HMAC keys from configuration: base64, at least 256 bits, refused at start otherwise.</summary>
public static class SigningKeys
{
    public const int MinimumBytes = 32;

    /// <param name="setting">The configuration key, as in "GatewaySigning:Key", for the error message.</param>
    public static byte[] Decode(string? base64, string setting)
    {
        byte[] key;
        try
        {
            key = Convert.FromBase64String(base64 ?? "");
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"{setting} must be base64 (scripts/stack.sh generates one).");
        }
        if (key.Length < MinimumBytes)
        {
            throw new InvalidOperationException(
                $"{setting} must be at least {MinimumBytes} bytes of base64; set {setting.Replace(":", "__", StringComparison.Ordinal)}.");
        }
        return key;
    }
}
