using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Ujumbe.Tests.Infrastructure;

/// <summary>
/// A real Kannel of a test's own (Debian's kannel and kannel-extras): bearerbox and smsbox with its sendsms
/// interface, every port free and chosen now, every file in a folder of its own, stopped and started again by pid,
/// never by name. The carrier side is either Kannel's fake SMSC with its fakesmsc client as the handsets (it reports
/// each message: SMSC accepted, DLR 8, then delivered, DLR 1) or, with <c>smpp: true</c>, a real SMPP 3.4 leg to
/// <see cref="SmppSmsc"/>, which also reports failures (DLR 2 and 16) and keeps running while Kannel restarts.
/// </summary>
public sealed partial class TemporaryKannel : IAsyncDisposable
{
    private const string FakeSmsc = "/usr/lib/kannel/test/fakesmsc";
    private readonly string _directory;
    private readonly ConcurrentQueue<string> _received = new();
    private readonly StringBuilder _log = new();
    private Process? _bearerbox;
    private Process? _smsbox;
    private Process? _handsets;

    private TemporaryKannel(string directory, SmppSmsc? smpp)
    {
        _directory = directory;
        Smpp = smpp;
        AdminPort = TestStack.FreeLoopbackPort();
        BoxPort = TestStack.FreeLoopbackPort();
        SmscPort = smpp?.Port ?? TestStack.FreeLoopbackPort();
        SendSmsPort = TestStack.FreeLoopbackPort();
    }

    /// <summary>The SMPP SMSC bearerbox binds to (null: Kannel's fake SMSC).</summary>
    public SmppSmsc? Smpp { get; }

    private string SmscId => Smpp is null ? "fake1" : "smpp1";

    public int AdminPort { get; }
    public int BoxPort { get; }
    public int SmscPort { get; }
    public int SendSmsPort { get; }

    public string Username { get; } = "ujumbe";

    public string Password { get; } = "pw" + Guid.NewGuid().ToString("N")[..16];

    private string AdminPassword { get; } = "admin" + Guid.NewGuid().ToString("N")[..12];

    public string SendSmsUrl => $"http://127.0.0.1:{SendSmsPort}/cgi-bin/sendsms";

    /// <summary>Every message line the handsets (fakesmsc) got: <c>sender receiver text …</c> or <c>sender receiver ucs-2 %XX…</c>.</summary>
    public IReadOnlyList<string> Received => Smpp is null ? [.. _received] : [.. Smpp.Submits.Select(s => $"{s.From} {s.To} text {s.Text}")];

    public bool IsRunning => _bearerbox is { HasExited: false };

