using Npgsql;

namespace Ujumbe.Worker.Usage;

/// <summary>
/// Folds the usage deltas the message triggers append into the per-slot counts (<c>fold_usage_deltas</c>,
/// migration 0009), every second. Readers add the deltas not folded yet, so the figures are exact either
/// way; folding keeps what they add small. Several Workers may run it at once.
/// </summary>
public sealed class UsageFolder(NpgsqlDataSource database, TimeProvider time, ILogger<UsageFolder> logger)
    : PeriodicDatabaseJob(time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromSeconds(1);

    protected override Task RunOnceAsync(CancellationToken cancellationToken) => FoldAsync(cancellationToken);

    /// <summary>Folds every delta committed so far; returns how many.</summary>
    public async Task<int> FoldAsync(CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select fold_usage_deltas()");
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
