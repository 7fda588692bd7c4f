#!/usr/bin/env bash
# Browser tests of the admin web UI in headless Chromium (Debian's /usr/bin/chromium, driven by
# playwright-core; no browser is ever downloaded). Builds the debug binary if needed, starts
# `ferrobase serve` on a free port with a temporary SQLite file, runs the node test runner's
# tests in tests/*.test.mjs one file at a time (01-first-run does the setup, so order matters),
# stops the server, and exits non-zero when a test fails. Screenshots go to docs/screenshots/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  echo "browser tests: Chromium not found at $CHROMIUM (apt-get install chromium)" >&2
  exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

(cd "$repo" && cargo build --quiet --bin ferrobase)
bin="$repo/target/debug/ferrobase"

tmp="$(mktemp -d)"
port="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")"
# The failed-API-key rate limit is a per-IP counter; these tests use retired and deleted keys on
# purpose, and must not trip it (the API tests cover the limit itself).
FERROBASE_DISABLE_API_KEY_THROTTLE=true FERROBASE_LOG=warn \
  "$bin" serve --bind "127.0.0.1:$port" --database "sqlite://$tmp/ferrobase.db" --data-dir "$tmp" \
  >"$tmp/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

export FERROBASE_URL="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' \
    "$FERROBASE_URL/api/health" && break
  if ! kill -0 "$server" 2>/dev/null; then
    echo "browser tests: ferrobase did not start:" >&2
    cat "$tmp/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
export FERROBASE_SCREENSHOTS="$repo/docs/screenshots"
mkdir -p "$FERROBASE_SCREENSHOTS"

set +e
node --test --test-concurrency=1 --test-reporter=spec "$here"/tests/*.test.mjs
status=$?
set -e
if [ "$status" -ne 0 ]; then
  echo "--- ferrobase log (last 60 lines) ---"
  tail -n 60 "$tmp/server.log"
fi
exit "$status"
