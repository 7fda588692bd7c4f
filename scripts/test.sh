#!/usr/bin/env bash
# The test command: Rust unit + integration tests (SQLite, and PostgreSQL when reachable or when
# TEST_POSTGRES_URL is set), then the browser tests in headless Chromium, then the real-client
# scenarios (tests/clients/run.sh). Ends with one line
# totalling every runner: "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target

cargo build --locked --bins
# PostgreSQL halves that found no server record themselves here (tests/it/support.rs), so the
# summary counts them as skipped rather than passed.
export FERROBASE_SKIP_LOG="$PWD/target/pg-skipped.log"
: > "$FERROBASE_SKIP_LOG"
set +e
cargo test --locked --lib --bins --tests -- --test-threads="${FERROBASE_TEST_THREADS:-8}" 2>&1 | tee target/rust-tests.log
rust_status=${PIPESTATUS[0]}
browser_status=0
clients_status=0
: > target/browser-tests.log
: > target/clients-tests.log
if [ "$rust_status" -eq 0 ] && [ -x tests/browser/run.sh ]; then
  tests/browser/run.sh 2>&1 | tee target/browser-tests.log
  browser_status=${PIPESTATUS[0]}
fi
if [ "$rust_status" -eq 0 ] && [ -x tests/clients/run.sh ]; then
  tests/clients/run.sh 2>&1 | tee target/clients-tests.log
  clients_status=${PIPESTATUS[0]}
fi
set -e

awk '
  /^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
  END { printf "%d %d %d\n", p, f, s }' target/rust-tests.log > target/rust-totals
read -r rp rf rs < target/rust-totals
pg_skipped=$(sort -u "$FERROBASE_SKIP_LOG" | grep -c . || true)
rp=$((rp - pg_skipped))
rs=$((rs + pg_skipped))
[ "$pg_skipped" -eq 0 ] || echo "PostgreSQL not reachable: $pg_skipped PostgreSQL test halves skipped"
bp=$(awk '/^ℹ pass / {print $3}' target/browser-tests.log | tail -n1); bp=${bp:-0}
bf=$(awk '/^ℹ fail / {print $3}' target/browser-tests.log | tail -n1); bf=${bf:-0}
bs=$(awk '/^ℹ skipped / {print $3}' target/browser-tests.log | tail -n1); bs=${bs:-0}
cp=$(awk '/^clients: / {print $2}' target/clients-tests.log | tail -n1); cp=${cp:-0}
cf=$(awk '/^clients: / {print $4}' target/clients-tests.log | tail -n1); cf=${cf:-0}
echo "rust: $rp passed, $rf failed; browser: $bp passed, $bf failed; clients: $cp passed, $cf failed"
echo "tests: $((rp + bp + cp)) passed, $((rf + bf + cf)) failed, $((rs + bs)) skipped"
[ "$rust_status" -eq 0 ] && [ "$browser_status" -eq 0 ] && [ "$clients_status" -eq 0 ]
