#!/usr/bin/env bash
# Sep against CsvHelper (and the hand-written reader they replaced) on the same 100,000-row file, interleaved,
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
dotnet build "$WORK" -c Release -nologo -v quiet >/dev/null
dotnet "$WORK/bin/Release/net10.0/csv-libraries.dll"
