//! mbql.md §9.6–§9.8 on the Sample Database: errors (75–80), permissions (81–86), cards,
//! exports and compiled text (87–94).
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::both;
use crate::collections_graph::{create as collection, set as set_collections};
use crate::mbql_support::*;
use crate::queries_perms::{group_with_alice, restrict, set_data};
use crate::support::{Auth, TestApp};

both!(mbql_75_79_errors, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let orders = ids.table("ORDERS");
    let invalid = |r: &crate::support::Resp, msg: &str| failure(r, 400, "invalid-query", msg);
    // 75
    invalid(
        &dataset(&t, &admin, ids.q(json!({"source-table": 999999}))).await,
        "Table 999999 does not exist.",
    );
    invalid(
        &dataset(
            &t,
            &admin,
            ids.q(json!({"source-table": orders, "fields": [["field", 999999, null]]})),
        )
        .await,
        "Field 999999 does not exist.",
    );
    let r = dataset(
        &t,
        &admin,
        ids.q(json!({"source-table": orders, "aggregation": [["cnt"]]})),
    )
    .await;
    r.assert(400);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("Invalid query: query.aggregation[0]: "),
        "{}",
        r.text
    );
    let r = dataset(
        &t,
        &admin,
        ids.q(json!({"source-table": orders, "limit": -1})),
    )
    .await;
    r.assert(400);
    assert!(
        r.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("Invalid query: query.limit: "),
        "{}",
        r.text
    );
    // 76
    invalid(
        &dataset(
            &t,
            &admin,
            ids.q(json!({"source-table": orders, "fields": [ids.f("PRODUCTS.TITLE")]})),
        )
        .await,
        &format!(
            "Field {} is not available in this query.",
            ids.field("PRODUCTS.TITLE")
        ),
    );
    // 77
    let unsupported = [
        (
            json!({"source-table": orders, "filter": ["segment", 1]}),
            "Filter \"segment\" is not supported by ferrobase.",
        ),
        (
            json!({"source-table": orders, "aggregation": [["metric", 1]]}),
            "Aggregation \"metric\" is not supported by ferrobase.",
        ),
        (
            json!({"source-table": orders, "aggregation": [["count"]],
                "breakout": [ids.fo("ORDERS.CREATED_AT", json!({"temporal-unit": "week-of-year"}))]}),
            "Temporal unit \"week-of-year\" is not supported by ferrobase.",
        ),
        (
            json!({"source-table": orders, "expressions": {"X": ["regex-match-first", ids.f("ORDERS.ID"), "a"]}}),
            "Expression \"regex-match-first\" is not supported by ferrobase.",
        ),
    ];
    for (q, msg) in unsupported {
        failure(
            &dataset(&t, &admin, ids.q(q)).await,
            400,
            "unsupported-feature",
            msg,
        );
    }
    // 78
    invalid(
        &dataset(
            &t,
            &admin,
            ids.q(json!({"source-table": orders, "fields": [["expression", "Nope"]]})),
        )
        .await,
        "Expression \"Nope\" is not defined.",
    );
    invalid(
        &dataset(
            &t,
            &admin,
            ids.q(json!({"source-table": orders, "aggregation": [["count"]],
        "order-by": [["asc", ["aggregation", 3]]]})),
        )
        .await,
        "No aggregation at index 3.",
    );
    invalid(
        &dataset(
            &t,
            &admin,
            ids.q(json!({"source-table": orders,
        "fields": [ids.fo("ORDERS.ID", json!({"join-alias": "X"}))]})),
        )
        .await,
        "No join named \"X\" in this query.",
    );
    // 79
    for body in [
        json!({"database": 1, "type": "query"}),
        ids.q(json!({})),
        ids.q(json!({"source-table": orders, "source-query": {"source-table": orders}})),
        json!({"lib/type": "mbql/query", "database": 1, "stages": []}),
    ] {
        let r = dataset(&t, &admin, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
});

