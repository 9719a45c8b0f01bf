#!/usr/bin/env bash
# Contacts and campaigns benchmark (issue 6), through the gateway:
#   (a) importing a 100,000-row CSV (new contacts, then the same file again as updates),
#   (b) accepting a campaign to a 100,000-contact segment (201 = committed: campaign, batch,
#       every message by COPY, credits reserved),
#   (c) searching one account's 1,000,000 contacts, with the query plans.
# Appends the results to docs/benchmarks.md. Usage: bench/contacts.sh  (env: ROWS=100000 TOTAL=1000000)
. "$(dirname "$0")/lib.sh"
ROWS=${ROWS:-100000}
TOTAL=${TOTAL:-1000000}
GW=${UJUMBE_GATEWAY_PORT:-5380} API=${UJUMBE_API_PORT:-5381}

need_tools curl awk
start_stack
build_release

DB=$(fresh_database ujumbe_bench_contacts)
AMQP=$(fresh_vhost bench-contacts)
# No Worker: (b) measures acceptance; the dispatch of what is accepted is bench/send.sh's subject.
start_service api Api $API ConnectionStrings__postgres="$DB" ConnectionStrings__rabbitmq="$AMQP" Seed__KeysFile="$KEYS"
start_service gateway Gateway $GW services__api__http__0="http://127.0.0.1:$API"
wait_healthy $API $GW
OPERATOR=$(seed_key operator)
DEMO=$(seed_key demo)
top_up_demo $GW "$OPERATOR"
raise_demo_limits $GW "$OPERATOR"
call() {  # call METHOD PATH [curl args...] -> "status seconds", body in $OUT/last.json
  local method=$1 path=$2; shift 2
  curl -s -o "$OUT/last.json" -w '%{http_code} %{time_total}\n' -X "$method" -H "Authorization: Bearer $DEMO" "$@" "http://127.0.0.1:$GW$path"
}

# (a) import
CSV=$OUT/contacts.csv
awk -v n="$ROWS" 'BEGIN { print "name,phone,email,tags,city";
  for (i = 0; i < n; i++) printf "Contact %d,+25571%07d,c%d@example.com,bench;g%d,City%d\n", i, i, i, i % 10, i % 50 }' >"$CSV"
SIZE=$(du -h "$CSV" | cut -f1)
IMPORT=()
for run in 1 2; do
  read -r status seconds < <(call POST /v1/contacts/import -H 'content-type: text/csv' --data-binary "@$CSV")
  [ "$status" = 200 ] || { log "import failed: $status $(head -c 300 "$OUT/last.json")"; exit 1; }
  IMPORT+=("$seconds")
  log "import run $run: $seconds s: $(cat "$OUT/last.json" | head -c 200)"
done

# (b) a campaign to all of them
read -r status _ < <(call POST /v1/segments -H 'content-type: application/json' -d '{"name":"Bench","tags_any":["bench"]}')
SEGMENT=$(sed -n 's/.*"id":"\(seg_[^"]*\)".*/\1/p' "$OUT/last.json")
CAMPAIGN=()
for run in 1 2 3; do
  read -r status seconds < <(call POST /v1/campaigns -H 'content-type: application/json' \
    -d "{\"name\":\"Bench $run\",\"text\":\"Habari {{name}}, the offer in {{attributes.city}} ends Friday.\",\"sender_id\":\"UJUMBE\",\"audience\":{\"segment_id\":\"$SEGMENT\"}}")
  [ "$status" = 201 ] || { log "campaign failed: $status $(head -c 300 "$OUT/last.json")"; exit 1; }
  CAMPAIGN+=("$seconds")
  log "campaign run $run: $seconds s"
done
MESSAGES=$(psql_admin -d ujumbe_bench_contacts -c "select count(*) from messages")

# (c) a million contacts in the account, then searches
log "adding contacts up to $TOTAL"
psql_admin -d ujumbe_bench_contacts -c "insert into contacts (id, account_id, name, phone, email, tags, attributes, created_at, updated_at)
    select uuid_v7(now()), '$DEMO_ACCOUNT', 'Person ' || i, '+25574' || lpad(i::text, 7, '0'), 'p' || i || '@example.org',
           array['g' || (i % 10), 'bulk'], jsonb_build_object('city', 'City' || (i % 50)), now(), now()
      from generate_series(1, $TOTAL - $ROWS) as i" >/dev/null
