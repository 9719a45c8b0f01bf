namespace Ujumbe.Shared.Messaging;

/// <summary>Limits on every broker call, so a broker that fails or stalls never holds a caller (or its open transaction) for good.</summary>
public sealed class MessagingOptions
{
    public const string Section = "Messaging";

    /// <summary>
    /// The longest a publish may take, waiting for the publishing channel and the broker's confirms
    /// included. Past it the publish fails (the caller's transaction rolls back and is tried again later)
    /// and the channel is replaced.
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest any other broker call (opening a channel, declaring, a connection's handshake) may take.</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
