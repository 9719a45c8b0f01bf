#!/usr/bin/env bash
# Dialect overhead (issue 13, item 7): single-recipient sends per second through the gateway,
# /v1/messages against /compat/wasambazie/v1/sms/send, in the same run on the same services: the
# two alternate (v1, dialect, v1, dialect…) RUNS times at each connection count, so a busy shared CPU
# weighs on both alike. Ratio = dialect / v1 (issue 13 asks at least 0.90). The dialect's send answers
# once the provider has (decision 0026; woken by the Worker's notification, decision 0031), so it also
# holds each connection for the dispatch: the "dispatch" columns are that part, accept → provider answer
# recorded (batch created_at → message sent_at), over the messages each side sent, read after the runs.
# Appends the results to docs/benchmarks.md.
# Usage: bench/compat.sh  (env: DUR=15 CONNS="1 64 128 256" RUNS=3)
. "$(dirname "$0")/lib.sh"
DUR=${DUR:-15}
CONNS=${CONNS:-"1 64 128 256"}
RUNS=${RUNS:-3}
GW=${UJUMBE_GATEWAY_PORT:-5280} API=${UJUMBE_API_PORT:-5281} WORKER=${UJUMBE_WORKER_PORT:-5282}

need_tools wrk curl bc
start_stack
build_release

DB=$(fresh_database ujumbe_bench)
AMQP=$(fresh_vhost bench)
common=(ConnectionStrings__postgres="$DB" ConnectionStrings__rabbitmq="$AMQP")
start_service api Api $API "${common[@]}" Seed__KeysFile="$KEYS"
start_service worker Worker $WORKER "${common[@]}" Providers__Simulator__DeliveryReportDelay=00:00:00.100
start_service gateway Gateway $GW services__api__http__0="http://127.0.0.1:$API"
wait_healthy $API $WORKER $GW
OPERATOR=$(seed_key operator)
DEMO=$(seed_key demo)
top_up_demo $GW "$OPERATOR"
raise_demo_limits $GW "$OPERATOR"
export BENCH_KEY=$DEMO
warm_up warmup-v1 "$PID_api $PID_gateway $PID_worker" 8 "http://127.0.0.1:$GW" -s "$ROOT/bench/send.lua"
warm_up warmup-dialect "$PID_api $PID_gateway $PID_worker" 8 "http://127.0.0.1:$GW" -s "$ROOT/bench/compat-wasambazie.lua"
finished() { wait_until ujumbe_bench "not exists (select 1 from batches where status <> 'finalized')" 300 0.2; }
finished

declare -A RESULT WINDOW
now() { date +%s.%N; }
for run in $(seq 1 "$RUNS"); do
  for c in $CONNS; do
    for side in v1 dialect; do
      script=$ROOT/bench/send.lua
      [ $side = dialect ] && script=$ROOT/bench/compat-wasambazie.lua
      start=$(now)
      RESULT[$side-$c-$run]=$(wrk_run "$side-c$c-$run" "$c" "$DUR" "http://127.0.0.1:$GW" -s "$script")
      WINDOW[$side-$c-$run]="$start $(now)"
      log "run $run c=$c $side: ${RESULT[$side-$c-$run]}"
      # Each run ends with its sends finished (dispatched, reported), so no run's leftovers are worked off in the next.
      finished
    done
  done
done

# The dispatch latency of each side's sends at each connection count (all its runs together), read only now, so the
# reading costs the runs nothing.
dispatch() {
  local side=$1 c=$2 run where=""
  for run in $(seq 1 "$RUNS"); do
    read -r start end <<<"${WINDOW[$side-$c-$run]}"
    where="$where${where:+ or }(b.created_at >= to_timestamp($start) and b.created_at < to_timestamp($end))"
  done
  psql_admin -d ujumbe_bench -c "
    select coalesce(round(percentile_cont(0.5) within group (order by ms))::text || 'ms', '-') || ' '
        || coalesce(round(percentile_cont(0.99) within group (order by ms))::text || 'ms', '-')
      from (select extract(epoch from coalesce(m.sent_at, m.failed_at) - b.created_at) * 1000 as ms
              from batches b join messages m on m.batch_id = b.id
             where $where) t"
}

# wrk writes latencies with their unit (850.00us, 29.15ms, 1.02s): in milliseconds they sort and compare.
to_ms() { awk '{ v = $1; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /m$/) { sub(/m$/, "", v); v *= 60000 } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } printf "%.1f\n", v }'; }
# column SIDE CONNECTIONS FIELD: that field of every run (1 sends/s, 2 p50, 3 p99 — both in ms —, 4 non-2xx)
column() {
  local run
  for run in $(seq 1 "$RUNS"); do
    if [ "$3" = 2 ] || [ "$3" = 3 ]; then cut -d' ' -f"$3" <<<"${RESULT[$1-$2-$run]}" | to_ms; else cut -d' ' -f"$3" <<<"${RESULT[$1-$2-$run]}"; fi
  done | xargs
}
latency() { echo "$(median $(column "$1" "$2" 2))ms / $(median $(column "$1" "$2" 3))ms"; }
{
  echo
  echo "## Dialect overhead: /v1/messages and /compat/wasambazie/v1/sms/send — $(date -u +%Y-%m-%d) (issue 13)"
  echo
  echo "Machine: $(machine). Command: \`bench/compat.sh\` (DUR=$DUR s per run, wrk -t2 (-t1 at 1 connection), single-recipient JSON sends through the gateway, the two alternating $RUNS times at each connection count, each run followed by a pause until all its sends are finalized; Api, Worker, Gateway, PostgreSQL, RabbitMQ, Redis and wrk share the machine). Medians of the runs; ratio = Wasambazie / v1. Dispatch = accept → the provider's answer recorded, p50/p99 over all the side's messages at that connection count. Logs: bench/out/$(basename "$OUT")."
  echo
  echo "| connections | /v1 sends/s | Wasambazie sends/s | ratio | /v1 p50 / p99 | Wasambazie p50 / p99 | dispatch /v1 p50 / p99 | dispatch Wasambazie p50 / p99 | /v1, each run | Wasambazie, each run | Wasambazie non-2xx |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"
  for c in $CONNS; do
    # shellcheck disable=SC2046
    v1=$(median $(column v1 "$c" 1)); dialect=$(median $(column dialect "$c" 1))
    read -r v1_dispatch50 v1_dispatch99 <<<"$(dispatch v1 "$c")"
    read -r dialect_dispatch50 dialect_dispatch99 <<<"$(dispatch dialect "$c")"
    # shellcheck disable=SC2046
    echo "| $c | $v1 | $dialect | $(ratio "$dialect" "$v1") | $(latency v1 "$c") | $(latency dialect "$c") | $v1_dispatch50 / $v1_dispatch99 | $dialect_dispatch50 / $dialect_dispatch99 | $(column v1 "$c" 1) | $(column dialect "$c" 1) | $(column dialect "$c" 4) |"
  done
} | tee -a "$ROOT/docs/benchmarks.md"
