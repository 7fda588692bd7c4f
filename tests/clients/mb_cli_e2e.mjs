// clients.md §2.2: the `mb` CLI (npm @metabase/cli 0.3.1) smoke scenario against a running
// ferrobase. Usage: node mb_cli_e2e.mjs MB_BIN BASE_URL API_KEY SESSION WORKDIR
// Every command runs with --json (the CLI validates each response against its schemas, so a
// missing key fails the command). Prints "ok <n> …" / "not ok <n> …" and exits 1 on a failure.
import { execFileSync } from "node:child_process";
import assert from "node:assert/strict";
import { resolve } from "node:path";

const [mbArg, base, key, , workdir] = process.argv.slice(2);
const mbBin = resolve(mbArg);
const env = { ...process.env, MB_URL: base, MB_API_KEY: key, HOME: workdir, NO_COLOR: "1" };
let step = 0;

function mb(args, { json = true } = {}) {
  const argv = json ? [...args, "--json", "--full", "--max-bytes", "0"] : args;
  try {
    const out = execFileSync(mbBin, argv, { env, cwd: workdir, encoding: "utf8" });
    return json ? JSON.parse(out) : out;
  } catch (e) {
    throw new Error(`mb ${args.join(" ")} failed (status ${e.status}):\n${e.stdout}\n${e.stderr}`);
  }
}

function check(what, fn) {
  step += 1;
  try {
    const v = fn();
    console.log(`ok ${step} ${what}`);
    return v;
  } catch (e) {
    console.log(`not ok ${step} ${what}: ${e.message}`);
    process.exit(1);
  }
}

const unwrap = (v) => (v && typeof v === "object" && "data" in v && !Array.isArray(v) && !("id" in v) ? v.data : v);

const c = check("collection create", () => {
  const v = unwrap(mb(["collection", "create", "--body", JSON.stringify({ name: "smoke" })]));
  assert.equal(v.name, "smoke");
  assert.ok(Number.isInteger(v.id));
  return v.id;
});

const d = check("card create with every required key", () => {
  const body = {
    name: "c", display: "table", visualization_settings: {}, collection_id: c,
    dataset_query: { type: "native", database: 1, native: { query: "SELECT 1 AS x" } },
  };
  const v = unwrap(mb(["card", "create", "--body", JSON.stringify(body)]));
  assert.equal(v.name, "c");
  assert.deepEqual(v.dataset_query, body.dataset_query);
  return v.id;
});

check("card query", () => {
  const v = mb(["card", "query", String(d)]);
  assert.equal(v.status, "completed");
  assert.equal(v.row_count, 1);
  assert.deepEqual(v.data.rows, [[1]]);
  const col = v.data.cols.find((x) => x.name === "x");
  assert.equal(col.base_type, "type/Integer");
});

check("card query --export-format csv", () => {
  const out = mb(["card", "query", String(d), "--export-format", "csv"], { json: false });
  assert.equal(out, "x\n1\n");
});

check("collection items", () => {
  const v = mb(["collection", "items", String(c)]);
  const data = Array.isArray(v) ? v : v.data;
  assert.equal(data.length, 1, JSON.stringify(v));
  assert.equal(data[0].id, d);
  assert.equal(data[0].model, "card");
  assert.equal(data[0].archived, false);
});

const b = check("dashboard create with a dashcard", () => {
  const body = {
    name: "d", collection_id: c,
    dashcards: [{ id: -1, card_id: d, row: 0, col: 0, size_x: 6, size_y: 4 }],
  };
  const v = unwrap(mb(["dashboard", "create", "--body", JSON.stringify(body)]));
  assert.equal(v.dashcards.length, 1, JSON.stringify(v));
  assert.ok(v.dashcards[0].id > 0);
  assert.equal(v.dashcards[0].card_id, d);
  return v.id;
});

check("card archive", () => {
  const v = unwrap(mb(["card", "archive", String(d)]));
  assert.equal(v.archived, true);
});

check("card list --filter archived", () => {
  const v = mb(["card", "list", "--filter", "archived"]);
  const data = Array.isArray(v) ? v : v.data;
  assert.ok(data.some((x) => x.id === d), JSON.stringify(v));
});

check("dashboard archive", () => {
  const v = unwrap(mb(["dashboard", "archive", String(b)]));
  assert.equal(v.archived, true);
});

check("collection archive", () => {
  const v = unwrap(mb(["collection", "archive", String(c)]));
  assert.equal(v.archived, true);
});

console.log(`1..${step}`);
