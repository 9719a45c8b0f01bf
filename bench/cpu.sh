#!/usr/bin/env bash
# Where the time goes (issue 10 item 8): CPU time per request of each process, which a shared noisy
# machine disturbs far less than throughput. For BASE and this tree in turns, each turn on a fresh
# database: GET /v1/balance straight to the Api and through the Gateway, and single-recipient sends
# through the Gateway (Worker running), each a fixed wrk run; per request: the Api's, Gateway's and
# Worker's CPU (utime + stime from /proc/PID/stat), the whole machine's, the Redis commands and the
# PostgreSQL statements (pg_stat_statements when loaded; it needs shared_preload_libraries). PROFILE=1
# also samples the Api's and Gateway's stacks with perf during each run (the services write perf maps for
# their JIT-compiled code, W^X off so perf finds it), keeps the samples (PATH-SIDE-RUN-api.perf, read with
# perf script / perf report) and each process's hottest functions, self time (PATH-SIDE-RUN-api.top).
# BEFORE_TREE=<folder> reuses a BASE already built by an earlier run; SKIP_BUILD=1 skips this tree's build.
# Usage: bench/cpu.sh  (env: BASE=b250583 RUNS=2 DUR=15 CONNS=64 PROFILE=0 PATHS="direct gateway send")
. "$(dirname "$0")/lib.sh"
DUR=${DUR:-15}
CONNS=${CONNS:-64}
RUNS=${RUNS:-2}
BASE=${BASE:-b250583}
PROFILE=${PROFILE:-0}
PATHS=${PATHS:-"direct gateway send"}
GW=${UJUMBE_GATEWAY_PORT:-5480} API=${UJUMBE_API_PORT:-5481} WORKER=${UJUMBE_WORKER_PORT:-5482}

need_tools wrk curl openssl bc redis-cli
[ "$PROFILE" = 1 ] && need_tools perf
start_stack
AFTER=$ROOT
BEFORE=$(build_base "$BASE")
[ "${SKIP_BUILD:-0}" = 1 ] || build_release
SIGNED=$(gateway_signature GET /v1/balance)
read -r IDENTITY SIGNATURE <<<"$SIGNED"
HZ=$(getconf CLK_TCK)
REDIS_PORT=$(sed -n 's/^[^:]*:\([0-9]*\).*/\1/p' <<<"$ConnectionStrings__redis")
REDIS_PASSWORD=$(sed -n 's/.*password=\([^,]*\).*/\1/p' <<<"$ConnectionStrings__redis")
redis_calls() { redis-cli -p "$REDIS_PORT" -a "$REDIS_PASSWORD" --no-auth-warning info commandstats | awk -F'[:=,]' '/^cmdstat_/{s+=$3} END{print s+0}'; }
# Statements of the benchmark's database only (the extension needs shared_preload_libraries; 0 without it).
pg_statements() { psql_admin -d "$1" -c "select coalesce(sum(calls),0) from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())" 2>/dev/null || echo 0; }
pg_reset() { psql_admin -d "$1" -c "create extension if not exists pg_stat_statements" -c "select pg_stat_statements_reset()" >/dev/null 2>&1 || true; }
requests_of() { awk '/requests in/{print $1}' "$OUT/$1.wrk"; }
# All PostgreSQL processes' CPU (the pool keeps its backends, so few of them come and go during a run).
pg_ticks() { local f sum=0; for f in $(pgrep -x postgres); do sum=$((sum + $(cpu_ticks "$f"))); done; echo "$sum"; }
us() { echo "scale=0; $1 * 1000000 / $HZ / $2" | bc; }  # ticks, requests → µs per request

