//! mbql.md §9.3 on the Sample Database: aggregations and breakouts (scenarios 29–45, 47–50).
use serde_json::{json, Value};

use crate::both;
use crate::mbql_support::*;
use crate::support::{Auth, TestApp};

async fn breakout_rows(t: &TestApp, auth: &Auth, ids: &Ids, table: &str, breakout: Value) -> Value {
    run(
        t,
        auth,
        ids.q(
            json!({"source-table": ids.table(table), "aggregation": [["count"]],
                     "breakout": [breakout]}),
        ),
    )
    .await
}

both!(mbql_29_31_aggregations_and_breakouts, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    // 29
    let v = run(&t, &admin, ids.q(json!({"source-table": ids.table("ORDERS"), "aggregation": [
        ["sum", ids.f("ORDERS.TOTAL")], ["avg", ids.f("ORDERS.TOTAL")], ["min", ids.f("ORDERS.TOTAL")],
        ["max", ids.f("ORDERS.TOTAL")], ["distinct", ids.f("ORDERS.USER_ID")], ["count", ids.f("ORDERS.DISCOUNT")]]}))).await;
    assert_eq!(
        col_names(&v),
        ["sum", "avg", "min", "max", "count", "count_2"]
    );
    assert_eq!(
        display_names(&v),
        [
            "Sum of Total",
            "Average of Total",
            "Min of Total",
            "Max of Total",
            "Distinct values of User ID",
            "Count of Discount"
        ]
    );
    for (i, c) in v["data"]["cols"].as_array().unwrap().iter().enumerate() {
        assert_eq!(c["field_ref"], json!(["aggregation", i]));
    }
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT SUM(TOTAL), AVG(TOTAL), MIN(TOTAL), MAX(TOTAL), \
        COUNT(DISTINCT USER_ID), COUNT(DISCOUNT) FROM ORDERS",
    )
    .await;
    assert_rows_close(&v["data"]["rows"], &want);
    // 30
    let v = breakout_rows(&t, &admin, &ids, "PRODUCTS", ids.f("PRODUCTS.CATEGORY")).await;
    assert_eq!(col_names(&v), ["CATEGORY", "count"]);
    assert_eq!(v["data"]["cols"][0]["source"], "breakout");
    assert_eq!(v["data"]["cols"][0]["display_name"], "Category");
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT CATEGORY, COUNT(*) FROM PRODUCTS GROUP BY CATEGORY ORDER BY CATEGORY",
    )
    .await;
    assert_eq!(v["data"]["rows"], want);
    // 31
    let v = breakout_rows(
        &t,
        &admin,
        &ids,
        "ORDERS",
        ids.fo("ORDERS.CREATED_AT", json!({"temporal-unit": "month"})),
    )
    .await;
    let c = &v["data"]["cols"][0];
    assert_eq!(
        (
            c["name"].as_str(),
            c["display_name"].as_str(),
            c["unit"].as_str()
        ),
        (Some("CREATED_AT"), Some("Created At: Month"), Some("month"))
    );
    assert_eq!(
        c["field_ref"],
        json!(["field", ids.field("ORDERS.CREATED_AT"), {"temporal-unit": "month"}])
    );
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT strftime('%Y-%m-%dT%H:%M:%S', CREATED_AT, 'start of month') AS m, \
        COUNT(*) FROM ORDERS GROUP BY m ORDER BY m",
    )
    .await;
    assert_eq!(v["data"]["rows"], want);
    for r in v["data"]["rows"].as_array().unwrap() {
        assert!(r[0].as_str().unwrap().ends_with("-01T00:00:00"), "{r}");
    }
});

