#!/usr/bin/env bash
# Real-client compatibility tests (clients.md §2, §4): each client runs its smoke scenario
# against its own fresh `ferrobase serve` (temporary SQLite file), bootstrapped as in
# clients.md §1.1 with an admin and an API key in Administrators. Clients are installed at
# their pinned versions into isolated environments under target/clients/ (a Python virtual
# environment per Python client, a local npm prefix for the mb CLI). The dbt-metabase scenario
# also needs PostgreSQL on 127.0.0.1:5432 (data-model.md §8.1). Prints
# "clients: N passed, N failed" and exits non-zero when a scenario fails.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
envs="$repo/target/clients"
mkdir -p "$envs"

(cd "$repo" && cargo build --quiet --bin ferrobase)
bin="$repo/target/debug/ferrobase"

venv() { # name, pinned pip requirements (name==version)...
  local dir="$envs/$1"
  shift
  # Reused when every pinned package is installed at its version; otherwise (re)installed.
  if [ ! -x "$dir/bin/python" ] || ! "$dir/bin/python" - "$@" 2>/dev/null <<'EOF'
import sys
from importlib.metadata import version
sys.exit(any(version(n) != v for n, v in (a.split("==") for a in sys.argv[1:])))
EOF
  then
    python3 -m venv "$dir"
    "$dir/bin/pip" install -q --disable-pip-version-check "$@" >&2
  fi
  echo "$dir"
}

# Starts a fresh server; sets BASE, KEY, SESSION, TMP, SERVER.
start_server() {
  TMP="$(mktemp -d)"
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  # SERVER_RUST_LOG (optional) sets the server's full log filter for one scenario.
  env FERROBASE_LOG=warn ${SERVER_RUST_LOG:+RUST_LOG="$SERVER_RUST_LOG"} \
    "$bin" serve --bind "127.0.0.1:$port" --database "sqlite://$TMP/app.db" \
    --data-dir "$TMP" >"$TMP/server.log" 2>&1 &
  SERVER=$!
  BASE="http://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    curl -sf "$BASE/api/health" >/dev/null && break
    sleep 0.1
  done
  read -r SESSION KEY < <(python3 "$here/bootstrap.py" "$BASE")
}

stop_server() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  rm -rf "$TMP"
}

passed=0
failed=0
run_scenario() { # name, command...
  local name="$1"
  shift
  echo "# client scenario: $name"
  start_server
  if "$@" "$BASE" "$KEY" "$SESSION" "$TMP"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "# server log:"
    tail -n 40 "$TMP/server.log"
  fi
  stop_server
}

trap 'stop_server 2>/dev/null || true' EXIT

mbsync="$(venv metabase-sync metabase-sync==0.3.1)"
run_scenario "metabase-sync 0.3.1" env PATH="$mbsync/bin:$PATH" \
  "$mbsync/bin/python" "$here/metabase_sync_e2e.py"

mbdir="$envs/mb-cli"
if [ ! -x "$mbdir/node_modules/.bin/mb" ]; then
  mkdir -p "$mbdir"
  npm install --prefix "$mbdir" --no-audit --no-fund --loglevel=error @metabase/cli@0.3.1
fi
run_scenario "mb CLI (@metabase/cli 0.3.1)" node "$here/mb_cli_e2e.mjs" "$mbdir/node_modules/.bin/mb"

# data-model.md §8: dbt-metabase with dbt-core and dbt-postgres (the versions dbt-metabase 1.7.5's
# own lock file pins), on the sandbox project vendored in dbt_sandbox/ and the PostgreSQL server
# on 127.0.0.1:5432. The server logs each request's method and route (tower_http at debug), the
# scenario's record of the writes dbt-metabase makes.
dbtmb="$(venv dbt-metabase dbt-metabase==1.7.5 dbt-core==1.11.8 dbt-postgres==1.10.0)"
SERVER_RUST_LOG=warn,ferrobase::app=info,tower_http=debug run_scenario \
  "dbt-metabase 1.7.5 (dbt-core 1.11.8, dbt-postgres 1.10.0)" env PATH="$dbtmb/bin:$PATH" \
  "$dbtmb/bin/python" "$here/dbt_metabase_e2e.py"

# mbql.md §10: an AI-assistant MCP server (@cognitionai/metabase-mcp-server 2.2.0) over stdio.
mcpdir="$envs/mcp"
if [ ! -x "$mcpdir/node_modules/.bin/metabase-mcp-server" ]; then
  mkdir -p "$mcpdir"
  npm install --prefix "$mcpdir" --no-audit --no-fund --loglevel=error \
    @cognitionai/metabase-mcp-server@2.2.0
fi
run_scenario "MCP server (@cognitionai/metabase-mcp-server 2.2.0)" node "$here/mcp_e2e.mjs" \
  "$mcpdir/node_modules/.bin/metabase-mcp-server"

echo "clients: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
