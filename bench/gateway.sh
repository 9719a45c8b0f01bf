#!/usr/bin/env bash
# Gateway overhead benchmark (issue 4): GET /v1/balance requests/s and p50/p99,
#   (a) straight to the Api with a valid gateway signature,
#   (b) through the Gateway (cached key, Redis rate limiter on),
#   (c) through nginx as a plain reverse proxy to the same Api (adding the same signature headers),
# with the same load tool and settings, in one session. Appends to docs/benchmarks.md.
# Usage: bench/gateway.sh   (env: DUR=15 CONNS="8 64" RUNS=3)
. "$(dirname "$0")/lib.sh"
DUR=${DUR:-15}
CONNS=${CONNS:-"8 64"}
RUNS=${RUNS:-3}
GW=5380 API=5381 NGINX=5390

need_tools wrk curl nginx openssl
start_stack
build_release

DB=$(fresh_database ujumbe_bench_gw)
AMQP=$(fresh_vhost bench-gw)
# The direct and nginx runs replay one signature for the whole session: let the Api accept it for an hour.
start_service api Api $API ConnectionStrings__postgres="$DB" ConnectionStrings__rabbitmq="$AMQP" Seed__KeysFile="$KEYS" \
  GatewaySigning__MaxAgeSeconds=3600
start_service gateway Gateway $GW services__api__http__0="http://127.0.0.1:$API"
wait_healthy $API $GW
OPERATOR=$(seed_key operator)
DEMO=$(seed_key demo)
raise_demo_limits $GW "$OPERATOR"

# The identity the gateway would forward for the demo key, signed as the gateway signs it.
SIGNED=$(gateway_signature GET /v1/balance)
read -r IDENTITY SIGNATURE <<<"$SIGNED"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Ujumbe-Identity: $IDENTITY" -H "X-Ujumbe-Signature: $SIGNATURE" "http://127.0.0.1:$API/v1/balance")" = 200 ] \
  || { log "the hand-made signature is refused"; exit 1; }

# nginx: a plain reverse proxy with keep-alive to the Api, adding the same headers.
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

log "warm-up"
wrk_run warm-direct 8 5 "http://127.0.0.1:$API/v1/balance" -H "X-Ujumbe-Identity: $IDENTITY" -H "X-Ujumbe-Signature: $SIGNATURE" >/dev/null
wrk_run warm-gateway 8 5 "http://127.0.0.1:$GW/v1/balance" -H "Authorization: Bearer $DEMO" >/dev/null
wrk_run warm-nginx 8 5 "http://127.0.0.1:$NGINX/v1/balance" >/dev/null

declare -A R
for run in $(seq 1 "$RUNS"); do
  for c in $CONNS; do
    R[direct-$c-$run]=$(wrk_run "direct-c$c-$run" "$c" "$DUR" "http://127.0.0.1:$API/v1/balance" -H "X-Ujumbe-Identity: $IDENTITY" -H "X-Ujumbe-Signature: $SIGNATURE")
    R[gateway-$c-$run]=$(wrk_run "gateway-c$c-$run" "$c" "$DUR" "http://127.0.0.1:$GW/v1/balance" -H "Authorization: Bearer $DEMO")
    R[nginx-$c-$run]=$(wrk_run "nginx-c$c-$run" "$c" "$DUR" "http://127.0.0.1:$NGINX/v1/balance")
    log "run $run c=$c: direct ${R[direct-$c-$run]} | gateway ${R[gateway-$c-$run]} | nginx ${R[nginx-$c-$run]}"
  done
done

{
  echo
  echo "## Gateway overhead — $(date -u +%Y-%m-%d) (issue 4)"
  echo
  echo "Machine: $(machine). Command: \`bench/gateway.sh\` (DUR=$DUR s per run, $RUNS runs interleaved, wrk -t2, GET /v1/balance, keep-alive). Logs: bench/out/$(basename "$OUT")."
  echo "(a) wrk → Api with a valid gateway signature; (b) wrk → Gateway (API key from its cache, one Redis GCRA call) → Api; (c) wrk → nginx (proxy_pass, keep-alive, same signature headers) → Api."
  echo
  echo "| connections | path | requests/s (median of $RUNS) | p50 | p99 | each run (req/s) |"
  echo "| ---: | --- | ---: | ---: | ---: | --- |"
  for c in $CONNS; do
    for path in direct gateway nginx; do
      each=(); for run in $(seq 1 "$RUNS"); do each+=("$(cut -d' ' -f1 <<<"${R[$path-$c-$run]}")"); done
      runs=$(printf ' %s' "${each[@]}")
      med=$(median "${each[@]}")
      for run in $(seq 1 "$RUNS"); do [ "$(cut -d' ' -f1 <<<"${R[$path-$c-$run]}")" = "$med" ] && pick=${R[$path-$c-$run]}; done
      read -r rps p50 p99 errors <<<"$pick"
      echo "| $c | $path | $rps | $p50 | $p99 |$runs |"
    done
  done
} | tee -a "$ROOT/docs/benchmarks.md"
