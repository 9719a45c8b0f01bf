#!/usr/bin/env bash
# Before/after benchmark of the 10,000-recipient send (issue 16): builds BASE (default main) from git
# into the run folder and this tree, then takes turns — before, after, before, after... — each turn a
# fresh database, the Api and Gateway of that tree, one warm-up 10,000-recipient send and one timed.
# Interleaved so a busy shared CPU weighs on both sides alike. Usage: bench/phones.sh (env: RUNS=3 BASE=main)
. "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-3}
BASE=${BASE:-main}
GW=${UJUMBE_GATEWAY_PORT:-5290} API=${UJUMBE_API_PORT:-5291}

need_tools curl
start_stack
AFTER=$ROOT
BEFORE=$(build_base "$BASE")
build_release

BIG=$OUT/big.json
{ printf '{"sender_id":"UJUMBE","text":"Ujumbe benchmark: a large batch","to":['
  for i in $(seq 0 9999); do printf '%s"+25575%07d"' "$([ $i -gt 0 ] && echo ,)" $((1000000 + i)); done
  printf ']}'; } >"$BIG"

declare -A TIMES=([before]="" [after]="")
for run in $(seq 1 "$RUNS"); do
  for side in before after; do
    tree=$BEFORE; [ $side = after ] && tree=$AFTER
    start_turn "$tree" $side "$run" ujumbe_bench_phones
    top_up_demo $GW "$OPERATOR"
    for attempt in warm timed; do
      t=$(curl -s -o "$OUT/big-$side-$run-$attempt.out" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $DEMO" \
          -H 'content-type: application/json' --data-binary "@$BIG" "http://127.0.0.1:$GW/v1/messages")
      [ "${t%% *}" = 202 ] || { log "$side: large send failed: $t"; head -c 600 "$OUT/big-$side-$run-$attempt.out"; exit 1; }
    done
    TIMES[$side]="${TIMES[$side]} ${t##* }"
    log "$side run $run: ${t##* } s"
    stop_services
  done
done
ROOT=$AFTER
# shellcheck disable=SC2086
B=$(median ${TIMES[before]}); A=$(median ${TIMES[after]})
log "10,000-recipient accept, before ($BASE):${TIMES[before]} (median $B s); after:${TIMES[after]} (median $A s)"
echo "before_median=$B after_median=$A before=[${TIMES[before]} ] after=[${TIMES[after]} ] load=$(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT/result.txt"
cat "$OUT/result.txt"
