//! queries.md §3, §4 and §1.8 on the Sample Database: scenarios 2–4, 19–27, 43, 52, and
//! the Sample Database's invariants.
use serde_json::{json, Value};

use crate::both;
use crate::support::{Auth, Resp, TestApp};

/// A legacy native query on `database`.
pub fn native_on(database: i64, sql: &str) -> Value {
    json!({"database": database, "type": "native", "native": {"query": sql}})
}

pub async fn dataset(t: &TestApp, auth: &Auth, sql: &str) -> Resp {
    t.post("/api/dataset", auth, native_on(1, sql)).await
}

/// The single value of a one-row, one-column result (which must succeed).
pub async fn scalar(t: &TestApp, auth: &Auth, sql: &str) -> Value {
    let r = dataset(t, auth, sql).await;
    r.assert(202);
    let v = r.json();
    assert_eq!(v["status"], "completed", "{v}");
    v["data"]["rows"][0][0].clone()
}

both!(queries_2_sample_row_counts, |t| async move {
    let admin = t.setup().await;
    for (table, n) in [
        ("PRODUCTS", 200),
        ("PEOPLE", 2500),
        ("ORDERS", 5000),
        ("REVIEWS", 1000),
    ] {
        let v = scalar(&t, &admin, &format!("SELECT COUNT(*) FROM {table}")).await;
        assert_eq!(v, json!(n), "{table}");
    }
    // Identifiers are case-insensitive.
    assert_eq!(
        scalar(&t, &admin, "select count(*) from orders").await,
        json!(5000)
    );
});

both!(queries_3_sample_invariants, |t| async move {
    let admin = t.setup().await;
    let checks = [
        "SELECT COUNT(*) FROM ORDERS WHERE abs(TOTAL - (SUBTOTAL + TAX - coalesce(DISCOUNT,0))) > 0.005",
        "SELECT COUNT(*) FROM ORDERS o LEFT JOIN PEOPLE p ON p.ID = o.USER_ID WHERE p.ID IS NULL",
        "SELECT COUNT(*) FROM ORDERS o LEFT JOIN PRODUCTS p ON p.ID = o.PRODUCT_ID WHERE p.ID IS NULL",
        "SELECT COUNT(*) FROM REVIEWS r LEFT JOIN PRODUCTS p ON p.ID = r.PRODUCT_ID WHERE p.ID IS NULL",
        "SELECT COUNT(*) FROM ORDERS o JOIN PRODUCTS p ON p.ID = o.PRODUCT_ID \
         WHERE abs(o.SUBTOTAL - round(p.PRICE * o.QUANTITY, 2)) > 0.005",
        "SELECT COUNT(*) FROM ORDERS WHERE DISCOUNT IS NOT NULL AND NOT (DISCOUNT > 0 AND DISCOUNT < SUBTOTAL)",
        "SELECT COUNT(*) FROM ORDERS o JOIN PEOPLE u ON u.ID = o.USER_ID JOIN PRODUCTS p ON p.ID = o.PRODUCT_ID \
         WHERE o.CREATED_AT < u.CREATED_AT OR o.CREATED_AT < p.CREATED_AT OR o.CREATED_AT > '2025-12-31T23:59:59'",
        "SELECT COUNT(*) FROM REVIEWS r JOIN PRODUCTS p ON p.ID = r.PRODUCT_ID WHERE r.CREATED_AT < p.CREATED_AT",
        "SELECT COUNT(*) FROM PEOPLE WHERE substr(EMAIL, instr(EMAIL, '@') + 1) NOT IN ('example.com','example.org','example.net')",
        "SELECT COUNT(*) FROM PRODUCTS WHERE length(EAN) <> 13 OR PRICE < 10 OR PRICE > 100 OR RATING < 0 OR RATING > 5",
        "SELECT COUNT(*) FROM (SELECT CATEGORY FROM PRODUCTS GROUP BY CATEGORY HAVING COUNT(*) < 40)",
        "SELECT COUNT(*) FROM ORDERS WHERE QUANTITY < 1 OR QUANTITY > 10",
        "SELECT COUNT(*) FROM PEOPLE WHERE LATITUDE < 24.5 OR LATITUDE > 49.4 OR LONGITUDE < -124.8 \
         OR LONGITUDE > -66.9 OR length(STATE) <> 2 OR length(ZIP) <> 5 \
         OR BIRTH_DATE < '1950-01-01' OR BIRTH_DATE > '2005-12-31'",
    ];
    for sql in checks {
        assert_eq!(scalar(&t, &admin, sql).await, json!(0), "{sql}");
    }
    assert_eq!(
        scalar(&t, &admin, "SELECT COUNT(DISTINCT CATEGORY) FROM PRODUCTS").await,
        json!(4)
    );
    // EAN-13 check digits.
    let r = dataset(&t, &admin, "SELECT EAN FROM PRODUCTS").await;
    let v = r.json();
    for row in v["data"]["rows"].as_array().unwrap() {
        let ean = row[0].as_str().unwrap();
        let d: Vec<u32> = ean.chars().map(|c| c.to_digit(10).unwrap()).collect();
        let sum: u32 = (0..12)
            .map(|i| if i % 2 == 0 { d[i] } else { 3 * d[i] })
            .sum();
        assert_eq!((10 - sum % 10) % 10, d[12], "{ean}");
    }
    // Declared foreign keys and their indexes.
    let fks = scalar(
        &t,
        &admin,
        "SELECT (SELECT COUNT(*) FROM pragma_foreign_key_list('ORDERS')) * 10 \
         + (SELECT COUNT(*) FROM pragma_foreign_key_list('REVIEWS'))",
    )
    .await;
    assert_eq!(fks, json!(21));
    let idx = scalar(
        &t,
        &admin,
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND sql LIKE '%(USER_ID)%' \
         OR sql LIKE '%ORDERS (PRODUCT_ID)%' OR sql LIKE '%REVIEWS (PRODUCT_ID)%'",
    )
    .await;
    assert_eq!(idx, json!(3));
});

