using System.Diagnostics;
using System.Globalization;
using System.Text;
using CsvHelper;
using nietras.SeparatedValues;
using Ujumbe.Api.Contacts;

var sb = new StringBuilder("name,phone,email,tags,city\n");
for (var i = 0; i < 100_000; i++)
    sb.Append(CultureInfo.InvariantCulture, $"Contact {i},+25571{i:D7},c{i}@example.com,bench;g{i % 10},City{i % 50}\n");
var file = Encoding.UTF8.GetBytes(sb.ToString());
Console.WriteLine($"file: {file.Length:N0} bytes, 100,000 rows");

static long SepRead(byte[] bytes)
{
    long n = 0;
    using var reader = Sep.New(',').Reader(o => o with { Unescape = true, DisableColCountCheck = true, HasHeader = false }).From(new MemoryStream(bytes));
    foreach (var row in reader)
        for (var c = 0; c < row.ColCount; c++) n += row[c].ToString().Length;
    return n;
}
static async Task<long> SepReadAsync(byte[] bytes)
{
    long n = 0;
    using var reader = await Sep.New(',').Reader(o => o with { Unescape = true, DisableColCountCheck = true, HasHeader = false }).FromAsync(new MemoryStream(bytes));
    await foreach (var row in reader)
        for (var c = 0; c < row.ColCount; c++) n += row[c].ToString().Length;
    return n;
}
static CsvReaderOptions HelperOptions() => new() { Separator = ',', HasHeader = false, TrackLineNumbers = true };
static long HelperRead(byte[] bytes)
{
    long n = 0;
    using var reader = CsvReader.Create(new MemoryStream(bytes), HelperOptions(), false);
    while (reader.Read())
        for (var c = 0; c < reader.FieldCount; c++) n += reader.GetString(c).Length;
    return n;
}
static async Task<long> HelperReadAsync(byte[] bytes)
{
    long n = 0;
    await using var reader = CsvReader.Create(new MemoryStream(bytes), HelperOptions(), false);
    while (await reader.ReadAsync())
        for (var c = 0; c < reader.FieldCount; c++) n += reader.GetString(c).Length;
    return n;
}
static async Task<long> OldRead(byte[] bytes)
{
    long n = 0;
    await foreach (var item in ContactCsv.ReadAsync(new MemoryStream(bytes)))
        if (item is CsvContactRow r) n += r.Phone.Length;
    return n;
}
static async Task<long> NowRead(byte[] bytes)
{
    long n = 0;
    await foreach (var item in Ujumbe.Api.Contacts.Now.ContactCsv.ReadAsync(new MemoryStream(bytes)))
        if (item is Ujumbe.Api.Contacts.Now.CsvContactRow r) n += r.Phone.Length;
    return n;
}

static async Task<long> HelperImportConfig(byte[] bytes)
{
    long n = 0; var bad = 0;
    await using var reader = CsvReader.Create(new MemoryStream(bytes), HelperOptions() with { TrimWhitespace = true, MaxRecordSize = 1 << 20, OnMalformedRecord = _ => bad++ }, false);
    while (await reader.ReadAsync())
        for (var c = 0; c < reader.FieldCount; c++) n += reader.GetString(c).Length;
    return n;
}
static async Task<long> SepImportConfig(byte[] bytes)
{
    long n = 0;
    using var reader = await Sep.New(',').Reader(o => o with { Unescape = true, Trim = SepTrim.All, DisableColCountCheck = true, HasHeader = false }).FromAsync(new MemoryStream(bytes));
    await foreach (var row in reader)
        for (var c = 0; c < row.ColCount; c++) n += row[c].ToString().Length;
    return n;
}
var contestants = new (string Name, Func<byte[], Task<long>> Run)[]
{
    ("old hand-written (ContactCsv, rows built)", OldRead),
    ("now: CsvHelper in ContactCsv (rows built)", NowRead),
    ("Sep sync", b => Task.FromResult(SepRead(b))),
    ("Sep async", SepReadAsync),
    ("CsvHelper sync", b => Task.FromResult(HelperRead(b))),
    ("CsvHelper async", HelperReadAsync),
    ("Sep async, import options (unescape, trim)", SepImportConfig),
    ("CsvHelper async, import options (trim, lines, malformed)", HelperImportConfig),
};
var times = contestants.ToDictionary(c => c.Name, _ => new List<double>());
var allocs = contestants.ToDictionary(c => c.Name, _ => 0L);
for (var round = 0; round < 12; round++)
{
    foreach (var (name, run) in contestants)
    {
        GC.Collect(); GC.WaitForPendingFinalizers();
        var before = GC.GetTotalAllocatedBytes(true);
        var sw = Stopwatch.StartNew();
        await run(file);
        sw.Stop();
        if (round == 0) continue; // warm-up
        times[name].Add(sw.Elapsed.TotalMilliseconds);
        allocs[name] = GC.GetTotalAllocatedBytes(true) - before;
    }
}
foreach (var (name, _) in contestants)
{
    var t = times[name].Order().ToList();
    Console.WriteLine($"{name,-58} median {t[t.Count / 2],8:F1} ms  min {t[0],8:F1}  max {t[^1],8:F1}  alloc {allocs[name] / 1e6,8:F1} MB  runs: {string.Join(" ", t.Select(x => x.ToString("F0")))}");
}

