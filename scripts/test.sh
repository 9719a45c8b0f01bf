#!/usr/bin/env bash
# Runs every test against real servers: starts the local stack if it is not running (and stops
# it again afterwards), runs the whole suite once, and ends with one line:
#   tests: N passed, N failed[, N skipped]
# Exits non-zero if anything failed or nothing ran. Extra arguments go to `dotnet test`
# (e.g. --filter FullyQualifiedName~ApiKeys).
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STACK=${UJUMBE_STACK_DIR:-$ROOT/.stack}
export UJUMBE_STACK_DIR=$STACK

STARTED_STACK=0
stop_stack() { if [ $STARTED_STACK = 1 ]; then scripts/stack.sh stop || true; STARTED_STACK=0; fi; }
trap stop_stack EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! scripts/stack.sh status >/dev/null 2>&1; then
  STARTED_STACK=1
  scripts/stack.sh start || { echo "tests: 0 passed, 0 failed"; exit 1; }
elif [ ! -x /usr/bin/chromium ] || [ ! -x /usr/sbin/bearerbox ] || [ ! -x /usr/lib/kannel/test/fakesmsc ]; then
  # installs what is missing (the browser tests' Chromium, the Kannel tests' kannel and kannel-extras)
  scripts/stack.sh start || { echo "tests: 0 passed, 0 failed"; exit 1; }
else
  scripts/stack.sh env >/dev/null  # refresh the settings file (a newer stack.sh may add settings)
fi
set -a
# shellcheck disable=SC1091
. "$STACK/env"
set +a

# The OpenAPI lint test runs @redocly/cli (pinned in Tests/openapi-lint/package-lock.json) with node.
# Installed here, into that folder, once per lock file; if this fails, that test says what is missing.
LINT=$ROOT/Tests/openapi-lint
install_openapi_lint() {
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "test: installing nodejs npm (apt-get)" >&2
      apt-get update -q >/dev/null
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null
    else
      echo "test: node and npm are missing (sudo apt-get install -y nodejs npm); the OpenAPI lint test will fail" >&2
      return 1
    fi
  fi
  if cmp -s "$LINT/package-lock.json" "$LINT/node_modules/.installed-lock.json"; then
    return 0
  fi
  echo "test: installing @redocly/cli into Tests/openapi-lint (npm ci)" >&2
  (cd "$LINT" && npm ci --no-audit --no-fund --loglevel=error >&2) \
    && cp "$LINT/package-lock.json" "$LINT/node_modules/.installed-lock.json" \
    || { echo "test: npm ci failed in Tests/openapi-lint; the OpenAPI lint test will fail" >&2; return 1; }
}
install_openapi_lint || true

RESULTS=$STACK/test-results
rm -rf "$RESULTS"
dotnet test Aspire.sln --nologo --logger "trx" --results-directory "$RESULTS" --blame-hang-timeout 10m "$@"
status=$?

stop_stack

passed=0 failed=0 total=0 executed=0
for trx in "$RESULTS"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  field() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$((total + $(field total)))
  executed=$((executed + $(field executed)))
  passed=$((passed + $(field passed)))
  failed=$((failed + $(field failed) + $(field error) + $(field timeout) + $(field aborted)))
done
skipped=$((total - executed))

summary="tests: $passed passed, $failed failed"
[ $skipped -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
if [ $status -ne 0 ] || [ $failed -gt 0 ] || [ $passed -eq 0 ]; then
  exit 1
fi
