using Npgsql;
using NpgsqlTypes;
using Ujumbe.Api.Data;

namespace Ujumbe.Api.Billing;

/// <summary>The balance would go below what it must keep (available or reserved below zero).</summary>
public sealed class InsufficientCreditsException(Guid accountId)
    : Exception($"Account {accountId} does not have the credits for this change.")
{
    public Guid AccountId { get; } = accountId;
}

/// <summary>
/// How one credit change is made (top-ups, adjustments): one call updates the account's balance row and
/// appends the ledger entry with the resulting figures, inside the caller's transaction. (The send path
/// reserves for many accounts at once in SendWriter, and the message lifecycle (Shared/Lifecycle) posts captures
/// and releases; both also write a ledger entry for every balance change.) The balance row's
/// check constraints (available ≥ 0, reserved ≥ 0) make an overdraft impossible under any
/// concurrency: the row lock serialises writers and a violating update fails as a whole.
/// </summary>
public static class CreditLedger
{
    // post_credits (Data/Functions/credits.sql) is shared with the payments' SQL: one definition of a credit move.
    private const string PostSql = "select balance_after, reserved_after, seq from post_credits($2, $5, $3, $4, $6, $7, $1)";

    public static async Task<LedgerEntry> PostAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid accountId, LedgerKind kind,
        long amount, long reservedChange, string? reference, DateTime now, CancellationToken cancellationToken)
    {
        var entry = new LedgerEntry
        {
            Id = Guid.CreateVersion7(now),
            AccountId = accountId,
            Kind = kind,
            Amount = amount,
            ReservedChange = reservedChange,
            Reference = reference,
            CreatedAt = now,
        };
        await using var command = new NpgsqlCommand(PostSql, connection, transaction);
        command.Parameters.Add(new() { Value = entry.Id });
        command.Parameters.Add(new() { Value = accountId });
        command.Parameters.Add(new() { Value = amount });
        command.Parameters.Add(new() { Value = reservedChange });
        command.Parameters.Add(new() { Value = UjumbeDb.SnakeCase(kind.ToString()), NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = (object?)reference ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new() { Value = now });
        try
        {
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                throw new InvalidOperationException($"Account {accountId} has no balance row.");
            }
            entry.BalanceAfter = reader.GetInt64(0);
            entry.ReservedAfter = reader.GetInt64(1);
            entry.Seq = reader.GetInt64(2);
            return entry;
        }
        catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.CheckViolation)
        {
            throw new InsufficientCreditsException(accountId);
        }
    }
}
