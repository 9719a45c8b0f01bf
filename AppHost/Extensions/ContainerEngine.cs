using System.Diagnostics;

namespace Ujumbe.AppHost.Extensions;

/// <summary>Whether a container engine would run our containers: its client is installed and its daemon answers.</summary>
public static class ContainerEngine
{
    public static bool Answers(string? runtime)
    {
        var client = string.IsNullOrWhiteSpace(runtime) ? "docker" : runtime;
        try
        {
            using var process = Process.Start(new ProcessStartInfo(client, ["info", "--format", "{{.ServerVersion}}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (process is null)
            {
                return false;
            }
            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }
            // A client without a daemon ("Cannot connect to the Docker daemon") exits non-zero.
            return process.ExitCode == 0 && process.StandardOutput.ReadToEnd().Trim().Length > 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // not installed
        }
    }
}
