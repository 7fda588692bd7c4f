//! mbql.md §9.1–§9.2 on the Sample Database: forms, basic runs and filters (scenarios 1–28).
use serde_json::{json, Value};

use crate::both;
use crate::mbql_support::*;

both!(mbql_1_9_forms_and_basic_runs, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let orders = ids.table("ORDERS");
    // 1: implicit fields, the interactive cap.
    let body = ids.q(json!({"source-table": orders}));
    let v = run(&t, &admin, body.clone()).await;
    assert_eq!(v["row_count"], 2000);
    assert_eq!(v["data"]["rows_truncated"], 2000);
    assert_eq!(
        col_names(&v),
        [
            "ID",
            "USER_ID",
            "PRODUCT_ID",
            "QUANTITY",
            "SUBTOTAL",
            "TAX",
            "DISCOUNT",
            "TOTAL",
            "CREATED_AT"
        ]
    );
    for c in v["data"]["cols"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let id = ids.field(&format!("ORDERS.{name}"));
        assert_eq!(c["source"], "fields");
        assert_eq!(c["id"], id);
        assert_eq!(c["table_id"], orders);
        assert_eq!(c["field_ref"], json!(["field", id, null]));
        assert!(c.get("unit").is_none(), "{c}");
    }
    assert_eq!(v["context"], "ad-hoc");
    assert_eq!(v["json_query"], body);
    // 2: the MBQL 5 twin.
    let body5 = ids.q5(json!({"source-table": orders}));
    let v5 = run(&t, &admin, body5.clone()).await;
    assert_eq!(v5["data"]["cols"], v["data"]["cols"]);
    assert_eq!(sorted(&v5["data"]["rows"]), sorted(&v["data"]["rows"]));
    assert_eq!(v5["json_query"], body5);
    // 3: order-by and limit.
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": ids.table("PRODUCTS"),
                     "order-by": [["asc", ids.f("PRODUCTS.ID")]], "limit": 5})),
    )
    .await;
    let want = rows_of(&t, &admin, 1,
        "SELECT ID, EAN, TITLE, CATEGORY, VENDOR, PRICE, RATING, CREATED_AT FROM PRODUCTS ORDER BY ID LIMIT 5").await;
    assert_eq!(v["data"]["rows"], want);
    assert!(v["data"].get("rows_truncated").is_none());
    // 4 and 5: count, normalised spellings.
    for query in [
        json!({"source-table": orders, "aggregation": [["count"]]}),
        json!({"Source_Table": orders, "AGGREGATION": [["COUNT"]]}),
    ] {
        let v = run(&t, &admin, ids.q(query)).await;
        assert_eq!(v["data"]["rows"], json!([[5000]]));
        let c = &v["data"]["cols"][0];
        assert_eq!(c["name"], "count");
        assert_eq!(c["display_name"], "Count");
        assert_eq!(c["source"], "aggregation");
        assert_eq!(c["field_ref"], json!(["aggregation", 0]));
        assert_eq!(c["base_type"], "type/BigInteger");
        assert_eq!(c["semantic_type"], "type/Quantity");
    }
    // 6: explicit fields.
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": orders,
                     "fields": [ids.f("ORDERS.ID"), ids.f("ORDERS.TOTAL")],
                     "order-by": [["desc", ids.f("ORDERS.TOTAL")]], "limit": 3})),
    )
    .await;
    assert_eq!(col_names(&v), ["ID", "TOTAL"]);
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT ID, TOTAL FROM ORDERS ORDER BY TOTAL DESC LIMIT 3",
    )
    .await;
    assert_eq!(v["data"]["rows"], want);
    // 7: page 3 of 10.
    let v = run(
        &t,
        &admin,
        ids.q(
            json!({"source-table": orders, "fields": [ids.f("ORDERS.ID")],
                     "order-by": [["asc", ids.f("ORDERS.ID")]],
                     "page": {"page": 3, "items": 10}}),
        ),
    )
    .await;
    let got: Vec<i64> = v["data"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_i64().unwrap())
        .collect();
    assert_eq!(got, (21..=30).collect::<Vec<_>>());
    // 8: limit 0.
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": orders, "limit": 0})),
    )
    .await;
    assert_eq!(v["row_count"], 0);
    assert_eq!(v["data"]["cols"].as_array().unwrap().len(), 9);
    // 9: native_form has placeholders, not values.
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": orders, "aggregation": [["count"]],
                     "filter": [">", ids.f("ORDERS.TOTAL"), 123.25]})),
    )
    .await;
    let sql = v["data"]["native_form"]["query"].as_str().unwrap();
    assert!(sql.contains("\"ORDERS\""), "{sql}");
    assert!(!sql.contains("123.25"), "{sql}");
    assert_eq!(v["data"]["native_form"]["params"], json!([123.25]));
});