    public static async Task<TemporaryKannel> StartAsync(bool smpp = false)
    {
        var directory = Path.Combine(Path.GetTempPath(), "ujumbe-kannel-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var kannel = new TemporaryKannel(directory, smpp ? SmppSmsc.Start() : null);
        await File.WriteAllTextAsync(Path.Combine(directory, "kannel.conf"), kannel.Configuration());
        try
        {
            await kannel.StartServersAsync();
        }
        catch
        {
            await kannel.DisposeAsync();
            throw;
        }
        return kannel;
    }

    private string Configuration() => string.Create(CultureInfo.InvariantCulture, $"""
        group = core
        admin-port = {AdminPort}
        admin-interface = 127.0.0.1
        admin-password = {AdminPassword}
        status-password = {AdminPassword}
        admin-allow-ip = 127.0.0.1
        smsbox-port = {BoxPort}
        smsbox-interface = 127.0.0.1
        box-allow-ip = 127.0.0.1
        log-file = "{_directory}/bearerbox.log"
        log-level = 1
        dlr-storage = internal

        {SmscGroup()}

        group = smsbox
        bearerbox-host = 127.0.0.1
        bearerbox-port = {BoxPort}
        sendsms-port = {SendSmsPort}
        sendsms-interface = 127.0.0.1
        log-file = "{_directory}/smsbox.log"
        log-level = 1

        group = sendsms-user
        username = {Username}
        password = {Password}
        max-messages = 10
        concatenation = true

        group = sms-service
        keyword = default
        text = "noop"
        catch-all = true

        """);

    private string SmscGroup() => Smpp is null
        ? string.Create(CultureInfo.InvariantCulture, $"""
            group = smsc
            smsc = fake
            smsc-id = fake1
            port = {SmscPort}
            our-host = 127.0.0.1
            connect-allow-ip = 127.0.0.1
            """)
        : string.Create(CultureInfo.InvariantCulture, $"""
            group = smsc
            smsc = smpp
            smsc-id = smpp1
            host = 127.0.0.1
            port = {SmscPort}
            transceiver-mode = true
            smsc-username = ujumbe
            smsc-password = smsc-pw
            system-type = "VMA"
            interface-version = 34
            """);

    /// <summary>Starts bearerbox, the handsets and smsbox (again, on the same ports) and waits until sendsms answers and the SMSC is online.</summary>
    public async Task StartServersAsync()
    {
        var configuration = Path.Combine(_directory, "kannel.conf");
        _bearerbox = Launch("/usr/sbin/bearerbox", "-v", "1", configuration);
        if (Smpp is null)
        {
            await WaitForPortAsync(SmscPort, _bearerbox);
            _handsets = Launch(FakeSmsc, "-H", "127.0.0.1", "-r", SmscPort.ToString(CultureInfo.InvariantCulture), "-m", "0", "-v", "0", "1000 2000 text mo");
        }
        else
        {
            await WaitForPortAsync(BoxPort, _bearerbox);
        }
        _smsbox = Launch("/usr/sbin/smsbox", "-v", "1", configuration);
        await WaitForPortAsync(SendSmsPort, _smsbox);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var status = "";
        await HttpAssertions.EventuallyAsync(async () =>
        {
            status = await http.GetStringAsync($"http://127.0.0.1:{AdminPort}/status.txt?password={AdminPassword}");
            return status.Split('\n').Any(line => line.Contains(SmscId + "[", StringComparison.Ordinal) && line.Contains("online", StringComparison.Ordinal));
        }, TimeSpan.FromSeconds(30), () => Task.FromResult("Kannel's SMSC never came online:\n" + status + "\n" + Log));
    }

    /// <summary>Kills smsbox, the handsets and bearerbox (SIGKILL, by pid): Kannel is gone, as in a crash.</summary>
    public async Task StopServersAsync()
    {
        foreach (var process in new[] { _smsbox, _handsets, _bearerbox })
        {
            if (process is null)
            {
                continue;
            }
            if (!process.HasExited)
            {
                process.Kill();
            }
            await process.WaitForExitAsync();
            process.Dispose();
        }
        _smsbox = _handsets = _bearerbox = null;
    }

    /// <summary>How many message lines went to <paramref name="number"/> (digits, with or without '+').</summary>
    public int ReceivedBy(string number)
    {
        var digits = number.TrimStart('+');
        return Received.Count(line => line.Split(' ') is [_, var receiver, ..] && receiver.TrimStart('+') == digits);
    }

    /// <summary>The text of the message lines to <paramref name="number"/>, decoding UCS-2 lines (url-encoded UTF-16BE).</summary>
    public IReadOnlyList<string> TextsTo(string number)
    {
        var digits = number.TrimStart('+');
        var texts = new List<string>();
        foreach (var line in Received)
        {
            var parts = line.Split(' ', 4);
            if (parts.Length == 4 && parts[1].TrimStart('+') == digits)
            {
                texts.Add(parts[2] == "ucs-2"
                    ? Encoding.BigEndianUnicode.GetString(System.Web.HttpUtility.UrlDecodeToBytes(parts[3]))
                    : parts[3]);
            }
        }
        return texts;
    }

    private Process Launch(string file, params string[] arguments)
    {
        var process = new Process
        {
            StartInfo = new ProcessStartInfo(file, arguments)
            {
                WorkingDirectory = _directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            },
        };
        process.OutputDataReceived += (_, line) => Keep(line.Data);
        process.ErrorDataReceived += (_, line) => Keep(line.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        if (GotMessage().Match(line) is { Success: true } match)
        {
            _received.Enqueue(match.Groups[1].Value);
        }
        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    private Task WaitForPortAsync(int port, Process owner)
    {
        async Task<string> NeverListened() =>
            $"{owner.StartInfo.FileName} never listened on {port}:\n{Log}\n{await File.ReadAllTextAsync(Path.Combine(_directory, "kannel.conf"))}";
        return HttpAssertions.EventuallyAsync(async () =>
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return true;
            }
            catch (SocketException) when (!owner.HasExited)
            {
                return false;
            }
            catch (SocketException)
            {
                throw new InvalidOperationException(await NeverListened()); // it exited: waiting longer cannot help
            }
        }, TimeSpan.FromSeconds(20), NeverListened);
    }

    public async ValueTask DisposeAsync()
    {
        await StopServersAsync();
        if (Smpp is not null)
        {
            await Smpp.DisposeAsync();
        }
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // a log file still being closed: the temp folder is cleaned with the machine
        }
    }

    [GeneratedRegex(@"Got message \d+: <(.*)>\s*$")]
    private static partial Regex GotMessage();
}
