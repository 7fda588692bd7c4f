//! The warehouse-independent scenarios of queries.md, run against a Postgres warehouse as well
//! (the other files run them on the SQLite Sample Database): result shape (19, 43), row limits
//! (22, 23, 25), the failure shape (26), template tags (33, 34), card references (36), card
//! exports (44, 45) and card ids (50). Each test owns a scratch Postgres database holding
//! `orders` (5,000 rows) and `products` (200 rows).
use serde_json::{json, Value};

use crate::both;
use crate::queries_cards::{card_with, param, post_form, run, tagged_on};
use crate::queries_pg::{add_pg, Scratch};
use crate::queries_run::native_on;
use crate::support::{Auth, Resp, TestApp};

const SEED: &str = "
    CREATE TABLE orders (id int PRIMARY KEY, total float8 NOT NULL, created_at timestamp NOT NULL);
    INSERT INTO orders SELECT g, g * 1.5, timestamp '2024-01-01' + g * interval '1 hour'
      FROM generate_series(1, 5000) g;
    CREATE TABLE products (id int PRIMARY KEY, category text NOT NULL, price float8 NOT NULL);
    INSERT INTO products SELECT g, (ARRAY['Doohickey','Gadget','Gizmo','Widget'])[1 + g % 4], g
      FROM generate_series(1, 200) g;";

/// A scratch Postgres warehouse with the seed tables, registered as `W`: the scratch (keep it
/// alive for the test) and the database id.
async fn warehouse(t: &TestApp, admin: &Auth) -> Option<(Scratch, i64)> {
    let s = Scratch::create().await?;
    s.exec(SEED).await;
    let w = add_pg(t, admin, "W", &s.details).await;
    Some((s, w))
}

async fn query(t: &TestApp, admin: &Auth, w: i64, sql: &str) -> Resp {
    t.post("/api/dataset", admin, native_on(w, sql)).await
}