both!(mbql_32_38_temporal_units, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let unit = |u: &str| ids.fo("ORDERS.CREATED_AT", json!({"temporal-unit": u}));
    // 32: default day bucketing.
    let v = breakout_rows(&t, &admin, &ids, "ORDERS", ids.f("ORDERS.CREATED_AT")).await;
    assert_eq!(v["data"]["cols"][0]["unit"], "day");
    assert_eq!(v["data"]["cols"][0]["display_name"], "Created At: Day");
    let want = rows_of(&t, &admin, 1, "SELECT strftime('%Y-%m-%dT00:00:00', CREATED_AT) d, COUNT(*) FROM ORDERS GROUP BY d ORDER BY d").await;
    assert_eq!(v["data"]["rows"], want);
    // 33
    let v = breakout_rows(&t, &admin, &ids, "ORDERS", unit("quarter")).await;
    let want = rows_of(&t, &admin, 1, "SELECT strftime('%Y-%m-%dT%H:%M:%S', CREATED_AT, 'start of month', '-' || \
        ((CAST(strftime('%m', CREATED_AT) AS INTEGER) - 1) % 3) || ' months') q, COUNT(*) FROM ORDERS GROUP BY q ORDER BY q").await;
    assert_eq!(v["data"]["rows"], want);
    for r in v["data"]["rows"].as_array().unwrap() {
        let m = &r[0].as_str().unwrap()[5..7];
        assert!(["01", "04", "07", "10"].contains(&m), "{r}");
    }
    let v = breakout_rows(&t, &admin, &ids, "ORDERS", unit("year")).await;
    let want = rows_of(&t, &admin, 1, "SELECT strftime('%Y-01-01T00:00:00', CREATED_AT) y, COUNT(*) FROM ORDERS GROUP BY y ORDER BY y").await;
    assert_eq!(v["data"]["rows"], want);
    // 34: weeks start on Sunday by default.
    let v = breakout_rows(&t, &admin, &ids, "ORDERS", unit("week")).await;
    let want = rows_of(&t, &admin, 1, "SELECT strftime('%Y-%m-%dT%H:%M:%S', CREATED_AT, 'start of day', '-6 days', 'weekday 0') w, \
        COUNT(*) FROM ORDERS GROUP BY w ORDER BY w").await;
    assert_eq!(v["data"]["rows"], want);
    for r in v["data"]["rows"].as_array().unwrap() {
        let d: jiff::civil::DateTime = r[0].as_str().unwrap().parse().unwrap();
        assert_eq!(d.weekday(), jiff::civil::Weekday::Sunday);
    }
    // 36
    for (u, lo, hi, sql) in [
        (
            "hour-of-day",
            0,
            23,
            "CAST(strftime('%H', CREATED_AT) AS INTEGER)",
        ),
        (
            "month-of-year",
            1,
            12,
            "CAST(strftime('%m', CREATED_AT) AS INTEGER)",
        ),
        (
            "quarter-of-year",
            1,
            4,
            "(CAST(strftime('%m', CREATED_AT) AS INTEGER) + 2) / 3",
        ),
        (
            "day-of-month",
            1,
            31,
            "CAST(strftime('%d', CREATED_AT) AS INTEGER)",
        ),
    ] {
        let v = breakout_rows(&t, &admin, &ids, "ORDERS", unit(u)).await;
        assert_eq!(v["data"]["cols"][0]["base_type"], "type/Integer");
        let want = rows_of(
            &t,
            &admin,
            1,
            &format!("SELECT {sql} x, COUNT(*) FROM ORDERS GROUP BY x ORDER BY x"),
        )
        .await;
        assert_eq!(v["data"]["rows"], want, "{u}");
        for r in v["data"]["rows"].as_array().unwrap() {
            let x = r[0].as_i64().unwrap();
            assert!((lo..=hi).contains(&x), "{u}: {x}");
        }
    }
    // 37: a DATE column keeps its kind.
    let v = breakout_rows(
        &t,
        &admin,
        &ids,
        "PEOPLE",
        ids.fo("PEOPLE.BIRTH_DATE", json!({"temporal-unit": "year"})),
    )
    .await;
    let want = rows_of(&t, &admin, 1, "SELECT strftime('%Y-%m-%d', BIRTH_DATE, 'start of year') y, COUNT(*) FROM PEOPLE GROUP BY y ORDER BY y").await;
    assert_eq!(v["data"]["rows"], want);
    assert!(v["data"]["rows"][0][0].as_str().unwrap().len() == 10);
    // 38: a time unit on a date.
    let r = dataset(
        &t,
        &admin,
        ids.q(
            json!({"source-table": ids.table("PEOPLE"), "aggregation": [["count"]],
        "breakout": [ids.fo("PEOPLE.BIRTH_DATE", json!({"temporal-unit": "hour"}))]}),
        ),
    )
    .await;
    failure(
        &r,
        400,
        "invalid-query",
        "Temporal unit hour is not valid for field Birth Date.",
    );
    // 35: start-of-week monday.
    t.put(
        "/api/setting/start-of-week",
        &admin,
        json!({"value": "monday"}),
    )
    .await
    .assert(204);
    let v = breakout_rows(&t, &admin, &ids, "ORDERS", unit("week")).await;
    for r in v["data"]["rows"].as_array().unwrap() {
        let d: jiff::civil::DateTime = r[0].as_str().unwrap().parse().unwrap();
        assert_eq!(d.weekday(), jiff::civil::Weekday::Monday);
    }
    let v = breakout_rows(&t, &admin, &ids, "ORDERS", unit("day-of-week")).await;
    assert_eq!(
        v["data"]["cols"][0]["display_name"],
        "Created At: Day of week"
    );
    assert_eq!(v["data"]["cols"][0]["base_type"], "type/Integer");
    let want = rows_of(&t, &admin, 1, "SELECT ((CAST(strftime('%w',CREATED_AT) AS INTEGER)+6)%7)+1 d, COUNT(*) FROM ORDERS GROUP BY d ORDER BY d").await;
    assert_eq!(v["data"]["rows"], want);
});

