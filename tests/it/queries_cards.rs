//! Saved cards and template tags (queries.md §4.3, §5; content.md §2.3): scenarios 32–38, 50,
//! and content.md scenario 96.
use serde_json::{json, Value};

use crate::both;
use crate::queries_run::native_on;
use crate::support::{Auth, Resp, TestApp};

/// Creates a card with `dataset_query` (and optional extra fields): its id.
pub async fn card_with(t: &TestApp, admin: &Auth, query: Value, extra: Value) -> i64 {
    let mut body = json!({"name": "C", "dataset_query": query, "display": "table",
                          "visualization_settings": {}});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let r = t.post("/api/card", admin, body).await;
    r.assert(200);
    r.json()["id"].as_i64().unwrap()
}

fn tagged(sql: &str, tags: Value) -> Value {
    tagged_on(1, sql, tags)
}

/// A native query on `database` with template tags.
pub fn tagged_on(database: i64, sql: &str, tags: Value) -> Value {
    json!({"database": database, "type": "native", "native": {"query": sql, "template-tags": tags}})
}

pub fn param(tag: &str, value: Value) -> Value {
    json!({"type": "category", "target": ["variable", ["template-tag", tag]], "value": value})
}

pub async fn run(t: &TestApp, auth: &Auth, card: i64, parameters: Value) -> Resp {
    t.post(
        &format!("/api/card/{card}/query"),
        auth,
        json!({"parameters": parameters}),
    )
    .await
}

/// A form-encoded POST.
pub async fn post_form(t: &TestApp, auth: &Auth, path: &str, form: &[(&str, &str)]) -> Resp {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut req = t
        .client
        .post(format!("{}{path}", t.base))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body);
    if let Auth::Session(s) = auth {
        req = req.header("X-Metabase-Session", s);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    Resp {
        status,
        headers,
        text,
    }
}

both!(queries_32_text_tag_bound_and_required, |t| async move {
    let admin = t.setup().await;
    let c = card_with(
        &t,
        &admin,
        tagged(
            "SELECT ID, CATEGORY FROM PRODUCTS WHERE CATEGORY = {{cat}}",
            json!({"cat": {"name": "cat", "display-name": "Cat", "type": "text"}}),
        ),
        json!({}),
    )
    .await;
    let r = run(&t, &admin, c, json!([param("cat", json!("Widget"))])).await;
    r.assert(202);
    let v = r.json();
    let rows = v["data"]["rows"].as_array().unwrap();
    assert!(rows.len() >= 40);
    assert!(rows.iter().all(|r| r[1] == "Widget"));
    assert_eq!(v["data"]["native_form"]["params"], json!(["Widget"]));
    assert_eq!(
        v["data"]["native_form"]["query"],
        "SELECT ID, CATEGORY FROM PRODUCTS WHERE CATEGORY = ?"
    );
    assert_eq!(
        v["json_query"]["parameters"],
        json!([param("cat", json!("Widget"))])
    );
    let r = run(&t, &admin, c, json!([])).await;
    r.assert(400);
    let v = r.json();
    assert_eq!(v["error_type"], "missing-required-parameter");
    assert_eq!(
        v["error"],
        "You'll need to pick a value for 'Cat' before this query can run."
    );
    assert_eq!(v["context"], "question");
    // A list of values becomes `?, ?`.
    let c = card_with(
        &t,
        &admin,
        tagged(
            "SELECT ID FROM PRODUCTS WHERE CATEGORY IN ({{cat}})",
            json!({"cat": {"name": "cat", "display-name": "Cat", "type": "text"}}),
        ),
        json!({}),
    )
    .await;
    let r = run(
        &t,
        &admin,
        c,
        json!([param("cat", json!(["Widget", "Gizmo"]))]),
    )
    .await;
    r.assert(202);
    let n: usize = r.json()["row_count"].as_u64().unwrap() as usize;
    assert!(n >= 80);
});