both!(
    queries_4_sample_rows_are_identical_across_servers,
    |t| async move {
        let admin = t.setup().await;
        let sql = "SELECT * FROM ORDERS ORDER BY ID";
        let body = json!({"database": 1, "type": "native", "native": {"query": sql},
                      "constraints": {"max-results-bare-rows": 6000}});
        let a = t.post("/api/dataset", &admin, body.clone()).await.json();
        // A second, freshly generated file (not the cached one) has the same rows.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("again.sqlite");
        ferrobase::databases::sample::generate(&path).await.unwrap();
        let outside = tempfile::tempdir().unwrap();
        let copy = outside.path().join("w.sqlite");
        std::fs::copy(&path, &copy).unwrap();
        let r = t
            .post(
                "/api/database",
                &admin,
                json!({"name": "Again", "engine": "sqlite", "details": {"db": copy}}),
            )
            .await;
        r.assert(200);
        let id = r.json()["id"].as_i64().unwrap();
        let mut body2 = body.clone();
        body2["database"] = json!(id);
        let b = t.post("/api/dataset", &admin, body2).await.json();
        assert_eq!(a["row_count"], 5000);
        assert_eq!(a["data"]["rows"], b["data"]["rows"]);
        assert_eq!(a["data"]["cols"], b["data"]["cols"]);
    }
);

