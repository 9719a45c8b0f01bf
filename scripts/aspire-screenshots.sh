#!/usr/bin/env bash
# Screenshots of the Aspire dashboard, taken from the real running system: starts everything through
# scripts/run.sh (the AppHost, with the dashboard), waits until it is healthy, then runs
# scripts/aspire-screenshots.cs, which sends one SMS through the gateway with a trace context of its
# own and a webhook to a local receiver, waits until it is delivered and its webhooks received, and
# drives Debian's Chromium (Playwright) through the dashboard to save
#   docs/images/aspire-resources.png  the resources page, every resource running and healthy
#   docs/images/aspire-trace.png      that send's trace: gateway -> api -> RabbitMQ -> worker -> provider -> webhooks
#   docs/images/aspire-metrics.png    the ujumbe.messages.accepted meter
# Then it stops the AppHost it started (by its pid), which stops everything the AppHost started.
#
# The AppHost's settings come from the environment as for scripts/run.sh (ports, UJUMBE_DATA_DIR…).
# Its output goes to .stack/aspire-screenshots.log.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=$ROOT/docs/images
LOG=$ROOT/.stack/aspire-screenshots.log
START_TIMEOUT=${UJUMBE_START_TIMEOUT:-600}  # seconds: a first run builds in Release and initializes the servers

log() { printf 'aspire-screenshots: %s\n' "$*" >&2; }

[ -x /usr/bin/chromium ] || { log "Debian's Chromium is needed: scripts/stack.sh install (or apt-get install chromium)"; exit 1; }
mkdir -p "$ROOT/.stack" "$OUT"

APPHOST_PID=
stop_apphost() {
  if [ -n "$APPHOST_PID" ] && kill -0 "$APPHOST_PID" 2>/dev/null; then
    log "stopping the AppHost (pid $APPHOST_PID)"
    kill -TERM "$APPHOST_PID" 2>/dev/null || true
    wait "$APPHOST_PID" 2>/dev/null || true
  fi
}
trap stop_apphost EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log "starting the AppHost through scripts/run.sh (output: $LOG)"
# run.sh builds, then execs the AppHost: this pid is the AppHost's once it runs.
scripts/run.sh >"$LOG" 2>&1 &
APPHOST_PID=$!

# run.sh prints the addresses and the demo credentials once every service is healthy.
deadline=$((SECONDS + START_TIMEOUT))
until grep -q '^Demo API key: ' "$LOG"; do
  if ! kill -0 "$APPHOST_PID" 2>/dev/null; then
    tail -n 40 "$LOG" >&2
    log "the AppHost stopped before it was healthy"
    exit 1
  fi
  if [ $SECONDS -ge $deadline ]; then
    tail -n 40 "$LOG" >&2
    log "not healthy within ${START_TIMEOUT}s"
    exit 1
  fi
  sleep 1
done
GATEWAY=$(sed -n 's/^Gateway: //p' "$LOG" | head -n 1)
DASHBOARD=$(sed -n 's/^Aspire dashboard: //p' "$LOG" | head -n 1)
DEMO_KEY=$(sed -n 's/^Demo API key: //p' "$LOG" | head -n 1)
log "healthy: gateway $GATEWAY, dashboard ${DASHBOARD%%\?*}"

dotnet run --file scripts/aspire-screenshots.cs -- "$GATEWAY" "$DASHBOARD" "$DEMO_KEY" "$OUT"
ls -1 "$OUT"/aspire-*.png
