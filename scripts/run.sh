#!/usr/bin/env bash
# Runs Ujumbe on this machine: the local stack (PostgreSQL, Redis, RabbitMQ), then the Api,
# Worker, Gateway and Web. Once all are healthy it prints the gateway's address and working
# keys of the seeded demo and operator accounts. Ctrl+C (or SIGTERM) stops everything it started.
#
# Environment: UJUMBE_GATEWAY_PORT (5080), UJUMBE_API_PORT (5081), UJUMBE_WORKER_PORT (5082),
# UJUMBE_WEB_PORT (5083), UJUMBE_STACK_DIR, and those of scripts/stack.sh.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STACK=${UJUMBE_STACK_DIR:-$ROOT/.stack}
export UJUMBE_STACK_DIR=$STACK
GATEWAY_PORT=${UJUMBE_GATEWAY_PORT:-5080}
API_PORT=${UJUMBE_API_PORT:-5081}
WORKER_PORT=${UJUMBE_WORKER_PORT:-5082}
WEB_PORT=${UJUMBE_WEB_PORT:-5083}
CONFIGURATION=Release

log() { printf 'run: %s\n' "$*" >&2; }

PIDS=()
STARTED_STACK=0
stopping=0
cleanup() {
  [ $stopping = 1 ] && return
  stopping=1
  # Ctrl+C also reaches whatever reads our output (a pipe to tee, say); stop everything even if it is gone.
  set +e
  trap '' PIPE
  local pid i
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  [ ${#PIDS[@]} -gt 0 ] && log "services stopped"
  if [ $STARTED_STACK = 1 ]; then
    scripts/stack.sh stop >"$STACK/stop.log" 2>&1
    cat "$STACK/stop.log" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
http_status() {  # http_status PORT PATH: the status code, without needing curl
  local status
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
  read -r _ status _ <&3 || true
  exec 3<&- 3>&-
  echo "$status"
}

for port in "$GATEWAY_PORT" "$API_PORT" "$WORKER_PORT" "$WEB_PORT"; do
  port_taken "$port" && { log "port $port is in use; stop what holds it or set UJUMBE_*_PORT"; exit 1; }
done

command -v dotnet >/dev/null || { log "the .NET 10 SDK is needed: https://dotnet.microsoft.com/download"; exit 1; }
if ! scripts/stack.sh status >/dev/null 2>&1; then
  STARTED_STACK=1
  scripts/stack.sh start
else
  scripts/stack.sh env >/dev/null  # refresh the settings file (a newer stack.sh may add settings)
fi

log "building ($CONFIGURATION)"
dotnet build Aspire.sln -c "$CONFIGURATION" -nologo -v quiet >"$STACK/build.log" 2>&1 \
  || { tail -n 30 "$STACK/build.log" >&2; log "build failed (full log: $STACK/build.log)"; exit 1; }

set -a
# shellcheck disable=SC1091
. "$STACK/env"
set +a
export ASPNETCORE_ENVIRONMENT=${ASPNETCORE_ENVIRONMENT:-Development}
mkdir -p "$STACK/logs"
KEYS_FILE=$STACK/demo-keys.json

start() {  # start NAME PROJECT_DIR PORT [VAR=VALUE ...]
  local name=$1 dir=$2 port=$3
  shift 3
  # Content root = the app's own folder: left to default (the current folder, the repo with the stack's
  # data in it) the configuration file watcher would follow every PostgreSQL write.
  env "$@" ASPNETCORE_URLS="http://127.0.0.1:$port" OTEL_SERVICE_NAME="$name" \
    ASPNETCORE_CONTENTROOT="$ROOT/$dir/bin/$CONFIGURATION/net10.0" \
    dotnet "$dir/bin/$CONFIGURATION/net10.0/Ujumbe.$dir.dll" >"$STACK/logs/$name.log" 2>&1 &
  PIDS+=($!)
  log "$name started (pid $!, http://127.0.0.1:$port, log $STACK/logs/$name.log)"
}

# On this machine webhook receivers are usually on this machine too: allow private addresses (said below).
start api Api "$API_PORT" Seed__KeysFile="$KEYS_FILE" Webhooks__AllowPrivateNetworks=true
start worker Worker "$WORKER_PORT" Webhooks__AllowPrivateNetworks=true
start gateway Gateway "$GATEWAY_PORT" services__api__http__0="http://127.0.0.1:$API_PORT"
start web Web "$WEB_PORT" services__gateway__http__0="http://127.0.0.1:$GATEWAY_PORT"

deadline=$((SECONDS + 120))
for entry in "api:$API_PORT" "worker:$WORKER_PORT" "gateway:$GATEWAY_PORT" "web:$WEB_PORT"; do
  name=${entry%%:*} port=${entry##*:}
  until [ "$(http_status "$port" /health 2>/dev/null)" = 200 ]; do
    for pid in "${PIDS[@]}"; do
      kill -0 "$pid" 2>/dev/null || { log "a service exited; see $STACK/logs/"; tail -n 20 "$STACK"/logs/*.log >&2; exit 1; }
    done
    [ $SECONDS -lt $deadline ] || { log "$name is not healthy after 120 s; see $STACK/logs/$name.log"; exit 1; }
    sleep 0.3
  done
done

key() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$KEYS_FILE"; }
echo "Gateway: http://127.0.0.1:$GATEWAY_PORT"
echo "Demo API key: $(key demo_key)"
echo "Operator API key: $(key operator_key)"
echo "Demo login: demo@ujumbe.local / $(key demo_password)"
echo "Operator login: operator@ujumbe.local / $(key operator_password)"
echo "Dashboard: http://127.0.0.1:$WEB_PORT"
echo "Note: webhooks may target loopback and private addresses here (Webhooks__AllowPrivateNetworks=true); production refuses them."
echo "Try: curl -H \"Authorization: Bearer $(key demo_key)\" http://127.0.0.1:$GATEWAY_PORT/v1/balance"
log "running; Ctrl+C stops everything"

# Until a signal arrives or a service dies.
while true; do
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || { log "a service exited unexpectedly; see $STACK/logs/"; exit 1; }
  done
  sleep 1
done
