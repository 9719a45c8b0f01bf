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

write_big_send

declare -A TIMES=([before]="" [after]="")
for run in $(seq 1 "$RUNS"); do
  for side in before after; do
    tree=$BEFORE; [ $side = after ] && tree=$AFTER
    start_turn "$tree" $side "$run" ujumbe_bench_phones
    top_up_demo $GW "$OPERATOR"
    big_send >/dev/null  # warm-up
    t=$(big_send)
    TIMES[$side]="${TIMES[$side]} $t"
    log "$side run $run: $t s"
    stop_services
  done
done
ROOT=$AFTER
# shellcheck disable=SC2086
B=$(median ${TIMES[before]}); A=$(median ${TIMES[after]})
log "10,000-recipient accept, before ($BASE):${TIMES[before]} (median $B s); after:${TIMES[after]} (median $A s)"
echo "before_median=$B after_median=$A before=[${TIMES[before]} ] after=[${TIMES[after]} ] load=$(cut -d' ' -f1-3 /proc/loadavg)" >"$OUT/result.txt"
cat "$OUT/result.txt"