/// A small deterministic generator (xorshift).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// One random change somewhere in `v`.
fn mutate(v: &mut Value, rng: &mut Rng) {
    match v {
        Value::Object(m) if !m.is_empty() && rng.below(3) > 0 => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = &keys[rng.below(keys.len())];
            match rng.below(4) {
                0 => {
                    m.remove(k);
                }
                _ => mutate(m.get_mut(k).unwrap(), rng),
            }
        }
        Value::Array(a) if !a.is_empty() && rng.below(3) > 0 => {
            let i = rng.below(a.len());
            match rng.below(5) {
                0 => a.reverse(),
                1 => {
                    a.remove(i);
                }
                _ => mutate(&mut a[i], rng),
            }
        }
        other => {
            *other = match rng.below(8) {
                0 => json!(null),
                1 => json!(-1),
                2 => json!(9_223_372_036_854_775_807i64),
                3 => json!(1e308),
                4 => json!("card__1"),
                5 => json!({}),
                6 => json!([["field", 1, null]]),
                _ => {
                    let mut deep = json!(1);
                    for _ in 0..(1 + rng.below(1000)) {
                        deep = json!([deep]);
                    }
                    deep
                }
            }
        }
    }
}

both!(mbql_80_mutations_never_5xx, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let base = ids.q(json!({"source-table": ids.table("ORDERS"), "aggregation": [["sum", ids.f("ORDERS.TOTAL")]],
        "breakout": [ids.fo("ORDERS.CREATED_AT", json!({"temporal-unit": "year"})),
                     ids.fo("PRODUCTS.CATEGORY", json!({"source-field": ids.field("ORDERS.PRODUCT_ID")}))]}));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..200 {
        let mut body = base.clone();
        for _ in 0..(1 + rng.below(3)) {
            mutate(&mut body, &mut rng);
        }
        let r = dataset(&t, &admin, body.clone()).await;
        assert!(
            [202, 400, 403].contains(&r.status),
            "mutation {i}: {body} → {} {}",
            r.status,
            r.text
        );
    }
    // The server is still up.
    run(
        &t,
        &admin,
        ids.q(json!({"source-table": ids.table("ORDERS"), "aggregation": [["count"]]})),
    )
    .await;
});

fn card_body(name: &str, query: Value, collection: Option<i64>) -> Value {
    json!({"name": name, "display": "table", "visualization_settings": {},
           "dataset_query": query, "collection_id": collection})
}

async fn new_card(
    t: &TestApp,
    auth: &Auth,
    name: &str,
    query: Value,
    collection: Option<i64>,
) -> i64 {
    let r = t
        .post("/api/card", auth, card_body(name, query, collection))
        .await;
    r.assert(200);
    r.json()["id"].as_i64().unwrap()
}

const DENIED: &str = "You do not have permissions to run this query.";

both!(mbql_81_83_query_permissions, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let (g, _, alice) = group_with_alice(&t, &admin).await;
    let q = ids.q(
        json!({"source-table": ids.table("ORDERS"), "aggregation": [["count"]],
        "breakout": [ids.f("ORDERS.PRODUCT_ID")]}),
    );
    // 81
    restrict(
        &t,
        &admin,
        1,
        g,
        json!({"view-data": "unrestricted", "create-queries": "query-builder"}),
    )
    .await;
    completed(&dataset(&t, &alice, q.clone()).await);
    let r = dataset(
        &t,
        &alice,
        json!({"database": 1, "type": "native", "native": {"query": "SELECT 1"}}),
    )
    .await;
    failure(&r, 403, "missing-required-permissions", DENIED);
    // Native SQL wrapped in an MBQL query is still native SQL (ferrobase rule): refused too, in
    // the legacy and the MBQL 5 form.
    let wrapped = ids.q(json!({"source-query": {"native": "SELECT * FROM PEOPLE"}}));
    failure(
        &dataset(&t, &alice, wrapped).await,
        403,
        "missing-required-permissions",
        DENIED,
    );
    let staged = json!({"lib/type": "mbql/query", "database": 1, "stages": [
        {"lib/type": "mbql.stage/native", "native": "SELECT * FROM PEOPLE"},
        {"lib/type": "mbql.stage/mbql", "limit": 1}]});
    failure(
        &dataset(&t, &alice, staged.clone()).await,
        403,
        "missing-required-permissions",
        DENIED,
    );
    completed(&dataset(&t, &admin, staged).await);
    // 82
    restrict(
        &t,
        &admin,
        1,
        g,
        json!({"view-data": "unrestricted", "create-queries": "no"}),
    )
    .await;
    failure(
        &dataset(&t, &alice, q.clone()).await,
        403,
        "missing-required-permissions",
        DENIED,
    );
    // 83: table-level rights.
    let tid = |n: &str| ids.table(n).to_string();
    let mut view = serde_json::Map::new();
    let mut create = serde_json::Map::new();
    for name in ["ORDERS", "PRODUCTS", "PEOPLE", "REVIEWS"] {
        let ok = name == "ORDERS";
        view.insert(
            tid(name),
            json!(if ok { "unrestricted" } else { "blocked" }),
        );
        create.insert(tid(name), json!(if ok { "query-builder" } else { "no" }));
    }
    set_data(
        &t,
        &admin,
        json!({g.to_string(): {"1": {"view-data": {"": view}, "create-queries": {"": create}}}}),
    )
    .await;
    completed(&dataset(&t, &alice, q.clone()).await);
    let implicit = ids.q(json!({"source-table": ids.table("ORDERS"), "fields": [
        ids.fo("PRODUCTS.TITLE", json!({"source-field": ids.field("ORDERS.PRODUCT_ID")}))]}));
    failure(
        &dataset(&t, &alice, implicit).await,
        403,
        "missing-required-permissions",
        DENIED,
    );
    let explicit = ids.q(json!({"source-table": ids.table("ORDERS"), "joins": [{"source-table": ids.table("PRODUCTS"),
        "alias": "P", "condition": ["=", ids.f("ORDERS.PRODUCT_ID"), ids.fo("PRODUCTS.ID", json!({"join-alias": "P"}))]}]}));
    failure(
        &dataset(&t, &alice, explicit).await,
        403,
        "missing-required-permissions",
        DENIED,
    );
});

