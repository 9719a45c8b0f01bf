using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Ujumbe.Api.Data;
using Ujumbe.Api.Identity;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

public sealed partial class MigrationTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        _database = await TestStack.CreateDatabaseAsync();
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    private MigrationRunner Runner() => new(_dataSource, NullLogger<MigrationRunner>.Instance);

    [Fact]
    public async Task Applying_twice_applies_everything_once_then_nothing()
    {
        var first = await Runner().ApplyAsync(MigrationRunner.Embedded, CancellationToken.None);
        Assert.Equal(MigrationRunner.Embedded.Select(m => m.Version), first);

        var second = await Runner().ApplyAsync(MigrationRunner.Embedded, CancellationToken.None);
        Assert.Empty(second);
        Assert.Equal(MigrationRunner.Embedded.Count, await _database.ScalarAsync<long>("select count(*) from schema_migrations"));
    }

    [Fact]
    public async Task Instances_starting_at_once_apply_each_migration_exactly_once()
    {
        var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Runner().ApplyAsync(MigrationRunner.Embedded, CancellationToken.None))));
        Assert.Equal(MigrationRunner.Embedded.Count, runs.Sum(applied => applied.Count));
        Assert.Single(runs, applied => applied.Count > 0);
    }

    [Fact]
    public async Task An_applied_migration_that_was_edited_stops_the_start()
    {
        await Runner().ApplyAsync(MigrationRunner.Embedded, CancellationToken.None);
        var edited = MigrationRunner.Embedded.Select((m, i) => i == 0 ? m with { Sql = m.Sql + "\n-- edited" } : m).ToList();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Runner().ApplyAsync(edited, CancellationToken.None));
        Assert.Contains("changed after it was applied", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_migration_leaves_nothing_half_applied()
    {
        await Runner().ApplyAsync(MigrationRunner.Embedded, CancellationToken.None);
        var broken = new Migration(9999, "broken", "create table half_done (id int); select 1/0;");
        await Assert.ThrowsAsync<PostgresException>(() => Runner().ApplyAsync([.. MigrationRunner.Embedded, broken], CancellationToken.None));
        Assert.Equal(0L, await _database.ScalarAsync<long>("select count(*) from pg_tables where tablename = 'half_done'"));
        Assert.Equal(0L, await _database.ScalarAsync<long>("select count(*) from schema_migrations where version = 9999"));
    }

    [Fact]
    public async Task A_missing_database_is_created()
    {
        var name = "test_" + Guid.NewGuid().ToString("N")[..12];
        var connectionString = new NpgsqlConnectionStringBuilder(_database.ConnectionString) { Database = name }.ConnectionString;
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        {
            var applied = await new MigrationRunner(dataSource, NullLogger<MigrationRunner>.Instance).ApplyAsync(MigrationRunner.Embedded, CancellationToken.None);
            Assert.NotEmpty(applied);
        }
        await new TestDatabase(name, connectionString).DisposeAsync();
    }

    [Fact]
    public async Task Every_function_the_schema_has_is_in_a_function_file_which_every_start_re_applies()
    {
        await Runner().ApplyAsync(MigrationRunner.Embedded, CancellationToken.None);
        // Ours, not the extensions' (pg_trgm, btree_gin): a function a migration adds without a file would keep
        // the body of the migration that made it, and the next edit of it would be written in another migration.
        var functions = await Names("""
            select p.proname from pg_proc p join pg_namespace n on n.oid = p.pronamespace
             where n.nspname = 'public' and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
            """);
        Assert.NotEmpty(functions);
        Assert.All(functions, name => Assert.Contains(MigrationRunner.EmbeddedFunctions,
            file => file.Sql.Contains($"create or replace function {name}(", StringComparison.Ordinal)));

        // A body changed by hand (or left by an older migration) is the file's again after the next start.
        await _database.ExecuteAsync("create or replace function usage_slot(at timestamptz) returns timestamptz language sql immutable as $$ select null::timestamptz $$");
        Assert.Null(await _database.ScalarAsync<DateTime?>("select usage_slot(now())"));
        Assert.Empty(await Runner().ApplyAsync(MigrationRunner.Embedded, CancellationToken.None));
        Assert.NotNull(await _database.ScalarAsync<DateTime?>("select usage_slot(now())"));
    }

    [Fact]
    public async Task The_message_and_batch_statuses_of_the_CSharp_are_the_ones_the_schema_allows()
    {
        // Statuses are named once in C# (Shared/Lifecycle/MessageStatus); the SQL spells them as literals.
        await Runner().ApplyAsync(MigrationRunner.Embedded, CancellationToken.None);
        Assert.Equal<string>(MessageStatus.Stored, await CheckedValuesAsync("messages", "status"));
        Assert.Equal<string>(BatchStatus.All, await CheckedValuesAsync("batches", "status"));
        Assert.Equal<string>(MessageStatus.Stored.Where(s => s != MessageStatus.Submitting), MessageStatus.Public);

        // Every move transition_messages allows is between statuses of the list, and every status but the first is reachable.
        var messages = MigrationRunner.EmbeddedFunctions.Single(f => f.Name == "messages").Sql;
        var table = AllowedMoves().Match(messages);
        Assert.True(table.Success, "transition_messages' table of allowed moves was not found");
        var moves = MovePair().Matches(table.Groups["moves"].Value).Select(m => (From: m.Groups[1].Value, To: m.Groups[2].Value)).ToList();
        Assert.NotEmpty(moves);
        Assert.All(moves, move => Assert.Subset(MessageStatus.Stored.ToHashSet(), new HashSet<string> { move.From, move.To }));
        Assert.Equal<string>(MessageStatus.Stored.Skip(1).Order(), moves.Select(m => m.To).Distinct().Order());

        // The dashboard (which calls the API, not Shared) offers exactly the statuses the API filters by.
        Assert.Equal<string>(MessageStatus.Public, Ujumbe.Web.Pages.Messages.IndexModel.Statuses);
    }

    /// <summary>The values a column's check constraint allows, in its order.</summary>
    private async Task<List<string>> CheckedValuesAsync(string table, string column)
    {
        await using var command = _dataSource.CreateCommand("""
            select pg_get_constraintdef(c.oid) from pg_constraint c
             where c.conrelid = $1::regclass and c.contype = 'c' and pg_get_constraintdef(c.oid) like '%(' || $2 || ' = ANY%'
            """);
        command.Parameters.Add(new() { Value = table });
        command.Parameters.Add(new() { Value = column });
        var definition = (string)(await command.ExecuteScalarAsync())!;
        return [.. CheckedValue().Matches(definition).Select(m => m.Groups[1].Value)];
    }

    [Fact]
    public async Task An_older_Api_leaves_the_functions_of_a_newer_database_as_they_are()
    {
        await Runner().ApplyAsync(MigrationRunner.Embedded, CancellationToken.None);
        // A newer Api applied its migration 9998 and its own body of a function.
        await Runner().ApplyAsync([.. MigrationRunner.Embedded, new Migration(9998, "newer", "select 1")], CancellationToken.None);
        await _database.ExecuteAsync("create or replace function usage_slot(at timestamptz) returns timestamptz language sql immutable as $$ select null::timestamptz $$");

        // This Api knows no migration 9998: it is the older code, and does not put back the function bodies it knew.
        Assert.Empty(await Runner().ApplyAsync(MigrationRunner.Embedded, CancellationToken.None));
        Assert.Null(await _database.ScalarAsync<DateTime?>("select usage_slot(now())"));
    }

    private async Task<List<string>> Names(string sql)
    {
        var names = new List<string>();
        await using var command = _dataSource.CreateCommand(sql);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }
        return names;
    }

    [Fact]
    public async Task The_entity_model_matches_the_migrated_schema()
    {
        await Runner().ApplyAsync(MigrationRunner.Embedded, CancellationToken.None);
        var options = new DbContextOptionsBuilder<UjumbeDb>().UseNpgsql(_dataSource).Options;
        await using var db = new UjumbeDb(options, new Caller());
        // Selecting every mapped column of every entity fails on any table or column the SQL lacks.
        foreach (var entity in db.Model.GetEntityTypes())
        {
            var columns = string.Join(", ", entity.GetProperties().Select(p => p.GetColumnName()));
            await _database.ExecuteAsync($"select {columns} from {entity.GetTableName()} limit 0");
        }
        Assert.Contains(db.Model.GetEntityTypes(), e => e.ClrType == typeof(Message));
    }

    [Fact]
    public async Task The_ledger_is_append_only()
    {
        await Runner().ApplyAsync(MigrationRunner.Embedded, CancellationToken.None);
        var error = await Assert.ThrowsAsync<PostgresException>(() => _database.ExecuteAsync("delete from ledger_entries"));
        Assert.Contains("append-only", error.MessageText, StringComparison.Ordinal);
        await Assert.ThrowsAsync<PostgresException>(() => _database.ExecuteAsync("update ledger_entries set amount = 0"));
    }

    [GeneratedRegex(@"'([a-z]+)'::text")]
    private static partial Regex CheckedValue();

    [GeneratedRegex(@"where \(c\.from_status, c\.to_status\) in \((?<moves>.*?)\)\s*and \(p_only_from", RegexOptions.Singleline)]
    private static partial Regex AllowedMoves();

    [GeneratedRegex(@"\('([a-z]+)', '([a-z]+)'\)")]
    private static partial Regex MovePair();
}