both!(
    mbql_39_45_breakouts_joins_cumulative_named,
    |t| async move {
        let admin = t.setup().await;
        let ids = Ids::load(&t, &admin, 1).await;
        let orders = ids.table("ORDERS");
        let year = ids.fo("ORDERS.CREATED_AT", json!({"temporal-unit": "year"}));
        let category = ids.fo(
            "PRODUCTS.CATEGORY",
            json!({"source-field": ids.field("ORDERS.PRODUCT_ID")}),
        );
        // 39
        let v = run(
            &t,
            &admin,
            ids.q(
                json!({"source-table": orders, "aggregation": [["sum", ids.f("ORDERS.TOTAL")]],
        "breakout": [year, category]}),
            ),
        )
        .await;
        assert_eq!(col_names(&v), ["CREATED_AT", "CATEGORY", "sum"]);
        assert_eq!(v["data"]["cols"][1]["display_name"], "Product → Category");
        assert_eq!(v["data"]["cols"][1]["field_ref"], category);
        let want = rows_of(&t, &admin, 1, "SELECT strftime('%Y-01-01T00:00:00',o.CREATED_AT) y, p.CATEGORY, SUM(o.TOTAL) \
        FROM ORDERS o LEFT JOIN PRODUCTS p ON o.PRODUCT_ID = p.ID GROUP BY y, p.CATEGORY ORDER BY y, p.CATEGORY").await;
        assert_rows_close(&v["data"]["rows"], &want);
        // 40
        let v = run(
            &t,
            &admin,
            ids.q(json!({"source-table": orders,
        "aggregation": [["cum-sum", ids.f("ORDERS.TOTAL")], ["cum-count"]], "breakout": [year]})),
        )
        .await;
        assert_eq!(col_names(&v), ["CREATED_AT", "sum", "cum_count"]);
        assert_eq!(
            display_names(&v)[1..],
            ["Cumulative sum of Total", "Cumulative count"]
        );
        let want = rows_of(&t, &admin, 1, "SELECT y, SUM(SUM(TOTAL)) OVER (ORDER BY y ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW), \
        SUM(COUNT(*)) OVER (ORDER BY y ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) \
        FROM (SELECT strftime('%Y-01-01T00:00:00',CREATED_AT) y, TOTAL FROM ORDERS) GROUP BY y ORDER BY y").await;
        assert_rows_close(&v["data"]["rows"], &want);
        let rows = v["data"]["rows"].as_array().unwrap();
        assert_eq!(rows.last().unwrap()[2], 5000);
        // 41: restarts per category.
        let v = run(
            &t,
            &admin,
            ids.q(
                json!({"source-table": orders, "aggregation": [["cum-count"]],
        "breakout": [year, category]}),
            ),
        )
        .await;
        let rows = v["data"]["rows"].as_array().unwrap();
        let first_year = rows[0][0].clone();
        let firsts: Vec<&Value> = rows.iter().filter(|r| r[0] == first_year).collect();
        let direct = rows_of(&t, &admin, 1, &format!("SELECT p.CATEGORY, COUNT(*) FROM ORDERS o LEFT JOIN PRODUCTS p \
        ON o.PRODUCT_ID = p.ID WHERE strftime('%Y-01-01T00:00:00', o.CREATED_AT) = {first_year} GROUP BY p.CATEGORY ORDER BY p.CATEGORY")).await;
        let got: Vec<Value> = firsts.iter().map(|r| json!([r[1], r[2]])).collect();
        assert_eq!(Value::Array(got), direct);
        let total: i64 = rows
            .iter()
            .fold(std::collections::HashMap::new(), |mut m, r| {
                m.insert(r[1].to_string(), r[2].as_i64().unwrap());
                m
            })
            .values()
            .sum();
        assert_eq!(total, 5000);
        // 42
        let v = run(
            &t,
            &admin,
            ids.q(json!({"source-table": orders, "aggregation": [
        ["count-where", [">", ids.f("ORDERS.TOTAL"), 100]],
        ["sum-where", ids.f("ORDERS.TOTAL"), ["=", ids.f("ORDERS.QUANTITY"), 1]],
        ["share", ["not-null", ids.f("ORDERS.DISCOUNT")]]]})),
        )
        .await;
        assert_eq!(col_names(&v), ["count-where", "sum_where_TOTAL", "share"]);
        assert_eq!(
            display_names(&v),
            [
                "Count of rows matching condition",
                "Sum of Total matching condition",
                "Share of rows matching condition"
            ]
        );
        let want = rows_of(
            &t,
            &admin,
            1,
            "SELECT COUNT(CASE WHEN TOTAL > 100 THEN 1 END), \
        SUM(CASE WHEN QUANTITY = 1 THEN TOTAL ELSE 0 END), \
        CAST(COUNT(CASE WHEN DISCOUNT IS NOT NULL THEN 1 END) AS REAL) / COUNT(*) FROM ORDERS",
        )
        .await;
        assert_rows_close(&v["data"]["rows"], &want);
        // 43
        let v = run(&t, &admin, ids.q(json!({"source-table": orders, "aggregation": [
        ["aggregation-options", ["sum", ids.f("ORDERS.TOTAL")], {"name": "revenue", "display-name": "Revenue"}]]}))).await;
        assert_eq!(
            (col_names(&v), display_names(&v)),
            (vec!["revenue".to_string()], vec!["Revenue".to_string()])
        );
        let v = run(&t, &admin, ids.q5(json!({"source-table": orders, "aggregation": [
        ["sum", {"lib/uuid": uuid(), "name": "revenue", "display-name": "Revenue"}, ids.f5("ORDERS.TOTAL")]]}))).await;
        assert_eq!(
            (col_names(&v), display_names(&v)),
            (vec!["revenue".to_string()], vec!["Revenue".to_string()])
        );
        // 44
        let want = rows_of(&t, &admin, 1, "SELECT PRODUCT_ID, COUNT(*) c FROM ORDERS GROUP BY PRODUCT_ID ORDER BY c DESC, PRODUCT_ID ASC LIMIT 5").await;
        let v = run(&t, &admin, ids.q(json!({"source-table": orders, "aggregation": [["count"]],
        "breakout": [ids.f("ORDERS.PRODUCT_ID")], "order-by": [["desc", ["aggregation", 0]]], "limit": 5}))).await;
        assert_eq!(v["data"]["rows"], want);
        let u = uuid();
        let v = run(&t, &admin, ids.q5(json!({"source-table": orders, "aggregation": [["count", {"lib/uuid": u}]],
        "breakout": [ids.f5("ORDERS.PRODUCT_ID")],
        "order-by": [["desc", {"lib/uuid": uuid()}, ["aggregation", {"lib/uuid": uuid()}, u]]], "limit": 5}))).await;
        assert_eq!(v["data"]["rows"], want);
        // 45
        let r = dataset(
            &t,
            &admin,
            ids.q(
                json!({"source-table": orders, "aggregation": [["median", ids.f("ORDERS.TOTAL")]]}),
            ),
        )
        .await;
        failure(
            &r,
            400,
            "unsupported-feature",
            "Aggregation \"median\" on SQLite is not supported by ferrobase.",
        );
    }
);

