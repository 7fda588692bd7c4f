#!/usr/bin/env bash
# The test command: Rust unit + integration tests (SQLite, and PostgreSQL when reachable or when
# TEST_POSTGRES_URL is set), then the browser tests in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --locked --bins
cargo test --locked --all-targets -- --test-threads="${FERROBASE_TEST_THREADS:-8}" 2>&1 | tee target/rust-tests.log
rust_status=${PIPESTATUS[0]}
[ "$rust_status" -eq 0 ] || exit "$rust_status"

if [ -x tests/browser/run.sh ]; then
  tests/browser/run.sh
fi

# One closing line for CI: the totals of every cargo test binary.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i; if ($(i+1) ~ /^ignored/) s += $i } }
     END { printf "rust: %d passed, %d failed, %d skipped\n", p, f, s }' target/rust-tests.log
