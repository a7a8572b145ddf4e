#!/usr/bin/env bash
# Checks ferry's Prometheus and Grafana artefacts for real (docs/metrics.md#checking-the-artefacts):
#  1. promtool check config deploy/prometheus/prometheus.yml and promtool check rules deploy/prometheus/alerts.yml;
#  2. starts `ferry demo` with its metrics endpoint on 127.0.0.1 (a free port) and a real Prometheus on 127.0.0.1
#     (a free port, a temporary storage dir) scraping it every second with alerts.yml loaded;
#  3. evaluates through Prometheus's HTTP API every PromQL expression of deploy/grafana/ferry-dashboard.json
#     (panel targets and templating queries) and of alerts.yml (each rule, and each side of its threshold
#     comparisons without the threshold), and fails if one errors or returns no data; and checks that the demo's
#     embed counters (which the dashboard's embed row reads) have moved above 0.
# Installs Debian's prometheus package (and jq, curl) when missing. Idempotent; only uses 127.0.0.1; stops only
# the processes it started, by PID; drops only the database it created. Needs cli/target/ferry.jar (mvn -B verify
# builds it) and the PostgreSQL that deploy/local/setup.sh prepares. Run by .ci/run after the Maven tests.
#
#   FERRY_POSTGRES=jdbc:...        target database of the demo (default: a temporary database on 127.0.0.1:5432,
#                                  created and dropped by this script, so concurrent runs and demos do not collide)
#   FERRY_CHECK_BUDGET=170         seconds the whole check may take before it gives up
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
JAR=$ROOT/cli/target/ferry.jar
DASHBOARD=$ROOT/deploy/grafana/ferry-dashboard.json
CONFIG=$ROOT/deploy/prometheus/prometheus.yml
RULES=$ROOT/deploy/prometheus/alerts.yml
BUDGET=${FERRY_CHECK_BUDGET:-170}
export DEBIAN_FRONTEND=noninteractive

