#!/usr/bin/env bash
# Webhook delivery benchmark (issue 5): how fast the Worker delivers 10,000 events to a local
# receiver (nginx answering 204), signing each and writing every attempt to the history.
# Appends to docs/benchmarks.md. Usage: bench/webhooks.sh  (env: EVENTS=10000 RUNS=3)
. "$(dirname "$0")/lib.sh"
EVENTS=${EVENTS:-10000}
RUNS=${RUNS:-3}
API=5481 WORKER=5482 RECEIVER=5490

need_tools curl nginx openssl
start_stack
build_release

DB=$(fresh_database ujumbe_bench_hooks)
AMQP=$(fresh_vhost bench-hooks)
common=(ConnectionStrings__postgres="$DB" ConnectionStrings__rabbitmq="$AMQP" Webhooks__AllowPrivateNetworks=true)
start_service api Api $API "${common[@]}" Seed__KeysFile="$KEYS"
start_service worker Worker $WORKER "${common[@]}"
wait_healthy $API $WORKER

# The receiver: nginx answering 204 to everything, keep-alive.
start_nginx 1 $RECEIVER "    client_body_buffer_size 64k;
    server { listen 127.0.0.1:$RECEIVER; location / { return 204; } }"

# The Api's own port: these calls need a gateway signature, so sign one like the gateway does.
signed_post() {  # signed_post PATH BODY
  local signed identity signature
  signed=$(gateway_signature POST "$1")
  read -r identity signature <<<"$signed"
  curl -sf -H "X-Ujumbe-Identity: $identity" -H "X-Ujumbe-Signature: $signature" -H 'content-type: application/json' -d "$2" "http://127.0.0.1:$API$1"
}
signed_post /v1/webhooks "{\"url\":\"http://127.0.0.1:$RECEIVER/hook\",\"events\":[\"sender_id.approved\"]}" >/dev/null

TIMES=()
CPU=()
for run in $(seq 1 "$RUNS"); do
  # Pause the Worker, make the events (as sender-ID approvals would), release it and time the drain.
  kill -STOP "$PID_worker"
  psql_admin -d ujumbe_bench_hooks -c "select count(emit_webhook_event('$DEMO_ACCOUNT', 'sender_id.approved',
      jsonb_build_object('sender_id', jsonb_build_object('name', 'BENCH' || i, 'status', 'approved')), null, now()))
      from generate_series(1, $EVENTS) as i" >/dev/null
  hz=$(getconf CLK_TCK); nginx_worker=$(pgrep -P "$PID_nginx" | head -1)
  before_worker=$(cpu_ticks "$PID_worker"); before_all=$(machine_ticks); before_nginx=$(cpu_ticks "$nginx_worker")
  start=$(date +%s.%N)
  kill -CONT "$PID_worker"
  wait_until ujumbe_bench_hooks "not exists (select 1 from webhook_deliveries where status = 'pending')" 300 0.01
  seconds=$(echo "$(date +%s.%N) - $start" | bc)
  TIMES+=("$seconds")
  CPU+=("worker $(echo "scale=1; ($(cpu_ticks "$PID_worker") - $before_worker) / $hz" | bc) s, whole machine $(echo "scale=1; ($(machine_ticks) - $before_all) / $hz" | bc) s, nginx $(echo "scale=1; ($(cpu_ticks "$nginx_worker") - $before_nginx) / $hz" | bc) s")
  log "run $run: $EVENTS deliveries in $seconds s (CPU: ${CPU[-1]})"
done
attempts=$(psql_admin -d ujumbe_bench_hooks -c "select count(*) from webhook_attempts where status_code = 204")
median_seconds=$(median "${TIMES[@]}")
{
  echo
  echo "## Webhook delivery — $(date -u +%Y-%m-%d) (issue 5)"
  echo
  echo "Machine: $(machine). Command: \`bench/webhooks.sh\` (EVENTS=$EVENTS, $RUNS runs). Logs: bench/out/$(basename "$OUT")."
  echo "$EVENTS events (one endpoint) waiting in the database; the Worker takes, signs (HMAC-SHA256), POSTs them to nginx on loopback (204), and writes each attempt."
  echo
  echo "| run | seconds | deliveries/s | CPU used during the run |"
  echo "| ---: | ---: | ---: | --- |"
  for i in "${!TIMES[@]}"; do echo "| $((i + 1)) | ${TIMES[$i]} | $(echo "$EVENTS / ${TIMES[$i]}" | bc) | ${CPU[$i]} |"; done
  echo
  echo "Median: $(echo "$EVENTS / $median_seconds" | bc) deliveries/s; $attempts attempts recorded as 204 in the history."
} | tee -a "$ROOT/docs/benchmarks.md"
