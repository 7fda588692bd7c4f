#!/usr/bin/env bash
# Archiving speed (content.md §4.7, scenarios 72 and 73) against a release build.
#
# Setup: an application database holding TOTAL cards (default 10,000) in 500 collections.
# Measures, printing archives/s:
#   1. one client archiving N cards (default 1,000) sequentially with PUT {"archived":true},
#      then the same loop again (idempotent: every response must be 200 both times);
#   2. 8 concurrent clients archiving 8×N/8·8 further cards (N each);
#   3. archiving one collection whose nested subtree holds SUBTREE cards (default 10,000):
#      one request, one transaction.
#
#   scripts/bench-archive.sh                      # SQLite file, defaults
#   DB=postgres scripts/bench-archive.sh          # a fresh PostgreSQL database (dropped after)
#   TOTAL=2000 SUBTREE=2000 N=500 scripts/bench-archive.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
TOTAL=${TOTAL:-10000}
SUBTREE=${SUBTREE:-10000}
DB=${DB:-sqlite}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
cargo build --release --bins --quiet

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
if [ "$DB" = postgres ]; then
  dbname="ferrobase_bench_$$"
  psql "$PG/postgres" -qc "CREATE DATABASE $dbname"
  url="$PG/$dbname"
else
  url="sqlite://$work/bench.db"
fi
FERROBASE_LOG=warn ./target/release/ferrobase serve --database "$url" \
  --data-dir "$work" --bind "127.0.0.1:$port" &
pid=$!
cleanup() {
  kill $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  if [ "$DB" = postgres ]; then psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $dbname"; fi
  rm -rf "$work"
}
trap cleanup EXIT
until curl -sf "$base/api/health" >/dev/null; do sleep 0.2; done

python3 - "$port" "$N" "$TOTAL" "$SUBTREE" "$DB" <<'PY'
import http.client, json, sys, threading, time
port, n, total, subtree, db = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def client():
    return http.client.HTTPConnection("127.0.0.1", port)

def call(c, method, path, body=None, session=None):
    h = {"Content-Type": "application/json"}
    if session:
        h["X-Metabase-Session"] = session
    c.request(method, path, body=None if body is None else json.dumps(body), headers=h)
    r = c.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data else None)

c = client()
_, props = call(c, "GET", "/api/session/properties")
_, s = call(c, "POST", "/api/setup", {"token": props["setup-token"], "prefs": {"site_name": "Bench"},
            "user": {"email": "bench@example.com", "password": "blue7-ferret-orbit"}})
session = s["id"]

def collection(name, parent=None):
    st, body = call(c, "POST", "/api/collection", {"name": name, "parent_id": parent}, session)
    assert st == 200, (st, body)
    return body["id"]

def card(name, coll):
    st, body = call(c, "POST", "/api/card", {"name": name, "display": "table",
                    "visualization_settings": {}, "collection_id": coll,
                    "dataset_query": {"database": 1, "type": "native",
                                      "native": {"query": "select 1"}}}, session)
    assert st == 200, (st, body)
    return body["id"]

t0 = time.perf_counter()
# 500 collections: 50 top-level, 9 children each.
colls = []
for i in range(50):
    top = collection(f"top {i}")
    colls.append(top)
    colls.extend(collection(f"child {i}.{j}", top) for j in range(9))
ids = [card(f"card {i}", colls[i % len(colls)]) for i in range(total)]
# The subtree for scenario 73: 10 children × 10 grandchildren under one collection.
big = collection("big")
leaves = []
for i in range(10):
    child = collection(f"big {i}", big)
    leaves.extend(collection(f"big {i}.{j}", child) for j in range(10))
for i in range(subtree):
    card(f"deep {i}", leaves[i % len(leaves)])
print(f"[{db}] setup: {total + subtree} cards in {len(colls) + 111} collections "
      f"in {time.perf_counter() - t0:.0f} s")

need = n + 8 * n
assert len(ids) >= need, f"TOTAL must be at least {need}"
for run in ("first", "again"):
    t0 = time.perf_counter()
    for i in ids[:n]:
        st, _ = call(c, "PUT", f"/api/card/{i}", {"archived": True}, session)
        assert st == 200, st
    dt = time.perf_counter() - t0
    print(f"[{db}] 1 client, {run:>5}: {n} card archives in {dt:.2f} s = {n / dt:.0f} archives/s")

def worker(chunk, errors):
    cc = client()
    for i in chunk:
        st, _ = call(cc, "PUT", f"/api/card/{i}", {"archived": True}, session)
        if st != 200:
            errors.append(st)

chunks = [ids[n + k * n: n + (k + 1) * n] for k in range(8)]
errors = []
threads = [threading.Thread(target=worker, args=(ch, errors)) for ch in chunks]
t0 = time.perf_counter()
for t in threads:
    t.start()
for t in threads:
    t.join()
dt = time.perf_counter() - t0
assert not errors, errors[:5]
print(f"[{db}] 8 clients: {8 * n} card archives in {dt:.2f} s = {8 * n / dt:.0f} archives/s")

t0 = time.perf_counter()
st, body = call(c, "PUT", f"/api/collection/{big}", {"archived": True}, session)
dt = time.perf_counter() - t0
assert st == 200, (st, body)
st, items = call(c, "GET", f"/api/collection/{leaves[-1]}/items?models=card", None, session)
assert st == 200 and all(i["archived"] for i in items["data"]) and items["total"] > 0
print(f"[{db}] archive one collection holding {subtree} cards in 111 collections: {dt:.2f} s")
PY
