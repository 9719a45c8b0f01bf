#!/usr/bin/env bash
# Ujumbe's local stack: real PostgreSQL, Redis and RabbitMQ from Debian packages, bound to
# 127.0.0.1 on project ports, all data under one git-ignored folder (.stack/ by default).
#
#   scripts/stack.sh start    install what is missing (root + apt), start what is not running, wait until ready
#   scripts/stack.sh stop     stop the servers this stack started (by the pids in its own folder)
#   scripts/stack.sh status   one line per server; exit 0 only if all three are running
#   scripts/stack.sh env      print the settings as shell exports, with the keys Aspire injects
#   scripts/stack.sh install  only install the Debian packages that are missing (scripts/run.sh uses it)
#
# Environment: UJUMBE_STACK_DIR, UJUMBE_PG_PORT, UJUMBE_REDIS_PORT, UJUMBE_RABBITMQ_PORT,
# UJUMBE_RABBITMQ_DIST_PORT, UJUMBE_RABBITMQ_MGMT_PORT, UJUMBE_EPMD_PORT (the last three default to
# values derived from UJUMBE_RABBITMQ_PORT, so two stacks that differ in it never share them).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STACK=${UJUMBE_STACK_DIR:-$ROOT/.stack}
PG_PORT=${UJUMBE_PG_PORT:-54329}
REDIS_PORT=${UJUMBE_REDIS_PORT:-63799}
RABBIT_PORT=${UJUMBE_RABBITMQ_PORT:-56729}
# Derived from the broker's port (56729 -> 25729, 15729, 43729) unless set: a second stack with its own
# UJUMBE_RABBITMQ_PORT gets its own Erlang ports and its own epmd, which the first stack's stop never reaches.
RABBIT_DIST_PORT=${UJUMBE_RABBITMQ_DIST_PORT:-$((25000 + RABBIT_PORT % 1000))}  # Erlang distribution (rabbitmqctl talks to the node through it)
RABBIT_MGMT_PORT=${UJUMBE_RABBITMQ_MGMT_PORT:-$((15000 + RABBIT_PORT % 1000))}  # management UI
EPMD_PORT=${UJUMBE_EPMD_PORT:-$((43000 + RABBIT_PORT % 1000))}                  # a private epmd, so a system RabbitMQ is never touched
RABBIT_NODE="ujumbe-$RABBIT_PORT@localhost"

log() { printf 'stack: %s\n' "$*" >&2 || true; }  # a closed stderr must not stop a stop
die() { log "$*"; exit 1; }

# ------------------------------------------------------------------ packages
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

missing_packages() {
  local need=()
  [ -n "$(pg_bin)" ] && [ -x "$(pg_bin)/initdb" ] || need+=(postgresql)
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || need+=(redis-server)
  [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] && command -v epmd >/dev/null || need+=(rabbitmq-server)
  # The Kannel provider's tests start their own bearerbox and smsbox (kannel) with Kannel's fake SMSC
  # and its fakesmsc client (kannel-extras), on ports they choose, as they do every other test server.
  [ -x /usr/sbin/bearerbox ] && [ -x /usr/sbin/smsbox ] || need+=(kannel)
  [ -x /usr/lib/kannel/test/fakesmsc ] || need+=(kannel-extras)
  # The dashboard's browser tests drive Debian's Chromium (Playwright cannot download browsers here).
  [ -x /usr/bin/chromium ] || need+=(chromium)
  echo "${need[@]:-}"
}

