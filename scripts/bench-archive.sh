#!/usr/bin/env bash
# Archiving speed (content.md §7 scenario 72): one client archives N cards sequentially with
# PUT /api/card/{id} {"archived":true} against a release build on a fresh SQLite file, then
# re-runs the loop (every response must be 200 both times). Prints archives/s.
#
#   scripts/bench-archive.sh          # N=1000
#   N=5000 scripts/bench-archive.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000}
cargo build --release --bins --quiet

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
FERROBASE_LOG=warn ./target/release/ferrobase serve --database "sqlite://$work/bench.db" \
  --data-dir "$work" --bind "127.0.0.1:$port" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
until curl -sf "$base/api/health" >/dev/null; do sleep 0.2; done

python3 - "$port" "$N" <<'PY'
import http.client, json, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
c = http.client.HTTPConnection("127.0.0.1", port)
def call(method, path, body=None, session=None):
    h = {"Content-Type": "application/json"}
    if session:
        h["X-Metabase-Session"] = session
    c.request(method, path, body=None if body is None else json.dumps(body), headers=h)
    r = c.getresponse()
    data = r.read()
    return r.status, (json.loads(data) if data else None)
_, props = call("GET", "/api/session/properties")
_, s = call("POST", "/api/setup", {"token": props["setup-token"], "prefs": {"site_name": "Bench"},
            "user": {"email": "bench@example.com", "password": "blue7-ferret-orbit"}})
session = s["id"]
ids = []
for i in range(n):
    st, card = call("POST", "/api/card", {"name": f"card {i}", "display": "table",
                    "visualization_settings": {},
                    "dataset_query": {"database": 1, "type": "native", "native": {"query": "select 1"}}},
                    session)
    assert st == 200, (st, card)
    ids.append(card["id"])
for run in ("first", "again"):
    t0 = time.perf_counter()
    for i in ids:
        st, _ = call("PUT", f"/api/card/{i}", {"archived": True}, session)
        assert st == 200, st
    dt = time.perf_counter() - t0
    print(f"{run:>6}: archived {n} cards in {dt:.2f} s = {n / dt:.0f} archives/s")
PY
