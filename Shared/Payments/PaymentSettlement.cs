using Npgsql;
using NpgsqlTypes;

namespace Ujumbe.Shared.Payments;

/// <summary>
/// The two ways a pending payment ends, for the Api (callbacks) and the Worker (reconciliation, expiry) alike:
/// <c>complete_payment</c> and <c>fail_payment</c> (migration 0015), which lock the payment row, so a payment
/// ends once however many callers race. Each answers what happened as a word (<see cref="Completed"/>,
/// <see cref="Failed"/>, or why nothing changed: <c>duplicate</c>, <c>already_failed</c>, <c>unknown</c>…).
/// </summary>
public static class PaymentSettlement
{
    public const string Completed = "completed";
    public const string Failed = "failed";

    /// <summary>Completes the payment and credits its account, unless it is not pending or <paramref name="amount"/> (if given) differs.</summary>
    public static async Task<string> CompleteAsync(
        NpgsqlDataSource database, Guid paymentId, string transactionId, decimal? amount, DateTime now, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select complete_payment($1, $2, $3, $4)");
        command.Parameters.Add(new() { Value = paymentId });
        command.Parameters.Add(new() { Value = transactionId });
        command.Parameters.Add(new() { Value = (object?)amount ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Numeric });
        command.Parameters.Add(new() { Value = now });
        return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public static async Task<string> FailAsync(NpgsqlDataSource database, Guid paymentId, string reason, DateTime now, CancellationToken cancellationToken)
    {
        await using var command = database.CreateCommand("select fail_payment($1, $2, $3)");
        command.Parameters.Add(new() { Value = paymentId });
        command.Parameters.Add(new() { Value = reason });
        command.Parameters.Add(new() { Value = now });
        return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
    }
}