// hostile inputs
var hostile = new (string Name, byte[] Bytes)[]
{
    ("broken quote", "name,phone\nA,1\n\"B,2\nC,3\n"u8.ToArray()),
    ("stray quote in unquoted", "phone,name\n0712,Tall 6'2\" guy\n0713,Next\n0714,Last\n"u8.ToArray()),
    ("text after closing quote", "name,phone\n\"A\"B,1\n\"C\"  ,2\n"u8.ToArray()),
    ("nul byte", "name,phone\nA\0,0712\n"u8.ToArray()),
    ("mixed line endings", "name,phone\r\nA,1\nB,2\rC,3\r\n"u8.ToArray()),
    ("quoted newline", "name,phone\n\"Line one\nLine two\r\nLine three\",0712\nNext,0713\n"u8.ToArray()),
    ("bom", [0xEF, 0xBB, 0xBF, .. "phone,name\n0712,Zawadi\n"u8]),
    ("utf16", [.. Encoding.Unicode.GetPreamble(), .. Encoding.Unicode.GetBytes("name,phone\nA,1\n")]),
    ("blanks before quote", "phone,name\n0712, \"Otieno, Peter\"\n"u8.ToArray()),
    ("semicolon file", "name;phone\nA;0712\n"u8.ToArray()),
};
foreach (var (name, bytes) in hostile)
{
    Console.WriteLine($"--- {name}");
    Console.WriteLine("  Sep:       " + Describe(() =>
    {
        var rows = new List<string>();
        using var reader = Sep.New(',').Reader(o => o with { Unescape = true, DisableColCountCheck = true, HasHeader = false }).From(new MemoryStream(bytes));
        foreach (var row in reader)
            { var cols = new List<string>(); for (var c = 0; c < row.ColCount; c++) cols.Add(Esc(row[c].ToString())); rows.Add($"L{row.LineNumberFrom}-{row.LineNumberToExcl}[{string.Join("|", cols)}]"); }
        return string.Join(" ", rows);
    }));
    Console.WriteLine("  CsvHelper: " + Describe(() =>
    {
        var rows = new List<string>();
        var bad = new List<string>();
        var options = HelperOptions() with { OnMalformedRecord = m => bad.Add($"{m.Reason}@rec{m.RecordNumber}/L{m.LineNumber}:{Esc(m.RawRecord)}") };
        using var reader = CsvReader.Create(new MemoryStream(bytes), options, false);
        while (reader.Read())
            rows.Add($"L{reader.LineNumber}[{string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(c => Esc(reader.GetString(c))))}]");
        return string.Join(" ", rows) + (bad.Count > 0 ? "  MALFORMED: " + string.Join(" ", bad) : "");
    }));
}
// 10 MB single line
{
    var one = Encoding.UTF8.GetBytes("name,phone\n" + new string('x', 10 * 1024 * 1024) + ",1\n");
    foreach (var (name, f) in new (string, Func<string>)[] {
        ("Sep", () => { using var r = Sep.New(',').Reader(o => o with { Unescape = true, DisableColCountCheck = true, HasHeader = false }).From(new MemoryStream(one)); var n = 0; foreach (var row in r) n += row[0].Span.Length; return n.ToString(); }),
        ("CsvHelper", () => { using var p = CsvReader.Create(new MemoryStream(one), HelperOptions(), false); var n = 0; while (p.Read()) n += p.GetSpan(0).Length; return n.ToString(); }), ("CsvHelper MaxRecordSize=64K", () => { using var p = CsvReader.Create(new MemoryStream(one), HelperOptions() with { MaxRecordSize = 65536 }, false); var n = 0; while (p.Read()) n += p.GetSpan(0).Length; return n.ToString(); }) })
    {
        GC.Collect();
        var before = GC.GetTotalAllocatedBytes(true);
        var sw = Stopwatch.StartNew();
        var res = Describe(f);
        Console.WriteLine($"--- 10 MB line {name}: {res} in {sw.ElapsedMilliseconds} ms, alloc {(GC.GetTotalAllocatedBytes(true) - before) / 1e6:F1} MB");
    }
}

static string Describe(Func<string> f) { try { return f(); } catch (Exception e) { return "THROWS " + e.GetType().Name + ": " + e.Message.Split('\n')[0]; } }
static string Esc(string s) => s.Replace("\r", "\\r").Replace("\n", "\\n").Replace("\0", "\\0");