psql_admin -d ujumbe_bench_contacts -c "vacuum analyze contacts" >/dev/null
COUNT=$(psql_admin -d ujumbe_bench_contacts -c "select count(*) from contacts where account_id = '$DEMO_ACCOUNT'")
SEARCH=()
QUERIES=("" "?q=Person%20123456" "?q=contact%209" "?q=0740054321" "?q=c77777%40example" "?tag=g3" "?q=baraka%20nothing" "?tag=g3&q=person%2012")
for index in "${!QUERIES[@]}"; do
  query=${QUERIES[$index]}
  times=()
  for run in 1 2 3 4 5; do
    read -r status seconds < <(call GET "/v1/contacts$query")
    [ "$status" = 200 ] || { log "search failed: $query $status"; exit 1; }
    times+=("$seconds")
  done
  total=$(sed -n 's/.*"total":\([0-9]*\),"total_exact":\([a-z]*\).*/\1 (\2)/p' "$OUT/last.json")
  SEARCH[$index]="$(median "${times[@]}") $total"
  log "search '$query': ${SEARCH[$index]}"
done
plan() {  # the SQL EF sends for a page (filter from the query, account filter outside), explained
  psql_admin -d ujumbe_bench_contacts -c "explain (analyze, buffers, costs off, summary on)
    select c.id, c.name, c.phone, exists (select 1 from opt_outs o where o.account_id = c.account_id and o.phone = c.phone)
      from (select * from contacts where $1) as c
     where c.account_id = '$DEMO_ACCOUNT' order by c.id desc limit 20"
}
PLAN_Q=$(plan "search like '%person 123456%' escape '\\'")
PLAN_TAG=$(plan "tags @> array['g3']::text[]")

{
  echo
  echo "## Contacts, import and campaigns — $(date -u +%Y-%m-%d) (issue 6)"
  echo
  echo "Machine: $(machine). Command: \`bench/contacts.sh\` (ROWS=$ROWS, TOTAL=$TOTAL). Through the gateway; no Worker running. Logs: bench/out/$(basename "$OUT")."
  echo
  echo "**Import** of a $ROWS-row CSV ($SIZE; name, phone, email, two tags, one attribute):"
  echo
  echo "| run | what | seconds |"
  echo "| --- | --- | ---: |"
  echo "| 1 | $ROWS new contacts | ${IMPORT[0]} |"
  echo "| 2 | the same file again: $ROWS updates (tags merged) | ${IMPORT[1]} |"
  echo
  echo "**Campaign** to a segment of $ROWS contacts, personalised (\`{{name}}\`, \`{{attributes.city}}\`), until 201 (campaign, batch, $ROWS messages by COPY, outbox, credits reserved, committed):"
  echo "$(printf '%s s, ' "${CAMPAIGN[@]}" | sed 's/, $//') (median $(median "${CAMPAIGN[@]}") s); $MESSAGES messages stored."
  echo
  echo "**Search** over one account's $COUNT contacts (page of 20 with \`total\`; median of 5, seconds through the gateway):"
  echo
  echo "| query | seconds | total (exact?) |"
  echo "| --- | ---: | --- |"
  for index in "${!QUERIES[@]}"; do
    read -r t rest <<<"${SEARCH[$index]}"
    echo "| \`/v1/contacts${QUERIES[$index]}\` | $t | $rest |"
  done
  echo
  echo "<details><summary>Plan: q=person 123456 (trigram GIN index, account id leading)</summary>"
  echo
  echo '```'
  echo "$PLAN_Q"
  echo '```'
  echo "</details>"
  echo
  echo "<details><summary>Plan: tag=g3 (100,000 matches: newest-first index scan stops at the page)</summary>"
  echo
  echo '```'
  echo "$PLAN_TAG"
  echo '```'
  echo "</details>"
} | tee -a "$ROOT/docs/benchmarks.md"