both!(queries_pg_19_43_result_shape, |t| async move {
    let admin = t.setup().await;
    let Some((_s, w)) = warehouse(&t, &admin).await else {
        return;
    };
    let body = native_on(w, "SELECT 1 AS x");
    let r = t.post("/api/dataset", &admin, body.clone()).await;
    r.assert(202);
    let v = r.json();
    assert_eq!(v["status"], "completed");
    assert_eq!(v["row_count"], 1);
    assert_eq!(v["data"]["rows"], json!([[1]]));
    let col = &v["data"]["cols"][0];
    assert_eq!(col["name"], "x");
    assert_eq!(col["base_type"], "type/Integer");
    assert_eq!(col["database_type"], "int4");
    assert_eq!(
        col["field_ref"],
        json!(["field", "x", {"base-type": "type/Integer"}])
    );
    assert_eq!(v["json_query"], body);
    assert_eq!(v["database_id"], w);
    assert_eq!(v["data"]["results_metadata"]["columns"], v["data"]["cols"]);
    // Declared column types.
    let v = query(
        &t,
        &admin,
        w,
        "SELECT id, total, created_at FROM orders ORDER BY id LIMIT 1",
    )
    .await
    .json();
    let types: Vec<(&str, &str)> = v["data"]["cols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["base_type"].as_str().unwrap(),
                c["database_type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        types,
        vec![
            ("type/Integer", "int4"),
            ("type/Float", "float8"),
            ("type/DateTime", "timestamp"),
        ]
    );
    assert_eq!(v["data"]["rows"], json!([[1, 1.5, "2024-01-01T01:00:00"]]));
    // Scenario 43: duplicate names get suffixes.
    let v = query(&t, &admin, w, "SELECT 1 AS a, 2 AS a, 'x' AS b")
        .await
        .json();
    let names: Vec<&str> = v["data"]["cols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["a", "a_2", "b"]);
    assert_eq!(v["data"]["cols"][1]["display_name"], "a");
    assert_eq!(v["data"]["rows"], json!([[1, 2, "x"]]));
});

both!(queries_pg_22_23_26_limits_and_failures, |t| async move {
    let admin = t.setup().await;
    let Some((_s, w)) = warehouse(&t, &admin).await else {
        return;
    };
    let v = query(&t, &admin, w, "SELECT * FROM ORDERS").await.json();
    assert_eq!(v["row_count"], 2000);
    assert_eq!(v["data"]["rows"].as_array().unwrap().len(), 2000);
    assert_eq!(v["data"]["rows_truncated"], 2000);
    let v = query(&t, &admin, w, "SELECT * FROM orders LIMIT 2000")
        .await
        .json();
    assert_eq!(v["row_count"], 2000);
    assert!(v["data"].get("rows_truncated").is_none());
    t.put(
        "/api/setting/unaggregated-query-row-limit",
        &admin,
        json!({"value": 100}),
    )
    .await
    .assert(204);
    let v = query(&t, &admin, w, "SELECT * FROM orders").await.json();
    assert_eq!(v["row_count"], 100);
    let body = json!({"database": w, "type": "native", "native": {"query": "SELECT * FROM orders"},
                      "constraints": {"max-results-bare-rows": 3000}});
    let v = t.post("/api/dataset", &admin, body).await.json();
    assert_eq!(v["row_count"], 3000);
    assert_eq!(v["data"]["rows_truncated"], 3000);
    // Scenario 26: the database's own message in Metabase's failure shape.
    let body = native_on(w, "SELECT * FROM nope");
    let r = t.post("/api/dataset", &admin, body.clone()).await;
    r.assert(400);
    let v = r.json();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["error_type"], "invalid-query");
    assert_eq!(v["error"], "relation \"nope\" does not exist");
    assert_eq!(v["class"], "postgres");
    assert_eq!(v["state"], "42P01");
    assert_eq!(v["row_count"], 0);
    assert_eq!(v["data"], json!({"rows": [], "cols": []}));
    assert_eq!(v["json_query"], body);
    // Scenario 25: exports stop at `download-row-limit`.
    t.put(
        "/api/setting/download-row-limit",
        &admin,
        json!({"value": 3000}),
    )
    .await
    .assert(204);
    let q = native_on(w, "SELECT id FROM orders ORDER BY id").to_string();
    let r = post_form(&t, &admin, "/api/dataset/csv", &[("query", &q)]).await;
    r.assert(200);
    assert_eq!(r.text.lines().count(), 3001);
    assert!(r.text.ends_with("\n3000\n"));
});

both!(
    queries_pg_33_34_36_tags_and_card_references,
    |t| async move {
        let admin = t.setup().await;
        let Some((_s, w)) = warehouse(&t, &admin).await else {
            return;
        };
        // Scenario 33: optional clauses drop out without a value; values are bound, never spliced.
        let c = card_with(
        &t,
        &admin,
        tagged_on(
            w,
            "SELECT COUNT(*) FROM orders WHERE 1 = 1 [[AND total > {{min}}]] [[AND CAST(id AS TEXT) = {{q}}]]",
            json!({"min": {"type": "number", "display-name": "Min", "default": "10"},
                   "q": {"type": "text", "display-name": "Q"}}),
        ),
        json!({}),
    )
    .await;
        let r = run(&t, &admin, c, json!([])).await;
        r.assert(202);
        let v = r.json();
        assert_eq!(v["data"]["rows"], json!([[4994]]));
        let sql = v["data"]["native_form"]["query"].as_str().unwrap();
        assert!(sql.contains("AND total > $1"), "{sql}");
        assert!(!sql.contains("CAST"), "{sql}");
        assert_eq!(v["data"]["native_form"]["params"], json!([10]));
        let r = run(&t, &admin, c, json!([param("q", json!("x' OR '1'='1"))])).await;
        r.assert(202);
        assert_eq!(r.json()["data"]["rows"], json!([[0]]));
        let r = run(&t, &admin, c, json!([param("q", json!("42"))])).await;
        assert_eq!(r.json()["data"]["rows"], json!([[1]]));
        // Scenario 34: a number tag refuses what is not a number.
        let r = run(&t, &admin, c, json!([param("min", json!("abc"))])).await;
        r.assert(400);
        assert_eq!(r.json()["error_type"], "invalid-parameter");
        // Scenario 36: a card reference becomes a subquery of the referenced card's SQL.
        let b = card_with(
            &t,
            &admin,
            native_on(w, "SELECT * FROM products WHERE price > 50;"),
            json!({}),
        )
        .await;
        let tag = format!("#{b}-b");
        let a = card_with(
        &t,
        &admin,
        tagged_on(
            w,
            &format!("SELECT COUNT(*) FROM {{{{{tag}}}}} x"),
            json!({tag.clone(): {"type": "card", "card-id": b, "name": tag, "display-name": "B"}}),
        ),
        json!({}),
    )
    .await;
        let r = run(&t, &admin, a, json!([])).await;
        r.assert(202);
        assert_eq!(r.json()["data"]["rows"], json!([[150]]));
    }
);

both!(queries_pg_44_45_50_card_exports_and_ids, |t| async move {
    let admin = t.setup().await;
    let Some((_s, w)) = warehouse(&t, &admin).await else {
        return;
    };
    let c = card_with(
        &t,
        &admin,
        native_on(w, "SELECT id, category FROM products ORDER BY id LIMIT 3"),
        json!({}),
    )
    .await;
    let r = post_form(
        &t,
        &admin,
        &format!("/api/card/{c}/query/csv"),
        &[("parameters", "null"), ("format_rows", "false")],
    )
    .await;
    r.assert(200);
    assert_eq!(r.content_type(), "text/csv; charset=utf-8");
    assert_eq!(r.text, "id,category\n1,Gadget\n2,Gizmo\n3,Widget\n");
    let r = post_form(
        &t,
        &admin,
        &format!("/api/card/{c}/query/json"),
        &[("parameters", "[]")],
    )
    .await;
    r.assert(200);
    let v: Value = r.json();
    assert_eq!(
        v,
        json!([{"id": 1, "category": "Gadget"}, {"id": 2, "category": "Gizmo"},
               {"id": 3, "category": "Widget"}])
    );
    // Scenario 50: the card's entity id runs it too.
    let eid = t.get(&format!("/api/card/{c}"), &admin).await.json()["entity_id"]
        .as_str()
        .unwrap()
        .to_string();
    let a = t
        .post(&format!("/api/card/{c}/query"), &admin, json!({}))
        .await;
    a.assert(202);
    let b = t
        .post(&format!("/api/card/{eid}/query"), &admin, json!({}))
        .await;
    b.assert(202);
    assert_eq!(a.json()["data"], b.json()["data"]);
    assert_eq!(
        a.json()["data"]["rows"],
        json!([[1, "Gadget"], [2, "Gizmo"], [3, "Widget"]])
    );
});
