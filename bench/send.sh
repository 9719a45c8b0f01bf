#!/usr/bin/env bash
# Send-path benchmark (issue 3): through the gateway,
#   (a) single-recipient sends per second at 8, 32 and 64 connections, p50/p99 latency,
#   (b) time to accept one 10,000-recipient request,
#   (c) end-to-end dispatch: 100,000 queued messages to final status with the simulator.
# With BASE=<git ref>, the same measurements of BASE's services and of this tree's in turns —
# before, after, before, after… RUNS times, each turn on a fresh database — and a before/after table
# with medians and ratios, so a busy shared CPU weighs on both sides alike.
# Appends the results to docs/benchmarks.md.
# Usage: bench/send.sh  (env: DUR=20 CONNS="8 32 64"; BASE=<ref> RUNS=3 for before/after)
. "$(dirname "$0")/lib.sh"
DUR=${DUR:-20}
CONNS=${CONNS:-"8 32 64"}
BASE=${BASE:-}
if [ -n "$BASE" ]; then RUNS=${RUNS:-3}; else RUNS=1; fi
GW=${UJUMBE_GATEWAY_PORT:-5280} API=${UJUMBE_API_PORT:-5281} WORKER=${UJUMBE_WORKER_PORT:-5282}

need_tools wrk curl bc
start_stack
AFTER=$ROOT
SIDES=after
if [ -n "$BASE" ]; then
  BEFORE=$(build_base "$BASE")
  SIDES="before after"
fi
build_release

write_big_send
ALL_FINAL="not exists (select 1 from messages where status in ('queued','submitting','sent'))"

declare -A RESULT CPU ACCEPT E2E
# measure SIDE RUN: starts that side's services on a fresh database and takes (a), (b) and (c).
measure() {
  local side=$1 run=$2 c hz before_api before_gw before_worker t start accepted done_at
  ROOT=$AFTER; [ "$side" = before ] && ROOT=$BEFORE
  KEYS=$OUT/keys-$side-$run.json
  DB=$(fresh_database ujumbe_bench)
  AMQP=$(fresh_vhost bench)
  local common=(ConnectionStrings__postgres="$DB" ConnectionStrings__rabbitmq="$AMQP")
  start_service api Api $API "${common[@]}" Seed__KeysFile="$KEYS"
  start_service worker Worker $WORKER "${common[@]}" Providers__Simulator__DeliveryReportDelay=00:00:00.100
  start_service gateway Gateway $GW services__api__http__0="http://127.0.0.1:$API"
  wait_healthy $API $WORKER $GW
  OPERATOR=$(seed_key operator)
  DEMO=$(seed_key demo)
  # Enough credits for every run (the demo account already has the approved sender ID UJUMBE).
  top_up_demo $GW "$OPERATOR"
  raise_demo_limits $GW "$OPERATOR"
  export BENCH_KEY=$DEMO
  warm_up "warmup-$side-$run" "$PID_api $PID_gateway $PID_worker" 8 "http://127.0.0.1:$GW" -s "$ROOT/bench/send.lua"

  hz=$(getconf CLK_TCK)
  for c in $CONNS; do
    before_api=$(cpu_ticks "$PID_api"); before_gw=$(cpu_ticks "$PID_gateway"); before_worker=$(cpu_ticks "$PID_worker")
    RESULT[$side-$c-$run]=$(wrk_run "send-$side-c$c-$run" "$c" "$DUR" "http://127.0.0.1:$GW" -s "$ROOT/bench/send.lua")
    CPU[$side-$c-$run]="gateway $(( ($(cpu_ticks "$PID_gateway") - before_gw) * 100 / hz / DUR ))%, api $(( ($(cpu_ticks "$PID_api") - before_api) * 100 / hz / DUR ))%, worker $(( ($(cpu_ticks "$PID_worker") - before_worker) * 100 / hz / DUR ))%"
    log "$side run $run c=$c: ${RESULT[$side-$c-$run]} (${CPU[$side-$c-$run]})"
  done

  log "$side run $run: waiting for the queue to drain"
  wait_until ujumbe_bench "$ALL_FINAL" 600 1
  # (b) one 10,000-recipient request: one warm-up, then the median of three
  big_send >/dev/null
  local times=()
  for t in 1 2 3; do times+=("$(big_send)"); done
  ACCEPT[$side-$run]=$(median "${times[@]}")
  log "$side run $run: 10,000-recipient accept ${times[*]} (median ${ACCEPT[$side-$run]} s)"

  # (c) 100,000 messages to final status: accept 10 × 10,000, then time until every one is final.
  wait_until ujumbe_bench "$ALL_FINAL" 600 1
  start=$(date +%s.%N)
  local senders=()
  for t in $(seq 1 10); do
    curl -s -o /dev/null -H "Authorization: Bearer $DEMO" -H 'content-type: application/json' --data-binary "@$BIG" "http://127.0.0.1:$GW/v1/messages" &
    senders+=($!)
  done
  wait "${senders[@]}"  # only these: a bare wait would wait for the services too
  accepted=$(date +%s.%N)
  wait_until ujumbe_bench "$ALL_FINAL" 300 0.2
  done_at=$(date +%s.%N)
  E2E[$side-$run]="$(echo "$done_at - $start" | bc) $(echo "$accepted - $start" | bc)"
  log "$side run $run: 100,000 messages final in ${E2E[$side-$run]% *} s (accepted in ${E2E[$side-$run]#* } s)"
  stop_services
}