both!(queries_33_optional_clauses_and_binding, |t| async move {
    let admin = t.setup().await;
    let q = tagged(
        "SELECT COUNT(*) FROM ORDERS WHERE 1 = 1 [[AND TOTAL > {{min}}]] [[AND CAST(ID AS TEXT) = {{q}}]]",
        json!({"min": {"type": "number", "display-name": "Min", "default": "10"},
               "q": {"type": "text", "display-name": "Q"}}),
    );
    let c = card_with(&t, &admin, q, json!({})).await;
    let r = run(&t, &admin, c, json!([])).await;
    r.assert(202);
    let v = r.json();
    let sql = v["data"]["native_form"]["query"].as_str().unwrap();
    assert!(sql.contains("AND TOTAL > ?"), "{sql}");
    assert!(!sql.contains("CAST"), "{sql}");
    assert_eq!(v["data"]["native_form"]["params"], json!([10]));
    let r = run(&t, &admin, c, json!([param("q", json!("x' OR '1'='1"))])).await;
    r.assert(202);
    let v = r.json();
    assert_eq!(v["data"]["rows"], json!([[0]]));
    assert_eq!(
        v["data"]["native_form"]["params"],
        json!([10, "x' OR '1'='1"])
    );
    // Ad hoc too, with a dimension target and a null value (no value).
    let body = json!({"database": 1, "type": "native",
        "native": {"query": "SELECT {{n}} + 1 AS v", "template-tags": {"n": {"type": "number", "default": 1}}},
        "parameters": [{"type": "number", "target": ["variable", ["template-tag", "n"]], "value": null}]});
    let v = t.post("/api/dataset", &admin, body).await.json();
    assert_eq!(v["data"]["rows"], json!([[2]]));
});

both!(queries_34_invalid_number, |t| async move {
    let admin = t.setup().await;
    let c = card_with(
        &t,
        &admin,
        tagged(
            "SELECT {{n}}",
            json!({"n": {"type": "number", "display-name": "N"}}),
        ),
        json!({}),
    )
    .await;
    let r = run(&t, &admin, c, json!([param("n", json!("abc"))])).await;
    r.assert(400);
    assert_eq!(r.json()["error_type"], "invalid-parameter");
    let r = run(&t, &admin, c, json!([param("n", json!("2.5"))])).await;
    r.assert(202);
    assert_eq!(r.json()["data"]["rows"], json!([[2.5]]));
});

both!(queries_35_field_filters, |t| async move {
    let admin = t.setup().await;
    let c = card_with(
        &t,
        &admin,
        tagged(
            "SELECT COUNT(*) FROM PRODUCTS WHERE {{f}}",
            json!({"f": {"type": "dimension", "display-name": "F", "dimension": ["field", 1, null]}}),
        ),
        json!({}),
    )
    .await;
    let r = run(&t, &admin, c, json!([])).await;
    r.assert(202);
    assert_eq!(r.json()["data"]["rows"], json!([[200]]));
    let dim = json!([{"type": "category", "target": ["dimension", ["template-tag", "f"]], "value": ["Widget"]}]);
    let r = run(&t, &admin, c, dim).await;
    r.assert(400);
    let v = r.json();
    assert_eq!(v["error_type"], "unsupported-feature");
    assert_eq!(
        v["error"],
        "Field filters with a value are not supported by ferrobase."
    );
    // Snippets are refused whatever their value.
    let body = json!({"database": 1, "type": "native",
        "native": {"query": "SELECT {{snippet: s}}", "template-tags": {"snippet: s": {"type": "snippet"}}}});
    let r = t.post("/api/dataset", &admin, body).await;
    r.assert(400);
    assert_eq!(r.json()["error_type"], "unsupported-feature");
});

both!(queries_36_37_card_references, |t| async move {
    let admin = t.setup().await;
    let b = card_with(
        &t,
        &admin,
        native_on(1, "SELECT * FROM PRODUCTS WHERE PRICE > 50;"),
        json!({}),
    )
    .await;
    let expected =
        crate::queries_run::scalar(&t, &admin, "SELECT COUNT(*) FROM PRODUCTS WHERE PRICE > 50")
            .await;
    let tag = format!("#{b}-b");
    let a = card_with(
        &t,
        &admin,
        tagged(
            &format!("SELECT COUNT(*) FROM {{{{{tag}}}}} x"),
            json!({tag.clone(): {"type": "card", "card-id": b, "name": tag, "display-name": "B"}}),
        ),
        json!({}),
    )
    .await;
    let r = run(&t, &admin, a, json!([])).await;
    r.assert(202);
    assert_eq!(r.json()["data"]["rows"][0][0], expected);
    t.put(&format!("/api/card/{b}"), &admin, json!({"archived": true}))
        .await
        .assert(200);
    let r = run(&t, &admin, a, json!([])).await;
    r.assert(202);
    assert_eq!(r.json()["data"]["rows"][0][0], expected);
    t.delete(&format!("/api/card/{b}"), &admin)
        .await
        .assert(204);
    let r = run(&t, &admin, a, json!([])).await;
    r.assert(400);
    let v = r.json();
    assert_eq!(v["error_type"], "invalid-query");
    assert_eq!(v["error"], format!("Card {b} not found."));

    // Scenario 37: a cycle.
    let x = card_with(&t, &admin, native_on(1, "SELECT 1"), json!({})).await;
    let y = card_with(
        &t,
        &admin,
        tagged(
            &format!("SELECT * FROM {{{{#{x}}}}}"),
            json!({format!("#{x}"): {"type": "card", "card-id": x}}),
        ),
        json!({}),
    )
    .await;
    t.put(
        &format!("/api/card/{x}"),
        &admin,
        json!({"dataset_query": tagged(&format!("SELECT * FROM {{{{#{y}}}}}"), json!({format!("#{y}"): {"type": "card", "card-id": y}}))}),
    )
    .await
    .assert(200);
    let r = run(&t, &admin, x, json!([])).await;
    r.assert(400);
    assert_eq!(r.json()["error_type"], "invalid-query");
});

