#!/usr/bin/env bash
# HTTP load benchmark (api-keys.md issue): requests/s and p99 latency of
#   GET /api/health, GET /api/user/current with X-Api-Key, and with X-Metabase-Session,
# against a release build on a fresh SQLite file, in one run. Also times GET /api/api-key with
# 100,000 keys stored (SCALE_KEYS=0 skips that part).
#
#   scripts/bench-http.sh            # 10 s per endpoint, 2 wrk threads, 32 connections
#   DURATION=30s CONNECTIONS=64 scripts/bench-http.sh
#   WRK=0 scripts/bench-http.sh      # only the 100,000-key listing
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
SCALE_KEYS=${SCALE_KEYS:-100000}
WRK=${WRK:-1}

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --bins --quiet

work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
FERROBASE_LOG=warn FERROBASE_DISABLE_API_KEY_THROTTLE=true \
  ./target/release/ferrobase serve --database "sqlite://$work/bench.db" --bind "127.0.0.1:$port" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
until curl -sf "$base/api/health" >/dev/null; do sleep 0.2; done

token=$(curl -s "$base/api/session/properties" | python3 -c 'import sys,json; print(json.load(sys.stdin)["setup-token"])')
session=$(curl -s "$base/api/setup" -H 'Content-Type: application/json' \
  -d "{\"token\":\"$token\",\"prefs\":{\"site_name\":\"Bench\"},\"user\":{\"email\":\"bench@example.com\",\"password\":\"blue7-ferret-orbit\"}}" \
  | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
key=$(curl -s "$base/api/api-key" -H "X-Metabase-Session: $session" -H 'Content-Type: application/json' \
  -d '{"name":"bench","group_id":1}' | python3 -c 'import sys,json; print(json.load(sys.stdin)["unmasked_key"])')

run() { # name, then extra wrk args
  local name=$1; shift
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@")
  local rps p99
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  printf '%-40s %12s req/s   p99 %s\n' "$name" "$rps" "$p99"
  echo "$rps" > "$work/$name.rps"
}

if [ "$WRK" != 0 ]; then
echo "wrk: $THREADS threads, $CONNECTIONS connections, $DURATION per endpoint"
run health "$base/api/health"
run api_key "$base/api/user/current" -H "X-Api-Key: $key"
run session "$base/api/user/current" -H "X-Metabase-Session: $session"
# A path with no handler work (404 Not found.) anonymously and with a valid key: the difference
# is exactly what resolving the caller from a key costs on the request path.
run noop_anonymous "$base/api/no-such-route"
run noop_api_key "$base/api/no-such-route" -H "X-Api-Key: $key"
python3 - "$work" <<'PY'
import sys, pathlib
d = pathlib.Path(sys.argv[1])
r = {n: float((d / f"{n}.rps").read_text()) for n in
     ("health", "api_key", "session", "noop_anonymous", "noop_api_key")}
print(f"ratio api_key/health = {r['api_key'] / r['health']:.2f}   "
      f"session/health = {r['session'] / r['health']:.2f}   "
      f"no-op route with key/anonymous = {r['noop_api_key'] / r['noop_anonymous']:.2f}")
PY
fi

if [ "$SCALE_KEYS" -gt 0 ]; then
  kill $pid; wait $pid 2>/dev/null || true
  # Bulk-insert keys straight into the database (the API would take minutes), then restart.
  python3 - "$work/bench.db" "$SCALE_KEYS" <<'PY'
import sqlite3, sys, os, hashlib, time
db, n = sys.argv[1], int(sys.argv[2])
con = sqlite3.connect(db)
now = int(time.time() * 1e6)
cur = con.cursor()
for i in range(n):
    cur.execute("INSERT INTO core_user (email, first_name, last_name, type, is_active, is_superuser, is_qbnewb, date_joined, updated_at) VALUES (?, ?, '', 'api-key', 1, 0, 1, ?, ?)",
                (f"api-key-user-scale-{i}@api-key.invalid", f"scale {i}", now, now))
    uid = cur.lastrowid
    cur.execute("INSERT INTO permissions_group_membership (user_id, group_id) VALUES (?, 1)", (uid,))
    digest = hashlib.sha256(os.urandom(32)).digest()
    cur.execute("INSERT INTO api_key (name, user_id, key_hash, key_prefix, creator_id, updated_by_id, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 1, ?, ?)",
                (f"scale {i}", uid, digest, f"sc{i:05d}", now, now))
con.commit()
PY
  FERROBASE_LOG=warn FERROBASE_DISABLE_API_KEY_THROTTLE=true \
    ./target/release/ferrobase serve --database "sqlite://$work/bench.db" --bind "127.0.0.1:$port" &
  pid=$!
  until curl -sf "$base/api/health" >/dev/null; do sleep 0.2; done
  count=$(curl -s "$base/api/api-key/count" -H "X-Api-Key: $key" -H "X-Metabase-Session: $session")
  # The first request after a restart (cold statement cache), then two more.
  times=()
  for _ in 1 2 3; do
    times+=("$(curl -s -o /dev/null -w '%{time_total}' "$base/api/api-key" -H "X-Metabase-Session: $session")s")
  done
  echo "GET /api/api-key with $count keys: ${times[*]} (first, second, third)"
  if [ "$WRK" != 0 ]; then
    run api_key_with_scale_keys "$base/api/user/current" -H "X-Api-Key: $key"
  fi
fi
