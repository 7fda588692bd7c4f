//! mbql.md §9.5 and scenario 46 on the PostgreSQL warehouse W of §9: the Sample Database's rows
//! copied into `public.orders`, `products`, `people`, `reviews` with lower-case columns and the
//! spec's types, plus `public."Mixed Case"`; run with both application databases.
use serde_json::{json, Value};

use crate::both;
use crate::mbql_support::*;
use crate::queries_pg::{add_pg, Scratch};
use crate::support::{Auth, TestApp};

const DDL: &str = r#"
SET TIME ZONE 'UTC';
CREATE TABLE products (id int PRIMARY KEY, ean text, title text, category text, vendor text,
  price numeric(10,2), rating double precision, created_at timestamp);
CREATE TABLE people (id int PRIMARY KEY, address text, email text, password text, name text,
  city text, longitude double precision, state text, source text, birth_date date, zip text,
  latitude double precision, created_at timestamp);
CREATE TABLE orders (id int PRIMARY KEY, user_id int REFERENCES people(id),
  product_id int REFERENCES products(id), quantity int, subtotal double precision,
  tax double precision, discount double precision, total double precision,
  created_at timestamptz);
CREATE TABLE reviews (id int PRIMARY KEY, product_id int REFERENCES products(id), reviewer text,
  rating int, body text, created_at timestamp);
CREATE TABLE "Mixed Case" ("Id" int PRIMARY KEY, "Amount ""x""" numeric);
INSERT INTO "Mixed Case" VALUES (1, 10.5), (2, NULL), (3, 0);
"#;

/// The rows of a Sample Database table as JSON objects with lower-case keys.
async fn sample_rows(t: &TestApp, admin: &Auth, table: &str) -> Value {
    let query = json!({"database": 1, "type": "native", "native": {"query": format!("SELECT * FROM {table}")}});
    let r = t
        .post("/api/dataset/json", admin, json!({"query": query}))
        .await;
    r.assert(200);
    let rows: Vec<Value> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let m: serde_json::Map<String, Value> = o
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.to_lowercase(), v.clone()))
                .collect();
            Value::Object(m)
        })
        .collect();
    Value::Array(rows)
}

/// W, registered and synced: (the scratch database, W's id, W's ids).
async fn warehouse_w(t: &TestApp, admin: &Auth) -> Option<(Scratch, i64, Ids)> {
    let s = Scratch::create().await?;
    s.exec(DDL).await;
    for table in ["products", "people", "orders", "reviews"] {
        let rows = sample_rows(t, admin, &table.to_uppercase()).await;
        sqlx::query(&format!(
            "INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::json)"
        ))
        .bind(rows.to_string())
        .execute(&s.pool)
        .await
        .expect(table);
    }
    s.exec(&format!(
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {}",
        s.role
    ))
    .await;
    let id = add_pg(t, admin, "PGW", &s.details).await;
    let r = t
        .post(
            &format!("/api/database/{id}/sync_schema?wait=true"),
            admin,
            json!({}),
        )
        .await;
    r.assert(200);
    let ids = Ids::load(t, admin, id).await;
    Some((s, id, ids))
}

