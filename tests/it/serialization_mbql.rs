//! serialization.md §4.5–§4.6, §9 and scenario 47: every card's `dataset_query` is written as MBQL
//! 5 with the database by name, tables and fields by path and cards by entity id; Metabase's own
//! validator (`npx @metabase/representations@1.2.0 validate-schema`, installed from
//! `tests/representations/` and run offline) accepts the export; the archive imports into a
//! fresh server whose cards run with the same rows, and exports back byte for byte. Imports also
//! take legacy queries with paths, and fail a card whose path names nothing synced here.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use ferrobase::serialization::archive::pack;
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::both;
use crate::collections_graph::create as collection;
use crate::mbql_support::{uuid, Ids};
use crate::queries_cards::card_with;
use crate::queries_databases::{add_sqlite, sqlite_copy};
use crate::serialization::export;
use crate::serialization_import::{files_of, import, setup_b, with_b};
use crate::support::{Auth, TestApp};

const PINNED: &str = "@metabase/representations@1.2.0";

/// The directory of the pinned validator (its `package.json` and lockfile).
fn validator_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/representations")
}

fn has(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Installs the pinned validator when it is missing (`.ci/run` installs it beforehand, so CI
/// needs no network here); `false` when it cannot run on this machine — only allowed outside CI.
fn validator_ready() -> bool {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = validator_dir();
    let manifest = dir.join("node_modules/@metabase/representations/package.json");
    let installed =
        std::fs::read_to_string(&manifest).is_ok_and(|m| m.contains("\"version\": \"1.2.0\""));
    if !has("npx") || !has("npm") {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but npx/npm is missing: {PINNED} must run"
        );
        eprintln!("SKIPPED: npx is not installed; {PINNED} validate-schema did not run");
        return false;
    }
    if !installed {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&dir)
            .output()
            .expect("npm ci");
        assert!(
            out.status.success(),
            "npm ci in {}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    true
}

/// Runs `npx @metabase/representations@1.2.0 validate-schema --folder <dir>` offline: (exit
/// code, stdout and stderr).
fn validate(folder: &Path) -> Option<(i32, String)> {
    if !validator_ready() {
        return None;
    }
    let out = Command::new("npx")
        .args(["--no", PINNED, "validate-schema", "--folder"])
        .arg(folder)
        .current_dir(validator_dir())
        .env("npm_config_offline", "true")
        .env("npm_config_update_notifier", "false")
        .output()
        .expect("npx");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some((out.status.code().unwrap_or(-1), text))
}

/// Writes the files of an archive under a fresh directory.
fn unpack_to(files: &BTreeMap<String, Vec<u8>>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (path, data) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, data).expect("write");
    }
    dir
}

/// Registers a copy of the Sample Database as `name` and syncs it: (its directory, its id).
async fn warehouse(t: &TestApp, admin: &Auth, name: &str) -> (tempfile::TempDir, i64) {
    let (dir, file) = sqlite_copy();
    let id = add_sqlite(t, admin, name, &file).await;
    t.post(
        &format!("/api/database/{id}/sync_schema?wait=true"),
        admin,
        json!({}),
    )
    .await
    .assert(200);
    (dir, id)
}

/// `["field", id, opts]` by name on a loaded database.
fn fo(ids: &Ids, name: &str, opts: Value) -> Value {
    ids.fo(name, opts)
}

/// MBQL 5 `["field", {opts}, id]`.
fn f5(ids: &Ids, name: &str, mut opts: Value) -> Value {
    opts["lib/uuid"] = json!(uuid());
    json!(["field", opts, ids.field(name)])
}

