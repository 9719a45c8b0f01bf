#!/usr/bin/env bash
# Send-path benchmark (issue 3): through the gateway,
#   (a) single-recipient sends per second at 8, 32 and 64 connections, p50/p99 latency,
#   (b) time to accept one 10,000-recipient request,
#   (c) end-to-end dispatch: 100,000 queued messages to final status with the simulator.
# Appends the results to docs/benchmarks.md. Usage: bench/send.sh  (env: DUR=20 CONNS="8 32 64")
. "$(dirname "$0")/lib.sh"
DUR=${DUR:-20}
CONNS=${CONNS:-"8 32 64"}
GW=5280 API=5281 WORKER=5282

need_tools wrk curl
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
# Enough credits for every run (the demo account already has the approved sender ID UJUMBE).
top_up_demo $GW "$OPERATOR"
raise_demo_limits $GW "$OPERATOR"
export BENCH_KEY=$DEMO
log "warm-up"
wrk_run warmup 8 5 "http://127.0.0.1:$GW" -s "$ROOT/bench/send.lua" >/dev/null

declare -A RESULT CPU
for c in $CONNS; do
  before_api=$(cpu_ticks "$PID_api"); before_gw=$(cpu_ticks "$PID_gateway"); before_worker=$(cpu_ticks "$PID_worker")
  RESULT[$c]=$(wrk_run "send-c$c" "$c" "$DUR" "http://127.0.0.1:$GW" -s "$ROOT/bench/send.lua")
  hz=$(getconf CLK_TCK)
  CPU[$c]="gateway $(( ($(cpu_ticks "$PID_gateway") - before_gw) * 100 / hz / DUR ))%, api $(( ($(cpu_ticks "$PID_api") - before_api) * 100 / hz / DUR ))%, worker $(( ($(cpu_ticks "$PID_worker") - before_worker) * 100 / hz / DUR ))%"
  log "c=$c: ${RESULT[$c]} (${CPU[$c]})"
done

log "waiting for the queue to drain"
ALL_FINAL="not exists (select 1 from messages where status in ('queued','submitting','sent'))"
wait_until ujumbe_bench "$ALL_FINAL" 600 1

# (b) one 10,000-recipient request
BIG=$OUT/big.json
{ printf '{"sender_id":"UJUMBE","text":"Ujumbe benchmark: a large batch","to":['
  for i in $(seq 0 9999); do printf '%s"+25575%07d"' "$([ $i -gt 0 ] && echo ,)" $((1000000 + i)); done
  printf ']}'; } >"$BIG"
ACCEPT_TIMES=()
for run in 1 2 3 4 5; do
  t=$(curl -s -o "$OUT/big-$run.out" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $DEMO" -H 'content-type: application/json' \
      --data-binary "@$BIG" "http://127.0.0.1:$GW/v1/messages")
  [ "${t%% *}" = 202 ] || { log "large send failed: $t"; head -c 600 "$OUT/big-$run.out"; exit 1; }
  ACCEPT_TIMES+=("${t##* }")
done
ACCEPT_MEDIAN=$(median "${ACCEPT_TIMES[@]}")
log "10,000-recipient accept: ${ACCEPT_TIMES[*]} (median $ACCEPT_MEDIAN s)"

# (c) 100,000 messages to final status: accept 10 × 10,000, then time until every one is final.
wait_until ujumbe_bench "$ALL_FINAL" 600 1
start=$(date +%s.%N)
SENDERS=()
for run in $(seq 1 10); do
  curl -s -o /dev/null -H "Authorization: Bearer $DEMO" -H 'content-type: application/json' --data-binary "@$BIG" "http://127.0.0.1:$GW/v1/messages" &
  SENDERS+=($!)
done
wait "${SENDERS[@]}"  # only these: a bare wait would wait for the services too
accepted=$(date +%s.%N)
wait_until ujumbe_bench "$ALL_FINAL" 300 0.2
done_at=$(date +%s.%N)
E2E_SECONDS=$(echo "$done_at - $start" | bc)
E2E_RATE=$(echo "100000 / $E2E_SECONDS" | bc)
log "100,000 messages final in $E2E_SECONDS s ($E2E_RATE/s; accepted in $(echo "$accepted - $start" | bc) s)"

{
  echo
  echo "## Send path — $(date -u +%Y-%m-%d) (issue 3)"
  echo
  echo "Machine: $(machine). Command: \`bench/send.sh\` (DUR=$DUR, wrk -t2, single-recipient JSON sends through the gateway; Api, Worker, Gateway, PostgreSQL, RabbitMQ, Redis and wrk share the machine). Logs: bench/out/$(basename "$OUT")."
  echo
  echo "| connections | sends/s (202, durably committed) | p50 | p99 | non-2xx | CPU (% of one core) |"
  echo "| ---: | ---: | ---: | ---: | ---: | --- |"
  for c in $CONNS; do
    read -r rps p50 p99 errors <<<"${RESULT[$c]}"
    echo "| $c | $rps | $p50 | $p99 | $errors | ${CPU[$c]} |"
  done
  echo
  echo "- One 10,000-recipient request accepted in: ${ACCEPT_TIMES[*]} s (median $ACCEPT_MEDIAN s)."
  echo "- 100,000 messages (10 × 10,000) from first request to every message final (delivered): $E2E_SECONDS s, $E2E_RATE messages/s (simulator: no submit latency, 100 ms report delay)."
} | tee -a "$ROOT/docs/benchmarks.md"