both!(queries_19_result_shape, |t| async move {
    let admin = t.setup().await;
    let body = json!({"database": 1, "type": "native", "native": {"query": "SELECT 1 AS x"}});
    let r = t.post("/api/dataset", &admin, body.clone()).await;
    r.assert(202);
    assert!(r.content_type().starts_with("application/json"));
    let v = r.json();
    assert_eq!(v["status"], "completed");
    assert_eq!(v["row_count"], 1);
    assert_eq!(v["data"]["rows"], json!([[1]]));
    let col = &v["data"]["cols"][0];
    assert_eq!(col["name"], "x");
    assert_eq!(col["display_name"], "x");
    assert_eq!(col["base_type"], "type/Integer");
    assert_eq!(col["effective_type"], "type/Integer");
    assert_eq!(col["source"], "native");
    assert_eq!(
        col["field_ref"],
        json!(["field", "x", {"base-type": "type/Integer"}])
    );
    assert_eq!(v["context"], "ad-hoc");
    assert_eq!(v["json_query"], body);
    assert_eq!(v["database_id"], 1);
    assert_eq!(v["data"]["results_timezone"], "UTC");
    assert_eq!(
        v["data"]["native_form"],
        json!({"query": "SELECT 1 AS x", "params": []})
    );
    assert_eq!(v["data"]["results_metadata"]["columns"], v["data"]["cols"]);
    assert!(v["data"].get("rows_truncated").is_none());
    assert!(v["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(v["running_time"].is_u64());
    // Declared types of the sample tables.
    let v = dataset(
        &t,
        &admin,
        "SELECT ID, TOTAL, CREATED_AT, DISCOUNT FROM ORDERS LIMIT 1",
    )
    .await
    .json();
    let cols = v["data"]["cols"].as_array().unwrap();
    let types: Vec<(&str, &str)> = cols
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
            ("type/Integer", "INTEGER"),
            ("type/Float", "REAL"),
            ("type/DateTime", "TIMESTAMP"),
            ("type/Float", "REAL"),
        ]
    );
});

both!(queries_20_pmbql_shape, |t| async move {
    let admin = t.setup().await;
    let body = json!({"lib/type": "mbql/query", "database": 1,
                      "stages": [{"lib/type": "mbql.stage/native", "native": "SELECT 1 AS x"}]});
    let r = t.post("/api/dataset", &admin, body.clone()).await;
    r.assert(202);
    let v = r.json();
    assert_eq!(v["data"]["rows"], json!([[1]]));
    assert_eq!(v["data"]["cols"][0]["base_type"], "type/Integer");
    assert_eq!(v["json_query"], body);
});

both!(queries_21_request_validation, |t| async move {
    let admin = t.setup().await;
    for body in [json!({}), json!({"database": "x"})] {
        let r = t.post("/api/dataset", &admin, body).await;
        r.assert(400);
        let v = r.json();
        assert!(v["errors"]["database"].is_string(), "{v}");
        assert!(v["specific-errors"]["database"].is_array(), "{v}");
    }
    let r = t
        .post(
            "/api/dataset",
            &admin,
            json!({"database": 1, "type": "native", "native": {"query": "SELECT 1"}, "parameters": 3}),
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["parameters"].is_string());
    t.post("/api/dataset", &Auth::None, json!({}))
        .await
        .assert_text(401, "Unauthenticated");
});

both!(queries_22_23_row_limits, |t| async move {
    let admin = t.setup().await;
    let v = dataset(&t, &admin, "SELECT * FROM ORDERS").await.json();
    assert_eq!(v["row_count"], 2000);
    assert_eq!(v["data"]["rows"].as_array().unwrap().len(), 2000);
    assert_eq!(v["data"]["rows_truncated"], 2000);
    let v = dataset(&t, &admin, "SELECT * FROM ORDERS LIMIT 10")
        .await
        .json();
    assert_eq!(v["row_count"], 10);
    assert!(v["data"].get("rows_truncated").is_none());
    // Exactly the cap is not truncated.
    let v = dataset(&t, &admin, "SELECT * FROM ORDERS LIMIT 2000")
        .await
        .json();
    assert!(v["data"].get("rows_truncated").is_none());

    t.put(
        "/api/setting/unaggregated-query-row-limit",
        &admin,
        json!({"value": 100}),
    )
    .await
    .assert(204);
    let v = dataset(&t, &admin, "SELECT * FROM ORDERS").await.json();
    assert_eq!(v["row_count"], 100);
    let body = json!({"database": 1, "type": "native", "native": {"query": "SELECT * FROM ORDERS"},
                      "constraints": {"max-results-bare-rows": 3000}});
    let v = t.post("/api/dataset", &admin, body).await.json();
    assert_eq!(v["row_count"], 3000);
    assert_eq!(v["data"]["rows_truncated"], 3000);
});

