#!/usr/bin/env bash
# Payment-callback benchmark (issue 12 item 6): PAYMENTS pending mobile-money payments, each one's success
# callback delivered COPIES times — PAYMENTS × COPIES signed callbacks (1,000 by default), shuffled and sent
# all at once through the gateway's public callback route — must make exactly PAYMENTS credit postings.
# Times the whole volley (first request out to last answer in). The benchmark plays the aggregator: the
# Api's simulator is given the signing secret but no callback address, so only these callbacks complete
# payments (and no Worker runs, so no reconciliation does either).
# Appends to docs/benchmarks.md. Usage: bench/payments.sh  (env: PAYMENTS=100 COPIES=10 RUNS=3)
. "$(dirname "$0")/lib.sh"
PAYMENTS=${PAYMENTS:-100}
COPIES=${COPIES:-10}
RUNS=${RUNS:-3}
CREDITS=10
GW=${UJUMBE_GATEWAY_PORT:-5290} API=${UJUMBE_API_PORT:-5291}
# curl runs at most a few hundred transfers at once per process: the volley is split over this many.
SENDERS=4

need_tools curl openssl bc shuf
start_stack
build_release

SECRET=$(head -c 32 /dev/urandom | base64)
KEYHEX=$(printf '%s' "$SECRET" | base64 -d | od -An -tx1 | tr -d ' \n')
CALLBACK_URL="http://127.0.0.1:$GW/v1/payments/callbacks/mobile-money"
TOTAL=$((PAYMENTS * COPIES))

