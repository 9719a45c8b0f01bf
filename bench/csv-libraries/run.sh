#!/usr/bin/env bash
# Sep against CsvHelper (and the hand-written reader they replaced, and the import's reader today) on the same 100,000-row file, interleaved,
# 11 timed rounds after a warm-up; then what each makes of hostile input (decision 0024). Built outside the
# repository, so the project's analyzers and central versions do not apply to this throwaway program.
# Usage: bench/csv-libraries/run.sh  (env: BASE=3b59eb2 — the last commit with the hand-written reader)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
BASE=${BASE:-3b59eb2}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/old"
cp "$HERE/Program.cs" "$WORK/"
cp "$HERE/csv-libraries.csproj.txt" "$WORK/csv-libraries.csproj"
git -C "$HERE" show "$BASE:Api/Contacts/ContactCsv.cs" >"$WORK/old/ContactCsv.cs"
# The import's reader today (CsvHelper and the rows built from its records), beside the old one in its own namespace.
mkdir -p "$WORK/now"
for f in ContactCsv.cs ContactCsvRows.cs; do
  sed 's/^namespace Ujumbe.Api.Contacts;/namespace Ujumbe.Api.Contacts.Now;/' "$HERE/../../Api/Contacts/$f" >"$WORK/now/$f"
done
dotnet build "$WORK" -c Release -nologo -v quiet >"$WORK/build.log" 2>&1 || { grep -E "error" "$WORK/build.log" | sort -u | head -20 >&2; exit 1; }
dotnet "$WORK/bin/Release/net10.0/csv-libraries.dll"