// mbql.md §6: saving or changing an MBQL card's query needs query-builder rights on every
// table it reads directly (content.md §2.4's message), as an ad-hoc run does — with table-level
// rights, a table of the same database the group may not query is refused.
both!(mbql_card_saves_check_every_table_read, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let (g, _, alice) = group_with_alice(&t, &admin).await;
    let personal = t.get("/api/user/current", &alice).await.json()["personal_collection_id"]
        .as_i64()
        .expect("personal collection");
    let tid = |n: &str| ids.table(n).to_string();
    let mut view = serde_json::Map::new();
    let mut create = serde_json::Map::new();
    for name in ["ORDERS", "PRODUCTS", "PEOPLE", "REVIEWS"] {
        let ok = name == "ORDERS";
        view.insert(tid(name), json!("unrestricted"));
        create.insert(tid(name), json!(if ok { "query-builder" } else { "no" }));
    }
    set_data(
        &t,
        &admin,
        json!({"1": {"1": {"view-data": "blocked", "create-queries": "no"}},
               g.to_string(): {"1": {"view-data": {"": view}, "create-queries": {"": create}}}}),
    )
    .await;
    let orders = ids.q(json!({"source-table": ids.table("ORDERS"), "aggregation": [["count"]]}));
    let r = t
        .post(
            "/api/card",
            &alice,
            card_body("Orders", orders.clone(), Some(personal)),
        )
        .await;
    r.assert(200);
    let card = r.json()["id"].as_i64().expect("id");
    let cannot = json!({"message":
        "You cannot save this Question because you do not have permissions to run its query."});
    let products = ids.q(json!({"source-table": ids.table("PRODUCTS")}));
    let implicit = ids.q(json!({"source-table": ids.table("ORDERS"), "fields": [
        ids.fo("PRODUCTS.TITLE", json!({"source-field": ids.field("ORDERS.PRODUCT_ID")}))]}));
    let explicit = ids.q(json!({"source-table": ids.table("ORDERS"), "joins": [{
        "source-table": ids.table("PRODUCTS"), "alias": "P",
        "condition": ["=", ids.f("ORDERS.PRODUCT_ID"), ids.fo("PRODUCTS.ID", json!({"join-alias": "P"}))]}]}));
    for q in [products, implicit, explicit] {
        let r = t
            .post(
                "/api/card",
                &alice,
                card_body("X", q.clone(), Some(personal)),
            )
            .await;
        r.assert(403);
        assert_eq!(r.json(), cannot, "{q}");
        let r = t
            .put(
                &format!("/api/card/{card}"),
                &alice,
                json!({"dataset_query": q}),
            )
            .await;
        r.assert(403);
        assert_eq!(r.json(), cannot, "{q}");
    }
    let stored = t.get(&format!("/api/card/{card}"), &alice).await.json();
    assert_eq!(stored["dataset_query"], orders);
    // The same ORDERS-only query with another aggregation is still allowed.
    let changed = ids.q(json!({"source-table": ids.table("ORDERS"), "aggregation": [["sum", ids.f("ORDERS.TOTAL")]]}));
    t.put(
        &format!("/api/card/{card}"),
        &alice,
        json!({"dataset_query": changed}),
    )
    .await
    .assert(200);
});