/// The cards of scenario 47, created in collection `coll` (the last one in `other`): their
/// entity ids.
async fn cards(
    t: &TestApp,
    admin: &Auth,
    (sample, shop): (&Ids, &Ids),
    coll: i64,
    other: i64,
) -> Vec<String> {
    let mut made: Vec<i64> = Vec::new();
    let add = |query: Value, name: &str, display: &str| {
        let extra = json!({"name": name, "display": display, "collection_id": coll});
        (query, extra)
    };
    // 1. Native, multi-line, with a number tag that has neither id nor name.
    let (q, e) = add(
        json!({"database": 1, "type": "native", "native": {
            "query": "SELECT ID, TOTAL\nFROM ORDERS\nWHERE TOTAL > {{min}}\nORDER BY ID\nLIMIT 5",
            "template-tags": {"min": {"type": "number", "display-name": "Min", "default": "100"}}}}),
        "Top",
        "table",
    );
    made.push(card_with(t, admin, q, e).await);
    // 2. Native, reading card 1 through a card tag.
    let tag = format!("#{}-top", made[0]);
    let (q, e) = add(
        json!({"database": 1, "type": "native", "native": {
            "query": format!("SELECT COUNT(*) AS n FROM {{{{{tag}}}}}"),
            "template-tags": {tag.clone(): {"type": "card", "card-id": made[0], "name": tag,
                                            "display-name": "Top", "id": uuid()}}}}),
        "Count of top",
        "scalar",
    );
    made.push(card_with(t, admin, q, e).await);
    // 3. Legacy MBQL on Shop: explicit join, expression, filters, aggregations, a temporal
    //    breakout and an implicit join through `source-field`.
    let (q, e) = add(
        shop.q(json!({
            "source-table": shop.table("ORDERS"),
            "joins": [{"source-table": shop.table("PRODUCTS"), "alias": "P",
                       "strategy": "left-join", "fields": "none",
                       "condition": ["=", shop.f("ORDERS.PRODUCT_ID"),
                                     fo(shop, "PRODUCTS.ID", json!({"join-alias": "P"}))]}],
            "expressions": {"Net": ["-", shop.f("ORDERS.TOTAL"), shop.f("ORDERS.TAX")]},
            "filter": ["and", [">", shop.f("ORDERS.TOTAL"), 20],
                              ["=", fo(shop, "PRODUCTS.CATEGORY", json!({"join-alias": "P"})),
                               "Widget", "Gizmo"]],
            "aggregation": [["count"],
                            ["aggregation-options", ["sum", ["expression", "Net"]],
                             {"name": "net", "display-name": "Net"}]],
            "breakout": [fo(shop, "ORDERS.CREATED_AT", json!({"temporal-unit": "year"})),
                         fo(shop, "PEOPLE.SOURCE",
                            json!({"source-field": shop.field("ORDERS.USER_ID")}))],
            "order-by": [["asc", fo(shop, "ORDERS.CREATED_AT", json!({"temporal-unit": "year"}))],
                         ["desc", ["aggregation", 0]]]})),
        "Orders by year and source",
        "table",
    );
    made.push(card_with(t, admin, q, e).await);
    // 4. Legacy MBQL on the Sample Database: binning.
    let (q, e) = add(
        sample.q(json!({"source-table": sample.table("ORDERS"),
            "aggregation": [["count"]],
            "breakout": [fo(sample, "ORDERS.TOTAL",
                            json!({"binning": {"strategy": "num-bins", "num-bins": 10}}))]})),
        "Totals binned",
        "bar",
    );
    made.push(card_with(t, admin, q, e).await);
    // 5. MBQL 5 on Shop: explicit join, implicit join, expression, filters, breakout.
    let agg = uuid();
    let (q, e) = add(
        shop.q5(json!({
            "source-table": shop.table("ORDERS"),
            "joins": [{"lib/type": "mbql/join", "alias": "Prod", "strategy": "inner-join",
                       "fields": [f5(shop, "PRODUCTS.TITLE", json!({"join-alias": "Prod"}))],
                       "conditions": [["=", {"lib/uuid": uuid()}, f5(shop, "ORDERS.PRODUCT_ID", json!({})),
                                       f5(shop, "PRODUCTS.ID", json!({"join-alias": "Prod"}))]],
                       "stages": [{"lib/type": "mbql.stage/mbql",
                                   "source-table": shop.table("PRODUCTS")}]}],
            "expressions": [["*", {"lib/uuid": uuid(), "lib/expression-name": "Double"},
                             f5(shop, "ORDERS.QUANTITY", json!({})), 2]],
            "filters": [["starts-with", {"lib/uuid": uuid()},
                         f5(shop, "PRODUCTS.CATEGORY", json!({"join-alias": "Prod"})), "G"],
                        ["=", {"lib/uuid": uuid()},
                         f5(shop, "PEOPLE.STATE", json!({"source-field": shop.field("ORDERS.USER_ID")})),
                         "TX", "CA"]],
            "aggregation": [["sum", {"lib/uuid": agg}, ["expression", {"lib/uuid": uuid()}, "Double"]]],
            "breakout": [f5(shop, "ORDERS.CREATED_AT", json!({"temporal-unit": "quarter"}))],
            "order-by": [["asc", {"lib/uuid": uuid()},
                          f5(shop, "ORDERS.CREATED_AT", json!({"temporal-unit": "quarter"}))]],
            "limit": 50})),
        "Doubled by quarter",
        "line",
    );
    made.push(card_with(t, admin, q, e).await);
    // 6. Legacy MBQL reading card 3 (`card__<id>`), columns by name.
    let (q, e) = add(
        shop.q(json!({"source-table": format!("card__{}", made[2]),
            "filter": [">", ["field", "count", {"base-type": "type/BigInteger"}], 1],
            "order-by": [["asc", ["field", "SOURCE", {"base-type": "type/Text"}]]]})),
        "Busy sources",
        "table",
    );
    made.push(card_with(t, admin, q, e).await);
    // 7. MBQL 5 reading card 5 (`source-card`) and a second stage, in another collection.
    let (q, mut e) = add(
        json!({"lib/type": "mbql/query", "database": shop.db, "stages": [
            {"lib/type": "mbql.stage/mbql", "source-card": made[4], "limit": 3},
            {"lib/type": "mbql.stage/mbql", "aggregation": [["count", {"lib/uuid": uuid()}]]}]}),
        "Nested count",
        "scalar",
    );
    e["collection_id"] = json!(other);
    made.push(card_with(t, admin, q, e).await);
    // 8. Native on Shop with a field filter (no widget type, no id) left unset.
    let (q, e) = add(
        json!({"database": shop.db, "type": "native", "native": {
            "query": "SELECT COUNT(*) AS n FROM PRODUCTS WHERE {{cat}}",
            "template-tags": {"cat": {"type": "dimension", "name": "cat",
                                      "display-name": "Category",
                                      "dimension": shop.f("PRODUCTS.CATEGORY")}}}}),
        "Products (filtered)",
        "scalar",
    );
    made.push(card_with(t, admin, q, e).await);
    let mut eids = Vec::new();
    for id in made {
        let c = t.get(&format!("/api/card/{id}"), admin).await.json();
        eids.push(c["entity_id"].as_str().expect("entity_id").to_string());
    }
    eids
}