for run in $(seq 1 "$RUNS"); do
  for side in $SIDES; do measure "$side" "$run"; done
done
ROOT=$AFTER

# column SIDE KEY-SUFFIX FIELD: the FIELD-th value of RESULT for each run, space-separated
column() { local run; for run in $(seq 1 "$RUNS"); do cut -d' ' -f"$3" <<<"${RESULT[$1-$2-$run]}"; done | xargs; }
# pick SIDE C: the run whose sends/s is the median, as "rps p50 p99 errors"
pick() {
  local med run
  # shellcheck disable=SC2046
  med=$(median $(column "$1" "$2" 1))
  for run in $(seq 1 "$RUNS"); do [ "$(cut -d' ' -f1 <<<"${RESULT[$1-$2-$run]}")" = "$med" ] && { echo "${RESULT[$1-$2-$run]} $run"; return; }; done
}
accepts() { local run; for run in $(seq 1 "$RUNS"); do echo "${ACCEPT[$1-$run]}"; done | xargs; }
e2es() { local run; for run in $(seq 1 "$RUNS"); do echo "${E2E[$1-$run]%% *}"; done | xargs; }

{
  echo
  if [ -z "$BASE" ]; then
    echo "## Send path — $(date -u +%Y-%m-%d) (issue 3)"
    echo
    echo "Machine: $(machine). Command: \`bench/send.sh\` (DUR=$DUR, wrk -t2, single-recipient JSON sends through the gateway; Api, Worker, Gateway, PostgreSQL, RabbitMQ, Redis and wrk share the machine). Logs: bench/out/$(basename "$OUT")."
    echo
    echo "| connections | sends/s (202, durably committed) | p50 | p99 | non-2xx | CPU (% of one core) |"
    echo "| ---: | ---: | ---: | ---: | ---: | --- |"
    for c in $CONNS; do
      read -r rps p50 p99 errors <<<"${RESULT[after-$c-1]}"
      echo "| $c | $rps | $p50 | $p99 | $errors | ${CPU[after-$c-1]} |"
    done
    e2e=${E2E[after-1]%% *}
    echo
    echo "- One 10,000-recipient request accepted in (median of 3): ${ACCEPT[after-1]} s."
    echo "- 100,000 messages (10 × 10,000) from first request to every message final (delivered): $e2e s, $(echo "100000 / $e2e" | bc) messages/s (simulator: no submit latency, 100 ms report delay)."
  else
    echo "## Send path, before ($BASE, $(git -C "$AFTER" rev-parse --short "$BASE")) and after ($(git -C "$AFTER" rev-parse --short HEAD)) — $(date -u +%Y-%m-%d)"
    echo
    echo "Machine: $(machine). Command: \`BASE=$BASE RUNS=$RUNS bench/send.sh\` (DUR=$DUR, wrk -t2, single-recipient JSON sends through the gateway; before and after in turns, $RUNS runs each, each turn on a fresh database; Api, Worker, Gateway, PostgreSQL, RabbitMQ, Redis and wrk share the machine). Medians; ratio = after / before. Logs: bench/out/$(basename "$OUT")."
    echo
    echo "| connections | before sends/s | after sends/s | ratio | before p50 / p99 | after p50 / p99 | before, each run | after, each run |"
    echo "| ---: | ---: | ---: | ---: | --- | --- | --- | --- |"
    for c in $CONNS; do
      read -r brps bp50 bp99 _ _ <<<"$(pick before "$c")"
      read -r arps ap50 ap99 _ _ <<<"$(pick after "$c")"
      echo "| $c | $brps | $arps | $(ratio "$arps" "$brps") | $bp50 / $bp99 | $ap50 / $ap99 | $(column before "$c" 1) | $(column after "$c" 1) |"
    done
    # shellcheck disable=SC2046
    bacc=$(median $(accepts before)); aacc=$(median $(accepts after))
    # shellcheck disable=SC2046
    be2e=$(median $(e2es before)); ae2e=$(median $(e2es after))
    echo
    echo "| seconds for | before | after | ratio | before, each run | after, each run |"
    echo "| --- | ---: | ---: | ---: | --- | --- |"
    echo "| one 10,000-recipient request (median of 3 per run) | $bacc | $aacc | $(ratio "$aacc" "$bacc") | $(accepts before) | $(accepts after) |"
    echo "| 100,000 messages (10 × 10,000) to final | $be2e | $ae2e | $(ratio "$ae2e" "$be2e") | $(e2es before) | $(e2es after) |"
  fi
} | tee -a "$ROOT/docs/benchmarks.md"