both!(mbql_84_86_card_permissions_and_keys, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let (g, _, alice) = group_with_alice(&t, &admin).await;
    let a = collection(&t, &admin, "A", None).await;
    let secret = collection(&t, &admin, "Secret", None).await;
    set_collections(
        &t,
        &admin,
        json!({"1": {a.to_string(): "none", secret.to_string(): "none", "root": "none"},
        g.to_string(): {a.to_string(): "read", secret.to_string(): "none", "root": "none"}}),
    )
    .await;
    let c = new_card(
        &t,
        &admin,
        "C",
        ids.q(json!({"source-table": ids.table("ORDERS"), "aggregation": [["count"]]})),
        Some(a),
    )
    .await;
    // 84
    restrict(
        &t,
        &admin,
        1,
        g,
        json!({"view-data": "unrestricted", "create-queries": "no"}),
    )
    .await;
    let v = completed(
        &t.post(&format!("/api/card/{c}/query"), &alice, json!({}))
            .await,
    );
    assert_eq!(v["data"]["rows"], json!([[5000]]));
    let r = t
        .post(&format!("/api/card/{c}/query/csv"), &alice, json!({}))
        .await;
    r.assert(200);
    assert_eq!(r.text, "Count\n5000\n");
    restrict(
        &t,
        &admin,
        1,
        g,
        json!({"view-data": "blocked", "create-queries": "no"}),
    )
    .await;
    failure(
        &t.post(&format!("/api/card/{c}/query"), &alice, json!({}))
            .await,
        403,
        "missing-required-permissions",
        DENIED,
    );
    // 85
    restrict(
        &t,
        &admin,
        1,
        g,
        json!({"view-data": "unrestricted", "create-queries": "query-builder"}),
    )
    .await;
    let b = new_card(
        &t,
        &admin,
        "B",
        ids.q(json!({"source-table": ids.table("ORDERS")})),
        Some(secret),
    )
    .await;
    failure(
        &dataset(
            &t,
            &alice,
            ids.q(json!({"source-table": format!("card__{b}")})),
        )
        .await,
        403,
        "missing-required-permissions",
        DENIED,
    );
    // 86: a key may compile query-builder queries, not native ones.
    let k = create_key(&t, &admin, "K", g).await;
    let r = t
        .post(
            "/api/dataset/native",
            &k.auth(),
            ids.q(json!({"source-table": ids.table("ORDERS")})),
        )
        .await;
    r.assert(200);
    assert!(r.json()["params"].is_null());
    let r = t
        .post(
            "/api/dataset/native",
            &k.auth(),
            json!({"database": 1, "type": "native", "native": {"query": "SELECT 1"}}),
        )
        .await;
    failure(&r, 403, "missing-required-permissions", DENIED);
});