/// `count` of `table` with `filter`.
async fn count(
    t: &crate::support::TestApp,
    auth: &crate::support::Auth,
    ids: &Ids,
    table: &str,
    filter: Value,
) -> Value {
    let v = run(
        t,
        auth,
        ids.q(
            json!({"source-table": ids.table(table), "aggregation": [["count"]], "filter": filter}),
        ),
    )
    .await;
    v["data"]["rows"][0][0].clone()
}

async fn count_sql(t: &crate::support::TestApp, auth: &crate::support::Auth, sql: &str) -> Value {
    rows_of(t, auth, 1, sql).await[0][0].clone()
}

both!(mbql_10_20_filters, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("PRODUCTS", json!(["=", ids.f("PRODUCTS.CATEGORY"), "Widget"]),
         "SELECT COUNT(*) FROM PRODUCTS WHERE CATEGORY = 'Widget'"),
        ("PRODUCTS", json!(["=", ids.f("PRODUCTS.CATEGORY"), "Widget", "Gadget"]),
         "SELECT COUNT(*) FROM PRODUCTS WHERE CATEGORY IN ('Widget','Gadget')"),
        ("ORDERS", json!(["!=", ids.f("ORDERS.DISCOUNT"), 5]),
         "SELECT COUNT(*) FROM ORDERS WHERE DISCOUNT <> 5 OR DISCOUNT IS NULL"),
        ("ORDERS", json!(["is-null", ids.f("ORDERS.DISCOUNT")]),
         "SELECT COUNT(*) FROM ORDERS WHERE DISCOUNT IS NULL"),
        ("ORDERS", json!(["not-null", ids.f("ORDERS.DISCOUNT")]),
         "SELECT COUNT(*) FROM ORDERS WHERE DISCOUNT IS NOT NULL"),
        ("ORDERS", json!(["between", ids.f("ORDERS.TOTAL"), 20, 30]),
         "SELECT COUNT(*) FROM ORDERS WHERE TOTAL BETWEEN 20 AND 30"),
        ("PEOPLE", json!(["contains", ids.f("PEOPLE.EMAIL"), "EXAMPLE.ORG", {"case-sensitive": false}]),
         "SELECT COUNT(*) FROM PEOPLE WHERE instr(lower(EMAIL), 'example.org') > 0"),
        ("PRODUCTS", json!(["does-not-contain", ids.f("PRODUCTS.TITLE"), "a", {"case-sensitive": false}]),
         "SELECT COUNT(*) FROM PRODUCTS WHERE NOT (instr(lower(TITLE),'a') > 0) OR TITLE IS NULL"),
        ("PEOPLE", json!(["starts-with", ids.f("PEOPLE.NAME"), "A"]),
         "SELECT COUNT(*) FROM PEOPLE WHERE substr(NAME,1,1) = 'A'"),
        ("PEOPLE", json!(["ends-with", ids.f("PEOPLE.EMAIL"), ".net"]),
         "SELECT COUNT(*) FROM PEOPLE WHERE substr(EMAIL,-4) = '.net'"),
        ("ORDERS", json!(["and", [">", ids.f("ORDERS.TOTAL"), 100],
                          ["or", ["=", ids.f("ORDERS.QUANTITY"), 1], ["not", ["<", ids.f("ORDERS.TAX"), 2]]]]),
         "SELECT COUNT(*) FROM ORDERS WHERE TOTAL > 100 AND (QUANTITY = 1 OR NOT (TAX < 2))"),
        ("PEOPLE", json!(["inside", ids.f("PEOPLE.LATITUDE"), ids.f("PEOPLE.LONGITUDE"), 40, -100, 30, -90]),
         "SELECT COUNT(*) FROM PEOPLE WHERE LATITUDE BETWEEN 30 AND 40 AND LONGITUDE BETWEEN -100 AND -90"),
    ];
    for (table, filter, sql) in cases {
        let got = count(&t, &admin, &ids, table, filter.clone()).await;
        assert_eq!(got, count_sql(&t, &admin, sql).await, "{filter} vs {sql}");
    }
    // 10: the value is bound.
    let v = run(
        &t,
        &admin,
        ids.q(
            json!({"source-table": ids.table("PRODUCTS"), "aggregation": [["count"]],
        "filter": ["=", ids.f("PRODUCTS.CATEGORY"), "Widget"]}),
        ),
    )
    .await;
    assert_eq!(v["data"]["native_form"]["params"], json!(["Widget"]));
    // 12: nulls included.
    let plain = count_sql(
        &t,
        &admin,
        "SELECT COUNT(*) FROM ORDERS WHERE DISCOUNT <> 5",
    )
    .await;
    let got = count(
        &t,
        &admin,
        &ids,
        "ORDERS",
        json!(["!=", ids.f("ORDERS.DISCOUNT"), 5]),
    )
    .await;
    assert!(got.as_i64() > plain.as_i64());
    // 13: the two counts add up.
    let a = count(
        &t,
        &admin,
        &ids,
        "ORDERS",
        json!(["is-null", ids.f("ORDERS.DISCOUNT")]),
    )
    .await;
    let b = count(
        &t,
        &admin,
        &ids,
        "ORDERS",
        json!(["not-null", ids.f("ORDERS.DISCOUNT")]),
    )
    .await;
    assert_eq!(a.as_i64().unwrap() + b.as_i64().unwrap(), 5000);
    // 15: case-sensitive by default.
    let got = count(
        &t,
        &admin,
        &ids,
        "PEOPLE",
        json!(["contains", ids.f("PEOPLE.EMAIL"), "EXAMPLE.ORG"]),
    )
    .await;
    assert_eq!(got, 0);
    // 18: `%` is literal.
    let got = count(
        &t,
        &admin,
        &ids,
        "PRODUCTS",
        json!(["contains", ids.f("PRODUCTS.TITLE"), "%"]),
    )
    .await;
    assert_eq!(got, 0);
});