both!(mbql_46_68_74_postgres_warehouse, |t| async move {
    let admin = t.setup().await;
    let Some((_s, w, ids)) = warehouse_w(&t, &admin).await else {
        return;
    };
    let orders = ids.table("orders");
    // 46
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": orders, "aggregation": [
        ["median", ids.f("orders.total")], ["percentile", ids.f("orders.total"), 0.9],
        ["stddev", ids.f("orders.total")], ["var", ids.f("orders.total")]]})),
    )
    .await;
    assert_eq!(col_names(&v), ["median", "percentile", "stddev", "var"]);
    assert_eq!(
        display_names(&v),
        [
            "Median of Total",
            "0.9th percentile of Total",
            "Standard deviation of Total",
            "Variance of Total"
        ]
    );
    let want = rows_of(&t, &admin, w, "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY total), \
        percentile_cont(0.9) WITHIN GROUP (ORDER BY total), stddev_pop(total), var_pop(total) FROM orders").await;
    assert_rows_close(&v["data"]["rows"], &want);
    // 68: months of a timestamptz in UTC, then in New York.
    let by_month = ids.q(json!({"source-table": orders, "aggregation": [["count"]],
        "breakout": [ids.fo("orders.created_at", json!({"temporal-unit": "month"}))]}));
    let utc = run(&t, &admin, by_month.clone()).await;
    let sql =
        "SELECT date_trunc('month', created_at) m, count(*) FROM orders GROUP BY m ORDER BY m";
    assert_eq!(utc["data"]["rows"], rows_of(&t, &admin, w, sql).await);
    assert!(
        utc["data"]["rows"][0][0].as_str().unwrap().ends_with('Z'),
        "{}",
        utc["data"]["rows"][0]
    );
    t.put(
        "/api/setting/report-timezone",
        &admin,
        json!({"value": "America/New_York"}),
    )
    .await
    .assert(204);
    let ny = run(&t, &admin, by_month).await;
    assert_eq!(ny["data"]["results_timezone"], "America/New_York");
    assert_eq!(ny["data"]["rows"], rows_of(&t, &admin, w, sql).await);
    for r in ny["data"]["rows"].as_array().unwrap() {
        let s = r[0].as_str().unwrap();
        assert!(s.ends_with("-05:00") || s.ends_with("-04:00"), "{s}");
    }
    let counts = |v: &Value| {
        v["data"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r[1].clone())
            .collect::<Vec<_>>()
    };
    assert_ne!(counts(&utc), counts(&ny));
    t.put(
        "/api/setting/report-timezone",
        &admin,
        json!({"value": null}),
    )
    .await
    .assert(204);
    // 69: weeks of a timestamp start on Sunday.
    let v = run(
        &t,
        &admin,
        ids.q(
            json!({"source-table": ids.table("products"), "aggregation": [["count"]],
        "breakout": [ids.fo("products.created_at", json!({"temporal-unit": "week"}))]}),
        ),
    )
    .await;
    let want = rows_of(
        &t,
        &admin,
        w,
        "SELECT date_trunc('week', created_at + INTERVAL '1 day') - INTERVAL '1 day' w, \
        count(*) FROM products GROUP BY w ORDER BY w",
    )
    .await;
    assert_eq!(v["data"]["rows"], want);
    for r in v["data"]["rows"].as_array().unwrap() {
        let d: jiff::civil::DateTime = r[0].as_str().unwrap().parse().unwrap();
        assert_eq!(
            (d.weekday(), d.hour()),
            (jiff::civil::Weekday::Sunday, 0),
            "{r}"
        );
    }
    // 70: months of a date.
    let v = run(
        &t,
        &admin,
        ids.q(
            json!({"source-table": ids.table("people"), "aggregation": [["count"]],
        "breakout": [ids.fo("people.birth_date", json!({"temporal-unit": "month"}))]}),
        ),
    )
    .await;
    assert_eq!(v["data"]["cols"][0]["base_type"], "type/Date");
    let want = rows_of(
        &t,
        &admin,
        w,
        "SELECT CAST(date_trunc('month', birth_date) AS date) m, count(*) \
        FROM people GROUP BY m ORDER BY m",
    )
    .await;
    assert_eq!(v["data"]["rows"], want);
    assert!(v["data"]["rows"][0][0].as_str().unwrap().ends_with("-01"));
    // 71
    let v = run(
        &t,
        &admin,
        ids.q(
            json!({"source-table": ids.table("products"), "aggregation": [["count"]],
        "filter": ["contains", ids.f("products.title"), "WIDGET", {"case-sensitive": false}]}),
        ),
    )
    .await;
    assert_eq!(
        v["data"]["rows"],
        rows_of(
            &t,
            &admin,
            w,
            "SELECT count(*) FROM products WHERE title ILIKE '%WIDGET%'"
        )
        .await
    );
    assert!(v["data"]["native_form"]["query"]
        .as_str()
        .unwrap()
        .contains("ILIKE"));
    // 18 on W: `%` is literal.
    let v = run(
        &t,
        &admin,
        ids.q(
            json!({"source-table": ids.table("products"), "aggregation": [["count"]],
        "filter": ["contains", ids.f("products.title"), "%"]}),
        ),
    )
    .await;
    assert_eq!(v["data"]["rows"], json!([[0]]));
    // 72
    let mixed = ids.table("Mixed Case");
    let amount = ids.f("Mixed Case.Amount \"x\"");
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": mixed, "aggregation": [["count"], ["sum", amount]]})),
    )
    .await;
    let sql = v["data"]["native_form"]["query"].as_str().unwrap();
    assert!(
        sql.contains("\"public\".\"Mixed Case\"") && sql.contains("\"Amount \"\"x\"\"\""),
        "{sql}"
    );
    assert_eq!(v["data"]["rows"][0][1].as_f64(), Some(10.5));
    assert_eq!(v["data"]["cols"][1]["base_type"], "type/Decimal");
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": mixed, "aggregation": [["count"]],
        "filter": ["!=", amount, 0]})),
    )
    .await;
    assert_eq!(v["data"]["rows"], json!([[2]]));
    // 73
    let r = dataset(
        &t,
        &admin,
        ids.q(json!({"source-table": ids.table("products"),
        "aggregation": [["sum", ids.f("products.title")]]})),
    )
    .await;
    r.assert(400);
    let e = r.json();
    assert_eq!(
        (e["error_type"].as_str(), e["class"].as_str()),
        (Some("invalid-query"), Some("postgres")),
        "{e}"
    );
    assert!(e["error"].as_str().unwrap().contains("sum"), "{e}");
    // 74
    let sample = Ids::load(&t, &admin, 1).await;
    let r = dataset(&t, &admin, sample.q(json!({"source-table": orders}))).await;
    failure(
        &r,
        400,
        "invalid-query",
        &format!("Table {orders} belongs to a different database."),
    );
    let r = dataset(
        &t,
        &admin,
        ids.q(json!({"source-table": orders, "fields": [sample.f("ORDERS.ID")]})),
    )
    .await;
    failure(
        &r,
        400,
        "invalid-query",
        &format!(
            "Field {} belongs to a different database.",
            sample.field("ORDERS.ID")
        ),
    );
});

