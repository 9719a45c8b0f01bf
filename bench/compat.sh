#!/usr/bin/env bash
# Dialect overhead (issue 13, item 7): single-recipient sends per second through the gateway,
# /v1/messages against /compat/wasambazie/v1/sms/send, in the same run on the same services: the
# two alternate (v1, dialect, v1, dialect…) RUNS times at each connection count, so a busy shared CPU
# weighs on both alike. Ratio = dialect / v1 (issue 13 asks at least 0.90). The dialect's send answers
# once the provider has (decision 0026), so it also holds each connection for the dispatch.
# Appends the results to docs/benchmarks.md.
# Usage: bench/compat.sh  (env: DUR=15 CONNS="32 64" RUNS=3)
. "$(dirname "$0")/lib.sh"
DUR=${DUR:-15}
CONNS=${CONNS:-"32 64"}
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

declare -A RESULT
for run in $(seq 1 "$RUNS"); do
  for c in $CONNS; do
    RESULT[v1-$c-$run]=$(wrk_run "v1-c$c-$run" "$c" "$DUR" "http://127.0.0.1:$GW" -s "$ROOT/bench/send.lua")
    log "run $run c=$c /v1/messages: ${RESULT[v1-$c-$run]}"
    RESULT[dialect-$c-$run]=$(wrk_run "dialect-c$c-$run" "$c" "$DUR" "http://127.0.0.1:$GW" -s "$ROOT/bench/compat-wasambazie.lua")
    log "run $run c=$c wasambazie: ${RESULT[dialect-$c-$run]}"
  done
done

column() { local run; for run in $(seq 1 "$RUNS"); do cut -d' ' -f"$3" <<<"${RESULT[$1-$2-$run]}"; done | xargs; }
{
  echo
  echo "## Dialect overhead: /v1/messages and /compat/wasambazie/v1/sms/send — $(date -u +%Y-%m-%d) (issue 13)"
  echo
  echo "Machine: $(machine). Command: \`bench/compat.sh\` (DUR=$DUR, wrk -t2, single-recipient JSON sends through the gateway, the two alternating $RUNS times; Api, Worker, Gateway, PostgreSQL, RabbitMQ, Redis and wrk share the machine). Medians; ratio = dialect / v1. Logs: bench/out/$(basename "$OUT")."
  echo
  echo "| connections | /v1 sends/s | dialect sends/s | ratio | /v1 p50 | dialect p50 | /v1, each run | dialect, each run | dialect non-2xx |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |"
  for c in $CONNS; do
    # shellcheck disable=SC2046
    v1=$(median $(column v1 "$c" 1)); dialect=$(median $(column dialect "$c" 1))
    # shellcheck disable=SC2046
    echo "| $c | $v1 | $dialect | $(ratio "$dialect" "$v1") | $(median $(column v1 "$c" 2)) | $(median $(column dialect "$c" 2)) | $(column v1 "$c" 1) | $(column dialect "$c" 1) | $(column dialect "$c" 4) |"
  done
} | tee -a "$ROOT/docs/benchmarks.md"