both!(queries_38_mbql_runs, |t| async move {
    let admin = t.setup().await;
    let tables = t.get("/api/table", &admin).await.json();
    let orders = tables
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ORDERS" && t["db_id"] == 1)
        .unwrap()["id"]
        .clone();
    let mbql = json!({"database": 1, "type": "query",
                      "query": {"source-table": orders, "aggregation": [["count"]]}});
    let m = card_with(&t, &admin, mbql.clone(), json!({})).await;
    for r in [
        run(&t, &admin, m, json!([])).await,
        t.post("/api/dataset", &admin, mbql).await,
    ] {
        r.assert(202);
        let v = r.json();
        assert_eq!(v["status"], "completed");
        assert_eq!(v["data"]["rows"], json!([[5000]]));
    }
});

both!(queries_50_card_by_entity_id, |t| async move {
    let admin = t.setup().await;
    let c = card_with(&t, &admin, native_on(1, "SELECT 42 AS x"), json!({})).await;
    let card = t.get(&format!("/api/card/{c}"), &admin).await.json();
    assert!(card["last_used_at"].is_null());
    let eid = card["entity_id"].as_str().unwrap();
    let a = t
        .post(&format!("/api/card/{c}/query"), &admin, json!({}))
        .await;
    a.assert(202);
    let b = t
        .post(&format!("/api/card/{eid}/query"), &admin, json!({}))
        .await;
    b.assert(202);
    assert_eq!(a.json()["data"], b.json()["data"]);
    let after = t.get(&format!("/api/card/{c}"), &admin).await.json();
    assert!(after["last_used_at"].is_string());
    assert_eq!(after["updated_at"], card["updated_at"]);
    t.post("/api/card/0/query", &admin, json!({}))
        .await
        .assert(400);
    t.post("/api/card/abc/query", &admin, json!({}))
        .await
        .assert(404);
});

both!(content_96_result_metadata_is_computed, |t| async move {
    let admin = t.setup().await;
    let r = t
        .post(
            "/api/card",
            &admin,
            json!({"name": "M", "dataset_query": native_on(1, "SELECT ID, TOTAL FROM ORDERS"),
                   "display": "table", "visualization_settings": {}}),
        )
        .await;
    r.assert(200);
    let c = r.json();
    let md = c["result_metadata"].as_array().expect("metadata");
    assert_eq!(md.len(), 2);
    assert_eq!(md[0]["name"], "ID");
    assert_eq!(md[0]["base_type"], "type/Integer");
    assert_eq!(md[1]["name"], "TOTAL");
    assert_eq!(md[1]["base_type"], "type/Float");
    assert_eq!(
        md[1]["field_ref"],
        json!(["field", "TOTAL", {"base-type": "type/Float"}])
    );
    let id = c["id"].as_i64().unwrap();
    assert_eq!(
        t.get(&format!("/api/card/{id}"), &admin).await.json()["result_metadata"],
        c["result_metadata"]
    );
    let r = t
        .post(
            "/api/card",
            &admin,
            json!({"name": "Bad", "dataset_query": native_on(1, "SELEC nope"),
                   "display": "table", "visualization_settings": {}}),
        )
        .await;
    r.assert(200);
    assert!(r.json()["result_metadata"].is_null());
    // A changed query gets new metadata; a sent array is stored as sent.
    let r = t
        .put(
            &format!("/api/card/{id}"),
            &admin,
            json!({"dataset_query": native_on(1, "SELECT 1 + 1 AS two")}),
        )
        .await;
    r.assert(200);
    let md = r.json()["result_metadata"].clone();
    assert_eq!(md[0]["name"], "two");
    assert_eq!(md[0]["base_type"], "type/*");
    let sent = json!([{"name": "x", "base_type": "type/Text"}]);
    let r = t
        .post(
            "/api/card",
            &admin,
            json!({"name": "S", "dataset_query": native_on(1, "SELECT 1"), "result_metadata": sent,
                   "display": "table", "visualization_settings": {}}),
        )
        .await;
    assert_eq!(r.json()["result_metadata"], sent);
});