/// The rows of a card (by entity id) on a server.
async fn rows(t: &TestApp, auth: &Auth, eid: &str) -> Value {
    let r = t
        .post(&format!("/api/card/{eid}/query"), auth, json!({}))
        .await;
    r.assert(202);
    let v = r.json();
    assert_eq!(v["status"], "completed", "{eid}: {v}");
    v["data"]["rows"].clone()
}

/// Every integer in a query file's `dataset_query` that sits where a reference would.
fn numeric_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let is_ref = matches!(
                    k.as_str(),
                    "database" | "source-table" | "source-card" | "card-id" | "source-field"
                );
                if is_ref && x.is_number() {
                    out.push(format!("{k}: {x}"));
                }
                numeric_refs(x, out);
            }
        }
        Value::Array(a) => {
            if a.first().and_then(Value::as_str) == Some("field") && a.iter().any(Value::is_number)
            {
                out.push(v.to_string());
            }
            a.iter().for_each(|x| numeric_refs(x, out));
        }
        _ => {}
    }
}

fn yaml(bytes: &[u8]) -> Value {
    ferrobase::serialization::yaml::parse(&String::from_utf8_lossy(bytes)).expect("yaml")
}

/// The card files of an export, by entity id.
fn card_files(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, (String, Value)> {
    files
        .iter()
        .filter(|(p, _)| p.contains("/cards/"))
        .map(|(p, b)| {
            let doc = yaml(b);
            (
                doc["entity_id"].as_str().expect("eid").to_string(),
                (p.clone(), doc),
            )
        })
        .collect()
}

both!(s47_exports_speak_mbql_5_and_round_trip, |t| async move {
    let admin = t.setup().await;
    let key = create_key(&t, &admin, "Admin key", 2).await.auth();
    let (_shop_dir, shop_id) = warehouse(&t, &admin, "Shop").await;
    let sample = Ids::load(&t, &admin, 1).await;
    let shop = Ids::load(&t, &admin, shop_id).await;
    let sales = collection(&t, &admin, "Sales", None).await;
    let q1 = collection(&t, &admin, "Q1", Some(sales)).await;
    let elsewhere = collection(&t, &admin, "Elsewhere", None).await;
    let eids = cards(&t, &admin, (&sample, &shop), q1, elsewhere).await;
    let mut ids = Vec::new();
    for eid in &eids {
        ids.push(t.get(&format!("/api/card/{eid}"), &admin).await.json()["id"].clone());
    }
    let (c1, c3, c5) = (&ids[0], &ids[2], &ids[4]);
    let board = t
        .post(
            "/api/dashboard",
            &admin,
            json!({"name": "Board", "collection_id": q1}),
        )
        .await;
    board.assert(200);
    let board = board.json();
    t.put(
        &format!("/api/dashboard/{}", board["id"]),
        &admin,
        json!({"tabs": [{"id": -1, "name": "One"}, {"id": -2, "name": "Two"}],
               "dashcards": [
                   {"id": -1, "card_id": c1, "dashboard_tab_id": -1, "row": 0, "col": 0,
                    "size_x": 6, "size_y": 4},
                   {"id": -2, "card_id": c3, "dashboard_tab_id": -1, "row": 0, "col": 6,
                    "size_x": 6, "size_y": 4},
                   {"id": -3, "card_id": c5, "dashboard_tab_id": -2, "row": 0, "col": 0,
                    "size_x": 12, "size_y": 6},
                   {"id": -4, "card_id": null, "dashboard_tab_id": -1, "row": 4, "col": 0,
                    "size_x": 24, "size_y": 1,
                    "visualization_settings": {"virtual_card": {"display": "text"}, "text": "hi"}}]}),
    )
    .await
    .assert(200);
    let mut on_a = BTreeMap::new();
    for eid in &eids {
        on_a.insert(eid.clone(), rows(&t, &admin, eid).await);
    }
    let stored_a = t
        .get(&format!("/api/card/{}", eids[2]), &admin)
        .await
        .json();
    assert_eq!(
        stored_a["dataset_query"]["type"], "query",
        "A keeps the legacy form"
    );

    let query = "?data_model=true&settings=true&dirname=x";
    let archive = export(&t, &key, query).await;
    assert_eq!(archive.status, 200, "{}", archive.text());
    let files = files_of(&archive.body);
    let by_eid = card_files(&files);
    assert_eq!(by_eid.len(), eids.len());
    for (eid, (path, doc)) in &by_eid {
        let q = &doc["dataset_query"];
        assert_eq!(q["lib/type"], "mbql/query", "{path}");
        assert!(
            q["stages"].as_array().is_some_and(|s| !s.is_empty()),
            "{path}"
        );
        let mut numeric = Vec::new();
        numeric_refs(q, &mut numeric);
        assert!(numeric.is_empty(), "{eid}: numeric references {numeric:?}");
    }
    // The references as Metabase writes them.
    let top = &by_eid[&eids[0]].1["dataset_query"];
    assert_eq!(top["database"], "Sample Database");
    assert_eq!(top["stages"][0]["lib/type"], "mbql.stage/native");
    let tag = &top["stages"][0]["template-tags"]["min"];
    assert_eq!(tag["name"], "min");
    assert!(tag["id"].as_str().is_some_and(|s| s.len() == 36), "{tag}");
    let count = &by_eid[&eids[1]].1["dataset_query"]["stages"][0]["template-tags"];
    let card_tag = count
        .as_object()
        .and_then(|m| m.values().next())
        .expect("tag");
    assert_eq!(card_tag["card-id"].as_str(), Some(eids[0].as_str()));
    let legacy = &by_eid[&eids[2]].1;
    assert_eq!(legacy["table_id"], json!(["Shop", null, "ORDERS"]));
    let stage = &legacy["dataset_query"]["stages"][0];
    assert_eq!(stage["source-table"], json!(["Shop", null, "ORDERS"]));
    assert_eq!(
        stage["joins"][0]["stages"][0]["source-table"],
        json!(["Shop", null, "PRODUCTS"])
    );
    let source = &stage["breakout"][1];
    assert_eq!(source[2], json!(["Shop", null, "PEOPLE", "SOURCE"]));
    assert_eq!(
        source[1]["source-field"],
        json!(["Shop", null, "ORDERS", "USER_ID"])
    );
    assert_eq!(
        by_eid[&eids[5]].1["dataset_query"]["stages"][0]["source-card"].as_str(),
        Some(eids[2].as_str())
    );
    assert_eq!(
        by_eid[&eids[6]].1["dataset_query"]["stages"][0]["source-card"].as_str(),
        Some(eids[4].as_str())
    );
    let filter = &by_eid[&eids[7]].1["dataset_query"]["stages"][0]["template-tags"]["cat"];
    assert_eq!(
        filter["dimension"],
        json!(["field", {}, ["Shop", null, "PRODUCTS", "CATEGORY"]])
    );
    assert_eq!(filter["widget-type"], "none");
    assert!(filter["id"].is_string(), "{filter}");
    // §2.2 step 3: an MBQL 5 `source-card` brings its card into a partial export.
    let part = files_of(
        &export(&t, &key, &format!("?collection={elsewhere}&dirname=x"))
            .await
            .body,
    );
    let part_cards = card_files(&part);
    assert_eq!(part_cards.keys().collect::<Vec<_>>(), {
        let mut want = vec![&eids[4], &eids[6]];
        want.sort();
        want
    });
    // Metabase's validator accepts the whole export.
    let dir = unpack_to(&files);
    if let Some((code, out)) = validate(dir.path()) {
        assert!(!out.contains("FAIL"), "{out}");
        assert_eq!(code, 0, "{out}");
        let checked = files
            .keys()
            .filter(|p| p.starts_with("collections/"))
            .count();
        assert!(
            out.contains(&format!("\n{checked} passed, 0 failed")),
            "{out}"
        );
    }

    let backend = t.backend;
    with_b(backend, |b| async move {
        let (badmin, bkey) = setup_b(&b).await;
        // B synced another database first, so Shop's tables and fields have other ids there.
        let (_filler, _) = warehouse(&b, &badmin, "Filler").await;
        let (_shop_b, shop_b) = warehouse(&b, &badmin, "Shop").await;
        assert_ne!(shop_b, shop_id);
        let r = import(&b, &bkey, "", Some(("file", &archive.body))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        for eid in &eids {
            assert_eq!(rows(&b, &badmin, eid).await, on_a[eid], "card {eid}");
        }
        // B stores the MBQL 5 form with its own ids; the API answers with it.
        let c = b
            .get(&format!("/api/card/{}", eids[2]), &badmin)
            .await
            .json();
        assert_eq!(c["dataset_query"]["lib/type"], "mbql/query");
        assert_eq!(c["dataset_query"]["database"], shop_b);
        assert_eq!(c["database_id"], shop_b);
        assert_eq!(c["query_type"], "query");
        let shop_ids = Ids::load(&b, &badmin, shop_b).await;
        assert_eq!(c["table_id"], shop_ids.table("ORDERS"));
        assert_eq!(
            c["dataset_query"]["stages"][0]["source-table"],
            shop_ids.table("ORDERS")
        );
        let nested = b
            .get(&format!("/api/card/{}", eids[5]), &badmin)
            .await
            .json();
        assert_eq!(nested["table_id"], shop_ids.table("ORDERS"));
        let filtered = b
            .get(&format!("/api/card/{}", eids[7]), &badmin)
            .await
            .json();
        assert_eq!(
            filtered["dataset_query"]["stages"][0]["template-tags"]["cat"]["dimension"],
            json!(["field", {}, shop_ids.field("PRODUCTS.CATEGORY")])
        );
        let native = b
            .get(&format!("/api/card/{}", eids[0]), &badmin)
            .await
            .json();
        assert_eq!(native["query_type"], "native");
        // §9: the content files come back byte for byte (B's Filler files are its own).
        let again = export(&b, &bkey, query).await;
        assert_eq!(again.status, 200, "{}", again.text());
        let back = files_of(&again.body);
        for (path, bytes) in files.iter().filter(|(p, _)| *p != "export.log") {
            let other = back
                .get(path)
                .unwrap_or_else(|| panic!("{path} missing on B"));
            assert_eq!(
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(other),
                "{path}"
            );
        }
        // Importing again changes nothing.
        let r = import(&b, &bkey, "", Some(("file", &again.body))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        for eid in &eids {
            assert!(
                r.text().contains(&format!("unchanged Card {eid}\n")),
                "{}",
                r.text()
            );
        }
    })
    .await;
});

/// A card file holding `query` (YAML, indented by two spaces).
fn card_file(eid: &str, name: &str, query: &str) -> Vec<u8> {
    format!(
        "name: {name}\nentity_id: {eid}\ncreator_id: ada@example.com\ndisplay: table\n\
         dataset_query:\n{query}serdes/meta:\n  - id: {eid}\n    label: x\n    model: Card\n"
    )
    .into_bytes()
}

both!(
    s47_legacy_queries_with_paths_import_and_unknown_paths_fail,
    |t| async move {
        let (admin, key) = setup_b(&t).await;
        let (_dir, shop) = warehouse(&t, &admin, "Shop").await;
        let ids = Ids::load(&t, &admin, shop).await;
        let base = "AAAAAAAAAAAAAAAAAAAAA";
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        // Legacy MBQL with paths (Metabase's older serialization wrote these).
        files.insert(
            format!("collections/cards/{base}_base.yaml"),
            card_file(
                base,
                "Base",
                "  database: Shop\n  type: query\n  query:\n    source-table:\n      - Shop\n\
                 \x20     - null\n      - PRODUCTS\n    aggregation:\n      - - count\n\
                 \x20   breakout:\n      - - field\n        - - Shop\n          - null\n\
                 \x20         - PRODUCTS\n          - CATEGORY\n        - null\n",
            ),
        );
        // A legacy card source written as `card__<eid>`, and one as a bare entity id.
        for (eid, source) in [
            ("BBBBBBBBBBBBBBBBBBBBB", format!("card__{base}")),
            ("CCCCCCCCCCCCCCCCCCCCC", base.to_string()),
        ] {
            files.insert(
                format!("collections/cards/{eid}_nested.yaml"),
                card_file(
                    eid,
                    "Nested",
                    &format!(
                        "  database: Shop\n  type: query\n  query:\n    source-table: {source}\n"
                    ),
                ),
            );
        }
        let r = import(
            &t,
            &key,
            "",
            Some(("file", &pack("x", &files).expect("pack"))),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let want = t
            .post(
                "/api/dataset",
                &admin,
                ids.q(json!({"source-table": ids.table("PRODUCTS"),
                             "aggregation": [["count"]],
                             "breakout": [ids.f("PRODUCTS.CATEGORY")]})),
            )
            .await;
        want.assert(202);
        let want = want.json()["data"]["rows"].clone();
        for eid in [base, "BBBBBBBBBBBBBBBBBBBBB", "CCCCCCCCCCCCCCCCCCCCC"] {
            assert_eq!(rows(&t, &admin, eid).await, want, "{eid}");
        }
        // The card keeps the legacy form it was written in, with local ids.
        let c = t.get(&format!("/api/card/{base}"), &admin).await.json();
        assert_eq!(c["dataset_query"]["type"], "query");
        assert_eq!(c["dataset_query"]["database"], shop);
        assert_eq!(
            c["dataset_query"]["query"]["source-table"],
            ids.table("PRODUCTS")
        );
        assert_eq!(
            c["dataset_query"]["query"]["breakout"][0][1],
            ids.field("PRODUCTS.CATEGORY")
        );
        assert_eq!(c["table_id"], ids.table("PRODUCTS"));
        let nested = t
            .get("/api/card/BBBBBBBBBBBBBBBBBBBBB", &admin)
            .await
            .json();
        assert_eq!(
            nested["dataset_query"]["query"]["source-table"],
            format!("card__{}", c["id"])
        );

        // A path that names no synced table or field fails its card (and cards using it).
        let mut bad = BTreeMap::new();
        let missing_table = "DDDDDDDDDDDDDDDDDDDDD";
        bad.insert(
            format!("collections/cards/{missing_table}_t.yaml"),
            card_file(
                missing_table,
                "T",
                "  lib/type: mbql/query\n  database: Shop\n  stages:\n\
                 \x20   - lib/type: mbql.stage/mbql\n      source-table:\n        - Shop\n\
                 \x20       - null\n        - NOPE\n",
            ),
        );
        let missing_field = "EEEEEEEEEEEEEEEEEEEEE";
        bad.insert(
            format!("collections/cards/{missing_field}_f.yaml"),
            card_file(
                missing_field,
                "F",
                "  lib/type: mbql/query\n  database: Shop\n  stages:\n\
                 \x20   - lib/type: mbql.stage/mbql\n      source-table:\n        - Shop\n\
                 \x20       - null\n        - ORDERS\n      breakout:\n        - - field\n\
                 \x20         - source-field:\n              - Shop\n              - null\n\
                 \x20             - ORDERS\n              - NO_SUCH_FK\n\
                 \x20         - - Shop\n            - null\n            - PEOPLE\n\
                 \x20           - SOURCE\n",
            ),
        );
        let dependent = "FFFFFFFFFFFFFFFFFFFFF";
        bad.insert(
            format!("collections/cards/{dependent}_d.yaml"),
            card_file(
                dependent,
                "D",
                &format!(
                    "  lib/type: mbql/query\n  database: Shop\n  stages:\n\
                     \x20   - lib/type: mbql.stage/mbql\n      source-card: {missing_table}\n"
                ),
            ),
        );
        let gz = pack("x", &bad).expect("pack");
        let r = import(&t, &key, "?continue_on_error=true", Some(("file", &gz))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let log = r.text();
        assert!(
            log.contains(&format!(
                "failed Card {missing_table}: Table '[\"Shop\",null,\"NOPE\"]' was not found\n"
            )),
            "{log}"
        );
        assert!(
            log.contains(&format!(
                "failed Card {missing_field}: Field '[\"Shop\",null,\"ORDERS\",\"NO_SUCH_FK\"]' \
                 was not found\n"
            )),
            "{log}"
        );
        assert!(
            log.contains(&format!(
                "failed Card {dependent}: Card '{missing_table}' was not found"
            )),
            "{log}"
        );
        let r = import(&t, &key, "", Some(("file", &gz))).await;
        assert_eq!(r.status, 400, "{}", r.text());
        for eid in [missing_table, missing_field, dependent] {
            t.get(&format!("/api/card/{eid}"), &admin).await.assert(404);
        }
    }
);
