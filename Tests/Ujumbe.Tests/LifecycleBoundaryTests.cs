using System.Reflection;
using System.Text.RegularExpressions;
using Ujumbe.Api.Data;
using Ujumbe.Shared.Identity;
using Ujumbe.Shared.Lifecycle;
using Ujumbe.Tests.Infrastructure;

namespace Ujumbe.Tests;

/// <summary>
/// The message lifecycle has one home (Shared/Lifecycle, decision 0032): no other C# calls its SQL or writes messages
/// and batches, and the id prefixes the SQL writes are PublicId's (the statuses: MigrationTests).
/// </summary>
public sealed partial class LifecycleBoundaryTests
{
    private static readonly string LifecycleFolder = Path.Combine("Shared", "Lifecycle") + Path.DirectorySeparatorChar;

    /// <summary>What only the lifecycle may do, as it would be written in C#, each with an example it must find.</summary>
    private static readonly (string What, Regex Pattern, string Example)[] LifecycleOnly =
    [
        ("calls the lifecycle's SQL functions", new(@"\b(transition_messages|after_messages_moved|post_pending_credits)\b", RegexOptions.IgnoreCase),
            "select id from transition_messages($1, $2, $3)"),
        ("touches the credits status moves leave pending", new(@"\bpending_credits\b", RegexOptions.IgnoreCase),
            "insert into pending_credits (account_id) values ($1)"),
        ("writes messages or batches in SQL", new(@"\b(insert\s+into|update|copy|delete\s+from)\s+(messages|batches)\b", RegexOptions.IgnoreCase),
            "UPDATE batches\n   SET sent_count = sent_count + 1"),
        ("writes messages or batches through EF Core", new(@"\b(db|context)\s*\.\s*(Messages|Batches)\b[^;]*?\.\s*(Add|AddRange|Update|UpdateRange|Remove|RemoveRange|ExecuteUpdate|ExecuteUpdateAsync|ExecuteDelete|ExecuteDeleteAsync)\("),
            "await db.Messages.Where(m => m.Id == id)\n    .ExecuteUpdateAsync(s => s.SetProperty(m => m.Status, \"sent\"))"),
        ("writes dispatch chunks", new(@"\bDispatchOutbox\b"), "var outbox = new DispatchOutbox();"),
    ];

    [Fact]
    public void Only_the_lifecycle_calls_its_SQL_or_writes_messages_batches_and_dispatch_chunks()
    {
        Assert.All(LifecycleOnly, rule => Assert.Matches(rule.Pattern, rule.Example));
        var sources = SourceFiles();
        var lifecycle = sources.Where(f => f.Path.StartsWith(LifecycleFolder, StringComparison.Ordinal)).ToList();
        Assert.Contains(lifecycle, file => file.Code.Contains("transition_messages(", StringComparison.Ordinal));

        var elsewhere = sources.Except(lifecycle)
            .SelectMany(file => LifecycleOnly.Where(rule => rule.Pattern.IsMatch(file.Code)).Select(rule => $"{file.Path} {rule.What}"))
            .ToList();
        Assert.True(elsewhere.Count == 0, "Only Shared/Lifecycle may do this; move it there:\n" + string.Join('\n', elsewhere));
    }

    [Fact]
    public void Every_id_prefix_the_SQL_or_the_services_write_is_a_PublicId()
    {
        var prefixes = typeof(PublicId).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToHashSet();

        var inSql = MigrationRunner.EmbeddedFunctions.SelectMany(f => SqlPrefix().Matches(f.Sql)).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Contains(PublicId.Message, inSql);
        Assert.Subset(prefixes, inSql);

        // C# formats ids with PublicId.Format, never by gluing a prefix on (the Web does not reference Shared).
        var glued = new Regex($@"""({string.Join('|', prefixes)})_[""{{]");
        var offenders = SourceFiles()
            .Where(f => !f.Path.StartsWith("Web" + Path.DirectorySeparatorChar, StringComparison.Ordinal) && glued.IsMatch(f.Code))
            .Select(f => f.Path).ToList();
        Assert.True(offenders.Count == 0, "Use PublicId.Format/TryParse instead of a prefix literal in:\n" + string.Join('\n', offenders));
    }

    /// <summary>The services' C# (not the tests'), comments left out, by path from the repository root.</summary>
    private static List<(string Path, string Code)> SourceFiles() =>
        [.. new[] { "Api", "Worker", "Shared", "Gateway", "Web", "ServiceDefaults" }
            .SelectMany(project => Directory.EnumerateFiles(Path.Combine(TestStack.RepositoryRoot, project), "*.cs", SearchOption.AllDirectories))
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                        && !path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(path => (Path.GetRelativePath(TestStack.RepositoryRoot, path), LineComment().Replace(File.ReadAllText(path), "")))];

    [GeneratedRegex(@"(?<![:""])//.*$", RegexOptions.Multiline)]
    private static partial Regex LineComment();

    /// <summary>A public id made in SQL: <c>'msg_' || replace(m.id::text, '-', '')</c>.</summary>
    [GeneratedRegex(@"'([a-z]+)_' \|\| replace\(")]
    private static partial Regex SqlPrefix();
}
