using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>One problem <c>redocly lint</c> reported: its rule, severity, message and where.</summary>
public sealed record LintProblem(string Rule, string Severity, string Message, string Location)
{
    public override string ToString() => $"{Severity} {Rule}: {Message} at {Location}";
}

/// <summary>
/// Runs <c>@redocly/cli lint</c> (pinned in Tests/openapi-lint/package.json, installed there by
/// scripts/test.sh) with Tests/openapi-lint/redocly.yaml on a document.
/// </summary>
public static class RedoclyLint
{
    public static string Folder { get; } = Path.Combine(TestStack.RepositoryRoot, "Tests", "openapi-lint");

    private static string Cli => Path.Combine(Folder, "node_modules", "@redocly", "cli", "bin", "cli.js");

    public static async Task<IReadOnlyList<LintProblem>> LintAsync(string documentJson)
    {
        if (!File.Exists(Cli))
        {
            Assert.Fail($"@redocly/cli is not installed in {Folder}. scripts/test.sh installs it; "
                + "or run: npm ci --prefix Tests/openapi-lint (needs node and npm).");
        }
        var file = Path.Combine(Path.GetTempPath(), $"ujumbe-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, documentJson);
        try
        {
            var start = new ProcessStartInfo("node", [Cli, "lint", file, "--config", Path.Combine(Folder, "redocly.yaml"), "--format=json", "--max-problems=1000"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Folder,
            };
            // No usage reports or update checks from a test run; this machine reaches no such service anyway.
            start.Environment["REDOCLY_TELEMETRY"] = "off";
            start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
            start.Environment["NO_COLOR"] = "1";
            using var lint = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
            var output = lint.StandardOutput.ReadToEndAsync();
            var errors = lint.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await lint.WaitForExitAsync(timeout.Token);
            var json = await output;
            var reportStart = json.IndexOf('{', StringComparison.Ordinal);
            if (reportStart < 0)
            {
                Assert.Fail($"redocly lint gave no report (exit {lint.ExitCode}):\n{json}\n{await errors}");
            }
            using var report = JsonDocument.Parse(json[reportStart..]);
            var problems = new List<LintProblem>();
            foreach (var problem in report.RootElement.GetProperty("problems").EnumerateArray())
            {
                var pointer = problem.TryGetProperty("location", out var locations) && locations.GetArrayLength() > 0
                    && locations[0].TryGetProperty("pointer", out var at) ? at.GetString() ?? "" : "";
                problems.Add(new LintProblem(
                    problem.GetProperty("ruleId").GetString() ?? "", problem.GetProperty("severity").GetString() ?? "",
                    problem.GetProperty("message").GetString() ?? "", pointer));
            }
            return problems;
        }
        finally
        {
            File.Delete(file);
        }
    }

    public static string Describe(IEnumerable<LintProblem> problems)
    {
        var text = new StringBuilder();
        foreach (var problem in problems)
        {
            text.AppendLine(problem.ToString());
        }
        return text.ToString();
    }
}
