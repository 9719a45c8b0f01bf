#!/usr/bin/env bash
# Where a send's time goes in PostgreSQL (issue 15): single-recipient sends through the gateway at
# CONNS connections, first with no Worker (the accept path alone: gateway, Api, group commit, outbox
# relay), then with the Worker dispatching to the simulator while the load runs. For each phase, per
# accepted send: transactions committed, WAL records, WAL bytes, full-page images and WAL syncs
# (pg_stat_wal and pg_stat_database, before and after), and what the database's client backends were
# doing, sampled every 20 ms (pg_stat_activity: running, waiting for the next statement of an open
# transaction, waiting on a lock or on the WAL, idle). Counts per send do not depend on how busy the
# machine is, so this can run beside other work; the rates can't. And the Api's group commits: sends per
# group and how long one takes (its ujumbe.send.group.* histograms, by dotnet-counters). Appends a table to
# docs/benchmarks.md.
# Usage: bench/send-db.sh  (env: DUR=20 CONNS=64)
. "$(dirname "$0")/lib.sh"
DUR=${DUR:-20}
CONNS=${CONNS:-64}
GW=${UJUMBE_GATEWAY_PORT:-5480} API=${UJUMBE_API_PORT:-5481} WORKER=${UJUMBE_WORKER_PORT:-5482}
DBNAME=ujumbe_bench_db

need_tools wrk curl bc psql
# The Api's group commit histograms are read with dotnet-counters (a .NET global tool).
COUNTERS=$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")
[ -x "$COUNTERS" ] || dotnet tool install -g dotnet-counters >/dev/null || { log "dotnet-counters could not be installed"; exit 1; }
start_stack
build_release

counters() {  # commits wal_records wal_fpi wal_bytes wal_sync batches
  psql_admin -d "$DBNAME" -F' ' -c "select (select xact_commit from pg_stat_database where datname = current_database()),
      wal_records, wal_fpi, wal_bytes, wal_sync, (select count(*) from batches) from pg_stat_wal"
}

# sample SECONDS: what each client backend of the benchmark's database is doing, every 20 ms; prints
# "activity share" lines, share = fraction of all backend samples.
sample() {
  psql_admin -d "$DBNAME" -F' ' \
    -c "create temp table samples (activity text)" \
    -c "do \$\$ declare until timestamptz := clock_timestamp() + interval '$1 seconds'; begin
          while clock_timestamp() < until loop
            insert into samples
            select case
                     when state = 'active' and wait_event is null then 'running'
                     when state = 'active' then 'waiting: ' || wait_event_type || ' ' || wait_event
                     when state like 'idle in transaction%' then 'in a transaction, waiting for the client'
                     else 'idle' end
              from pg_stat_activity where datname = '$DBNAME' and backend_type = 'client backend' and pid <> pg_backend_pid();
            commit;
            perform pg_sleep(0.02);
          end loop; end \$\$" \
    -c "select activity, round(count(*)::numeric / sum(count(*)) over (), 3) from samples group by 1 order by 2 desc"
}

