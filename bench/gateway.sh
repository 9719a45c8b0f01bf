#!/usr/bin/env bash
# Gateway overhead benchmark (issue 4): GET /v1/balance requests/s and p50/p99,
#   (a) straight to the Api with a valid gateway signature,
#   (b) through the Gateway (cached key, Redis rate limiter on),
#   (c) through nginx as a plain reverse proxy to the same Api (adding the same signature headers),
# with the same load tool and settings, in one session. With BASE=<git ref>, BASE's Api and Gateway
# and this tree's in turns — before, after, before, after… — and a before/after table with ratios.
# Appends to docs/benchmarks.md.
# Usage: bench/gateway.sh   (env: DUR=15 CONNS="8 64" RUNS=3 BASE=<ref>)
. "$(dirname "$0")/lib.sh"
DUR=${DUR:-15}
CONNS=${CONNS:-"8 64"}
RUNS=${RUNS:-3}
BASE=${BASE:-}
GW=${UJUMBE_GATEWAY_PORT:-5380} API=${UJUMBE_API_PORT:-5381} NGINX=${UJUMBE_NGINX_PORT:-5390}

need_tools wrk curl nginx openssl bc
start_stack
AFTER=$ROOT
SIDES=after
if [ -n "$BASE" ]; then
  BEFORE=$(build_base "$BASE")
  SIDES="before after"
fi
build_release

# The identity the gateway would forward for the demo key, signed as the gateway signs it. The direct
# and nginx runs replay this one signature for the whole session: the Api accepts it for an hour.
SIGNED=$(gateway_signature GET /v1/balance)
read -r IDENTITY SIGNATURE <<<"$SIGNED"

# nginx: a plain reverse proxy with keep-alive to the Api (whichever side's runs), adding the same headers.
PROXY=$(cat <<CONF
    upstream api { server 127.0.0.1:$API; keepalive 64; }
    server {
        listen 127.0.0.1:$NGINX;
        location / {
            proxy_pass http://api;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header X-Ujumbe-Identity "$IDENTITY";
            proxy_set_header X-Ujumbe-Signature "$SIGNATURE";
        }
    }
CONF
)
start_nginx 2 $NGINX "$PROXY"
PIDS=()  # nginx stays up across the turns (stop_services leaves it); bench_cleanup stops it by PID_nginx

declare -A R
# measure SIDE RUN: that side's Api and Gateway on a fresh database; every path at every connection count
measure() {
  local side=$1 run=$2 c
  ROOT=$AFTER; [ "$side" = before ] && ROOT=$BEFORE
  KEYS=$OUT/keys-$side-$run.json
  DB=$(fresh_database ujumbe_bench_gw)
  AMQP=$(fresh_vhost bench-gw)
  start_service api Api $API ConnectionStrings__postgres="$DB" ConnectionStrings__rabbitmq="$AMQP" Seed__KeysFile="$KEYS" \
    GatewaySigning__MaxAgeSeconds=3600
  start_service gateway Gateway $GW services__api__http__0="http://127.0.0.1:$API"
  wait_healthy $API $GW
  OPERATOR=$(seed_key operator)
  DEMO=$(seed_key demo)
  raise_demo_limits $GW "$OPERATOR"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Ujumbe-Identity: $IDENTITY" -H "X-Ujumbe-Signature: $SIGNATURE" "http://127.0.0.1:$API/v1/balance")" = 200 ] \
    || { log "$side: the hand-made signature is refused"; exit 1; }
  warm_up "warm-gateway-$side-$run" "$PID_api $PID_gateway" 8 "http://127.0.0.1:$GW/v1/balance" -H "Authorization: Bearer $DEMO"
  warm_up "warm-direct-$side-$run" "$PID_api" 8 "http://127.0.0.1:$API/v1/balance" -H "X-Ujumbe-Identity: $IDENTITY" -H "X-Ujumbe-Signature: $SIGNATURE"
  wrk_run "warm-nginx-$side-$run" 8 5 "http://127.0.0.1:$NGINX/v1/balance" >/dev/null
  for c in $CONNS; do
    R[$side-direct-$c-$run]=$(wrk_run "direct-$side-c$c-$run" "$c" "$DUR" "http://127.0.0.1:$API/v1/balance" -H "X-Ujumbe-Identity: $IDENTITY" -H "X-Ujumbe-Signature: $SIGNATURE")
    R[$side-gateway-$c-$run]=$(wrk_run "gateway-$side-c$c-$run" "$c" "$DUR" "http://127.0.0.1:$GW/v1/balance" -H "Authorization: Bearer $DEMO")
    R[$side-nginx-$c-$run]=$(wrk_run "nginx-$side-c$c-$run" "$c" "$DUR" "http://127.0.0.1:$NGINX/v1/balance")
    log "$side run $run c=$c: direct ${R[$side-direct-$c-$run]} | gateway ${R[$side-gateway-$c-$run]} | nginx ${R[$side-nginx-$c-$run]}"
  done
  stop_services
}

