namespace Ujumbe.Api.Phones;

/// <summary>
/// Loads libphonenumber's metadata and carrier data at start (about half a second), so the first send
/// after a deploy does not pay for it inside its request.
/// </summary>
public sealed class PhoneNumbersWarmUp : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        PhoneNumbers.WarmUp();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
