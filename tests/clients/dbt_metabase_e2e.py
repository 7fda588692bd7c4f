"""data-model.md §8: dbt-metabase (PyPI 1.7.5) `models` and `exposures` against a running ferrobase.

Usage: dbt_metabase_e2e.py BASE_URL API_KEY SESSION WORKDIR
The server is fresh and bootstrapped (admin session SESSION, key API_KEY in Administrators).
Runs with the Python of the virtual environment that holds dbt-core, dbt-postgres and
dbt-metabase (their commands are taken from next to it). Needs psql and PostgreSQL on
127.0.0.1:5432 whose `postgres` superuser psql reaches without a password, over TCP or, when
running as root, through the socket as the `postgres` OS user (§8.1.1).

Each step prints "ok <n> <what>" or "not ok <n> <what>: <why>" and the script exits non-zero on
the first failure. Everything is written under WORKDIR (a copy of the vendored sandbox, dbt's
target and logs, HOME for dbt and dbt-metabase); the warehouse database `dbtmetabase` is dropped
and recreated on every run.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml
from tap import check, count

BASE, KEY, SESSION, WORK = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
HERE = Path(__file__).resolve().parent
SANDBOX = WORK / "sandbox"
SERVER_LOG = WORK / "server.log"
ADMIN_EMAIL = "admin@example.com"  # bootstrap.py
PG = {"host": "127.0.0.1", "port": "5432", "db": "dbtmetabase", "user": "dbtmetabase",
      "password": "dbtmetabase1"}


class Answer:
    def __init__(self, status: int, body: bytes):
        self.status, self.text = status, body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.text)

    def __str__(self) -> str:
        return f"{self.status} {self.text[:2000]}"


def call(method: str, path: str, body=None, key: str | None = None) -> Answer:
    headers = {"Content-Type": "application/json"}
    if key:
        headers["X-API-KEY"] = key
    else:
        headers["X-Metabase-Session"] = SESSION
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return Answer(r.status, r.read())
    except urllib.error.HTTPError as e:
        return Answer(e.code, e.read())


def api(method: str, path: str, body=None, key: str | None = None):
    """A call that must answer 200; its JSON body."""
    a = call(method, path, body, key)
    check(a.status == 200, f"{method} {path} answers 200", str(a))
    return a.json()


def get(path: str):
    a = call("GET", path)
    if a.status != 200:
        check(False, f"GET {path}", str(a))
    return a.json()


# --- §8.1.1: the warehouse --------------------------------------------------------------------

# The superuser connects over TCP as `postgres` (trust authentication, as on the development and
# CI machines); where that is refused and this runs as root (a stock Debian cluster: peer
# authentication on the socket, passwords on TCP), through the socket as the `postgres` OS user.
SUPERUSER_TCP = ["psql", "-h", PG["host"], "-p", PG["port"], "-U", "postgres", "-d", "postgres"]
SUPERUSER_SOCKET = ["runuser", "-u", "postgres", "--", "psql", "-p", PG["port"], "-d", "postgres"]
superuser = SUPERUSER_TCP


def psql(sql: str | None = None, *, as_owner: bool = False, file: Path | None = None,
         base: list[str] | None = None) -> subprocess.CompletedProcess:
    if as_owner:
        args = ["psql", "-h", PG["host"], "-p", PG["port"], "-U", PG["user"], "-d", PG["db"]]
        env = {**os.environ, "PGPASSWORD": PG["password"]}
    else:
        args = list(base or superuser)
        env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    args += ["-X", "-q", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1"]
    args += ["-f", str(file)] if file else ["-c", sql or ""]
    return subprocess.run(args, env=env, capture_output=True, text=True, cwd="/")


r = psql("SELECT 1")
if r.returncode != 0 and os.geteuid() == 0 and shutil.which("runuser"):
    r2 = psql("SELECT 1", base=SUPERUSER_SOCKET)
    if r2.returncode == 0:
        superuser, r = SUPERUSER_SOCKET, r2
how = "socket, OS user postgres" if superuser is SUPERUSER_SOCKET else f"TCP {PG['host']}"
check(r.returncode == 0, f"PostgreSQL on port {PG['port']} accepts the postgres superuser ({how})",
      r.stdout + r.stderr)
# Idempotent: the role is created once and its password (re)set; the database is dropped (with
# any leftover connections, e.g. from an earlier run's server) and created again.
for what, sql in [
    ("drop database dbtmetabase", "DROP DATABASE IF EXISTS dbtmetabase WITH (FORCE)"),
    ("role dbtmetabase exists", "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE "
     "rolname = 'dbtmetabase') THEN CREATE ROLE dbtmetabase; END IF; END $$"),
    ("role dbtmetabase logs in with password dbtmetabase1",
     "ALTER ROLE dbtmetabase WITH LOGIN PASSWORD 'dbtmetabase1'"),
    ("create database dbtmetabase owned by dbtmetabase",
     "CREATE DATABASE dbtmetabase OWNER dbtmetabase"),
]:
    r = psql(sql)
    check(r.returncode == 0, f"psql: {what}", r.stdout + r.stderr)

shutil.rmtree(SANDBOX, ignore_errors=True)
shutil.copytree(HERE / "dbt_sandbox", SANDBOX)
r = psql("", as_owner=True, file=SANDBOX / "postgres-initdb" / "init.sql")
check(r.returncode == 0, "init.sql runs in dbtmetabase as its owner", r.stdout + r.stderr)

# --- §8.1.3: dbt seed and dbt run in a copy of the sandbox ------------------------------------

HOME = WORK / "home"
HOME.mkdir(exist_ok=True)
ENV = {
    **os.environ,
    "POSTGRES_HOST": PG["host"], "POSTGRES_PORT": PG["port"], "POSTGRES_USER": PG["user"],
    "POSTGRES_PASSWORD": PG["password"], "POSTGRES_DB": PG["db"], "POSTGRES_SCHEMA": "public",
    # Everything dbt and dbt-metabase write stays in WORKDIR; no network calls besides the
    # warehouse and the server.
    "HOME": str(HOME), "DBT_TARGET_PATH": str(SANDBOX / "target"),
    "DBT_LOG_PATH": str(SANDBOX / "logs"), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_VERSION_CHECK": "false", "DO_NOT_TRACK": "1", "DBT_USE_COLORS": "false",
    "NO_COLOR": "1", "TERM": "dumb",
    # dbt-metabase logs through rich; a wide console keeps each message on one line.
    "COLUMNS": "1000",
}
ENV.pop("PGPASSWORD", None)


VENV_BIN = Path(sys.executable).parent  # dbt and dbt-metabase sit next to this Python


def run(cmd: str, *args: str) -> subprocess.CompletedProcess:
    exe = VENV_BIN / cmd
    return subprocess.run([str(exe) if exe.exists() else cmd, *args], env=ENV, cwd=SANDBOX,
                          capture_output=True, text=True)


for cmd in ("seed", "run"):
    r = run("dbt", cmd, "--profiles-dir", ".")
    check(r.returncode == 0, f"dbt {cmd} --profiles-dir . exits 0", r.stdout + r.stderr)
manifest = SANDBOX / "target" / "manifest.json"
check(manifest.is_file(), "dbt wrote target/manifest.json")
expected_relations = sorted([
    "inventory.skus:BASE TABLE", "public.raw_customers:BASE TABLE",
    "public.raw_orders:BASE TABLE", "public.raw_payments:BASE TABLE",
    "public.stg_customers:VIEW", "public.stg_orders:VIEW", "public.stg_payments:VIEW",
    "public.customers:BASE TABLE", "public.orders:BASE TABLE", "public.transactions:BASE TABLE"])
r = psql("SELECT table_schema || '.' || table_name || ':' || table_type FROM "
         "information_schema.tables WHERE table_schema IN ('public', 'inventory')", as_owner=True)
relations = sorted(ln for ln in r.stdout.splitlines() if ln)
check(relations == expected_relations, "the warehouse holds the seeds, views and tables of §8.1.3",
      f"{relations} != {expected_relations}")

# --- §8.1.4: register the warehouse -----------------------------------------------------------

db = api("POST", "/api/database", {
    "engine": "postgres", "name": "dbtmetabase",
    "details": {"host": "127.0.0.1", "port": 5432, "dbname": "dbtmetabase", "user": "dbtmetabase",
                "password": "dbtmetabase1", "schema-filters-type": "all", "ssl": False,
                "tunnel-enabled": False, "advanced-options": False},
    "is_full_sync": True, "is_on_demand": False, "auto_run_queries": True, "schedules": {}})
DB = db["id"]
check(isinstance(DB, int) and db.get("engine") == "postgres",
      "admin registers the warehouse as database dbtmetabase", json.dumps(db))

# --- §8.2: models -----------------------------------------------------------------------------

MODELS = ["dbt-metabase", "models", "--manifest-path", "target/manifest.json",
          "--metabase-url", BASE, "--metabase-database", "dbtmetabase",
          "--include-schemas", "pub*,inventory", "--order-fields", "--verbose"]

# The server logs every request it finished (tower_http at debug, inside the request span that
# carries the method and route); run.sh starts it with
# RUST_LOG=warn,ferrobase::app=info,tower_http=debug for this scenario. The lines written while a
# command runs are the server's own record of the requests, and so of the writes, it received.
REQUEST_LINE = re.compile(
    r'request\{method=(\w+) route="([^"]*)".*finished processing request')
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def server_requests() -> list[tuple[str, str]]:
    text = SERVER_LOG.read_text(errors="replace") if SERVER_LOG.exists() else ""
    return REQUEST_LINE.findall(ANSI.sub("", text))


def models(key: str) -> tuple[subprocess.CompletedProcess, str, list[tuple[str, str]]]:
    before = len(server_requests())
    r = run(*MODELS[:4], "--metabase-api-key", key, *MODELS[4:])
    time.sleep(0.2)  # the log line of the last request is written after its answer
    return r, r.stdout + r.stderr, server_requests()[before:]


def client_requests(out: str) -> list[tuple[str, str, str]]:
    """dbt-metabase's own record of its requests: with --verbose, urllib3 logs each one at debug
    level as `"<METHOD> <path> HTTP/1.1" <status>`."""
    return re.findall(r'"(GET|POST|PUT|DELETE) (/api/\S+) HTTP/1\.1" (\d+)', out)


def log_lines(out: str) -> list[str]:
    """dbt-metabase's log messages (rich handler: level, message, source location)."""
    lines = []
    for ln in out.splitlines():
        m = re.match(r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+(.*?)(\s+\S+\.py:\d+)?\s*$", ln)
        if m:
            lines.append(f"{m.group(1)} {m.group(2)}")
        elif lines and ln.startswith(" "):
            lines[-1] += " " + ln.strip()
        else:
            lines.append(ln)
    return lines


r, out, reqs = models(KEY)
check(r.returncode == 0, "models exits 0 (admin key)", out)
errors = [ln for ln in log_lines(out) if "ERROR" in ln]
check(not errors, "models prints no ERROR line", "\n".join(errors) + "\n---\n" + out)
methods = sorted({f"{m} {p}" for m, p in reqs})
for wanted in ["GET /api/database", "POST /api/database/{id}/sync_schema",
               "GET /api/database/{id}/metadata", "PUT /api/table/{id}",
               "PUT /api/table/{id}/fields/order", "PUT /api/field/{id}"]:
    check(wanted in methods, f"the server received {wanted}", str(methods))
check(any(m == "PUT" for m, _ in reqs), "the server's request log shows the first run's PUTs",
      "no PUT line in server.log; is the server logging tower_http at debug?")
sent_requests = client_requests(out)
check(any(m == "PUT" for m, _, _ in sent_requests)
      and all(st.startswith("2") for _, _, st in sent_requests),
      "dbt-metabase's request log shows its PUTs, all answered 2xx", str(sent_requests))

# Lookups through the API (with the admin session).
meta_hidden = get(f"/api/database/{DB}/metadata?include_hidden=true")
TABLES = {(t["schema"], t["name"]): t for t in meta_hidden["tables"]}
check({("public", n) for n in ["customers", "orders", "transactions", "stg_customers",
                                "stg_orders", "stg_payments"]} | {("inventory", "skus")}
      <= set(TABLES), "metadata?include_hidden=true lists the models' tables and inventory.skus",
      str(sorted(TABLES)))
with_db = [t["name"] for t in meta_hidden["tables"] if "db" in t]
check(not with_db, "metadata tables carry no db key (§5.1)", str(with_db))


def qm(schema: str, name: str) -> dict:
    return get(f"/api/table/{TABLES[(schema, name)]['id']}/query_metadata")


def fields(t: dict) -> dict:
    return {f["name"]: f for f in t["fields"]}


def snapshot() -> dict:
    """Every value points 2–5 look at, for comparison after a re-run and a re-sync."""
    snap = {}
    for schema, name in [("public", "customers"), ("public", "orders"),
                         ("public", "transactions"), ("public", "stg_customers"),
                         ("public", "stg_orders"), ("inventory", "skus")]:
        t = qm(schema, name)
        snap[f"{schema}.{name}"] = {
            **{k: t.get(k) for k in ["display_name", "description", "points_of_interest",
                                     "caveats", "visibility_type", "field_order"]},
            "fields": [{k: f.get(k) for k in ["id", "name", "display_name", "description",
                                              "semantic_type", "fk_target_field_id",
                                              "visibility_type", "position"]}
                       for f in t["fields"]],
        }
    return snap


def check_values(when: str) -> dict:
    snap = snapshot()
    cust = qm("public", "customers")
    cf = fields(cust)
    check(cust["display_name"] == "clients", f"{when}: customers display_name is clients",
          str(cust["display_name"]))
    check(cust["description"] == "This table has basic information about a customer, as well as "
          "some derived facts based on a customer's orders",
          f"{when}: customers description from schema.yml", str(cust["description"]))
    check(cf["customer_id"]["description"] == "This is a unique identifier for a customer"
          and cf["customer_id"]["semantic_type"] == "type/PK",
          f"{when}: customers.customer_id description and type/PK", json.dumps(cf["customer_id"]))
    check(cf["number_of_orders"]["display_name"] == "order_count"
          and cf["number_of_orders"]["semantic_type"] == "type/Quantity",
          f"{when}: customers.number_of_orders is order_count, type/Quantity",
          json.dumps(cf["number_of_orders"]))
    order = ["customer_id", "first_name", "last_name", "first_order", "most_recent_order",
             "number_of_orders", "customer_lifetime_value"]
    check(cust["field_order"] == "custom" and [f["name"] for f in cust["fields"]] == order,
          f"{when}: customers field_order custom, fields in schema.yml order",
          f"{cust['field_order']} {[f['name'] for f in cust['fields']]}")

    orders = qm("public", "orders")
    of = fields(orders)
    check(orders["points_of_interest"] == "Basic information only"
          and orders["caveats"] == "Some facts are derived from payments",
          f"{when}: orders points_of_interest and caveats",
          f"{orders['points_of_interest']!r} {orders['caveats']!r}")
    check(of["order_id"]["semantic_type"] == "type/PK", f"{when}: orders.order_id is type/PK",
          json.dumps(of["order_id"]))
    check(of["customer_id"]["semantic_type"] == "type/FK"
          and of["customer_id"]["fk_target_field_id"] == cf["customer_id"]["id"],
          f"{when}: orders.customer_id is type/FK to customers.customer_id",
          json.dumps(of["customer_id"]))
    check(of["status"]["semantic_type"] == "type/Category",
          f"{when}: orders.status keeps its inferred type/Category", json.dumps(of["status"]))

    trans = fields(qm("public", "transactions"))
    check(trans["payment_id"]["semantic_type"] == "type/PK",
          f"{when}: transactions.payment_id is type/PK", json.dumps(trans["payment_id"]))
    check(trans["order_id"]["semantic_type"] == "type/FK"
          and trans["order_id"]["fk_target_field_id"] == of["order_id"]["id"],
          f"{when}: transactions.order_id is type/FK to orders.order_id",
          json.dumps(trans["order_id"]))

    stg = qm("public", "stg_customers")
    check(stg["visibility_type"] == "hidden", f"{when}: stg_customers is hidden",
          str(stg["visibility_type"]))
    meta = get(f"/api/database/{DB}/metadata")
    names = {(t["schema"], t["name"]) for t in meta["tables"]}
    check(("public", "stg_customers") not in names and ("public", "customers") in names,
          f"{when}: metadata without include_hidden leaves stg_customers out", str(sorted(names)))
    skus = fields(qm("inventory", "skus"))
    stg_orders = fields(qm("public", "stg_orders"))
    check(stg_orders["sku_id"]["semantic_type"] == "type/FK"
          and stg_orders["sku_id"]["fk_target_field_id"] == skus["sku_id"]["id"],
          f"{when}: stg_orders.sku_id is type/FK to inventory.skus.sku_id",
          json.dumps(stg_orders["sku_id"]))
    check(skus["sku_id"]["semantic_type"] == "type/PK",
          f"{when}: inventory.skus.sku_id is type/PK", json.dumps(skus["sku_id"]))
    return snap


after_first = check_values("after models")

# 6. A second run is a no-op.
r, out, reqs = models(KEY)
check(r.returncode == 0, "second models run exits 0", out)
lines = log_lines(out)
errors = [ln for ln in lines if "ERROR" in ln]
check(not errors, "second models run prints no ERROR line", "\n".join(errors))
changes = [ln for ln in lines if "will be updated" in ln or "updated successfully" in ln]
check(not changes, "second models run plans no update", "\n".join(changes) + "\n---\n" + out)
# The one warning expected: the source inventory.skus documents no columns, so dbt-metabase
# cannot order its fields ("missing in dbt"). A column missing in Metabase would be a failure.
warnings = [ln for ln in lines if ln.startswith("WARNING")
            and not re.search(r"Table field order 'INVENTORY\.SKUS' mismatch: missing in dbt "
                              r"\['sku_id', 'product'\]$", ln)]
check(not warnings, "second models run warns only about inventory.skus's undocumented columns",
      "\n".join(warnings))
up_to_date = {m.group(1) for ln in lines
              if (m := re.search(r"(?:Table|Field) '([^']+)' is up to date", ln))}
# Every managed table (the models and the source; stg_customers is hidden, so its columns are
# skipped) and every documented column of a visible one.
man = json.loads(manifest.read_text())
expected = set()
for node in [*man["nodes"].values(), *man["sources"].values()]:
    if node["resource_type"] not in ("model", "source"):
        continue
    tkey = f"{node['schema']}.{node.get('alias') or node.get('identifier') or node['name']}".upper()
    expected.add(tkey)
    if node["name"] != "stg_customers":
        expected |= {f"{tkey}.{c.upper()}" for c in node.get("columns", {})}
check(expected <= up_to_date, "second models run logs every table and field as up to date",
      f"missing: {sorted(expected - up_to_date)}")
# dbt-metabase's own record of its requests ...
sent_requests = client_requests(out)
check(any(m == "GET" and "/metadata" in p for m, p, _ in sent_requests)
      and not [x for x in sent_requests if x[0] == "PUT"],
      "second models run sends no PUT (its request log)", str(sent_requests))
# ... and the server's.
puts = [x for x in reqs if x[0] == "PUT"]
check(reqs != [] and not puts, "the server received no PUT during the second run",
      f"{puts} (requests seen: {len(reqs)})")
check(snapshot() == after_first, "values unchanged after the second run")

# 7. Sync again: nothing changes.
synced_before = get(f"/api/database/{DB}")["sync"]
a = call("POST", f"/api/database/{DB}/sync_schema?wait=true", {})
check(a.status == 200 and a.json() == {"status": "ok"}, "sync_schema?wait=true answers 200 ok",
      str(a))
synced_after = get(f"/api/database/{DB}")["sync"]
check(synced_after.get("last_error") is None and synced_after.get("last_succeeded_at")
      and synced_after["last_succeeded_at"] != synced_before.get("last_succeeded_at"),
      "a new sync of the database succeeded", f"{synced_before} -> {synced_after}")
after_sync = check_values("after a re-sync")
check(after_sync == after_first, "every value of points 2–5 unchanged after the re-sync",
      json.dumps({k: (after_first[k], after_sync[k]) for k in after_first
                  if after_first[k] != after_sync.get(k)}))

# 8. A non-admin key with data-model rights; one without.
editors = api("POST", "/api/permissions/group", {"name": "dbt editors"})
viewers = api("POST", "/api/permissions/group", {"name": "dbt viewers"})
graph = get("/api/permissions/graph")
check(isinstance(graph.get("revision"), int) and str(DB) in graph["groups"][str(editors["id"])],
      "the permission graph lists the new groups on the database", json.dumps(graph))
api("PUT", "/api/permissions/graph", {
    "revision": graph["revision"],
    "groups": {str(editors["id"]): {str(DB): {"data-model": {"schemas": "all"}}}}})
graph = get("/api/permissions/graph")
ed, vw = graph["groups"][str(editors["id"])][str(DB)], graph["groups"][str(viewers["id"])][str(DB)]
check(ed["data-model"] == {"schemas": "all"} and vw["data-model"] == {"schemas": "none"}
      and ed["view-data"] == vw["view-data"] == "unrestricted"
      and ed["create-queries"] == vw["create-queries"] == "query-builder-and-native",
      "editors have data-model all, viewers none, both the default query rights", json.dumps(graph))
editor_key = api("POST", "/api/api-key",
                 {"name": "dbt editor", "group_id": editors["id"]})["unmasked_key"]
viewer_key = api("POST", "/api/api-key",
                 {"name": "dbt viewer", "group_id": viewers["id"]})["unmasked_key"]

# Leave one documented value out of date: the run with rights must write it back, and the refused
# run can be seen to change nothing.
customers_id = TABLES[("public", "customers")]["id"]
api("PUT", f"/api/table/{customers_id}", {"description": "stale"})

r, out, reqs = models(viewer_key)
check(r.returncode != 0, "models with a key without data-model rights exits non-zero", out)
sent_requests = client_requests(out)
check([(m, st) for m, _, st in sent_requests] == [("GET", "200"), ("POST", "403")]
      and sent_requests[1][1] == f"/api/database/{DB}/sync_schema"
      and "403 Client Error" in out and "You don't have permissions to do that." in out,
      "dbt-metabase shows the 403 answer to its sync_schema request", out)
writes = [x for x in reqs if x[0] in ("PUT", "POST")]
check(writes == [("POST", "/api/database/{id}/sync_schema")],
      "it failed on its first write (sync_schema) and made no other", str(reqs))
check(get(f"/api/table/{customers_id}")["description"] == "stale",
      "nothing was changed by the refused run")

r, out, reqs = models(editor_key)
check(r.returncode == 0, "models with a key whose group has data-model all exits 0", out)
errors = [ln for ln in log_lines(out) if "ERROR" in ln]
check(not errors, "that run prints no ERROR line", "\n".join(errors))
check(("PUT", "/api/table/{id}") in reqs
      and all(st.startswith("2") for _, _, st in client_requests(out)),
      "that run wrote through PUT /api/table/:id, every request answered 2xx", str(reqs))
check(snapshot() == after_first, "that run restored every value")

# --- §8.3: exposures --------------------------------------------------------------------------

coll = api("POST", "/api/collection", {"name": "Jaffle Shop", "parent_id": None})
check(coll.get("slug") == "jaffle_shop", "collection Jaffle Shop has slug jaffle_shop",
      json.dumps(coll))
TOP_SQL = "SELECT first_name, customer_lifetime_value FROM customers ORDER BY 2 DESC LIMIT 10"
MIX_SQL = ("SELECT status, count(*) FROM public.orders o JOIN transactions t "
           "ON t.order_id = o.order_id GROUP BY 1")


def native_card(name: str, sql: str) -> dict:
    return api("POST", "/api/card", {
        "name": name, "display": "table", "visualization_settings": {},
        "collection_id": coll["id"],
        "dataset_query": {"type": "native", "database": DB, "native": {"query": sql}}})


top = native_card("Top customers", TOP_SQL)
mix = native_card("Order mix", MIX_SQL)
for c in (top, mix):
    a = call("POST", f"/api/card/{c['id']}/query", {"parameters": []})
    check(a.status == 202 and a.json().get("status") == "completed"
          and a.json().get("row_count", 0) > 0, f"card {c['name']} runs on the warehouse", str(a))
dash = api("POST", "/api/dashboard", {"name": "Jaffle", "collection_id": coll["id"]})
dash = api("PUT", f"/api/dashboard/{dash['id']}", {"dashcards": [
    {"id": -1, "card_id": top["id"], "row": 0, "col": 0, "size_x": 12, "size_y": 6},
    {"id": -2, "card_id": mix["id"], "row": 0, "col": 12, "size_x": 12, "size_y": 6}]})
check(sorted(d["card_id"] for d in dash["dashcards"]) == sorted([top["id"], mix["id"]]),
      "dashboard Jaffle shows both cards", json.dumps(dash["dashcards"]))

# What exposures resolves references with: the database's dbname in GET /api/database and in each
# GET /api/table entry's db (details present for an admin key, §5.6).
dbs = [d for d in api("GET", "/api/database", key=KEY)["data"] if d["id"] == DB]
check(len(dbs) == 1 and (dbs[0].get("details") or {}).get("dbname") == "dbtmetabase",
      "GET /api/database (admin key) shows the warehouse's details.dbname", json.dumps(dbs))
wh_tables = [t for t in api("GET", "/api/table", key=KEY) if t.get("db_id") == DB]
check(len(wh_tables) >= 10 and all((t.get("db") or {}).get("details", {}).get("dbname")
                                   == "dbtmetabase" for t in wh_tables),
      "GET /api/table (admin key) hydrates db with details.dbname on every warehouse table",
      json.dumps(wh_tables)[:3000])

OUT = SANDBOX / "out"
OUT.mkdir()  # dbt-metabase requires an existing output directory
r = run("dbt-metabase", "exposures", "--manifest-path", "target/manifest.json",
        "--metabase-url", BASE, "--metabase-api-key", KEY, "--output-path", "out",
        "--output-grouping", "collection", "--tag", "metabase")
out = r.stdout + r.stderr
check(r.returncode == 0, "exposures exits 0", out)
problems = [ln for ln in log_lines(out) if ln.startswith(("ERROR", "WARNING"))]
check(not problems, "exposures prints no ERROR or WARNING line", "\n".join(problems))
files = sorted(str(p.relative_to(OUT)) for p in OUT.rglob("*") if p.is_file())
check(files == ["jaffle_shop.yml"], "exposures wrote out/jaffle_shop.yml only", f"{files}\n{out}")
doc = yaml.safe_load((OUT / "jaffle_shop.yml").read_text())
check(doc.get("version") == 2, "jaffle_shop.yml has version: 2", json.dumps(doc))
exps = doc.get("exposures") or []
check([e.get("name") for e in exps] == ["jaffle", "order_mix", "top_customers"],
      "three exposures sorted by name: jaffle, order_mix, top_customers", json.dumps(exps))
by = {e["name"]: e for e in exps}
want = {
    "jaffle": ("dashboard", f"{BASE}/dashboard/{dash['id']}",
               ["ref('customers')", "ref('orders')", "ref('payments')"]),
    "order_mix": ("analysis", f"{BASE}/card/{mix['id']}", ["ref('orders')", "ref('payments')"]),
    "top_customers": ("analysis", f"{BASE}/card/{top['id']}", ["ref('customers')"]),
}
for name, (typ, url, deps) in want.items():
    e = by[name]
    check(e.get("type") == typ, f"{name}: type {typ}", json.dumps(e))
    check(e.get("depends_on") == deps, f"{name}: depends_on {deps}", json.dumps(e))
    check(e.get("url") == url, f"{name}: url {url}", json.dumps(e))
    check((e.get("owner") or {}).get("email") == ADMIN_EMAIL, f"{name}: owner.email {ADMIN_EMAIL}",
          json.dumps(e))
    check(e.get("tags") == ["metabase"], f"{name}: tags [metabase]", json.dumps(e))
check(MIX_SQL in by["order_mix"].get("description", ""),
      "order_mix quotes its SQL in the description", by["order_mix"].get("description", ""))
check(TOP_SQL in by["top_customers"].get("description", ""),
      "top_customers quotes its SQL in the description", by["top_customers"].get("description", ""))
