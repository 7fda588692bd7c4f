"""clients.md §2.1: the metabase-sync (PyPI 0.3.1) smoke scenario against a running ferrobase.

Usage: metabase_sync_e2e.py BASE_URL API_KEY SESSION WORKDIR
The server is fresh and bootstrapped (admin session SESSION, key API_KEY in Administrators).
Each step prints "ok <n> <what>" or "not ok <n> <what>: <why>" and the script exits non-zero on
the first failure. New content is authored in the state tree with metabase-sync's own writers
(the file formats its export uses), without entity ids, as a person writing new files would.
"""
from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from metabase_sync.serialize.canon import CARD, COLLECTION, DASHBOARD, DASHBOARD_CHILDREN, canonical
from metabase_sync.serialize.yamlio import dump_yaml, load_yaml, write_frontmatter_sql, write_yaml
from tap import check, count

BASE, KEY, SESSION, WORK = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
ENV = {**os.environ, "METABASE_URL": BASE, "METABASE_API_KEY": KEY, "NO_COLOR": "1"}
SQL = "SELECT 1 AS one"


def sync(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["metabase-sync", *args], env=ENV, cwd=WORK, capture_output=True, text=True)


def api(path: str):
    req = urllib.request.Request(BASE + path, headers={"X-Metabase-Session": SESSION})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


# Bookkeeping that `plan`/`apply` write into the state tree; an export never does.
TOOL_FILES = {".last-apply.json", ".plan.json"}


def files(d: Path) -> list[str]:
    return sorted(str(p.relative_to(d)) for p in d.rglob("*")
                  if p.is_file() and p.name not in TOOL_FILES)


def same_tree(a: Path, b: Path) -> tuple[bool, str]:
    """Byte-identical trees, except one documented client limitation: metabase-sync's apply
    sends new dashcards without entity ids and never writes the server-assigned ones back, so a
    dashcard authored with `entity_id: null` stays null in the state tree while an export shows
    the server's value. Such a file must be identical once those nulls are filled in."""
    fa, fb = files(a), files(b)
    if fa != fb:
        return False, f"file lists differ: {sorted(set(fa) ^ set(fb))}"
    _, mismatch, errors = filecmp.cmpfiles(a, b, fa, shallow=False)
    diffs = []
    for name in mismatch:
        left, right = (a / name).read_text(), (b / name).read_text()
        if name.endswith("dashboard.yaml"):
            da, db = load_yaml(a / name), load_yaml(b / name)
            for x, y in zip(da.get("dashcards") or [], db.get("dashcards") or []):
                if x.get("entity_id") is None:
                    x["entity_id"] = y.get("entity_id")
            if dump_yaml(canonical(da, DASHBOARD, DASHBOARD_CHILDREN)) == right:
                continue
        diffs.append(f"--- {name}\n{left}\n+++ {name}\n{right}")
    if diffs or errors:
        return False, "files differ: " + "\n".join(diffs) + str(errors)
    return True, ""


state = WORK / "state"
second = WORK / "state2"

# 1. Export from a fresh server.
r = sync("export", "--state-dir", str(state))
out = r.stdout + r.stderr
check(r.returncode == 0, "export exits 0", out)
# metabase-sync logs its closing "done." at warning level; any other warning line (unsynced
# alerts/segments/metrics, retries, unresolvable cards) fails the step.
warnings = [ln for ln in out.splitlines()
            if ln.startswith("WARNING") and ln.split()[1:] != ["done."]]
check(not warnings and "NOT yet synced" not in out, "export prints no warning", out)
dbs = list((state / "databases").glob("*.yaml"))
check(len(dbs) == 1 and load_yaml(dbs[0]).get("name") == "Sample Database",
      "export holds the Sample Database", str([p.name for p in dbs]))
collections = state / "collections"
unexpected = [f for f in files(collections) if f != "_root"] if collections.exists() else []
check(not any(f.endswith((".sql", ".yaml")) for f in unexpected),
      "export holds no collections, cards or dashboards", str(unexpected))

# 2. Author a collection, a native card in it and a dashboard showing the card.
smoke = collections / "smoke"
write_yaml(smoke / "_collection.yaml", canonical(
    {"entity_id": None, "name": "smoke", "description": None, "authority_level": None,
     "archived": False}, COLLECTION))
card_file = smoke / "cards" / "one.sql"
write_frontmatter_sql(card_file, canonical(
    {"entity_id": None, "name": "one", "description": None, "type": "question", "display": "scalar",
     "database": "Sample Database", "parameters": [], "visualization_settings": {},
     "enable_embedding": False, "embedding_params": None, "cache_ttl": None, "archived": False,
     "template_tags": {}}, CARD), SQL)
board = smoke / "dashboards" / "board"
write_yaml(board / "dashboard.yaml", canonical(
    {"entity_id": None, "name": "board", "description": None, "archived": False,
     "auto_apply_filters": True, "cache_ttl": None, "enable_embedding": False,
     "embedding_params": None, "position": None, "width": "fixed", "parameters": [], "tabs": [],
     "dashcards": [{"entity_id": None, "card_path": "../../cards/one.sql", "tab_position": None,
                    "row": 0, "col": 0, "size_x": 6, "size_y": 4, "parameter_mappings": [],
                    "visualization_settings": {}, "series": []}]},
    DASHBOARD, DASHBOARD_CHILDREN))
check(True, "state tree holds the new collection, card and dashboard")

# 3. Apply.
r = sync("apply", "--yes", "--state-dir", str(state))
check(r.returncode == 0, "apply --yes exits 0", r.stdout + r.stderr)
coll = [c for c in api("/api/collection") if c.get("name") == "smoke"]
check(len(coll) == 1, "the server holds collection smoke", str(coll))
cards = [c for c in api("/api/card?f=all") if c["name"] == "one"]
check(len(cards) == 1 and cards[0]["collection_id"] == coll[0]["id"], "the server holds the card", str(cards))
card = api(f"/api/card/{cards[0]['id']}")
check(card["dataset_query"]["native"]["query"] == SQL, "the card's SQL is exactly as written",
      json.dumps(card["dataset_query"]))
dashes = [d for d in api("/api/dashboard") if d["name"] == "board"]
check(len(dashes) == 1, "the server holds the dashboard", str(dashes))
dash = api(f"/api/dashboard/{dashes[0]['id']}")
check(len(dash["dashcards"]) == 1 and dash["dashcards"][0]["card_id"] == card["id"],
      "the dashboard has one dashcard showing the card", json.dumps(dash["dashcards"]))

# 4. Plan shows nothing to do.
r = sync("plan", "--state-dir", str(state))
check(r.returncode == 0 and "nothing to do." in r.stdout, "plan reports no pending change",
      r.stdout + r.stderr)

# 5. A second export is identical file by file.
r = sync("export", "--state-dir", str(second))
check(r.returncode == 0, "second export exits 0", r.stdout + r.stderr)
ok, why = same_tree(state, second)
check(ok, "the two state trees are identical", why)

# 6. Archive the card through its file.
fm_text = card_file.read_text()
card_file.write_text(fm_text.replace("archived: false", "archived: true", 1))
r = sync("apply", "--yes", "--state-dir", str(state))
check(r.returncode == 0, "apply --yes (archive) exits 0", r.stdout + r.stderr)
check(api(f"/api/card/{card['id']}")["archived"] is True, "GET /api/card shows archived: true")
third = WORK / "state3"
r = sync("export", "--state-dir", str(third))
check(r.returncode == 0 and not any(f.endswith("one.sql") for f in files(third)),
      "a new export no longer contains the card", str(files(third)))
print(f"1..{count()}")
