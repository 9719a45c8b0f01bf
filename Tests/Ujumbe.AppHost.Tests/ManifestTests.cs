using System.Diagnostics;
using System.Text.Json;

namespace Ujumbe.AppHost.Tests;

/// <summary>What azd deploys to Azure Container Apps: the publish manifest the AppHost writes.</summary>
public sealed class ManifestTests
{
    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Aspire.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Aspire.sln not found above " + AppContext.BaseDirectory);
    }

    private static async Task<JsonElement> PublishManifestAsync()
    {
        var root = RepositoryRoot();
        var output = Path.Combine(Directory.CreateTempSubdirectory("ujumbe-manifest-").FullName, "aspire-manifest.json");
        // The configuration this test was built in, so the AppHost is already built.
        var configuration = AppContext.BaseDirectory.Contains("/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        using var process = Process.Start(new ProcessStartInfo("dotnet",
            ["run", "--project", Path.Combine(root, "AppHost"), "--no-build", "-c", configuration, "--no-launch-profile",
             "--", "--publisher", "manifest", "--output-path", output])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0 && File.Exists(output), $"publishing failed ({process.ExitCode}): {await stdout}{await stderr}");
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(output));
        return manifest.RootElement.GetProperty("resources").Clone();
    }

    [Fact]
    public async Task Publishing_describes_containers_external_gateway_and_web_internal_services_and_secret_parameters()
    {
        var resources = await PublishManifestAsync();
        var types = resources.EnumerateObject().ToDictionary(r => r.Name, r => r.Value.GetProperty("type").GetString()!);

        // azd cannot deploy executables: the servers are containers when published.
        Assert.DoesNotContain(types.Values, type => type.StartsWith("executable", StringComparison.Ordinal));
        Assert.StartsWith("container.", types["postgres-server"], StringComparison.Ordinal);
        Assert.StartsWith("container.", types["redis"], StringComparison.Ordinal);
        Assert.StartsWith("container.", types["rabbitmq"], StringComparison.Ordinal);
        Assert.Equal("value.v0", types["postgres"]); // the ujumbe database on postgres-server
        Assert.EndsWith("Database=ujumbe", resources.GetProperty("postgres").GetProperty("connectionString").GetString(), StringComparison.Ordinal);

        bool External(string name) => resources.GetProperty(name).GetProperty("bindings").EnumerateObject()
            .Any(binding => binding.Value.TryGetProperty("external", out var external) && external.GetBoolean());
        foreach (var name in new[] { "api", "worker", "gateway", "web" })
        {
            Assert.StartsWith("project.", types[name], StringComparison.Ordinal);
        }
        Assert.True(External("gateway"), "the gateway is reachable from the internet");
        Assert.True(External("web"), "the web dashboard is reachable from the internet");
        Assert.False(External("api"), "the api is internal");
        Assert.False(External("worker"), "the worker is internal");

        // Keys are parameters the deployment supplies, secret, and never a value in the manifest.
        foreach (var key in new[] { "gateway-signing-key", "portal-token-signing-key", "webhook-secret-key" })
        {
            Assert.Equal("parameter.v0", types[key]);
            Assert.True(resources.GetProperty(key).GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean(), key);
        }
        // The broker's user and password too: never guest, never a value in the manifest; its queues on a volume.
        foreach (var key in new[] { "rabbitmq-user", "rabbitmq-password" })
        {
            Assert.Equal("parameter.v0", types[key]);
            Assert.True(resources.GetProperty(key).GetProperty("inputs").GetProperty("value").GetProperty("secret").GetBoolean(), key);
            Assert.False(resources.GetProperty(key).GetProperty("inputs").GetProperty("value").TryGetProperty("default", out _), key);
        }
        var rabbitMq = resources.GetProperty("rabbitmq");
        Assert.Equal("{rabbitmq-user.value}", rabbitMq.GetProperty("env").GetProperty("RABBITMQ_DEFAULT_USER").GetString());
        Assert.Equal("{rabbitmq-password.value}", rabbitMq.GetProperty("env").GetProperty("RABBITMQ_DEFAULT_PASS").GetString());
        Assert.DoesNotContain("guest", rabbitMq.GetProperty("connectionString").GetString(), StringComparison.Ordinal);
        Assert.Contains(rabbitMq.GetProperty("volumes").EnumerateArray(), volume => volume.GetProperty("target").GetString() == "/var/lib/rabbitmq");

        var apiEnv = resources.GetProperty("api").GetProperty("env");
        Assert.Equal("{gateway-signing-key.value}", apiEnv.GetProperty("GatewaySigning__Key").GetString());
        Assert.Equal("{webhook-secret-key.value}", apiEnv.GetProperty("Webhooks__SecretKey").GetString());
        Assert.Equal("{postgres.connectionString}", apiEnv.GetProperty("ConnectionStrings__postgres").GetString());
        Assert.Equal("{rabbitmq.connectionString}", resources.GetProperty("worker").GetProperty("env").GetProperty("ConnectionStrings__rabbitmq").GetString());
        Assert.Equal("{redis.connectionString}", resources.GetProperty("gateway").GetProperty("env").GetProperty("ConnectionStrings__redis").GetString());
        // Local conveniences stay local.
        Assert.False(apiEnv.TryGetProperty("Seed__KeysFile", out _));
        Assert.False(apiEnv.TryGetProperty("Webhooks__AllowPrivateNetworks", out _));
    }
}