both!(queries_26_sql_error_shape, |t| async move {
    let admin = t.setup().await;
    let body = native_on(1, "foobar");
    let r = t.post("/api/dataset", &admin, body.clone()).await;
    r.assert(400);
    let v = r.json();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["error_type"], "invalid-query");
    assert_eq!(v["error"], "near \"foobar\": syntax error");
    assert_eq!(v["class"], "sqlite");
    assert_eq!(v["state"], "SQLITE_ERROR");
    assert_eq!(v["stacktrace"], json!([]));
    assert_eq!(v["via"], json!([]));
    assert_eq!(v["row_count"], 0);
    assert_eq!(v["data"], json!({"rows": [], "cols": []}));
    assert_eq!(v["json_query"], body);
    assert_eq!(v["context"], "ad-hoc");
    // Unknown tables and type errors are the database's own messages too.
    let r = dataset(&t, &admin, "SELECT * FROM nope").await;
    r.assert(400);
    assert_eq!(r.json()["error"], "no such table: nope");
});

both!(queries_27_one_statement_read_only, |t| async move {
    let admin = t.setup().await;
    let r = dataset(&t, &admin, "SELECT 1; SELECT 2").await;
    r.assert(400);
    let v = r.json();
    assert_eq!(v["error_type"], "invalid-query");
    assert_eq!(
        v["error"],
        "ferrobase runs exactly one SQL statement per query."
    );
    let r = dataset(&t, &admin, "DELETE FROM ORDERS").await;
    r.assert(400);
    let v = r.json();
    assert_eq!(v["error_type"], "invalid-query");
    assert_eq!(v["class"], "sqlite");
    assert_eq!(
        scalar(&t, &admin, "SELECT COUNT(*) FROM ORDERS").await,
        json!(5000)
    );
    // Trailing semicolons and comments are fine; ATTACH is refused.
    assert_eq!(scalar(&t, &admin, "  SELECT 7 ; -- done\n").await, json!(7));
    let r = dataset(&t, &admin, "ATTACH DATABASE '/tmp/x.db' AS x").await;
    r.assert(400);
    let r = dataset(
        &t,
        &admin,
        "VACUUM INTO '/tmp/ferrobase-should-not-exist.db'",
    )
    .await;
    r.assert(400);
    assert!(!std::path::Path::new("/tmp/ferrobase-should-not-exist.db").exists());
});

both!(queries_43_duplicate_column_names, |t| async move {
    let admin = t.setup().await;
    let v = dataset(
        &t,
        &admin,
        "SELECT 1 AS a, 2 AS a, 'x' AS b, NULL AS c, 1.5 AS d",
    )
    .await
    .json();
    let cols = v["data"]["cols"].as_array().unwrap();
    let names: Vec<&str> = cols.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["a", "a_2", "b", "c", "d"]);
    assert_eq!(cols[1]["display_name"], "a");
    let types: Vec<&str> = cols
        .iter()
        .map(|c| c["base_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "type/Integer",
            "type/Integer",
            "type/Text",
            "type/*",
            "type/Float"
        ]
    );
    assert_eq!(cols[3]["database_type"], "NULL");
    assert_eq!(v["data"]["rows"], json!([[1, 2, "x", null, 1.5]]));
});

both!(queries_52_unknown_database, |t| async move {
    let admin = t.setup().await;
    let r = t
        .post("/api/dataset", &admin, native_on(999, "SELECT 1"))
        .await;
    r.assert(400);
    let v = r.json();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["error_type"], "invalid-query");
    assert_eq!(v["error"], "Database 999 does not exist.");
});
