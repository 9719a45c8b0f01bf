#!/usr/bin/env bash
# Before/after benchmark of the 100,000-row contact import (issue 16): builds BASE (default main) from git
# into the run folder and this tree, then takes turns — before, after, before, after... — each turn a
# fresh database, the Api and Gateway of that tree, a 20,000-row warm-up imported twice, then the timed imports of
# the same 100,000-row file: first as new contacts, then again as updates. Interleaved so a busy shared
# CPU weighs on both sides alike. Usage: bench/import.sh (env: RUNS=3 BASE=main ROWS=100000)
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-3}
BASE=${BASE:-main}
ROWS=${ROWS:-100000}
GW=${UJUMBE_GATEWAY_PORT:-5290} API=${UJUMBE_API_PORT:-5291}

need_tools curl awk
start_stack
AFTER=$ROOT
BEFORE=$(build_base "$BASE")
build_release

# The file bench/contacts.sh imports: name, phone, email, two tags, one attribute.
CSV=$OUT/contacts.csv
awk -v n="$ROWS" 'BEGIN { print "name,phone,email,tags,city";
  for (i = 0; i < n; i++) printf "Contact %d,+25571%07d,c%d@example.com,bench;g%d,City%d\n", i, i, i, i % 10, i % 50 }' >"$CSV"
# The warm-up has the file's columns and is imported twice, so that both the insert and the update path are
# compiled to their optimised tier before the timed imports (the JIT keeps recompiling for the first 15-25 s).
WARM=$OUT/warm.csv
awk 'BEGIN { print "name,phone,email,tags,city";
  for (i = 0; i < 20000; i++) printf "Warm %d,+25574%07d,w%d@example.com,warm;g%d,City%d\n", i, i, i, i % 10, i % 50 }' >"$WARM"

import() {  # import SIDE RUN WHAT FILE -> seconds
  local t
  t=$(curl -s -o "$OUT/import-$1-$2-$3.json" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $DEMO" \
      -H 'content-type: text/csv' --data-binary "@$4" "http://127.0.0.1:$GW/v1/contacts/import")
  [ "${t%% *}" = 200 ] || { log "$1: import failed: $t"; head -c 600 "$OUT/import-$1-$2-$3.json" >&2; exit 1; }
  echo "${t##* }"
}

declare -A NEW=([before]="" [after]="") AGAIN=([before]="" [after]="")
for run in $(seq 1 "$RUNS"); do
  for side in before after; do
    tree=$BEFORE; [ $side = after ] && tree=$AFTER
    start_turn "$tree" $side "$run" ujumbe_bench_import
    import $side $run warm "$WARM" >/dev/null
    import $side $run warm-again "$WARM" >/dev/null
    new=$(import $side $run new "$CSV")
    again=$(import $side $run again "$CSV")
    grep -q "\"created\":$ROWS" "$OUT/import-$side-$run-new.json" || { log "$side: not all rows created: $(head -c 300 "$OUT/import-$side-$run-new.json")"; exit 1; }
    grep -q "\"updated\":$ROWS" "$OUT/import-$side-$run-again.json" || { log "$side: not all rows updated: $(head -c 300 "$OUT/import-$side-$run-again.json")"; exit 1; }
    NEW[$side]="${NEW[$side]} $new"; AGAIN[$side]="${AGAIN[$side]} $again"
    log "$side run $run: new $new s, again $again s"
    stop_services
  done
done
ROOT=$AFTER
# shellcheck disable=SC2086
echo "new_before_median=$(median ${NEW[before]}) new_after_median=$(median ${NEW[after]}) again_before_median=$(median ${AGAIN[before]}) again_after_median=$(median ${AGAIN[after]}) new_before=[${NEW[before]} ] new_after=[${NEW[after]} ] again_before=[${AGAIN[before]} ] again_after=[${AGAIN[after]} ] size=$(stat -c %s "$CSV") load=$(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT/result.txt"
cat "$OUT/result.txt"
