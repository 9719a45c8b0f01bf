using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting.Publishing;

namespace Ujumbe.AppHost.Extensions;

/// <summary>
/// Generated secrets for local runs, kept beside the data they protect (<c>secrets.json</c>, mode 600, in the
/// data folder): the PostgreSQL data keeps its password across runs, and deleting the folder starts afresh.
/// Never used when publishing: there every secret is a parameter the deployment supplies.
/// </summary>
public sealed class LocalSecrets(string directory)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private static readonly Lock Gate = new(); // one file per folder, however many instances read it
    private string File => Path.Combine(directory, "secrets.json");

    /// <summary>A parameter default: the stored value, or a new one stored now.</summary>
    public ParameterDefault Default(string name, Func<string> generate) => new StoredDefault(this, name, generate);

    /// <summary>32 random bytes, base64: the signing and encryption keys' format.</summary>
    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>A password without characters that need quoting in a connection string or URI.</summary>
    public static string NewPassword() =>
        RandomNumberGenerator.GetString("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789", 32);

    private string GetOrCreate(string name, Func<string> generate)
    {
        lock (Gate)
        {
            Directory.CreateDirectory(directory);
            var values = System.IO.File.Exists(File)
                ? JsonNode.Parse(System.IO.File.ReadAllText(File)) as JsonObject ?? []
                : [];
            if (values[name]?.GetValue<string>() is { Length: > 0 } existing)
            {
                return existing;
            }
            var value = generate();
            values[name] = value;
            var temporary = File + ".tmp";
            var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }
            using (var stream = new FileStream(temporary, options))
            {
                JsonSerializer.Serialize(stream, values, Indented);
            }
            System.IO.File.Move(temporary, File, overwrite: true);
            return value;
        }
    }

    private sealed class StoredDefault(LocalSecrets store, string name, Func<string> generate) : ParameterDefault
    {
        public override string GetDefaultValue() => store.GetOrCreate(name, generate);

        public override void WriteToManifest(ManifestPublishingContext context) =>
            throw new InvalidOperationException($"Parameter '{name}' has a local default only; a published app gets it from the deployment.");
    }
}