both!(mbql_postgres_grouping_with_bound_values, |t| async move {
    let admin = t.setup().await;
    let Some((_s, w, ids)) = warehouse_w(&t, &admin).await else {
        return;
    };
    let orders = ids.table("orders");
    // Bins and CASE keys hold bound values in SELECT and GROUP BY: PostgreSQL must see one
    // expression (scenarios 47 and 53 on W).
    let v = run(&t, &admin, ids.q(json!({"source-table": ids.table("products"), "aggregation": [["count"]],
        "breakout": [ids.fo("products.price", json!({"binning": {"strategy": "num-bins", "num-bins": 10}}))]}))).await;
    let total: i64 = v["data"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_i64().unwrap())
        .sum();
    assert_eq!(total, 200);
    let v = run(&t, &admin, ids.q(json!({"source-table": orders,
        "expressions": {"Size": ["case", [[[">", ids.f("orders.total"), 100], "big"]], {"default": "small"}]},
        "aggregation": [["count"]], "breakout": [["expression", "Size"]]}))).await;
    let want = rows_of(
        &t,
        &admin,
        w,
        "SELECT CASE WHEN total > 100 THEN 'big' ELSE 'small' END k, count(*) \
        FROM orders GROUP BY k ORDER BY k",
    )
    .await;
    assert_eq!(v["data"]["rows"], want);
    // 39 and 41 on W: implicit join, cumulative count restarting per category.
    let v = run(&t, &admin, ids.q(json!({"source-table": orders, "aggregation": [["cum-count"], ["sum", ids.f("orders.total")]],
        "breakout": [ids.fo("orders.created_at", json!({"temporal-unit": "year"})),
                     ids.fo("products.category", json!({"source-field": ids.field("orders.product_id")}))]}))).await;
    assert_eq!(display_names(&v)[1], "Product → Category");
    let want = rows_of(&t, &admin, w, "SELECT date_trunc('year', o.created_at) y, p.category, \
        SUM(count(*)) OVER (PARTITION BY p.category ORDER BY date_trunc('year', o.created_at) ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), \
        sum(o.total) FROM orders o LEFT JOIN products p ON o.product_id = p.id GROUP BY 1, 2 ORDER BY 1, 2").await;
    assert_rows_close(&v["data"]["rows"], &want);
    // 23 on W: a relative window on a timestamptz binds instants.
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": orders, "aggregation": [["count"]],
        "filter": ["time-interval", ids.f("orders.created_at"), -3, "year"]})),
    )
    .await;
    let y = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year();
    assert_eq!(
        v["data"]["native_form"]["params"],
        json!([
            format!("{}-01-01T00:00:00+00:00", y - 3),
            format!("{y}-01-01T00:00:00+00:00")
        ])
    );
    let want = rows_of(
        &t,
        &admin,
        w,
        &format!(
            "SELECT count(*) FROM orders WHERE created_at >= '{}-01-01' \
        AND created_at < '{y}-01-01'",
            y - 3
        ),
    )
    .await;
    assert_eq!(v["data"]["rows"], want);
    // 21 on W: a date literal against a timestamptz compares whole days.
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": orders, "aggregation": [["count"]],
        "filter": ["=", ids.f("orders.created_at"), "2024-03-05"]})),
    )
    .await;
    let want = rows_of(&t, &admin, w, "SELECT count(*) FROM orders WHERE created_at >= '2024-03-05' AND created_at < '2024-03-06'").await;
    assert_eq!(v["data"]["rows"], want);
    assert!(want[0][0].as_i64().unwrap() > 0);
});
