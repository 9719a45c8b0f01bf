using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Ujumbe.Api.Data;

/// <summary>One SQL migration: <c>Data/Migrations/NNNN_name.sql</c>, embedded in the Api.</summary>
public sealed record Migration(int Version, string Name, string Sql)
{
    public string Checksum => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Sql)));
}

/// <summary>
/// One file of SQL functions: <c>Data/Functions/name.sql</c>, embedded in the Api. Its functions' current
/// bodies, re-applied at every start: migrations keep the schema's history, these files the code.
/// </summary>
public sealed record FunctionFile(string Name, string Sql);

/// <summary>
/// Applies the embedded SQL migrations in order, each in its own transaction together with its
/// row in <c>schema_migrations</c>, then re-applies every function file, all in one transaction. A
/// session advisory lock makes concurrent starts safe: the second instance waits, then finds no
/// migration to do. An applied migration whose file changed stops the start (edit by adding a
/// migration, never by rewriting one). See docs/decisions/0001-sql-migrations.md.
/// </summary>
public sealed partial class MigrationRunner(NpgsqlDataSource dataSource, ILogger<MigrationRunner> logger)
{
    // Arbitrary but fixed: every Api instance of every version takes the same lock.
    private const long LockId = 0x556A756D6265_01;

    public static IReadOnlyList<Migration> Embedded { get; } = LoadEmbedded();

    public static IReadOnlyList<FunctionFile> EmbeddedFunctions { get; } = LoadEmbeddedFunctions();

    /// <summary>Applies what is missing; returns the versions applied by this call.</summary>
    public async Task<IReadOnlyList<int>> ApplyAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        await EnsureDatabaseExistsAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await ExecuteAsync(connection, $"select pg_advisory_lock({LockId})", cancellationToken);
        try
        {
            await ExecuteAsync(connection, """
                create table if not exists schema_migrations (
                    version    integer primary key,
                    name       text not null,
                    checksum   text not null,
                    applied_at timestamptz not null default now()
                )
                """, cancellationToken);

            var applied = new Dictionary<int, string>();
            await using (var query = new NpgsqlCommand("select version, checksum from schema_migrations", connection))
            await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied[reader.GetInt32(0)] = reader.GetString(1);
                }
            }

            var done = new List<int>();
            foreach (var migration in migrations.OrderBy(m => m.Version))
            {
                if (applied.TryGetValue(migration.Version, out var checksum))
                {
                    if (checksum != migration.Checksum)
                    {
                        throw new InvalidOperationException(
                            $"Migration {migration.Version} ({migration.Name}) was changed after it was applied. " +
                            "Never edit an applied migration: add a new one.");
                    }
                    continue;
                }
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var apply = new NpgsqlCommand(migration.Sql, connection, transaction))
                {
                    await apply.ExecuteNonQueryAsync(cancellationToken);
                }
                await using (var record = new NpgsqlCommand(
                    "insert into schema_migrations (version, name, checksum) values ($1, $2, $3)", connection, transaction))
                {
                    record.Parameters.Add(new() { Value = migration.Version });
                    record.Parameters.Add(new() { Value = migration.Name });
                    record.Parameters.Add(new() { Value = migration.Checksum });
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
                LogApplied(logger, migration.Version, migration.Name);
                done.Add(migration.Version);
            }

            // An older Api starting while a newer one runs (a rolling deploy) must not put back the functions it knew.
            var newestApplied = applied.Keys.Concat(done).DefaultIfEmpty(0).Max();
            var newestKnown = migrations.Select(m => m.Version).DefaultIfEmpty(0).Max();
            if (newestApplied > newestKnown)
            {
                LogDatabaseNewer(logger, newestApplied, newestKnown);
            }
            else
            {
                await ApplyFunctionsAsync(connection, cancellationToken);
            }
            return done;
        }
        finally
        {
            await ExecuteAsync(connection, $"select pg_advisory_unlock({LockId})", CancellationToken.None);
        }
    }

    private static async Task ApplyFunctionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        foreach (var file in EmbeddedFunctions)
        {
            await using var apply = new NpgsqlCommand(file.Sql, connection, transaction);
            await apply.ExecuteNonQueryAsync(cancellationToken);
        }
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Aspire creates the database; the local stack and tests may not have. Creating it here keeps
    /// "start the Api" the only step.
    /// </summary>
    private async Task EnsureDatabaseExistsAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var probe = await dataSource.OpenConnectionAsync(cancellationToken);
        }
        catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.InvalidCatalogName)
        {
            // CloneWith keeps the credentials, which the data source's connection string no longer shows.
            await using var template = dataSource.CreateConnection();
            var database = new NpgsqlConnectionStringBuilder(template.ConnectionString).Database!;
            var settings = new NpgsqlConnectionStringBuilder(template.ConnectionString) { Database = "postgres", Pooling = false };
            await using var admin = template.CloneWith(settings.ConnectionString);
            await admin.OpenAsync(cancellationToken);
            try
            {
                var quoted = "\"" + database.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
                await ExecuteAsync(admin, "create database " + quoted, cancellationToken);
                LogCreatedDatabase(logger, database);
            }
            catch (PostgresException raced) when (raced.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
            {
                // another instance created it first
            }
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<Migration> LoadEmbedded()
    {
        var migrations = new List<Migration>();
        foreach (var (file, sql) in ReadEmbedded("migrations/"))
        {
            var separator = file.IndexOf('_', StringComparison.Ordinal);           // 0001_initial
            var version = int.Parse(file[..separator], System.Globalization.CultureInfo.InvariantCulture);
            migrations.Add(new Migration(version, file[(separator + 1)..], sql));
        }
        if (migrations.GroupBy(m => m.Version).FirstOrDefault(g => g.Count() > 1) is { } duplicate)
        {
            throw new InvalidOperationException($"Two migrations share version {duplicate.Key}.");
        }
        return migrations.OrderBy(m => m.Version).ToList();
    }

    private static List<FunctionFile> LoadEmbeddedFunctions() =>
        [.. ReadEmbedded("functions/").Select(f => new FunctionFile(f.Name, f.Sql)).OrderBy(f => f.Name, StringComparer.Ordinal)];

    // The resources under a folder: each file's name without ".sql", and its text with Unix line ends.
    private static IEnumerable<(string Name, string Sql)> ReadEmbedded(string folder)
    {
        var assembly = typeof(MigrationRunner).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(folder, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream, Encoding.UTF8);
            yield return (resource[folder.Length..^".sql".Length], reader.ReadToEnd().Replace("\r\n", "\n", StringComparison.Ordinal));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Version} ({Name})")]
    private static partial void LogApplied(ILogger logger, int version, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The database has migration {Applied}, newer than this Api's newest ({Known}): its SQL functions are left as the newer Api made them")]
    private static partial void LogDatabaseNewer(ILogger logger, int applied, int known);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created database {Database}")]
    private static partial void LogCreatedDatabase(ILogger logger, string database);
}