ensure_packages() {
  local need; need=$(missing_packages)
  [ -z "$need" ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing $need (apt-get)"
    apt-get update -q >/dev/null
    # Debian's post-install scripts try to start system-wide services; where policy refuses, that is harmless.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $need >/dev/null
    need=$(missing_packages)
    [ -z "$need" ] || die "still missing after apt-get: $need"
  else
    die "missing: $need. Install them with: sudo apt-get install -y $need"
  fi
}

# ------------------------------------------------------------------ helpers
# alive PID COMM: the pid runs and is the program we expect (a stale pid file after a reboot may name another process)
alive() {
  local pid=$1 comm=$2
  [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ] || return 1
  ! awk '{exit !($3=="Z")}' "/proc/$pid/stat" 2>/dev/null
}

wait_gone() {  # wait_gone PID COMM SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do alive "$1" "$2" || return 0; sleep 0.1; done
  return 1
}

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

secret() { head -c 24 /dev/urandom | base64 | tr -d '+/=' | head -c 32; }

load_secrets() {
  mkdir -p "$STACK"
  chmod 755 "$STACK"
  if [ ! -f "$STACK/secrets" ]; then
    umask 077
    {
      echo "PG_PASSWORD=$(secret)"
      echo "REDIS_PASSWORD=$(secret)"
      echo "RABBIT_PASSWORD=$(secret)"
      echo "GATEWAY_SIGNING_KEY=$(head -c 32 /dev/urandom | base64)"
      echo "PORTAL_TOKEN_KEY=$(head -c 32 /dev/urandom | base64)"
      echo "WEBHOOK_SECRET_KEY=$(head -c 32 /dev/urandom | base64)"
    } > "$STACK/secrets.tmp"
    mv "$STACK/secrets.tmp" "$STACK/secrets"
    umask 022
  fi
  # shellcheck disable=SC1091
  . "$STACK/secrets"
  # Secrets added after a stack was first set up are generated on first use.
  if [ -z "${PORTAL_TOKEN_KEY:-}" ]; then
    PORTAL_TOKEN_KEY=$(head -c 32 /dev/urandom | base64)
    echo "PORTAL_TOKEN_KEY=$PORTAL_TOKEN_KEY" >> "$STACK/secrets"
  fi
  if [ -z "${WEBHOOK_SECRET_KEY:-}" ]; then
    WEBHOOK_SECRET_KEY=$(head -c 32 /dev/urandom | base64)
    echo "WEBHOOK_SECRET_KEY=$WEBHOOK_SECRET_KEY" >> "$STACK/secrets"
  fi
  if [ -z "${MOBILE_MONEY_SECRET:-}" ]; then
    MOBILE_MONEY_SECRET=$(head -c 32 /dev/urandom | base64)
    echo "MOBILE_MONEY_SECRET=$MOBILE_MONEY_SECRET" >> "$STACK/secrets"
  fi
  pg_setup
}

write_env() {
  cat > "$STACK/env" <<ENV
export ConnectionStrings__postgres='Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Password=$PG_PASSWORD;Database=ujumbe'
export ConnectionStrings__redis='127.0.0.1:$REDIS_PORT,password=$REDIS_PASSWORD'
export ConnectionStrings__rabbitmq='amqp://ujumbe:$RABBIT_PASSWORD@127.0.0.1:$RABBIT_PORT/'
export GatewaySigning__Key='$GATEWAY_SIGNING_KEY'
export PortalTokens__SigningKey='$PORTAL_TOKEN_KEY'
export Webhooks__SecretKey='$WEBHOOK_SECRET_KEY'
export MobileMoneySimulator__CallbackSecret='$MOBILE_MONEY_SECRET'
export UJUMBE_RABBITMQ_MANAGEMENT='http://127.0.0.1:$RABBIT_MGMT_PORT'
ENV
  chmod 600 "$STACK/env"
}

# ------------------------------------------------------------------ PostgreSQL
PG_RUN=()  # prefix that runs a PostgreSQL binary as a user it accepts (it refuses root)
PG_DIR=
pg_setup() {
  PG_DIR=$STACK/postgres
  [ "$(id -u)" = 0 ] || return 0
  # As root the server runs as 'postgres', which must be able to reach its data folder. If the repo
  # lives somewhere it cannot traverse (e.g. under /root), the data goes to /var/tmp and .stack links to it.
  PG_RUN=(runuser -u postgres --)
  if ! runuser -u postgres -- test -x "$STACK"; then
    local alt; alt=/var/tmp/ujumbe-$(echo -n "$STACK" | md5sum | cut -c1-12)-postgres
    if [ ! -L "$STACK/postgres" ] && [ -d "$alt/data" ]; then
      # A new .stack at a path used before: the data an earlier checkout left there is unusable
      # (its passwords went with that .stack), so start afresh, unless a server still runs from it.
      local orphan; orphan=$(head -n 1 "$alt/data/postmaster.pid" 2>/dev/null || true)
      alive "$orphan" postgres && die "a PostgreSQL (pid $orphan) from an earlier checkout at this path still runs from $alt; stop it first"
      log "removing PostgreSQL data an earlier checkout at this path left in $alt"
      rm -rf "$alt"
    fi
    mkdir -p "$alt"; chown postgres:postgres "$alt"
    [ -L "$STACK/postgres" ] || ln -sfn "$alt" "$STACK/postgres"
    PG_DIR=$alt
  fi
}
pg_dir() { echo "$PG_DIR"; }

pg_pid() { local d; d=$(pg_dir); head -n 1 "$d/data/postmaster.pid" 2>/dev/null || true; }
pg_running() { alive "$(pg_pid)" postgres; }

pg_start() {
  local d bin; d=$(pg_dir); bin=$(pg_bin)
  if pg_running; then log "postgres already running (pid $(pg_pid), port $PG_PORT)"; return; fi
  port_taken "$PG_PORT" && die "port $PG_PORT is taken by another program; set UJUMBE_PG_PORT"
  mkdir -p "$d"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$d"
  if [ ! -f "$d/data/PG_VERSION" ]; then
    log "initdb $d/data"
    local pw="$d/pwfile"
    printf '%s\n' "$PG_PASSWORD" > "$pw"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$pw"
    chmod 600 "$pw"
    "${PG_RUN[@]}" "$bin/initdb" -D "$d/data" -U postgres --auth-host=scram-sha-256 --auth-local=peer \
      --pwfile="$pw" -E UTF8 --locale=C.UTF-8 >"$d/initdb.log" 2>&1 || { cat "$d/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pw"
  fi
  # TCP on loopback only; no Unix socket, so the folder's path length never matters.
  "${PG_RUN[@]}" "$bin/pg_ctl" -D "$d/data" -l "$d/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories='' -c max_connections=400 -c shared_buffers=256MB -c wal_compression=on -c max_wal_size=4GB -c checkpoint_timeout=15min" \
    start >/dev/null || { tail -n 20 "$d/postgres.log" >&2; die "postgres did not start"; }
  local i
  for i in $(seq 1 100); do
    PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1 && break
    sleep 0.1
  done
  PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc 'select 1' >/dev/null \
    || die "postgres does not accept connections"
  if [ -z "$(PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -Atqc "select 1 from pg_database where datname = 'ujumbe'")" ]; then
    PGPASSWORD=$PG_PASSWORD psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -qc 'create database ujumbe' >/dev/null
  fi
  log "postgres ready (pid $(pg_pid), 127.0.0.1:$PG_PORT)"
}

pg_stop() {
  local d; d=$(pg_dir)
  pg_running || return 0
  local pid; pid=$(pg_pid)
  "${PG_RUN[@]}" "$(pg_bin)/pg_ctl" -D "$d/data" -m fast -w -t 60 stop >/dev/null || kill -TERM "$pid"
  wait_gone "$pid" postgres 30 || die "postgres (pid $pid) did not stop"
  log "postgres stopped"
}

# ------------------------------------------------------------------ Redis
REDIS_DIR() { echo "$STACK/redis"; }
redis_pid() { cat "$(REDIS_DIR)/redis.pid" 2>/dev/null || true; }
redis_running() { alive "$(redis_pid)" redis-server; }
redis_ping() { REDISCLI_AUTH=$REDIS_PASSWORD redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; }

redis_start() {
  local d; d=$(REDIS_DIR)
  if redis_running; then log "redis already running (pid $(redis_pid), port $REDIS_PORT)"; return; fi
  port_taken "$REDIS_PORT" && die "port $REDIS_PORT is taken by another program; set UJUMBE_REDIS_PORT"
  mkdir -p "$d"
  # Rate-limit counters and caches only: nothing worth persisting.
  printf 'requirepass %s\n' "$REDIS_PASSWORD" > "$d/redis.conf"
  chmod 600 "$d/redis.conf"
  redis-server "$d/redis.conf" --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$d/redis.pid" --logfile "$d/redis.log" --dir "$d"
  local i
  for i in $(seq 1 100); do redis_ping && break; sleep 0.1; done
  redis_ping || die "redis does not answer PING (see $d/redis.log)"
  log "redis ready (pid $(redis_pid), 127.0.0.1:$REDIS_PORT)"
}

redis_stop() {
  redis_running || return 0
  local pid; pid=$(redis_pid)
  kill -TERM "$pid"
  wait_gone "$pid" redis-server 30 || die "redis (pid $pid) did not stop"
  rm -f "$(REDIS_DIR)/redis.pid"
  log "redis stopped"
}

# ------------------------------------------------------------------ RabbitMQ
RABBIT_DIR() { echo "$STACK/rabbitmq"; }
rabbit_env() {
  local d; d=$(RABBIT_DIR)
  export HOME="$d/home"                       # its Erlang cookie lives here, not in the user's home
  export RABBITMQ_NODENAME=$RABBIT_NODE RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$RABBIT_PORT
  export RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT ERL_EPMD_PORT=$EPMD_PORT ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_MNESIA_BASE="$d/mnesia" RABBITMQ_LOG_BASE="$d/log" RABBITMQ_PID_FILE="$d/rabbitmq.pid"
  export RABBITMQ_CONFIG_FILE="$d/rabbitmq" RABBITMQ_ENABLED_PLUGINS_FILE="$d/enabled_plugins"
  export RABBITMQ_CONF_ENV_FILE="$d/rabbitmq-env.conf"
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}
rabbit_pid() { cat "$(RABBIT_DIR)/rabbitmq.pid" 2>/dev/null || true; }
rabbit_running() { alive "$(rabbit_pid)" beam.smp; }
rmqctl() { ( rabbit_env; /usr/lib/rabbitmq/bin/rabbitmqctl -n "$RABBIT_NODE" "$@" ); }

rabbit_start() {
  local d; d=$(RABBIT_DIR)
  if rabbit_running; then log "rabbitmq already running (pid $(rabbit_pid), port $RABBIT_PORT)"; return; fi
  port_taken "$RABBIT_PORT" && die "port $RABBIT_PORT is taken by another program; set UJUMBE_RABBITMQ_PORT"
  mkdir -p "$d/home" "$d/mnesia" "$d/log"
  : > "$d/rabbitmq-env.conf"
  echo '[rabbitmq_management].' > "$d/enabled_plugins"
  cat > "$d/rabbitmq.conf" <<CONF
listeners.tcp.1 = 127.0.0.1:$RABBIT_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $RABBIT_MGMT_PORT
CONF
  rm -f "$d/rabbitmq.pid"
  epmd_start
  ( rabbit_env; cd "$d"; exec setsid /usr/lib/rabbitmq/bin/rabbitmq-server >"$d/log/console.log" 2>&1 < /dev/null ) &
  local launcher=$! i
  for i in $(seq 1 120); do
    kill -0 "$launcher" 2>/dev/null || break     # it exited: a start failure, reported below
    rabbit_running && rmqctl await_startup --timeout 5 >/dev/null 2>&1 && break
    sleep 0.5
  done
  rabbit_running && rmqctl await_startup --timeout 5 >/dev/null 2>&1 \
    || { tail -n 30 "$d/log/console.log" >&2; die "rabbitmq did not start"; }
  # The project's own user; guest is removed (it only ever worked from loopback anyway).
  rmqctl add_user ujumbe "$RABBIT_PASSWORD" >/dev/null 2>&1 || rmqctl change_password ujumbe "$RABBIT_PASSWORD" >/dev/null
  rmqctl set_user_tags ujumbe administrator >/dev/null
  rmqctl set_permissions -p / ujumbe '.*' '.*' '.*' >/dev/null
  rmqctl delete_user guest >/dev/null 2>&1 || true
  log "rabbitmq ready (pid $(rabbit_pid), 127.0.0.1:$RABBIT_PORT, management http://127.0.0.1:$RABBIT_MGMT_PORT)"
}

rabbit_stop() {
  if rabbit_running; then
    local pid; pid=$(rabbit_pid)
    kill -TERM "$pid"
    wait_gone "$pid" beam.smp 60 || die "rabbitmq (pid $pid) did not stop"
    log "rabbitmq stopped"
  fi
  epmd_stop
}

# The broker's epmd, started by this stack so it has a pid of ours: stop ends it by that pid only, so a
# second stack (even one sharing the port) can never stop the first's.
epmd_pid() { cat "$(RABBIT_DIR)/epmd.pid" 2>/dev/null || true; }
epmd_start() {
  if alive "$(epmd_pid)" epmd; then return; fi
  if port_taken "$EPMD_PORT"; then
    log "epmd port $EPMD_PORT is served by a process this stack did not start; using it, never stopping it (set UJUMBE_EPMD_PORT for one of its own)"
    rm -f "$(RABBIT_DIR)/epmd.pid"
    return
  fi
  ( cd /; exec setsid epmd -port "$EPMD_PORT" -address 127.0.0.1 >/dev/null 2>&1 < /dev/null ) &
  echo $! > "$(RABBIT_DIR)/epmd.pid"
  local i
  for i in $(seq 1 50); do port_taken "$EPMD_PORT" && return; sleep 0.1; done
  die "epmd did not listen on $EPMD_PORT"
}
epmd_stop() {
  local pid; pid=$(epmd_pid)
  alive "$pid" epmd || { rm -f "$(RABBIT_DIR)/epmd.pid"; return 0; }
  kill -TERM "$pid"
  wait_gone "$pid" epmd 10 || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$(RABBIT_DIR)/epmd.pid"
  log "epmd stopped"
}

# ------------------------------------------------------------------ commands
cd /  # every path here is absolute; the servers' users may not be able to enter the caller's folder
cmd=${1:-}
case "$cmd" in
  start)
    ensure_packages
    load_secrets
    pg_start
    redis_start
    rabbit_start
    write_env
    log "settings: source $STACK/env  (or: eval \"\$(scripts/stack.sh env)\")"
    ;;
  install)
    ensure_packages
    ;;
  stop)
    [ -d "$STACK" ] || exit 0
    load_secrets
    rabbit_stop
    redis_stop
    pg_stop
    ;;
  status)
    [ -d "$STACK" ] || { echo "postgres: stopped"; echo "redis: stopped"; echo "rabbitmq: stopped"; exit 1; }
    load_secrets
    ok=0
    if pg_running; then echo "postgres: running (pid $(pg_pid), 127.0.0.1:$PG_PORT)"; else echo "postgres: stopped"; ok=1; fi
    if redis_running; then echo "redis: running (pid $(redis_pid), 127.0.0.1:$REDIS_PORT)"; else echo "redis: stopped"; ok=1; fi
    if rabbit_running; then echo "rabbitmq: running (pid $(rabbit_pid), 127.0.0.1:$RABBIT_PORT)"; else echo "rabbitmq: stopped"; ok=1; fi
    exit $ok
    ;;
  env)
    load_secrets
    write_env
    cat "$STACK/env"
    ;;
  *)
    echo "usage: $0 start|stop|status|env|install" >&2
    exit 2
    ;;
esac
