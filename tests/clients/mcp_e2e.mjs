// mbql.md §10, scenario 95: the MCP server @cognitionai/metabase-mcp-server 2.2.0, started over
// stdio with `--all`, driven by JSON-RPC exactly as an AI assistant would, first with an
// Administrators key, then with a key whose group may only build queries (no native SQL).
// Usage: node mcp_e2e.mjs MCP_BIN BASE_URL API_KEY SESSION WORKDIR
// Prints "ok <n> …" / "not ok <n> …" and exits 1 on a failure.
import { spawn } from "node:child_process";
import assert from "node:assert/strict";
import { createInterface } from "node:readline";

const [mcpBin, base, adminKey] = process.argv.slice(2);
let step = 0;

async function check(what, fn) {
  step += 1;
  try {
    const v = await fn();
    console.log(`ok ${step} ${what}`);
    return v;
  } catch (e) {
    console.log(`not ok ${step} ${what}: ${e.stack || e.message}`);
    process.exit(1);
  }
}

/** ferrobase's REST API with the admin key (set-up and reference results only). */
async function api(method, path, body) {
  const r = await fetch(base + path, {
    method,
    headers: { "X-API-Key": adminKey, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** R(SQL): the rows of native SQL on the Sample Database. */
async function rowsOf(sql) {
  const v = await api("POST", "/api/dataset", { database: 1, type: "native", native: { query: sql } });
  assert.equal(v.status, "completed", JSON.stringify(v));
  return v.data.rows;
}

/** One MCP server over stdio. */
class Mcp {
  constructor(key) {
    this.proc = spawn(mcpBin, ["--all"], {
      env: { ...process.env, METABASE_URL: base, METABASE_API_KEY: key },
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.stderr = "";
    this.proc.stderr.on("data", (d) => (this.stderr += d));
    this.pending = new Map();
    this.nextId = 1;
    createInterface({ input: this.proc.stdout }).on("line", (line) => {
      let msg;
      try {
        msg = JSON.parse(line);
      } catch {
        return;
      }
      const waiter = this.pending.get(msg.id);
      if (waiter) {
        this.pending.delete(msg.id);
        waiter(msg);
      }
    });
  }

  request(method, params, id = this.nextId++) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${method}: no answer in 60 s\n${this.stderr}`)), 60000);
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      this.proc.stdin.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    });
  }

  notify(method) {
    this.proc.stdin.write(JSON.stringify({ jsonrpc: "2.0", method }) + "\n");
  }

  /** `tools/call`: the result (`isError` and the text). */
  async call(name, args) {
    const m = await this.request("tools/call", { name, arguments: args });
    assert.ok(m.result, `${name}: ${JSON.stringify(m)}`);
    return { isError: m.result.isError === true, text: m.result.content?.[0]?.text ?? "" };
  }

  /** A successful call's text, parsed. */
  async ok(name, args) {
    const r = await this.call(name, args);
    assert.ok(!r.isError, `${name} failed: ${r.text}`);
    return JSON.parse(r.text);
  }

  async initialize() {
    const m = await this.request("initialize", {
      protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "e2e", version: "1" },
    });
    this.notify("notifications/initialized");
    return m;
  }

  stop() {
    this.proc.kill();
  }
}

const uuid = () => crypto.randomUUID();

async function adminRun() {
  const mcp = new Mcp(adminKey);
  const ids = {};
  await check("1 initialize", async () => {
    const m = await mcp.initialize();
    assert.deepEqual(m.result.serverInfo, { name: "metabase-server", version: "2.2.0" });
    assert.ok(m.result.capabilities.tools);
  });
  await check("2 tools/list", async () => {
    const m = await mcp.request("tools/list", {});
    const names = m.result.tools.map((t) => t.name);
    for (const n of ["list_databases", "get_database", "list_tables", "get_table", "get_table_query_metadata",
      "get_field_id", "execute_query", "create_card", "get_card", "execute_card", "export_card_result",
      "execute_pivot_card_query"]) {
      assert.ok(names.includes(n), `${n} missing`);
    }
  });
  await check("3 list_databases", async () => {
    const v = await mcp.ok("list_databases", {});
    const sample = v.data.find((d) => d.id === 1);
    assert.equal(sample.name, "Sample Database");
    assert.equal(sample.engine, "sqlite");
    assert.ok(v.total >= 1);
  });
  await check("4 list_tables", async () => {
    const v = await mcp.ok("list_tables", {});
    for (const n of ["ORDERS", "PRODUCTS", "PEOPLE", "REVIEWS"]) {
      const t = v.find((t) => t.name === n && t.db_id === 1);
      assert.ok(t, `${n} missing`);
      ids[n] = t.id;
    }
  });
  await check("5 get_table_query_metadata", async () => {
    const v = await mcp.ok("get_table_query_metadata", { table_id: ids.ORDERS });
    assert.equal(v.fields.length, 9);
    const f = Object.fromEntries(v.fields.map((f) => [f.name, f]));
    assert.equal(f.TOTAL.base_type, "type/Float");
    const products = await api("GET", `/api/table/${ids.PRODUCTS}/query_metadata`);
    const pid = products.fields.find((x) => x.name === "ID").id;
    assert.equal(f.PRODUCT_ID.fk_target_field_id, pid);
    for (const x of v.fields) ids[`ORDERS.${x.name}`] = x.id;
    for (const x of products.fields) ids[`PRODUCTS.${x.name}`] = x.id;
  });
  await check("6 get_field_id", async () => {
    const v = await mcp.ok("get_field_id", { table_id: ids.ORDERS, column_name: "created_at" });
    const meta = await api("GET", `/api/table/${ids.ORDERS}/query_metadata`);
    const synced = meta.fields.find((x) => x.name === "CREATED_AT");
    assert.deepEqual(v, {
      field_id: ids["ORDERS.CREATED_AT"], name: "CREATED_AT", display_name: "Created At",
      base_type: "type/DateTime", semantic_type: synced.semantic_type, table_id: ids.ORDERS,
    });
  });
  await check("7 execute_query", async () => {
    const v = await mcp.ok("execute_query", { database_id: 1, query: "SELECT COUNT(*) AS n FROM ORDERS" });
    assert.equal(v.status, "completed");
    assert.deepEqual(v.data.rows, [[5000]]);
  });
  const q1 = { database: 1, type: "query", query: { "source-table": ids.ORDERS, aggregation: [["count"]],
    breakout: [["field", ids["ORDERS.CREATED_AT"], { "temporal-unit": "month" }]] } };
  const c1 = await check("8 create_card (legacy MBQL)", async () => {
    const v = await mcp.ok("create_card", { name: "Orders per month", display: "line", visualization_settings: {},
      dataset_query: q1 });
    assert.equal(v.query_type, "query");
    assert.equal(v.table_id, ids.ORDERS);
    assert.equal(v.database_id, 1);
    assert.deepEqual(v.result_metadata.map((c) => c.display_name), ["Created At: Month", "Count"]);
    assert.deepEqual(v.dataset_query, q1);
    return v.id;
  });
  await check("9 execute_card", async () => {
    const v = await mcp.ok("execute_card", { card_id: c1 });
    assert.equal(v.status, "completed");
    assert.equal(v.context, "question");
    assert.deepEqual(v.data.cols.map((c) => c.name), ["CREATED_AT", "count"]);
    assert.equal(v.data.cols[0].unit, "month");
    assert.deepEqual(v.data.rows, await rowsOf("SELECT strftime('%Y-%m-%dT%H:%M:%S', CREATED_AT, 'start of month') m, " +
      "COUNT(*) FROM ORDERS GROUP BY m ORDER BY m"));
  });
  const q2 = { "lib/type": "mbql/query", database: 1, stages: [{ "lib/type": "mbql.stage/mbql",
    "source-table": ids.ORDERS,
    filters: [[">", { "lib/uuid": uuid() }, ["field", { "lib/uuid": uuid(), "base-type": "type/Float" }, ids["ORDERS.TOTAL"]], 100]],
    aggregation: [["sum", { "lib/uuid": uuid() }, ["field", { "lib/uuid": uuid() }, ids["ORDERS.TOTAL"]]]],
    breakout: [["field", { "lib/uuid": uuid(), "source-field": ids["ORDERS.PRODUCT_ID"] }, ids["PRODUCTS.CATEGORY"]]] }] };
  const c2 = await check("10 create_card (MBQL 5)", async () => {
    const v = await mcp.ok("create_card", { name: "Revenue by category", display: "bar", visualization_settings: {},
      dataset_query: q2 });
    assert.equal(v.table_id, ids.ORDERS);
    assert.deepEqual(v.dataset_query, q2);
    return v.id;
  });
  await check("11 execute_card (MBQL 5)", async () => {
    const v = await mcp.ok("execute_card", { card_id: c2 });
    assert.deepEqual(v.data.cols.map((c) => c.display_name), ["Product → Category", "Sum of Total"]);
    const want = await rowsOf("SELECT p.CATEGORY, SUM(o.TOTAL) FROM ORDERS o LEFT JOIN PRODUCTS p ON o.PRODUCT_ID = p.ID " +
      "WHERE o.TOTAL > 100 GROUP BY p.CATEGORY ORDER BY p.CATEGORY");
    assert.equal(v.data.rows.length, want.length);
    v.data.rows.forEach((r, i) => {
      assert.equal(r[0], want[i][0]);
      assert.ok(Math.abs(r[1] - want[i][1]) < 1e-6 * Math.abs(want[i][1]));
    });
  });
  await check("12 get_card", async () => {
    const v = await mcp.ok("get_card", { card_id: c2 });
    assert.deepEqual(v.dataset_query, q2);
  });
  await check("13 export_card_result json", async () => {
    const v = await mcp.ok("export_card_result", { card_id: c1, export_format: "json" });
    assert.ok(Array.isArray(v) && v.length > 0);
    assert.deepEqual(Object.keys(v[0]), ["Created At: Month", "Count"]);
  });
  await check("14 execute_pivot_card_query", async () => {
    const r = await mcp.call("execute_pivot_card_query", { card_id: c1 });
    assert.ok(r.isError, r.text);
    // fastmcp prefixes a thrown error with "Tool '<name>' execution failed: " (the spec says
    // the text starts with the tool's own message, which follows that prefix).
    assert.match(r.text, new RegExp(`^(Tool '[a-z_]+' execution failed: )?Failed to execute pivot query for card ${c1}: .*400`));
  });
  await check("15 a card naming a missing field", async () => {
    const bad = { database: 1, type: "query", query: { "source-table": ids.ORDERS, aggregation: [["count"]],
      breakout: [["field", 999999, null]] } };
    const v = await mcp.ok("create_card", { name: "Broken", display: "table", visualization_settings: {}, dataset_query: bad });
    assert.equal(v.result_metadata, null);
    const r = await mcp.call("execute_card", { card_id: v.id });
    assert.ok(r.isError, r.text);
    assert.match(r.text, /Failed to execute card .*400/);
    const again = await mcp.ok("list_databases", {});
    assert.ok(again.data.some((d) => d.id === 1));
  });
  mcp.stop();
  return ids;
}

/** The same run with a key whose group may build queries but not write SQL. */
async function queryBuilderRun(ids) {
  const group = await api("POST", "/api/permissions/group", { name: "Query builders" });
  const graph = await api("GET", "/api/permissions/graph");
  await api("PUT", "/api/permissions/graph?force=true", { revision: graph.revision, groups: {
    1: { 1: { "view-data": "blocked", "create-queries": "no" } },
    [group.id]: { 1: { "view-data": "unrestricted", "create-queries": "query-builder" } },
  } });
  const cgraph = await api("GET", "/api/collection/graph");
  await api("PUT", "/api/collection/graph?force=true", { revision: cgraph.revision, groups: {
    [group.id]: { root: "write" },
  } });
  const key = await api("POST", "/api/api-key", { name: "query builder", group_id: group.id });
  const mcp = new Mcp(key.unmasked_key);
  await check("K(G) initialize", () => mcp.initialize());
  await check("K(G) 3–6 read the data model", async () => {
    await mcp.ok("list_databases", {});
    await mcp.ok("list_tables", {});
    await mcp.ok("get_table_query_metadata", { table_id: ids.ORDERS });
    await mcp.ok("get_field_id", { table_id: ids.ORDERS, column_name: "total" });
  });
  await check("K(G) 7 native SQL is refused", async () => {
    const r = await mcp.call("execute_query", { database_id: 1, query: "SELECT 1" });
    assert.ok(r.isError, r.text);
  });
  await check("K(G) 8–13 query-builder cards", async () => {
    const q = { database: 1, type: "query", query: { "source-table": ids.ORDERS, aggregation: [["count"]],
      breakout: [["field", ids["ORDERS.CREATED_AT"], { "temporal-unit": "year" }]] } };
    const c = await mcp.ok("create_card", { name: "Per year", display: "line", visualization_settings: {}, dataset_query: q });
    assert.deepEqual(c.result_metadata.map((x) => x.display_name), ["Created At: Year", "Count"]);
    const v = await mcp.ok("execute_card", { card_id: c.id });
    assert.equal(v.status, "completed");
    assert.equal(v.data.rows.reduce((s, r) => s + r[1], 0), 5000);
    assert.deepEqual((await mcp.ok("get_card", { card_id: c.id })).dataset_query, q);
    const rows = await mcp.ok("export_card_result", { card_id: c.id, export_format: "json" });
    assert.deepEqual(Object.keys(rows[0]), ["Created At: Year", "Count"]);
  });
  mcp.stop();
}

const ids = await adminRun();
await queryBuilderRun(ids);
process.exit(0);