/// §2.6.3 by hand, for the scenarios' expectations.
fn nice_bins(min: f64, max: f64, n: f64) -> (f64, f64) {
    let mut w = ((max - min) / n * 1e5).round() / 1e5;
    let s = 10f64.powf(w.log10().floor());
    w = [1.0, 1.25, 2.0, 2.5, 3.0, 5.0, 7.5, 10.0]
        .iter()
        .map(|m| m * s)
        .find(|x| *x >= w)
        .unwrap();
    ((min / w).floor() * w, w)
}

both!(mbql_47_50_binning, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let products = ids.table("PRODUCTS");
    // 47
    let v = run(&t, &admin, ids.q(json!({"source-table": products, "aggregation": [["count"]],
        "breakout": [ids.fo("PRODUCTS.PRICE", json!({"binning": {"strategy": "num-bins", "num-bins": 10}}))]}))).await;
    let c = &v["data"]["cols"][0];
    assert_eq!(c["display_name"], "Price: 10 bins");
    let mm = rows_of(&t, &admin, 1, "SELECT MIN(PRICE), MAX(PRICE) FROM PRODUCTS").await;
    let (m, w) = nice_bins(mm[0][0].as_f64().unwrap(), mm[0][1].as_f64().unwrap(), 10.0);
    assert_eq!(c["binning_info"]["bin_width"].as_f64(), Some(w));
    assert_eq!(c["binning_info"]["min_value"].as_f64(), Some(m));
    let want = rows_of(&t, &admin, 1, &format!("SELECT floor((PRICE - {m}) / {w}) * {w} + {m} b, COUNT(*) FROM PRODUCTS GROUP BY b ORDER BY b")).await;
    assert_rows_close(&v["data"]["rows"], &want);
    let total: i64 = v["data"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[1].as_i64().unwrap())
        .sum();
    assert_eq!(total, 200);
    // 48
    let v = run(&t, &admin, ids.q(json!({"source-table": products, "aggregation": [["count"]],
        "breakout": [ids.fo("PRODUCTS.PRICE", json!({"binning": {"strategy": "bin-width", "bin-width": 25}}))]}))).await;
    assert_eq!(v["data"]["cols"][0]["display_name"], "Price: 25");
    let bins: Vec<f64> = v["data"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_f64().unwrap())
        .collect();
    assert_eq!(bins, [0.0, 25.0, 50.0, 75.0]);
    // 49
    let v = run(
        &t,
        &admin,
        ids.q(
            json!({"source-table": ids.table("PEOPLE"), "aggregation": [["count"]],
        "breakout": [ids.fo("PEOPLE.LATITUDE", json!({"binning": {"strategy": "default"}}))]}),
        ),
    )
    .await;
    let c = &v["data"]["cols"][0];
    assert_eq!(c["display_name"], "Latitude: Auto binned");
    assert_eq!(c["binning_info"]["binning_strategy"], "bin-width");
    assert_eq!(c["binning_info"]["bin_width"].as_f64(), Some(10.0));
    let v = run(
        &t,
        &admin,
        ids.q(
            json!({"source-table": ids.table("ORDERS"), "aggregation": [["count"]],
        "breakout": [ids.fo("ORDERS.TOTAL", json!({"binning": {"strategy": "default"}}))]}),
        ),
    )
    .await;
    let c = &v["data"]["cols"][0];
    assert_eq!(c["display_name"], "Total: Auto binned");
    assert_eq!(c["binning_info"]["binning_strategy"], "num-bins");
    assert_eq!(c["binning_info"]["num_bins"], 8);
    // 50
    let v = run(&t, &admin, ids.q(json!({"source-table": products, "aggregation": [["count"]],
        "filter": [">=", ids.f("PRODUCTS.PRICE"), 50],
        "breakout": [ids.fo("PRODUCTS.PRICE", json!({"binning": {"strategy": "num-bins", "num-bins": 10}}))]}))).await;
    assert_eq!(
        v["data"]["cols"][0]["binning_info"]["min_value"].as_f64(),
        Some(50.0)
    );
    for r in v["data"]["rows"].as_array().unwrap() {
        assert!(r[0].as_f64().unwrap() >= 50.0, "{r}");
    }
});