both!(
    mbql_21_28_temporal_filters_and_stage_filters,
    |t| async move {
        let admin = t.setup().await;
        let ids = Ids::load(&t, &admin, 1).await;
        let at = ids.f("ORDERS.CREATED_AT");
        let cases: Vec<(Value, String)> = vec![
        (json!(["=", at, "2024-03-05"]),
         "SELECT COUNT(*) FROM ORDERS WHERE CREATED_AT >= '2024-03-05' AND CREATED_AT < '2024-03-06'".into()),
        (json!(["<=", at, "2023-01-31"]),
         "SELECT COUNT(*) FROM ORDERS WHERE CREATED_AT < '2023-02-01'".into()),
        (json!(["between", at, "2023-01-01", "2023-01-31"]),
         "SELECT COUNT(*) FROM ORDERS WHERE CREATED_AT >= '2023-01-01' AND CREATED_AT < '2023-02-01'".into()),
        (json!(["during", at, "2024-02-10", "month"]),
         "SELECT COUNT(*) FROM ORDERS WHERE CREATED_AT >= '2024-02-01' AND CREATED_AT < '2024-03-01'".into()),
        (json!(["=", ids.fo("ORDERS.CREATED_AT", json!({"temporal-unit": "month"})), "2024-03-01"]),
         "SELECT COUNT(*) FROM ORDERS WHERE CREATED_AT >= '2024-03-01' AND CREATED_AT < '2024-04-01'".into()),
        (json!(["=", ids.f("PRODUCTS.CATEGORY"), "x' OR '1'='1"]), "SELECT 0".into()),
    ];
        for (filter, sql) in cases {
            let table = if sql == "SELECT 0" {
                "PRODUCTS"
            } else {
                "ORDERS"
            };
            let got = count(&t, &admin, &ids, table, filter.clone()).await;
            assert_eq!(got, count_sql(&t, &admin, &sql).await, "{filter} vs {sql}");
            assert!(
                got.as_i64().unwrap() > 0 || sql == "SELECT 0",
                "{filter}: an empty window tests nothing"
            );
        }
        // 23, 24, 26: relative windows, computed from the current UTC date.
        let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
        let y = now.year();
        let v = run(
            &t,
            &admin,
            ids.q(
                json!({"source-table": ids.table("ORDERS"), "aggregation": [["count"]],
        "filter": ["time-interval", at, -3, "year"]}),
            ),
        )
        .await;
        assert_eq!(
            v["data"]["native_form"]["params"],
            json!([
                format!("{}-01-01T00:00:00", y - 3),
                format!("{y}-01-01T00:00:00")
            ])
        );
        let want = count_sql(&t, &admin, &format!(
        "SELECT COUNT(*) FROM ORDERS WHERE CREATED_AT >= '{}-01-01' AND CREATED_AT < '{y}-01-01'", y - 3)).await;
        assert_eq!(v["data"]["rows"][0][0], want);
        let got = count(
            &t,
            &admin,
            &ids,
            "ORDERS",
            json!(["time-interval", at, -3, "year", {"include-current": true}]),
        )
        .await;
        let want = count_sql(&t, &admin, &format!(
        "SELECT COUNT(*) FROM ORDERS WHERE CREATED_AT >= '{}-01-01' AND CREATED_AT < '{}-01-01'", y - 3, y + 1)).await;
        assert_eq!(got, want);
        let v = run(
            &t,
            &admin,
            ids.q(
                json!({"source-table": ids.table("ORDERS"), "aggregation": [["count"]],
        "filter": ["time-interval", at, "current", "month"]}),
            ),
        )
        .await;
        assert_eq!(v["data"]["rows"], json!([[0]]));
        let first = now.date().first_of_month();
        let next = first.checked_add(jiff::Span::new().months(1)).unwrap();
        assert_eq!(
            v["data"]["native_form"]["params"],
            json!([format!("{first}T00:00:00"), format!("{next}T00:00:00")])
        );
        let v = run(
            &t,
            &admin,
            ids.q(
                json!({"source-table": ids.table("ORDERS"), "aggregation": [["count"]],
        "filter": ["relative-time-interval", at, -2, "month", -1, "year"]}),
            ),
        )
        .await;
        let shift = |months: i64| {
            first
                .checked_add(jiff::Span::new().months(months).years(-1))
                .unwrap()
        };
        assert_eq!(
            v["data"]["native_form"]["params"],
            json!([
                format!("{}T00:00:00", shift(-2)),
                format!("{}T00:00:00", shift(0))
            ])
        );
        let want = count_sql(
            &t,
            &admin,
            &format!(
                "SELECT COUNT(*) FROM ORDERS WHERE CREATED_AT >= '{}' AND CREATED_AT < '{}'",
                shift(-2),
                shift(0)
            ),
        )
        .await;
        assert_eq!(v["data"]["rows"][0][0], want);
        // 27: MBQL 5 filters are AND-ed.
        let v = run(
            &t,
            &admin,
            ids.q5(json!({"source-table": ids.table("ORDERS"),
        "aggregation": [["count", {"lib/uuid": uuid()}]],
        "filters": [[">", {"lib/uuid": uuid()}, ids.f5("ORDERS.TOTAL"), 100],
                    ["=", {"lib/uuid": uuid()}, ids.f5("ORDERS.QUANTITY"), 2]]})),
        )
        .await;
        let want = count_sql(
            &t,
            &admin,
            "SELECT COUNT(*) FROM ORDERS WHERE TOTAL > 100 AND QUANTITY = 2",
        )
        .await;
        assert_eq!(v["data"]["rows"][0][0], want);
        // 28: the injection attempt is a value.
        let v = run(
            &t,
            &admin,
            ids.q(
                json!({"source-table": ids.table("PRODUCTS"), "aggregation": [["count"]],
        "filter": ["=", ids.f("PRODUCTS.CATEGORY"), "x' OR '1'='1"]}),
            ),
        )
        .await;
        assert_eq!(v["data"]["rows"], json!([[0]]));
        assert!(!v["data"]["native_form"]["query"]
            .as_str()
            .unwrap()
            .contains("OR '1'"));
        assert_eq!(v["data"]["native_form"]["params"], json!(["x' OR '1'='1"]));
    }
);
