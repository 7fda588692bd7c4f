#!/usr/bin/env bash
# Query benchmarks (queries.md, issue 7), against a release build on a fresh SQLite application
# database with the Sample Database:
#   1. `SELECT count(*) FROM orders` through POST /api/dataset: latency percentiles with one
#      connection, and throughput with several;
#   2. CSV exports of 100,000 and 1,000,000 rows (each row: an order of the Sample Database plus
#      a counter): rows/s, and the server's peak RSS after each, which must stay flat.
#
#   scripts/bench-queries.sh                 # 10 s per wrk run
#   DURATION=30s CONNECTIONS=16 scripts/bench-queries.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-8}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --bins --quiet

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
FERROBASE_LOG=warn ./target/release/ferrobase serve --data-dir "$work" --bind "127.0.0.1:$port" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
until curl -sf "$base/api/health" >/dev/null; do sleep 0.2; done

token=$(curl -s "$base/api/session/properties" | python3 -c 'import sys,json; print(json.load(sys.stdin)["setup-token"])')
session=$(curl -s "$base/api/setup" -H 'Content-Type: application/json' \
  -d "{\"token\":\"$token\",\"prefs\":{\"site_name\":\"Bench\"},\"user\":{\"email\":\"bench@example.com\",\"password\":\"blue7-ferret-orbit\"}}" \
  | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')

cat > "$work/count.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"database":1,"type":"native","native":{"query":"SELECT count(*) FROM orders"}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Metabase-Session"] = "$session"
LUA
curl -sf "$base/api/dataset" -H "X-Metabase-Session: $session" -H 'Content-Type: application/json' \
  -d '{"database":1,"type":"native","native":{"query":"SELECT count(*) FROM orders"}}' >/dev/null

latency() { # connections
  local out
  out=$(wrk -t1 -c"$1" -d"$DURATION" --latency -s "$work/count.lua" "$base/api/dataset")
  printf 'SELECT count(*) FROM orders, %2s connection(s): %9s req/s   p50 %-9s p99 %s\n' "$1" \
    "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")"
}
latency 1
latency "$CONNECTIONS"

# mbql.md (issue #14): an MBQL count of ORDERS by month next to the equivalent native SQL, in
# the same run (target: MBQL at most 1.1× the native time). MBQL adds loading the metadata,
# the permission checks and compiling to what the native query does.
ids=$(curl -s "$base/api/database/1/metadata" -H "X-Metabase-Session: $session" | python3 -c '
import sys, json
m = json.load(sys.stdin)
t = next(t for t in m["tables"] if t["name"] == "ORDERS")
f = next(f for f in t["fields"] if f["name"] == "CREATED_AT")
print(t["id"], f["id"])')
read -r orders created_at <<<"$ids"
python3 - "$work" "$orders" "$created_at" <<'PY'
import json, sys
work, orders, created_at = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
mbql = {"database": 1, "type": "query", "query": {"source-table": orders, "aggregation": [["count"]],
        "breakout": [["field", created_at, {"temporal-unit": "month"}]]}}
native = {"database": 1, "type": "native", "native": {"query":
          "SELECT strftime('%Y-%m-%dT%H:%M:%S', \"ORDERS\".\"CREATED_AT\", 'start of month') AS \"CREATED_AT\", "
          "COUNT(*) AS \"count\" FROM \"ORDERS\" GROUP BY 1 ORDER BY 1"}}
for name, body in (("mbql", mbql), ("month", native)):
    open(f"{work}/{name}.json", "w").write(json.dumps(body))
PY
for name in mbql month; do
  cat > "$work/$name.lua" <<LUA
wrk.method = "POST"
wrk.body = io.open("$work/$name.json"):read("*a")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Metabase-Session"] = "$session"
LUA
done
by_month() { # label, script
  local out
  out=$(wrk -t1 -c1 -d"$DURATION" --latency -s "$work/$2" "$base/api/dataset")
  printf '%-28s 1 connection: %9s req/s   p50 %-9s p99 %s\n' "$1" \
    "$(awk '/^Requests\/sec/ {print $2}' <<<"$out")" \
    "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
    "$(awk '$1 == "99%" {print $2}' <<<"$out")"
}
for _ in 1 2; do
  by_month "count by month, native SQL" month.lua
  by_month "count by month, MBQL" mbql.lua
done

peak_rss() { awk '/^VmHWM/ {print $2 " " $3}' "/proc/$pid/status"; }
echo "server peak RSS before exports: $(peak_rss)"
export_rows() { # rows
  local sql="WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) SELECT n.i, o.* FROM n JOIN ORDERS o ON o.ID = 1 + n.i % 5000"
  local query
  query=$(python3 -c 'import json,sys; print(json.dumps({"database":1,"type":"native","native":{"query":sys.argv[1]}}))' "$sql")
  local start end lines
  start=$(date +%s.%N)
  lines=$(curl -sf "$base/api/dataset/csv" -H "X-Metabase-Session: $session" \
    --data-urlencode "query=$query" | wc -l)
  end=$(date +%s.%N)
  python3 - "$1" "$lines" "$start" "$end" <<'PY'
import sys
rows, lines, start, end = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
assert lines == rows + 1, (lines, rows)
print(f"CSV export of {rows:>9,} rows: {end - start:6.2f} s, {rows / (end - start):>10,.0f} rows/s", end="")
PY
  echo "   server peak RSS after: $(peak_rss)"
}
export_rows 100000
export_rows 1000000
export_rows 100000
