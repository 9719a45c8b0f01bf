#!/usr/bin/env bash
# Runs Ujumbe on this machine through the .NET Aspire AppHost, which describes the whole system
# (servers, services, who talks to whom: AppHost/Extensions/). This script only installs the Debian
# packages the servers come from when they are missing, builds, and starts the AppHost. Once all is
# healthy the AppHost prints the gateway and web addresses, the Aspire dashboard's login link and
# the demo credentials. Ctrl+C (or SIGTERM) stops the AppHost, which stops everything it started.
#
# Environment (all optional): UJUMBE_GATEWAY_PORT, UJUMBE_API_PORT, UJUMBE_WORKER_PORT, UJUMBE_WEB_PORT,
# UJUMBE_PG_PORT, UJUMBE_REDIS_PORT, UJUMBE_RABBITMQ_PORT, UJUMBE_RABBITMQ_DIST_PORT, UJUMBE_EPMD_PORT,
# UJUMBE_DASHBOARD_PORT (18888; OTLP on +1, resource service on +2), UJUMBE_SERVERS
# (auto|executables|containers), UJUMBE_DATA_DIR (.stack/apphost). See the README.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
CONFIGURATION=Release
DASHBOARD_PORT=${UJUMBE_DASHBOARD_PORT:-18888}

log() { printf 'run: %s\n' "$*" >&2; }

command -v dotnet >/dev/null || { log "the .NET 10 SDK is needed: https://dotnet.microsoft.com/download"; exit 1; }
# Containers need no packages; otherwise the servers run from the Debian packages.
[ "${UJUMBE_SERVERS:-auto}" = containers ] || scripts/stack.sh install

mkdir -p .stack
log "building ($CONFIGURATION)"
dotnet build AppHost/AppHost.csproj -c "$CONFIGURATION" -nologo -v quiet >.stack/build.log 2>&1 \
  || { tail -n 30 .stack/build.log >&2; log "build failed (full log: .stack/build.log)"; exit 1; }

# The dashboard's addresses (what the AppHost's launch profile sets for `dotnet run`).
export ASPNETCORE_URLS="http://127.0.0.1:$DASHBOARD_PORT"
export ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL="http://127.0.0.1:$((DASHBOARD_PORT + 1))"
export ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL="http://127.0.0.1:$((DASHBOARD_PORT + 2))"
export ASPIRE_ALLOW_UNSECURED_TRANSPORT=true
export DOTNET_ENVIRONMENT=${DOTNET_ENVIRONMENT:-Development}
log "starting the AppHost (Ctrl+C stops everything)"
exec dotnet "AppHost/bin/$CONFIGURATION/net10.0/Ujumbe.AppHost.dll"