say() { echo "[prometheus-check] $*"; }
die() { echo "[prometheus-check] ERROR: $*" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ferry-prometheus-check.XXXXXX")
FERRY_PID=""
PROM_PID=""
CHECK_DB=""
psql_pg() { psql -h 127.0.0.1 -p 5432 -U postgres -X -q -v ON_ERROR_STOP=1 -d postgres "$@"; }
stop_pid() { # stop one process this script started: TERM, then KILL after 10 s
  local pid=$1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
on_exit() {
  local rc=$?
  stop_pid "$PROM_PID"
  stop_pid "$FERRY_PID"
  if [[ -n $CHECK_DB ]]; then
    psql_pg -c "DROP DATABASE IF EXISTS \"$CHECK_DB\" WITH (FORCE)" >/dev/null 2>&1 \
      || echo "[prometheus-check] could not drop database $CHECK_DB" >&2
  fi
  if (( rc != 0 )); then
    for log in "$WORK/ferry.log" "$WORK/prometheus.log"; do
      if [[ -s $log ]]; then echo "--- last lines of $(basename "$log"):" >&2; tail -n 20 "$log" >&2; fi
    done
  fi
  rm -rf "$WORK"
  say "done in $((SECONDS - START))s (exit $rc)"
}
START=$SECONDS
trap on_exit EXIT
trap "exit 130" INT
trap "exit 143" TERM
left() { echo $((BUDGET - (SECONDS - START))); }

# --- 1. tools ----------------------------------------------------------------
missing=()
command -v promtool >/dev/null && command -v prometheus >/dev/null || missing+=(prometheus)
command -v jq >/dev/null || missing+=(jq)
command -v curl >/dev/null || missing+=(curl)
if (( ${#missing[@]} )); then
  (( EUID == 0 )) || die "missing ${missing[*]}; run as root to install them, or install them first"
  # apt-get update only when the package lists do not know a package yet.
  for p in "${missing[@]}"; do
    if ! apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
      say "apt-get update"
      apt-get update -qq >"$WORK/apt.log" 2>&1 || { cat "$WORK/apt.log" >&2; die "apt-get update failed"; }
      break
    fi
  done
  say "installing ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$WORK/apt.log" 2>&1 \
    || { tail -n 20 "$WORK/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
fi
command -v java >/dev/null || die "java not found"
[[ -f $JAR ]] || die "$JAR not found: build it first (mvn -B verify, or mvn -B -o -q install -DskipTests)"

# --- 2. promtool ---------------------------------------------------------------
say "promtool check config $(realpath --relative-to="$ROOT" "$CONFIG")"
promtool check config "$CONFIG" || die "promtool check config failed"
say "promtool check rules $(realpath --relative-to="$ROOT" "$RULES")"
promtool check rules "$RULES" || die "promtool check rules failed"

# --- 3. ferry demo with /metrics -------------------------------------------------
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 40000))
    if port_free "$p"; then echo "$p"; return 0; fi
  done
  return 1
}

demo_args=(demo --seconds "$BUDGET" --chunks 500 --data-dir "$WORK/ferry" --target-schema ferry_prometheus_check
  --metrics-address 127.0.0.1 --metrics-port 0)
if [[ -n ${FERRY_POSTGRES:-} ]]; then
  demo_args+=(--postgres "$FERRY_POSTGRES")
else
  command -v psql >/dev/null || die "psql not found: set FERRY_POSTGRES or install postgresql-client"
  CHECK_DB="ferry_prometheus_check_$$_$RANDOM"
  psql_pg -c "CREATE DATABASE \"$CHECK_DB\"" >/dev/null \
    || die "cannot create database $CHECK_DB on 127.0.0.1:5432 (is PostgreSQL up? deploy/local/setup.sh starts it)"
  demo_args+=(--postgres "jdbc:postgresql://127.0.0.1:5432/$CHECK_DB?user=postgres")
fi
say "starting ferry demo (metrics on 127.0.0.1, free port; database ${CHECK_DB:-from FERRY_POSTGRES})"
# The log exists before the demo starts: the background job opens it only once it runs.
: >"$WORK/ferry.log"
java -jar "$JAR" "${demo_args[@]}" >>"$WORK/ferry.log" 2>&1 &
FERRY_PID=$!
FERRY_PORT=""
deadline=$((SECONDS + 60))
while [[ -z $FERRY_PORT ]]; do
  kill -0 "$FERRY_PID" 2>/dev/null || die "ferry demo exited before serving /metrics"
  (( SECONDS < deadline )) || die "ferry demo did not serve /metrics within 60 s"
  FERRY_PORT=$(sed -n 's#^metrics on http://127\.0\.0\.1:\([0-9][0-9]*\)/metrics.*#\1#p' "$WORK/ferry.log" | head -n 1 || true)
  [[ -n $FERRY_PORT ]] || sleep 0.5
done
curl -fsS "http://127.0.0.1:$FERRY_PORT/metrics" -o /dev/null || die "GET http://127.0.0.1:$FERRY_PORT/metrics failed"
say "ferry demo (pid $FERRY_PID) serves http://127.0.0.1:$FERRY_PORT/metrics"

# --- 4. Prometheus on 127.0.0.1 -------------------------------------------------
cat >"$WORK/prometheus.yml" <<EOF
# generated by deploy/prometheus/check.sh
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $RULES
scrape_configs:
  - job_name: ferry
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:$FERRY_PORT"]
EOF
promtool check config "$WORK/prometheus.yml" >/dev/null || die "the generated configuration is not valid"
for attempt in 1 2 3; do
  PROM_PORT=$(free_port) || die "no free port on 127.0.0.1"
  prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
  PROM_PID=$!
  ready=0
  for _ in $(seq 1 60); do
    kill -0 "$PROM_PID" 2>/dev/null || break
    if curl -fsS "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.5
  done
  (( ready )) && break
  stop_pid "$PROM_PID"; PROM_PID=""
  say "Prometheus did not start on 127.0.0.1:$PROM_PORT (attempt $attempt)"
done
[[ -n $PROM_PID ]] || die "Prometheus did not start"
API="http://127.0.0.1:$PROM_PORT/api/v1"
say "Prometheus (pid $PROM_PID) on http://127.0.0.1:$PROM_PORT"

# instant query → the API's JSON answer
query() { curl -sS --max-time 10 "$API/query" --data-urlencode "query=$1" 2>/dev/null || echo '{"status":"unreachable"}'; }

deadline=$((SECONDS + $(left) - 15))
until [[ $(query 'up{job="ferry"} == 1' | jq -r '.data.result | length' 2>/dev/null) == 1 ]]; do
  kill -0 "$FERRY_PID" 2>/dev/null || die "ferry demo exited"
  (( SECONDS < deadline )) || die "Prometheus has not scraped ferry"
  sleep 0.5
done
say "Prometheus scrapes ferry"

# --- 5. the expressions ------------------------------------------------------------
# Grafana variables: interval ones → 1m (5m for $__range), every other → .* (a regex that matches everything).
grafana_to_promql() {
  sed -E -e 's/\$\{?__interval_ms\}?/60000/g' -e 's/\$\{?__range_s\}?/300/g' -e 's/\$\{?__range\}?/5m/g' \
    -e 's/\$\{?__(rate_interval|interval)\}?/1m/g' \
    -e 's/\$\{[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}/.*/g' -e 's/\[\[[A-Za-z_][A-Za-z0-9_]*\]\]/.*/g' \
    -e 's/\$[A-Za-z_][A-Za-z0-9_]*/.*/g'
}

# Splits a PromQL expression at its top-level `and`/`or`/`unless` (outside brackets and strings) and prints each
# operand on a line, without a leading on(...)/ignoring(...) modifier.
operands() {
  awk -v q="$1" 'BEGIN {
    depth = 0; inq = ""; cur = ""; n = length(q)
    for (i = 1; i <= n; i++) {
      c = substr(q, i, 1)
      if (inq != "") { cur = cur c; if (c == "\\") { i++; cur = cur substr(q, i, 1) } else if (c == inq) inq = ""; continue }
      if (c == "\"" || c == "\x27" || c == "`") { inq = c; cur = cur c; continue }
      if (c == "(" || c == "[" || c == "{") depth++
      if (c == ")" || c == "]" || c == "}") depth--
      if (depth == 0 && c == " " && match(tolower(substr(q, i)), /^ +(and|or|unless) +/)) {
        print cur; cur = ""; i += RLENGTH - 1; continue
      }
      cur = cur c
    }
    print cur
  }' | sed -E -e 's/^ *((on|ignoring) *\([^)]*\) *)?//' -e 's/ +$//'
}

# An operand without a comparison to a number on its right (or left): what the threshold is compared with.
strip_threshold() {
  sed -E -e 's/^(.*[^=!<> ]) *(==|!=|>=|<=|>|<) *(bool +)?[-+]?[0-9.]+([eE][-+]?[0-9]+)? *$/\1/' \
    -e 's/^ *[-+]?[0-9.]+([eE][-+]?[0-9]+)? *(==|!=|>=|<=|>|<) *(bool +)?(.*)$/\4/' <<<"$1"
}

# checks: lines "<must return data: 1|0>\t<where>\t<query>" (a query "label_values:<label>:<selector>" asks the
# label values API, as Grafana's label_values() does)
: >"$WORK/checks"
add_check() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$WORK/checks"; }

# dashboard panels
while IFS=$'\t' read -r title expr; do
  add_check 1 "dashboard panel \"$title\"" "$(grafana_to_promql <<<"$expr")"
done < <(jq -r '.. | objects | select(has("targets")) | (.title // "?") as $t | .targets[]? | select(.expr? | type == "string")
                 | [$t, (.expr | gsub("[\n\t]"; " "))] | @tsv' "$DASHBOARD")
# expressions outside panels' targets (rows, library panels...) must not escape the check
total_exprs=$(jq '[.. | objects | select(has("expr")) | .expr | select(type == "string")] | length' "$DASHBOARD")
(( total_exprs == $(wc -l <"$WORK/checks") )) \
  || die "the dashboard has $total_exprs expr fields but only $(wc -l <"$WORK/checks") are panel targets: extend check.sh"
# dashboard variables
while IFS=$'\t' read -r name q; do
  q=$(grafana_to_promql <<<"$q")
  if [[ $q =~ ^label_values\(\ *(.*[^ ])\ *,\ *([A-Za-z_][A-Za-z0-9_]*)\ *\)$ ]]; then
    add_check 1 "dashboard variable \$$name" "label_values:${BASH_REMATCH[2]}:${BASH_REMATCH[1]}"
  elif [[ $q =~ ^label_values\(\ *([A-Za-z_][A-Za-z0-9_]*)\ *\)$ ]]; then
    add_check 1 "dashboard variable \$$name" "label_values:${BASH_REMATCH[1]}:"
  elif [[ $q =~ ^query_result\((.*)\)$ ]]; then
    add_check 1 "dashboard variable \$$name" "${BASH_REMATCH[1]}"
  else
    die "dashboard variable \$$name: unsupported query '$q' (check.sh knows label_values() and query_result())"
  fi
done < <(jq -r '.templating.list[]? | select(.type == "query")
                 | [.name, ((.query | if type == "object" then .query else . end) | gsub("[\n\t]"; " "))] | @tsv' "$DASHBOARD")

# alert and recording rules, as Prometheus loaded them
rules_json=$(curl -fsS "$API/rules") || die "GET $API/rules failed"
loaded=$(jq '[.data.groups[].rules[]] | length' <<<"$rules_json")
declared=$(grep -cE '^[[:space:]]*-[[:space:]]*(alert|record):' "$RULES" || true)
(( loaded == declared && loaded > 0 )) || die "Prometheus loaded $loaded rule(s), $RULES declares $declared"
while IFS=$'\t' read -r name type expr; do
  if [[ $type == recording ]]; then
    add_check 1 "rule $name" "$expr"
    continue
  fi
  add_check 0 "alert $name" "$expr"
  parts=()
  while IFS= read -r part; do parts+=("$part"); done < <(operands "$expr")
  for part in "${parts[@]}"; do
    lhs=$(strip_threshold "$part")
    if [[ $lhs != "$part" || ${#parts[@]} -gt 1 ]]; then
      add_check 1 "alert $name, without its threshold" "$lhs"
    fi
  done
done < <(jq -r '.data.groups[].rules[] | [.name, .type, (.query | gsub("[\n\t]"; " "))] | @tsv' <<<"$rules_json")

# The embed row must show an embedding ferry, not only counters registered at 0: the demo embeds document_chunks
# (new chunks and edited texts go to the model, metadata updates hit the cache, long chunks are truncated).
for m in ferry_embed_vectors_total ferry_embed_cache_hits_total ferry_embed_cache_misses_total \
         ferry_embed_truncated_texts_total ferry_embed_batch_seconds_count; do
  add_check 1 "the demo embeds" "sum by (source) ($m) > 0"
done

say "$(wc -l <"$WORK/checks") expression(s) to evaluate: $(grep -c $'\tdashboard' "$WORK/checks") from the dashboard, $(grep -c $'\talert\|\trule' "$WORK/checks") from the rules, $(grep -c $'\tthe demo' "$WORK/checks") on the demo's embedding"

# Evaluates one check; prints "ok", "empty" (no data yet) or "error: <message>".
evaluate() {
  local need=$1 q=$2 answer
  if [[ $q == label_values:* ]]; then
    local rest=${q#label_values:} label selector
    label=${rest%%:*}; selector=${rest#*:}
    if [[ -n $selector ]]; then
      answer=$(curl -sS --max-time 10 -G "$API/label/$label/values" --data-urlencode "match[]=$selector" \
        --data-urlencode "start=$(( $(date +%s) - 300 ))" 2>/dev/null || echo '{"status":"unreachable"}')
    else
      answer=$(curl -sS --max-time 10 "$API/label/$label/values" 2>/dev/null || echo '{"status":"unreachable"}')
    fi
  else
    answer=$(query "$q")
  fi
  jq -r --argjson need "$need" '
    if .status == "unreachable" then "empty"
    elif .status != "success" then "error: \(.errorType // "?"): \(.error // "?")"
    elif $need == 0 then "ok"
    elif (.data | type) == "array" then (if (.data | length) > 0 then "ok" else "empty" end)
    elif (.data.resultType == "scalar" or .data.resultType == "string") then "ok"
    elif (.data.result | length) > 0 then "ok"
    else "empty" end' <<<"$answer" 2>/dev/null || echo "error: not JSON: ${answer:0:200}"
}

# Retry what returns no data yet (rates need two scrapes, the latency histogram a streamed change...) until the
# budget is spent; an error is final.
mapfile -t pending <"$WORK/checks"
failures=()
deadline=$((SECONDS + $(left) - 10))
while (( ${#pending[@]} )); do
  still=()
  for line in "${pending[@]}"; do
    IFS=$'\t' read -r need where q <<<"$line"
    result=$(evaluate "$need" "$q")
    case $result in
      ok) ;;
      empty) still+=("$line") ;;
      *) failures+=("$where: $q -> $result") ;;
    esac
  done
  pending=("${still[@]+"${still[@]}"}")
  (( ${#pending[@]} )) || break
  if (( SECONDS >= deadline )) || ! kill -0 "$FERRY_PID" 2>/dev/null; then
    for line in "${pending[@]}"; do
      IFS=$'\t' read -r need where q <<<"$line"
      failures+=("$where: $q -> no data")
    done
    break
  fi
  sleep 1
done

# the rules were evaluated without error
bad_rules=$(curl -fsS "$API/rules" | jq -r '.data.groups[].rules[] | select(.health == "err") | "\(.name): \(.lastError)"')
while IFS= read -r r; do [[ -n $r ]] && failures+=("rule evaluation failed: $r"); done <<<"$bad_rules"

if (( ${#failures[@]} )); then
  echo "[prometheus-check] FAILED: ${#failures[@]} expression(s):" >&2
  printf '  %s\n' "${failures[@]}" >&2
  exit 1
fi
say "OK: every expression of the dashboard and the alert rules evaluates and returns data ($(wc -l <"$WORK/checks") queries)"