TIMES=()
OUTCOMES=()
for run in $(seq 1 "$RUNS"); do
  db=$(fresh_database ujumbe_bench_pay)
  amqp=$(fresh_vhost bench-pay)
  KEYS=$OUT/keys-$run.json
  start_service api Api "$API" ConnectionStrings__postgres="$db" ConnectionStrings__rabbitmq="$amqp" Seed__KeysFile="$KEYS" \
    MobileMoneySimulator__CallbackSecret="$SECRET" Payments__PendingLifetime=01:00:00
  start_service gateway Gateway "$GW" services__api__http__0="http://127.0.0.1:$API"
  wait_healthy "$API" "$GW"
  OPERATOR=$(seed_key operator); DEMO=$(seed_key demo)
  raise_demo_limits "$GW" "$OPERATOR"
  before=$(curl -sf -H "Authorization: Bearer $DEMO" "http://127.0.0.1:$GW/v1/balance" | sed -n 's/.*"balance":\([0-9]*\).*/\1/p')

  # The payments, each waiting for its callback; then every callback, signed as the aggregator signs it.
  dir=$OUT/run-$run
  mkdir -p "$dir/answers"
  : >"$dir/callbacks"
  for i in $(seq 1 "$PAYMENTS"); do
    created=$(curl -sf -H "Authorization: Bearer $DEMO" -H 'content-type: application/json' \
      -d "{\"credits\":$CREDITS,\"phone_number\":\"+25575$(printf '%07d' "$i")\",\"provider\":\"vodacom\"}" "http://127.0.0.1:$GW/v1/payments") \
      || { log "payment $i was not accepted"; exit 1; }
    id=$(sed -n 's/.*"payment_id":"\([^"]*\)".*/\1/p' <<<"$created")
    amount=$(sed -n 's/.*"amount":\([0-9.]*\).*/\1/p' <<<"$created")
    body="{\"reference\":\"$id\",\"transaction_id\":\"BENCH$run-$i\",\"status\":\"SUCCESS\",\"amount\":$amount,\"currency\":\"TZS\"}"
    ts=$(date +%s)
    sig=$(printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEYHEX" | awk '{print $NF}')
    for copy in $(seq 1 "$COPIES"); do
      printf '%s\t%s\t%s\n' "$ts" "sha256=$sig" "$body" >>"$dir/callbacks"
    done
  done
  # Shuffled, so copies of one payment arrive together with everyone else's; one curl config per sender.
  shuf "$dir/callbacks" | awk -F'\t' -v url="$CALLBACK_URL" -v dir="$dir" -v n="$SENDERS" '{
      body = $3; gsub(/"/, "\\\"", body)
      f = dir "/sender-" (NR % n) ".curl"
      if (seen[f]++) print "next" > f   # between transfers: a trailing one would be a transfer without a URL
      printf "url = \"%s\"\nheader = \"Content-Type: application/json\"\nheader = \"X-Sim-Timestamp: %s\"\nheader = \"X-Sim-Signature: %s\"\ndata-binary = \"%s\"\noutput = \"%s/answers/%d.json\"\nwrite-out = \"%%{http_code}\\n\"\n", url, $1, $2, body, dir, NR > f
    }'

  start=$(date +%s.%N)
  senders=()
  for s in $(seq 0 $((SENDERS - 1))); do
    curl -s -Z --parallel-immediate --parallel-max $(((TOTAL + SENDERS - 1) / SENDERS)) -K "$dir/sender-$s.curl" >"$dir/status-$s" &
    senders+=($!)
  done
  for pid in "${senders[@]}"; do wait "$pid"; done
  seconds=$(echo "$(date +%s.%N) - $start" | bc)

  ok=$(cat "$dir"/status-* | grep -c '^200$' || true)
  [ "$ok" = "$TOTAL" ] || { log "run $run: only $ok of $TOTAL callbacks answered 200: $(sort "$dir"/status-* | uniq -c | tr '\n' ' ')"; exit 1; }
  outcomes=$(cat "$dir"/answers/*.json | grep -o '"outcome":"[a-z_]*"' | sed 's/.*:"\(.*\)"/\1/' | sort | uniq -c | awk '{printf "%s%s %s", (NR > 1 ? ", " : ""), $1, $2}')
  postings=$(psql_admin -d ujumbe_bench_pay -c "select count(*) from ledger_entries where kind = 'topup' and reference like 'pay\_%'")
  completed=$(psql_admin -d ujumbe_bench_pay -c "select count(*) from payments where status = 'completed'")
  after=$(curl -sf -H "Authorization: Bearer $DEMO" "http://127.0.0.1:$GW/v1/balance" | sed -n 's/.*"balance":\([0-9]*\).*/\1/p')
  [ "$postings" = "$PAYMENTS" ] && [ "$completed" = "$PAYMENTS" ] && [ $((after - before)) = $((PAYMENTS * CREDITS)) ] \
    || { log "run $run: $postings credit postings, $completed payments completed, balance +$((after - before)): expected $PAYMENTS, $PAYMENTS, +$((PAYMENTS * CREDITS))"; exit 1; }
  TIMES+=("$seconds")
  OUTCOMES+=("$outcomes; $postings credit postings, balance +$((after - before))")
  log "run $run: $TOTAL callbacks in $seconds s ($outcomes); $postings credit postings"
  stop_services
done

median_seconds=$(median "${TIMES[@]}")
{
  echo
  echo "## Payment callbacks — $(date -u +%Y-%m-%d) (issue 12)"
  echo
  echo "Machine: $(machine). Command: \`UJUMBE_GATEWAY_PORT=$GW UJUMBE_API_PORT=$API bench/payments.sh\` (PAYMENTS=$PAYMENTS, COPIES=$COPIES, $RUNS runs). Logs: bench/out/$(basename "$OUT")."
  echo "$PAYMENTS pending payments of $CREDITS credits; each one's signed success callback delivered $COPIES times: $TOTAL callbacks, shuffled,"
  echo "sent at once ($SENDERS curl processes, all transfers in parallel) to the gateway's public callback route, which the Api verifies (HMAC-SHA256) and applies."
  echo
  echo "| run | seconds for all $TOTAL | callbacks/s | outcomes; what was credited |"
  echo "| ---: | ---: | ---: | --- |"
  for i in "${!TIMES[@]}"; do echo "| $((i + 1)) | ${TIMES[$i]} | $(echo "$TOTAL / ${TIMES[$i]}" | bc) | ${OUTCOMES[$i]} |"; done
  echo
  echo "Median: $median_seconds s ($(echo "$TOTAL / $median_seconds" | bc) callbacks/s); every run: exactly $PAYMENTS credit postings."
} | tee -a "$ROOT/docs/benchmarks.md"
