using System.Diagnostics;
using Npgsql;

namespace Ujumbe.Shared.Webhooks;

/// <summary>
/// Webhook deliveries continue the trace of the change that caused them (migration 0014): a transaction
/// that may emit webhook events names the current trace first, and each delivery it inserts keeps it.
/// </summary>
public static class WebhookTrace
{
    /// <summary>Names the trace for the rest of the transaction only (<c>is_local</c>): a pooled connection carries none on.</summary>
    public const string Sql = "select set_config('ujumbe.trace_parent', $1, true)";

    /// <summary>The W3C traceparent of the current activity, or '' (stored as null: the delivery starts a trace of its own).</summary>
    public static string Current => Activity.Current?.Id ?? "";

    /// <summary>The statement, to run first in a batch (a batch without a transaction is one implicit transaction).</summary>
    public static NpgsqlBatchCommand Command() => new(Sql) { Parameters = { new NpgsqlParameter { Value = Current } } };

    public static async Task NameAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Sql, connection, transaction);
        command.Parameters.Add(new() { Value = Current });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