declare -A ROW ACTIVITY COMMITS_BY_GROUP
# phase NAME: DUR seconds of load with samples and counters taken around it
phase() {
  local before after rate sent
  before=$(counters)
  sample "$DUR" >"$OUT/activity-$1.txt" &
  local sampler=$!
  "$COUNTERS" collect -p "$PID_api" --counters "Ujumbe.Api[ujumbe.send.group.size,ujumbe.send.group.duration]" \
    --refresh-interval 5 --format csv -o "$OUT/groups-$1.csv" --duration "00:00:00:$DUR" >/dev/null 2>&1 &
  local collector=$!
  rate=$(wrk_run "send-$1" "$CONNS" "$DUR" "http://127.0.0.1:$GW" -s "$ROOT/bench/send.lua")
  wait "$sampler" "$collector"
  after=$(counters)
  read -r c0 r0 f0 b0 s0 n0 <<<"$before"
  read -r c1 r1 f1 b1 s1 n1 <<<"$after"
  sent=$((n1 - n0))
  ROW[$1]="$(cut -d' ' -f1 <<<"$rate") | $(cut -d' ' -f2,3 <<<"$rate" | sed 's/ / \/ /') | $sent | $(per "$((c1 - c0))" $sent) | $(per "$((r1 - r0))" $sent) | $(per "$((b1 - b0))" $sent 0) | $(per "$((f1 - f0))" $sent) | $(per "$((s1 - s0))" $sent)"
  COMMITS_BY_GROUP[$1]="$(group_figure "$1" size 50) / $(group_figure "$1" size 95) | $(group_figure "$1" duration 50 1000) / $(group_figure "$1" duration 95 1000)"
  ACTIVITY[$1]=$(awk '{what=$0; sub(/ [^ ]*$/, "", what); printf "%s%s %.0f %%", (NR>1 ? "; " : ""), what, $NF*100}' "$OUT/activity-$1.txt")
  log "$1: ${ROW[$1]}"
  log "$1: ${ACTIVITY[$1]}"
}
# group_figure PHASE size|duration PERCENTILE [SCALE]: the median over the 5-s intervals of the Api's group
# commit histogram's percentile (duration in ms with SCALE=1000)
group_figure() {
  local values
  values=$(awk -F, -v name="ujumbe.send.group.$2" -v p="Percentile=$3" 'index($3, name) && index($3, p) {print $5 * '"${4:-1}"'}' "$OUT/groups-$1.csv" | xargs)
  [ -n "$values" ] && printf "%.1f" "$(median $values)" || echo "?"
}
per() { printf "%.${3:-2}f" "$(echo "scale=4; $1 / $2" | bc)"; }

DB=$(fresh_database $DBNAME)
AMQP=$(fresh_vhost bench_db)
common=(ConnectionStrings__postgres="$DB" ConnectionStrings__rabbitmq="$AMQP")
start_service api Api $API "${common[@]}" Seed__KeysFile="$KEYS"
start_service gateway Gateway $GW services__api__http__0="http://127.0.0.1:$API"
wait_healthy $API $GW
OPERATOR=$(seed_key operator)
DEMO=$(seed_key demo)
top_up_demo $GW "$OPERATOR"
raise_demo_limits $GW "$OPERATOR"
export BENCH_KEY=$DEMO
warm_up "warmup" "$PID_api $PID_gateway" 8 "http://127.0.0.1:$GW" -s "$ROOT/bench/send.lua"
phase accept

start_service worker Worker $WORKER "${common[@]}" Providers__Simulator__DeliveryReportDelay=00:00:00.100
wait_healthy $WORKER
log "waiting for the Worker to dispatch what the first phase queued"
wait_until $DBNAME "not exists (select 1 from messages where status in ('queued','submitting','sent'))" 600 1
phase dispatching

{
  echo
  echo "## Where a send's time goes in PostgreSQL — $(date -u +%Y-%m-%d) (issue 15)"
  echo
  echo "Machine: $(machine); load average at the end $(cut -d' ' -f1-3 /proc/loadavg). Command: \`bench/send-db.sh\` (DUR=$DUR, CONNS=$CONNS, wrk -t2, single-recipient JSON sends through the gateway, tree $(git -C "$ROOT" rev-parse --short HEAD)). Logs: bench/out/$(basename "$OUT")."
  echo "Per accepted send: transactions committed in the database, WAL records, WAL bytes, full-page images, WAL syncs (fsyncs of the WAL). \"accept\": no Worker running; \"dispatching\": the Worker sends to the simulator (reports after 100 ms) while the load runs."
  echo
  echo "| phase | sends/s | p50 / p99 | sends | commits / send | WAL records / send | WAL bytes / send | full pages / send | WAL syncs / send | sends per group, p50 / p95 | group commit ms, p50 / p95 |"
  echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for p in accept dispatching; do echo "| $p | ${ROW[$p]} | ${COMMITS_BY_GROUP[$p]} |"; done
  echo
  echo "What the database's client backends were doing (share of samples every 20 ms):"
  echo
  for p in accept dispatching; do echo "- $p: ${ACTIVITY[$p]}"; done
} >>"$ROOT/docs/benchmarks.md"
log "appended to docs/benchmarks.md"