both!(mbql_87_94_cards_exports_and_text, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let orders = ids.table("ORDERS");
    let month = ids.fo("ORDERS.CREATED_AT", json!({"temporal-unit": "month"}));
    let q31 =
        ids.q(json!({"source-table": orders, "aggregation": [["count"]], "breakout": [month]}));
    // 87
    let mut body = card_body("Orders per month", q31.clone(), None);
    body["display"] = json!("line");
    let r = t.post("/api/card", &admin, body).await;
    r.assert(200);
    let card = r.json();
    assert_eq!(card["query_type"], "query");
    assert_eq!(card["table_id"], orders);
    assert_eq!(card["dataset_query"], q31);
    let rm = card["result_metadata"].as_array().expect("result_metadata");
    assert_eq!(rm.len(), 2);
    assert_eq!(
        (rm[0]["name"].as_str(), rm[1]["name"].as_str()),
        (Some("CREATED_AT"), Some("count"))
    );
    assert_eq!(
        (
            rm[0]["display_name"].as_str(),
            rm[1]["display_name"].as_str()
        ),
        (Some("Created At: Month"), Some("Count"))
    );
    assert_eq!(rm[0]["unit"], "month");
    assert_eq!(rm[0]["field_ref"], month);
    let id = card["id"].as_i64().unwrap();
    let ran = completed(
        &t.post(&format!("/api/card/{id}/query"), &admin, json!({}))
            .await,
    );
    assert_eq!(ran["context"], "question");
    let adhoc = run(&t, &admin, q31.clone()).await;
    assert_eq!(ran["data"]["rows"], adhoc["data"]["rows"]);
    // 88
    let p = new_card(
        &t,
        &admin,
        "P",
        ids.q(json!({"source-table": orders})),
        None,
    )
    .await;
    let m = new_card(
        &t,
        &admin,
        "M",
        ids.q(json!({"source-table": format!("card__{p}")})),
        None,
    )
    .await;
    assert_eq!(
        t.get(&format!("/api/card/{m}"), &admin).await.json()["table_id"],
        orders
    );
    // 89
    let r = t
        .post(&format!("/api/card/{id}/query/csv"), &admin, json!({}))
        .await;
    r.assert(200);
    let months = adhoc["data"]["rows"].as_array().unwrap().len();
    let mut lines = r.text.lines();
    assert_eq!(lines.next(), Some("Created At: Month,Count"));
    assert_eq!(lines.count(), months);
    let r = t
        .post(&format!("/api/card/{id}/query/json"), &admin, json!({}))
        .await;
    r.assert(200);
    let objects = r.json();
    let first = objects[0].as_object().unwrap();
    assert_eq!(
        first.keys().collect::<Vec<_>>(),
        ["Created At: Month", "Count"]
    );
    // 90
    let r = t
        .post(
            "/api/card",
            &admin,
            card_body(
                "Median",
                ids.q(json!({"source-table": orders,
        "aggregation": [["median", ids.f("ORDERS.TOTAL")]]})),
                None,
            ),
        )
        .await;
    r.assert(200);
    assert!(r.json()["result_metadata"].is_null());
    let med = r.json()["id"].as_i64().unwrap();
    failure(
        &t.post(&format!("/api/card/{med}/query"), &admin, json!({}))
            .await,
        400,
        "unsupported-feature",
        "Aggregation \"median\" on SQLite is not supported by ferrobase.",
    );
    // 91
    failure(
        &t.post(&format!("/api/card/pivot/{id}/query"), &admin, json!({}))
            .await,
        400,
        "unsupported-feature",
        "Pivot queries are not supported by ferrobase.",
    );
    t.post("/api/card/pivot/999999/query", &admin, json!({}))
        .await
        .assert(404);
    // 92
    let q39 = ids.q(json!({"source-table": orders, "aggregation": [["sum", ids.f("ORDERS.TOTAL")]],
        "breakout": [ids.fo("ORDERS.CREATED_AT", json!({"temporal-unit": "year"})),
                     ids.fo("PRODUCTS.CATEGORY", json!({"source-field": ids.field("ORDERS.PRODUCT_ID")}))]}));
    let r = t.post("/api/dataset/native", &admin, q39.clone()).await;
    r.assert(200);
    let text = r.json();
    assert!(text["params"].is_null());
    let sql = text["query"].as_str().unwrap();
    assert!(
        sql.contains("LEFT JOIN \"PRODUCTS\" AS \"PRODUCTS__via__PRODUCT_ID\"")
            && sql.contains("GROUP BY"),
        "{sql}"
    );
    let native = rows_of(&t, &admin, 1, sql).await;
    assert_rows_close(&native, &run(&t, &admin, q39).await["data"]["rows"]);
    // 93
    let r = t
        .post(
            "/api/dataset/native",
            &admin,
            ids.q(json!({"source-table": ids.table("PRODUCTS"),
        "filter": ["=", ids.f("PRODUCTS.CATEGORY"), "O'Neil"]})),
        )
        .await;
    r.assert(200);
    assert!(r.json()["query"].as_str().unwrap().contains("'O''Neil'"));
    // 94
    t.put(
        "/api/setting/aggregated-query-row-limit",
        &admin,
        json!({"value": 3}),
    )
    .await
    .assert(204);
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": orders, "aggregation": [["count"]],
        "breakout": [ids.f("ORDERS.PRODUCT_ID")]})),
    )
    .await;
    assert_eq!(v["row_count"], 3);
    assert_eq!(v["data"]["rows_truncated"], 3);
    let v = run(&t, &admin, ids.q(json!({"source-table": orders}))).await;
    assert_eq!(v["row_count"], 2000);
});