for run in $(seq 1 "$RUNS"); do
  for side in $SIDES; do measure "$side" "$run"; done
done
ROOT=$AFTER

# each SIDE PATH C: requests/s of every run; pick SIDE PATH C: the median run's "rps p50 p99 errors"
each() { local run; for run in $(seq 1 "$RUNS"); do cut -d' ' -f1 <<<"${R[$1-$2-$3-$run]}"; done | xargs; }
pick() {
  local med run
  # shellcheck disable=SC2046
  med=$(median $(each "$1" "$2" "$3"))
  for run in $(seq 1 "$RUNS"); do [ "$(cut -d' ' -f1 <<<"${R[$1-$2-$3-$run]}")" = "$med" ] && { echo "${R[$1-$2-$3-$run]}"; return; }; done
}

{
  echo
  if [ -z "$BASE" ]; then
    echo "## Gateway overhead — $(date -u +%Y-%m-%d) (issue 4)"
    echo
    echo "Machine: $(machine). Command: \`bench/gateway.sh\` (DUR=$DUR s per run, $RUNS runs interleaved, wrk -t2, GET /v1/balance, keep-alive). Logs: bench/out/$(basename "$OUT")."
  else
    echo "## Gateway overhead, before ($BASE, $(git -C "$AFTER" rev-parse --short "$BASE")) and after ($(git -C "$AFTER" rev-parse --short HEAD)) — $(date -u +%Y-%m-%d)"
    echo
    echo "Machine: $(machine). Command: \`BASE=$BASE bench/gateway.sh\` (DUR=$DUR s per run; before and after in turns, $RUNS runs each, each turn its own Api and Gateway on a fresh database; wrk -t2, GET /v1/balance, keep-alive). Logs: bench/out/$(basename "$OUT")."
  fi
  echo "(a) wrk → Api with a valid gateway signature; (b) wrk → Gateway (API key from its cache, one Redis GCRA call) → Api; (c) wrk → nginx (proxy_pass, keep-alive, same signature headers) → Api."
  echo
  if [ -z "$BASE" ]; then
    echo "| connections | path | requests/s (median of $RUNS) | p50 | p99 | each run (req/s) |"
    echo "| ---: | --- | ---: | ---: | ---: | --- |"
    for c in $CONNS; do
      for path in direct gateway nginx; do
        read -r rps p50 p99 _ <<<"$(pick after $path "$c")"
        echo "| $c | $path | $rps | $p50 | $p99 | $(each after $path "$c") |"
      done
    done
  else
    echo "| connections | path | before req/s | after req/s | ratio | before p50 / p99 | after p50 / p99 | before, each run | after, each run |"
    echo "| ---: | --- | ---: | ---: | ---: | --- | --- | --- | --- |"
    for c in $CONNS; do
      for path in direct gateway nginx; do
        read -r brps bp50 bp99 _ <<<"$(pick before $path "$c")"
        read -r arps ap50 ap99 _ <<<"$(pick after $path "$c")"
        echo "| $c | $path | $brps | $arps | $(ratio "$arps" "$brps") | $bp50 / $bp99 | $ap50 / $ap99 | $(each before $path "$c") | $(each after $path "$c") |"
      done
    done
  fi
} | tee -a "$ROOT/docs/benchmarks.md"