# one SIDE RUN PATH: one fixed wrk run; prints a table row
one() {
  local side=$1 run=$2 path=$3 name url args=() a0 g0 w0 m0 p0 r0 n trace_pids=()
  name=$path-$side-$run
  case $path in
    direct) url=http://127.0.0.1:$API/v1/balance; args=(-H "X-Ujumbe-Identity: $IDENTITY" -H "X-Ujumbe-Signature: $SIGNATURE") ;;
    gateway) url=http://127.0.0.1:$GW/v1/balance; args=(-H "Authorization: Bearer $DEMO") ;;
    send) url=http://127.0.0.1:$GW; args=(-s "$ROOT/bench/send.lua") ;;
  esac
  # A measured run must not pay for compiling.
  warm_up "warm-$name" "$PID_api $PID_gateway $PID_worker" "$CONNS" "$url" "${args[@]}"
  pg_reset ujumbe_bench_cpu
  if [ "$PROFILE" = 1 ]; then
    for p in api gateway; do
      eval "pid=\$PID_$p"
      # shellcheck disable=SC2154
      perf record -F 499 -g -p "$pid" -o "$OUT/$name-$p.perf" -- sleep "$DUR" >"$OUT/$name-$p.perf.log" 2>&1 &
      trace_pids+=($!)
    done
  fi
  a0=$(cpu_ticks "$PID_api"); g0=$(cpu_ticks "$PID_gateway"); w0=$(cpu_ticks "$PID_worker"); m0=$(machine_ticks); p0=$(pg_ticks); r0=$(redis_calls)
  wrk_run "$name" "$CONNS" "$DUR" "$url" "${args[@]}" >/dev/null
  local a=$(( $(cpu_ticks "$PID_api") - a0 )) g=$(( $(cpu_ticks "$PID_gateway") - g0 )) w=$(( $(cpu_ticks "$PID_worker") - w0 ))
  local m=$(( $(machine_ticks) - m0 )) p=$(( $(pg_ticks) - p0 )) r=$(( $(redis_calls) - r0 - 1 )) s
  s=$(pg_statements ujumbe_bench_cpu)
  if [ ${#trace_pids[@]} -gt 0 ]; then
    wait "${trace_pids[@]}"
    for p in api gateway; do
      perf report -i "$OUT/$name-$p.perf" --stdio --no-children --sort symbol -g none --percent-limit 0.4 2>/dev/null \
        | grep -v '^#' | grep -v '^$' | head -n 60 >"$OUT/$name-$p.top"
    done
  fi
  n=$(requests_of "$name")
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$path" "$side" "$run" "$n" \
    "$(us "$a" "$n")" "$(us "$g" "$n")" "$(us "$w" "$n")" "$(us "$p" "$n")" "$(us "$m" "$n")" \
    "$(echo "scale=2; $r / $n" | bc)" "$(echo "scale=2; $s / $n" | bc)"
}

ROWS=$OUT/rows.md
for run in $(seq 1 "$RUNS"); do
  for side in before after; do
    ROOT=$AFTER; [ $side = before ] && ROOT=$BEFORE
    KEYS=$OUT/keys-$side-$run.json
    DB=$(fresh_database ujumbe_bench_cpu)
    AMQP=$(fresh_vhost bench-cpu)
    perfmap=(); [ "$PROFILE" = 1 ] && perfmap=(DOTNET_PerfMapEnabled=1 DOTNET_EnableWriteXorExecute=0)
    start_service api Api $API ConnectionStrings__postgres="$DB" ConnectionStrings__rabbitmq="$AMQP" Seed__KeysFile="$KEYS" GatewaySigning__MaxAgeSeconds=3600 "${perfmap[@]}"
    start_service worker Worker $WORKER ConnectionStrings__postgres="$DB" ConnectionStrings__rabbitmq="$AMQP" Providers__Simulator__DeliveryReportDelay=00:00:00.100
    start_service gateway Gateway $GW services__api__http__0="http://127.0.0.1:$API" "${perfmap[@]}"
    wait_healthy $API $WORKER $GW
    OPERATOR=$(seed_key operator); DEMO=$(seed_key demo)
    top_up_demo $GW "$OPERATOR"
    raise_demo_limits $GW "$OPERATOR"
    export BENCH_KEY=$DEMO
    for path in $PATHS; do
      row=$(one $side "$run" "$path")
      echo "$row" >>"$ROWS"
      log "$row"
    done
    stop_services
  done
done
ROOT=$AFTER
{
  echo "| path | side | run | requests | Api µs CPU/req | Gateway µs/req | Worker µs/req | PostgreSQL µs/req | machine µs/req | Redis commands/req | PG statements/req |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  sort -t'|' -k2,2 -k3,3 -k4,4n "$ROWS"
} | tee "$OUT/result.md"
