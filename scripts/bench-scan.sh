#!/usr/bin/env bash
# Leak-scanner speed (key-restrictions.md §5: at least 200 MB/s of text per core) against a
# release build: generates a tree of SIZE_MB megabytes (default 1024) of source-like text in
# FILES files (default 4096) under 64 directories, with KEYS valid keys (default 8) and as
# many look-alikes with a wrong checksum, then times `ferrobase keys scan` over it (offline,
# text output) after one warm-up run, RUNS times (default 3). Prints MB/s of wall time and
# MB/s per core of CPU time (user + sys); 1 MB = 10^6 bytes.
#
#   scripts/bench-scan.sh
#   SIZE_MB=256 FILES=1000 RUNS=5 scripts/bench-scan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB=${SIZE_MB:-1024}
FILES=${FILES:-4096}
KEYS=${KEYS:-8}
RUNS=${RUNS:-3}
cargo build --release --bins --quiet

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$work/tree" "$SIZE_MB" "$FILES" "$KEYS" <<'PY'
import os, random, sys, zlib
root, size_mb, files, keys = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(15)
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

def key():
    body = "mb_" + "".join(rng.choice(B62) for _ in range(40))
    crc, check = zlib.crc32(body.encode()), ""
    for _ in range(6):
        check = B62[crc % 62] + check
        crc //= 62
    return body + check

lines = [
    "fn handle_request(state: &AppState, req: Request) -> Result<Response, Error> {",
    "    let mb_prefix = \"mb_\"; // keys start with mb_",
    "    for (i, item) in items.iter().enumerate() { total += item.price * i as u64; }",
    "database_url: postgres://ferrobase@db.internal:5432/ferrobase",
    "# TODO(ana): move the timeout into the configuration file",
    "    assert_eq!(parse_amount(\"12.50\"), Some(Amount::cents(1250)));",
    "export PATH=\"$HOME/.cargo/bin:$PATH\"",
    "    // Ünïcödé comments happen too: 日本語のコメント",
    "}",
    "",
]
per_file = size_mb * 1_000_000 // files
blocks = []
for _ in range(64):
    out, n = [], 0
    while n < per_file:
        line = rng.choice(lines) + "\n"
        out.append(line)
        n += len(line.encode())
    blocks.append("".join(out).encode()[:per_file])
with_key = set(rng.sample(range(files), keys))
for i in range(files):
    d = os.path.join(root, f"dir{i % 64:02d}")
    os.makedirs(d, exist_ok=True)
    data = blocks[i % 64]
    if i in with_key:
        k = key()
        fake = k[:48] + ("B" if k[48] == "A" else "A")
        mid = len(data) // 2
        data = data[:mid] + f"\nAPI_KEY={k}\nnot_a_key={fake}\n".encode() + data[mid:]
    with open(os.path.join(d, f"file{i:05d}.rs"), "wb") as f:
        f.write(data)
PY

bytes=$(du -sb "$work/tree" | cut -f1)
bin=./target/release/ferrobase
echo "tree: $(python3 -c "print(f'{$bytes/1e6:.0f}')") MB in $FILES files, $KEYS keys; $(nproc) cores"
"$bin" keys scan "$work/tree" >/dev/null || [ $? -eq 1 ]   # warm-up: fills the page cache
for run in $(seq "$RUNS"); do
  TIMEFORMAT='%R %U %S'
  set +e
  { time "$bin" keys scan "$work/tree" >"$work/out" 2>"$work/err"; } 2>"$work/time"
  code=$?
  set -e
  [ "$code" -eq 1 ] || { echo "unexpected exit status $code"; cat "$work/err"; exit 1; }
  summary=$(tail -n 1 "$work/out")
  case "$summary" in "$KEYS key"*" found in $KEYS file"*) ;; *) echo "unexpected: $summary"; exit 1 ;; esac
  read -r real user sys <"$work/time"
  python3 - "$bytes" "$real" "$user" "$sys" "$run" <<'PY'
import sys
b, real, user, sys_, run = int(sys.argv[1]), *map(float, sys.argv[2:5]), sys.argv[5]
cpu = user + sys_
print(f"run {run}: {real:.2f} s wall, {cpu:.2f} s CPU (user {user:.2f} + sys {sys_:.2f}): "
      f"{b / 1e6 / real:.0f} MB/s, {b / 1e6 / cpu:.0f} MB/s per core")
PY
done
