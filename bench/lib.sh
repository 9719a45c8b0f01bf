# Shared helpers for the benchmark scripts (sourced). Everything binds 127.0.0.1; every process
# started here is recorded and stopped by its pid on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=${UJUMBE_STACK_DIR:-$ROOT/.stack}
export UJUMBE_STACK_DIR=$STACK
OUT=$ROOT/bench/out/$(date +%Y%m%d-%H%M%S)
mkdir -p "$OUT"
# The Api seeds the demo account and writes its keys here when started with Seed__KeysFile="$KEYS".
KEYS=$OUT/keys.json
DEMO_ACCOUNT=019a0000000070008000000000000002

PIDS=()
STARTED_STACK=0
bench_cleanup() {
  set +e
  stop_services
  [ -n "${PID_nginx:-}" ] && kill -TERM "$PID_nginx" 2>/dev/null
  [ $STARTED_STACK = 1 ] && "$ROOT/scripts/stack.sh" stop >/dev/null 2>&1
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

log() { printf 'bench: %s\n' "$*" >&2; }

need_tools() {
  local missing=()
  for tool in "$@"; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  [ ${#missing[@]} -eq 0 ] && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
  else
    log "missing: ${missing[*]} (sudo apt-get install -y ${missing[*]})"; exit 1
  fi
}

start_stack() {
  if ! "$ROOT/scripts/stack.sh" status >/dev/null 2>&1; then
    STARTED_STACK=1
    "$ROOT/scripts/stack.sh" start
  else
    "$ROOT/scripts/stack.sh" env >/dev/null
  fi
  set -a; . "$STACK/env"; set +a
}

build_release() {
  log "building (Release)"
  dotnet build "$ROOT/Aspire.sln" -c Release -nologo -v quiet >"$OUT/build.log" 2>&1 || { tail -n 30 "$OUT/build.log"; exit 1; }
}

# build_base REF: exports REF from git into $OUT/before and builds it (Release); prints that folder.
# The before/after benchmarks run the services of both trees in turns against the same servers.
# BEFORE_TREE=<folder> reuses a tree an earlier run built instead.
build_base() {
  [ -n "${BEFORE_TREE:-}" ] && { echo "$BEFORE_TREE"; return; }
  local dir=$OUT/before
  mkdir -p "$dir"
  git -C "$ROOT" archive "$1" | tar -x -C "$dir"
  log "building $1 (before)"
  dotnet build "$dir/Aspire.sln" -c Release -nologo -v quiet >"$OUT/build-before.log" 2>&1 || { tail -n 30 "$OUT/build-before.log" >&2; exit 1; }
  echo "$dir"
}

# stop_services: stops every service started so far (by pid) and forgets them, so the next turn
# of a before/after benchmark can take the same ports.
stop_services() {
  local pid i
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${PIDS[@]}"; do
    for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  PIDS=()
}

# start_turn TREE SIDE RUN NAME: one turn of a before/after benchmark: the Api (no Worker) and Gateway of TREE
# (which becomes ROOT) on $API and $GW, against a fresh database and vhost called NAME, the demo's limits
# raised; sets KEYS, OPERATOR and DEMO. End the turn with stop_services.
start_turn() {
  local db amqp
  ROOT=$1
  KEYS=$OUT/keys-$2-$3.json
  db=$(fresh_database "$4")
  amqp=$(fresh_vhost "$4")
  start_service api Api "$API" ConnectionStrings__postgres="$db" ConnectionStrings__rabbitmq="$amqp" Seed__KeysFile="$KEYS"
  start_service gateway Gateway "$GW" services__api__http__0="http://127.0.0.1:$API"
  wait_healthy "$API" "$GW"
  OPERATOR=$(seed_key operator); DEMO=$(seed_key demo)
  raise_demo_limits "$GW" "$OPERATOR"
}

# ratio A B: A / B to two decimals
ratio() { printf "%.2f" "$(echo "scale=4; $1 / $2" | bc)"; }

psql_admin() { PGPASSWORD=$(sed -n 's/.*Password=\([^;]*\);.*/\1/p' <<<"$ConnectionStrings__postgres") psql -h 127.0.0.1 -p "${UJUMBE_PG_PORT:-54329}" -U postgres -Atq "$@"; }

# wait_until DB CONDITION TIMEOUT_SECONDS POLL_SECONDS: checks the SQL condition inside one session,
# so polling costs next to nothing, until it holds; each check commits, so the wait holds back no
# vacuum of what it waits for. Stops the run if the condition still does not hold after
# TIMEOUT_SECONDS: a wait that gave up must never be timed as a finish.
wait_until() {
  psql_admin -d "$1" -c "do \$\$
      declare deadline timestamptz := clock_timestamp() + interval '$3 seconds';
      begin
          loop
              exit when ($2);
              if clock_timestamp() > deadline then raise exception 'still waiting after % s', $3; end if;
              perform pg_sleep($4);
              commit;
          end loop;
      end \$\$" >/dev/null || { log "gave up after $3 s waiting in $1 for: $2"; exit 1; }
}

# fresh_database NAME: drops and recreates it; prints its connection string
fresh_database() {
  psql_admin -d postgres -c "drop database if exists $1 with (force)" -c "create database $1" >/dev/null
  sed "s/Database=[^;]*/Database=$1/" <<<"$ConnectionStrings__postgres"
}

# fresh_vhost NAME: a RabbitMQ virtual host of the benchmark's own; prints the AMQP URI
fresh_vhost() {
  local user pass base
  user=$(sed -n 's#amqp://\([^:]*\):.*#\1#p' <<<"$ConnectionStrings__rabbitmq")
  pass=$(sed -n 's#amqp://[^:]*:\([^@]*\)@.*#\1#p' <<<"$ConnectionStrings__rabbitmq")
  curl -s -u "$user:$pass" -X DELETE "$UJUMBE_RABBITMQ_MANAGEMENT/api/vhosts/$1" >/dev/null
  curl -sf -u "$user:$pass" -X PUT "$UJUMBE_RABBITMQ_MANAGEMENT/api/vhosts/$1" >/dev/null
  curl -sf -u "$user:$pass" -X PUT -H 'content-type: application/json' \
    -d '{"configure":".*","write":".*","read":".*"}' "$UJUMBE_RABBITMQ_MANAGEMENT/api/permissions/$1/$user" >/dev/null
  base=${ConnectionStrings__rabbitmq%/}
  echo "$base/$1"
}

# start_service NAME PROJECT PORT [VAR=VALUE ...]
start_service() {
  local name=$1 dir=$2 port=$3
  shift 3
  # Content root = the app's own folder: left to default (the current folder, here the repo with the
  # stack's data in it) the configuration file watcher would follow every PostgreSQL write.
  env "$@" ASPNETCORE_URLS="http://127.0.0.1:$port" ASPNETCORE_ENVIRONMENT=Production \
    ASPNETCORE_CONTENTROOT="$ROOT/$dir/bin/Release/net10.0" DOTNET_hostBuilder__reloadConfigOnChange=false \
    Logging__LogLevel__Default=Warning Logging__LogLevel__Microsoft.AspNetCore=Warning \
    dotnet "$ROOT/$dir/bin/Release/net10.0/Ujumbe.$dir.dll" >"$OUT/$name.log" 2>&1 &
  PIDS+=($!)
  eval "PID_$name=$!"
}

# start_nginx WORKERS PORT HTTP_CONF: nginx in the foreground (recorded in PIDS and PID_nginx), its
# files under $OUT/nginx, with HTTP_CONF (the server block listening on 127.0.0.1:PORT, and
# whatever else it needs) inside the http block; returns once it answers on PORT.
start_nginx() {
  local n=$OUT/nginx i
  mkdir -p "$n/tmp"
  cat >"$n/nginx.conf" <<CONF
worker_processes $1;
pid $n/nginx.pid;
error_log $n/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path $n/tmp/body;
    proxy_temp_path $n/tmp/proxy;
    fastcgi_temp_path $n/tmp/fastcgi;
    uwsgi_temp_path $n/tmp/uwsgi;
    scgi_temp_path $n/tmp/scgi;
$3
}
CONF
  nginx -p "$n" -e "$n/error.log" -c "$n/nginx.conf" -g 'daemon off;' &
  PIDS+=($!)
  PID_nginx=$!
  for i in $(seq 1 50); do
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$2/" && return 0
    kill -0 "$PID_nginx" 2>/dev/null || break
    sleep 0.1
  done
  log "nginx is not answering on port $2"; tail -n 20 "$n/error.log" >&2; exit 1
}

wait_healthy() {  # wait_healthy PORT...
  local port i
  for port in "$@"; do
    for i in $(seq 1 300); do
      [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && break
      sleep 0.2
    done
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] || { log "port $port not healthy"; tail -n 30 "$OUT"/*.log; exit 1; }
  done
}

# seed_key operator|demo: a key from the seeded keys file
seed_key() {
  local key
  key=$(sed -n "s/.*\"$1_key\":\"\([^\"]*\)\".*/\1/p" "$KEYS")
  [ -n "$key" ] || { log "no $1_key in $KEYS"; exit 1; }
  echo "$key"
}

# top_up_demo GATEWAY_PORT OPERATOR_KEY: credits enough for any run
top_up_demo() {
  curl -sf -H "Authorization: Bearer $2" -H 'content-type: application/json' \
    -d '{"amount":100000000,"reason":"benchmark"}' "http://127.0.0.1:$1/v1/admin/accounts/acct_$DEMO_ACCOUNT/credits" >/dev/null \
    || { log "could not top up the demo account's credits"; exit 1; }
}

# raise_demo_limits GATEWAY_PORT OPERATOR_KEY: a benchmark sends far beyond the contract's default
# limits (1,000 requests an hour): raise the demo account's own.
raise_demo_limits() {
  curl -sf -X PUT -H "Authorization: Bearer $2" -H 'content-type: application/json' \
    -d '{"requests_per_hour":10000000,"messages_per_minute":10000000,"contacts_per_hour":10000000}' \
    "http://127.0.0.1:$1/v1/admin/accounts/acct_$DEMO_ACCOUNT/rate-limits" >/dev/null \
    || { log "could not raise the demo account's rate limits"; exit 1; }
}

# gateway_signature METHOD PATH: prints "IDENTITY SIGNATURE", the X-Ujumbe-Identity and
# X-Ujumbe-Signature values the gateway would forward for a demo-key request, signed as it signs them
gateway_signature() {
  local identity keyhex mac
  identity="t=$(date +%s);kind=account;acct=$DEMO_ACCOUNT;scopes=messages,contacts,campaigns,account"
  keyhex=$(printf '%s' "$GatewaySigning__Key" | base64 -d | od -An -tx1 | tr -d ' \n')
  mac=$(printf 'v1\n%s\n%s\n%s' "$1" "$2" "$identity" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$keyhex" -binary | base64 | tr '+/' '-_' | tr -d '=')
  echo "$identity v1=$mac"
}

# median VALUE...: the middle value (the lower middle one for an even count), always one of the
# values given: gateway.sh finds the run it came from.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Busy ticks of the whole machine (all CPUs), for what processes that come and go used (PostgreSQL backends).
machine_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
machine() { echo "$(nproc) vCPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"; }

# write_big_send: one request to 10,000 recipients (+255751000000 onwards) in $OUT/big.json, for big_send.
write_big_send() {
  BIG=$OUT/big.json
  { printf '{"sender_id":"UJUMBE","text":"Ujumbe benchmark: a large batch","to":['
    for i in $(seq 0 9999); do printf '%s"+25575%07d"' "$([ $i -gt 0 ] && echo ,)" $((1000000 + i)); done
    printf ']}'; } >"$BIG"
}

# big_send: sends $BIG through the gateway at $GW with the key $DEMO; prints the seconds until it was accepted.
big_send() {
  local t
  t=$(curl -s -o "$OUT/big.out" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $DEMO" -H 'content-type: application/json' \
      --data-binary "@$BIG" "http://127.0.0.1:$GW/v1/messages")
  [ "${t%% *}" = 202 ] || { log "large send failed: $t"; head -c 600 "$OUT/big.out" >&2; exit 1; }
  echo "${t##* }"
}

# CPU ticks of a .NET process's tiered-compilation thread, which recompiles hot methods optimised.
jit_ticks() {
  local task sum=0
  for task in /proc/"$1"/task/*; do
    # comm is the thread name cut to 15 characters; stat's fields are counted after the name, which has spaces.
    [ "$(cat "$task/comm" 2>/dev/null)" = ".NET Tiered Com" ] && sum=$((sum + $(sed 's/.*) //' "$task/stat" | awk '{print $12+$13}')))
  done
  echo "$sum"
}

# warm_up NAME "PID..." CONNECTIONS URL [wrk args...]: load in 5-second slices until the JIT of every given
# process has settled (its tier-up thread used under 0.1 s of CPU in a slice), at most 90 s. Under load the
# runtime keeps recompiling hot methods for 15-25 s after start; a run measured before that measures the JIT.
warm_up() {
  local name=$1 pids=$2 conns=$3 url=$4 slice=0 pid used
  shift 4
  local -A was=()
  while [ $slice -lt 18 ]; do
    for pid in $pids; do was[$pid]=$(jit_ticks "$pid"); done
    wrk_run "$name-$slice" "$conns" 5 "$url" "$@" >/dev/null
    slice=$((slice + 1))
    used=0
    for pid in $pids; do used=$((used + $(jit_ticks "$pid") - was[$pid])); done
    [ $slice -ge 2 ] && [ $((used * 1000 / $(getconf CLK_TCK))) -lt 100 ] && break
  done
  log "warm-up $name: $((slice * 5)) s until the JIT settled"
}

# wrk_run NAME CONNECTIONS SECONDS URL [wrk args...]: prints "rps p50 p99 non2xx"
wrk_run() {
  local name=$1 conns=$2 seconds=$3 url=$4
  shift 4
  # wrk needs a connection per thread: one connection, one thread.
  wrk -t$((conns < 2 ? conns : 2)) -c"$conns" -d"${seconds}s" --timeout 10s --latency "$@" "$url" >"$OUT/$name.wrk" 2>&1
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/{print $2}' "$OUT/$name.wrk")
  p50=$(awk '$1=="50%"{print $2}' "$OUT/$name.wrk")
  p99=$(awk '$1=="99%"{print $2}' "$OUT/$name.wrk")
  errors=$(awk '/Non-2xx/{print $NF}' "$OUT/$name.wrk")
  echo "$rps $p50 $p99 ${errors:-0}"
}
