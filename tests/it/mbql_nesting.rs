//! mbql.md §9.4 on the Sample Database: expressions, joins, implicit joins, stages and source
//! cards (scenarios 51–67).
use serde_json::{json, Value};

use crate::both;
use crate::mbql_support::*;
use crate::support::{Auth, TestApp};

async fn card(t: &TestApp, auth: &Auth, name: &str, query: Value) -> i64 {
    let r = t
        .post(
            "/api/card",
            auth,
            json!({"name": name, "display": "table",
            "visualization_settings": {}, "dataset_query": query}),
        )
        .await;
    r.assert(200);
    r.json()["id"].as_i64().unwrap()
}

both!(mbql_51_55_expressions, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let orders = ids.table("ORDERS");
    // 51
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": orders,
        "expressions": {"Net": ["-", ids.f("ORDERS.TOTAL"), ids.f("ORDERS.TAX")]},
        "fields": [ids.f("ORDERS.ID"), ["expression", "Net"]],
        "order-by": [["asc", ids.f("ORDERS.ID")]], "limit": 5})),
    )
    .await;
    let c = &v["data"]["cols"][1];
    assert_eq!(
        (c["name"].as_str(), c["display_name"].as_str()),
        (Some("Net"), Some("Net"))
    );
    assert_eq!(c["field_ref"], json!(["expression", "Net"]));
    assert_eq!(c["base_type"], "type/Float");
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT ID, TOTAL - TAX FROM ORDERS ORDER BY ID LIMIT 5",
    )
    .await;
    assert_rows_close(&v["data"]["rows"], &want);
    // 52
    let v = run(&t, &admin, ids.q(json!({"source-table": orders,
        "expressions": {"D": ["/", ids.f("ORDERS.TOTAL"), ["-", ids.f("ORDERS.QUANTITY"), ids.f("ORDERS.QUANTITY")]]},
        "fields": [["expression", "D"]], "limit": 20}))).await;
    for r in v["data"]["rows"].as_array().unwrap() {
        assert!(r[0].is_null(), "{r}");
    }
    // 53
    let v = run(&t, &admin, ids.q(json!({"source-table": orders,
        "expressions": {"Size": ["case", [[[">", ids.f("ORDERS.TOTAL"), 100], "big"]], {"default": "small"}]},
        "aggregation": [["count"]], "breakout": [["expression", "Size"]]}))).await;
    let want = rows_of(&t, &admin, 1, "SELECT CASE WHEN TOTAL > 100 THEN 'big' ELSE 'small' END k, COUNT(*) FROM ORDERS GROUP BY k ORDER BY k").await;
    assert_eq!(v["data"]["rows"], want);
    // 54
    let people = ids.table("PEOPLE");
    let v = run(&t, &admin, ids.q(json!({"source-table": people, "expressions": {
            "C": ["concat", ids.f("PEOPLE.NAME"), " <", ids.f("PEOPLE.EMAIL"), ">"],
            "U": ["upper", ids.f("PEOPLE.NAME")], "L": ["length", ids.f("PEOPLE.NAME")],
            "S": ["substring", ids.f("PEOPLE.NAME"), 1, 3]},
        "fields": [["expression", "C"], ["expression", "U"], ["expression", "L"], ["expression", "S"]],
        "order-by": [["asc", ids.f("PEOPLE.ID")]], "limit": 20}))).await;
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT NAME || ' <' || EMAIL || '>', upper(NAME), length(NAME), substr(NAME, 1, 3) \
        FROM PEOPLE ORDER BY ID LIMIT 20",
    )
    .await;
    assert_eq!(v["data"]["rows"], want);
    let v = run(&t, &admin, ids.q(json!({"source-table": orders, "expressions": {
            "C": ["coalesce", ids.f("ORDERS.DISCOUNT"), 0], "R": ["round", ids.f("ORDERS.TOTAL")],
            "A": ["abs", ["-", 0, ids.f("ORDERS.TOTAL")]], "Ce": ["ceil", ids.f("ORDERS.TOTAL")],
            "F": ["floor", ids.f("ORDERS.TOTAL")]},
        "fields": [["expression", "C"], ["expression", "R"], ["expression", "A"], ["expression", "Ce"], ["expression", "F"]],
        "order-by": [["asc", ids.f("ORDERS.ID")]], "limit": 50}))).await;
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT COALESCE(DISCOUNT, 0), ROUND(TOTAL), abs(0 - TOTAL), ceil(TOTAL), floor(TOTAL) \
        FROM ORDERS ORDER BY ID LIMIT 50",
    )
    .await;
    assert_rows_close(&v["data"]["rows"], &want);
    // 55
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": orders,
        "expressions": {"Net": ["-", ids.f("ORDERS.TOTAL"), ids.f("ORDERS.TAX")]}, "limit": 1})),
    )
    .await;
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
            "CREATED_AT",
            "Net"
        ]
    );
});

both!(mbql_56_62_joins, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let orders = ids.table("ORDERS");
    let join = |fields: Value| {
        json!({"source-table": ids.table("PRODUCTS"), "alias": "Products", "fields": fields,
        "condition": ["=", ids.f("ORDERS.PRODUCT_ID"), ids.fo("PRODUCTS.ID", json!({"join-alias": "Products"}))]})
    };
    // 56
    let v = run(
        &t,
        &admin,
        ids.q(
            json!({"source-table": orders, "joins": [join(json!("all"))],
        "order-by": [["asc", ids.f("ORDERS.ID")]], "limit": 3}),
        ),
    )
    .await;
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
            "CREATED_AT",
            "ID_2",
            "EAN",
            "TITLE",
            "CATEGORY",
            "VENDOR",
            "PRICE",
            "RATING",
            "CREATED_AT_2"
        ]
    );
    let d = display_names(&v);
    assert_eq!(d[9], "Products → ID");
    assert_eq!(d[16], "Products → Created At");
    assert_eq!(
        v["data"]["cols"][12]["field_ref"],
        json!(["field", ids.field("PRODUCTS.CATEGORY"), {"join-alias": "Products"}])
    );
    let want = rows_of(&t, &admin, 1, "SELECT o.*, p.* FROM ORDERS o LEFT JOIN PRODUCTS p ON o.PRODUCT_ID = p.ID ORDER BY o.ID LIMIT 3").await;
    assert_rows_close(&v["data"]["rows"], &want);
    assert!(v["data"]["native_form"]["query"]
        .as_str()
        .unwrap()
        .contains("LEFT JOIN \"PRODUCTS\" AS \"Products\""));
    // 57
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": orders, "joins": [join(json!("none"))], "limit": 1})),
    )
    .await;
    assert_eq!(col_names(&v).len(), 9);
    let v = run(
        &t,
        &admin,
        ids.q(
            json!({"source-table": orders, "limit": 1, "joins": [join(json!([
        ids.fo("PRODUCTS.TITLE", json!({"join-alias": "Products"})),
        ids.fo("PRODUCTS.PRICE", json!({"join-alias": "Products"}))]))]}),
        ),
    )
    .await;
    assert_eq!(col_names(&v).len(), 11);
    // 58
    let v = run(&t, &admin, ids.q(json!({"source-table": ids.table("PRODUCTS"), "aggregation": [["count"]],
        "joins": [{"source-table": ids.table("REVIEWS"), "alias": "R", "strategy": "inner-join",
                   "condition": ["=", ids.fo("REVIEWS.PRODUCT_ID", json!({"join-alias": "R"})), ids.f("PRODUCTS.ID")]}],
        "filter": [">=", ids.fo("REVIEWS.RATING", json!({"join-alias": "R"})), 4]}))).await;
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT COUNT(*) FROM PRODUCTS p JOIN REVIEWS r ON r.PRODUCT_ID = p.ID WHERE r.RATING >= 4",
    )
    .await;
    assert_eq!(v["data"]["rows"], want);
    // 59
    for (strategy, sql) in [("full-join", "FULL JOIN"), ("right-join", "RIGHT JOIN")] {
        let v = run(&t, &admin, ids.q(json!({"source-table": ids.table("PRODUCTS"), "aggregation": [["count"]],
            "joins": [{"source-table": ids.table("REVIEWS"), "alias": "R", "strategy": strategy,
                       "condition": ["=", ids.fo("REVIEWS.PRODUCT_ID", json!({"join-alias": "R"})), ids.f("PRODUCTS.ID")]}]}))).await;
        let want = rows_of(
            &t,
            &admin,
            1,
            &format!("SELECT COUNT(*) FROM PRODUCTS p {sql} REVIEWS r ON r.PRODUCT_ID = p.ID"),
        )
        .await;
        assert_eq!(v["data"]["rows"], want, "{strategy}");
    }
    // 60: the dbt-metabase shape and its legacy twin.
    let v5 = run(&t, &admin, ids.q5(json!({"source-table": orders, "limit": 5,
        "order-by": [["asc", {"lib/uuid": uuid()}, ids.f5("ORDERS.ID")]],
        "joins": [{"lib/type": "mbql/join", "alias": "Customers", "strategy": "left-join", "fields": "all",
            "conditions": [["=", {"lib/uuid": uuid()}, ids.f5("ORDERS.USER_ID"),
                ["field", {"lib/uuid": uuid(), "join-alias": "Customers"}, ids.field("PEOPLE.ID")]]],
            "stages": [{"lib/type": "mbql.stage/mbql", "source-table": ids.table("PEOPLE")}]}]}))).await;
    let legacy = run(&t, &admin, ids.q(json!({"source-table": orders, "limit": 5,
        "order-by": [["asc", ids.f("ORDERS.ID")]],
        "joins": [{"source-table": ids.table("PEOPLE"), "alias": "Customers", "fields": "all",
            "condition": ["=", ids.f("ORDERS.USER_ID"), ids.fo("PEOPLE.ID", json!({"join-alias": "Customers"}))]}]}))).await;
    assert_eq!(v5["data"]["rows"], legacy["data"]["rows"]);
    assert!(display_names(&v5)[9..]
        .iter()
        .all(|d| d.starts_with("Customers → ")));
    // 61
    let v = run(&t, &admin, ids.q(json!({"source-table": orders, "limit": 10, "order-by": [["asc", ids.f("ORDERS.ID")]],
        "fields": [ids.f("ORDERS.ID"),
                   ids.fo("PRODUCTS.TITLE", json!({"source-field": ids.field("ORDERS.PRODUCT_ID")})),
                   ids.fo("PEOPLE.STATE", json!({"source-field": ids.field("ORDERS.USER_ID")}))]}))).await;
    assert_eq!(display_names(&v), ["ID", "Product → Title", "User → State"]);
    let sql = v["data"]["native_form"]["query"].as_str().unwrap();
    assert!(
        sql.contains("\"PRODUCTS__via__PRODUCT_ID\"") && sql.contains("\"PEOPLE__via__USER_ID\""),
        "{sql}"
    );
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT o.ID, p.TITLE, u.STATE FROM ORDERS o LEFT JOIN PRODUCTS p ON o.PRODUCT_ID = p.ID \
        LEFT JOIN PEOPLE u ON o.USER_ID = u.ID ORDER BY o.ID LIMIT 10",
    )
    .await;
    assert_eq!(v["data"]["rows"], want);
    // 62
    let r = dataset(
        &t,
        &admin,
        ids.q(json!({"source-table": orders,
        "fields": [ids.fo("PRODUCTS.TITLE", json!({"source-field": ids.field("ORDERS.TOTAL")}))]})),
    )
    .await;
    failure(
        &r,
        400,
        "invalid-query",
        &format!(
            "Field {} cannot be reached through field {}.",
            ids.field("PRODUCTS.TITLE"),
            ids.field("ORDERS.TOTAL")
        ),
    );
});

both!(mbql_63_67_stages_and_source_cards, |t| async move {
    let admin = t.setup().await;
    let ids = Ids::load(&t, &admin, 1).await;
    let orders = ids.table("ORDERS");
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT * FROM (SELECT PRODUCT_ID, COUNT(*) AS count FROM ORDERS GROUP BY PRODUCT_ID) \
        WHERE count > 30 ORDER BY count DESC, PRODUCT_ID",
    )
    .await;
    let count_ref = json!(["field", "count", {"base-type": "type/BigInteger"}]);
    // 63: legacy source-query and two MBQL 5 stages.
    let legacy = run(&t, &admin, ids.q(json!({
        "source-query": {"source-table": orders, "aggregation": [["count"]], "breakout": [ids.f("ORDERS.PRODUCT_ID")]},
        "filter": [">", count_ref, 30],
        "order-by": [["desc", count_ref], ["asc", ["field", "PRODUCT_ID", {"base-type": "type/Integer"}]]]}))).await;
    assert_eq!(legacy["data"]["rows"], want);
    assert!(legacy["data"]["native_form"]["query"]
        .as_str()
        .unwrap()
        .contains("AS \"source\""));
    let v5 = run(&t, &admin, json!({"lib/type": "mbql/query", "database": 1, "stages": [
        {"lib/type": "mbql.stage/mbql", "source-table": orders, "aggregation": [["count", {"lib/uuid": uuid()}]],
         "breakout": [ids.f5("ORDERS.PRODUCT_ID")]},
        {"lib/type": "mbql.stage/mbql",
         "filters": [[">", {"lib/uuid": uuid()}, ["field", {"lib/uuid": uuid(), "base-type": "type/BigInteger"}, "count"], 30]],
         "order-by": [["desc", {"lib/uuid": uuid()}, ["field", {"lib/uuid": uuid(), "base-type": "type/BigInteger"}, "count"]],
                      ["asc", {"lib/uuid": uuid()}, ["field", {"lib/uuid": uuid(), "base-type": "type/Integer"}, "PRODUCT_ID"]]]}]})).await;
    assert_eq!(v5["data"]["rows"], want);
    // 64
    let v = run(&t, &admin, ids.q(json!({
        "source-query": {"source-table": orders, "aggregation": [["count"]], "breakout": [ids.f("ORDERS.PRODUCT_ID")]},
        "aggregation": [["avg", count_ref]]}))).await;
    assert_eq!(display_names(&v), ["Average of Count"]);
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT AVG(c) FROM (SELECT COUNT(*) c FROM ORDERS GROUP BY PRODUCT_ID)",
    )
    .await;
    assert_rows_close(&v["data"]["rows"], &want);
    // 65: a native source card.
    let n = card(
        &t,
        &admin,
        "N",
        json!({"database": 1, "type": "native",
        "native": {"query": "SELECT CATEGORY, PRICE FROM PRODUCTS"}}),
    )
    .await;
    let v = run(
        &t,
        &admin,
        ids.q(json!({"source-table": format!("card__{n}"),
        "aggregation": [["avg", ["field", "PRICE", {"base-type": "type/Float"}]]],
        "breakout": [["field", "CATEGORY", {"base-type": "type/Text"}]]})),
    )
    .await;
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT CATEGORY, AVG(PRICE) FROM PRODUCTS GROUP BY CATEGORY ORDER BY CATEGORY",
    )
    .await;
    assert_rows_close(&v["data"]["rows"], &want);
    let c = &v["data"]["cols"][0];
    assert_eq!(
        c["field_ref"],
        json!(["field", "CATEGORY", {"base-type": "type/Text"}])
    );
    assert!(c["id"].is_null(), "{c}");
    // 66: an MBQL source card, by MBQL 5 and by legacy with a field id.
    let m = card(
        &t,
        &admin,
        "M",
        ids.q(json!({"source-table": orders, "filter": [">", ids.f("ORDERS.TOTAL"), 100]})),
    )
    .await;
    let v = run(
        &t,
        &admin,
        ids.q5(json!({"source-card": m, "aggregation": [["count", {"lib/uuid": uuid()}]]})),
    )
    .await;
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT COUNT(*) FROM ORDERS WHERE TOTAL > 100",
    )
    .await;
    assert_eq!(v["data"]["rows"], want);
    let v = run(
        &t,
        &admin,
        ids.q(
            json!({"source-table": format!("card__{m}"), "aggregation": [["count"]],
        "filter": ["=", ids.f("ORDERS.QUANTITY"), 2]}),
        ),
    )
    .await;
    let want = rows_of(
        &t,
        &admin,
        1,
        "SELECT COUNT(*) FROM ORDERS WHERE TOTAL > 100 AND QUANTITY = 2",
    )
    .await;
    assert_eq!(v["data"]["rows"], want);
    // 67: a cycle.
    let a = card(&t, &admin, "A", ids.q(json!({"source-table": orders}))).await;
    let b = card(
        &t,
        &admin,
        "B",
        ids.q(json!({"source-table": format!("card__{a}")})),
    )
    .await;
    t.put(
        &format!("/api/card/{a}"),
        &admin,
        json!({"dataset_query": ids.q(json!({"source-table": format!("card__{b}")}))}),
    )
    .await
    .assert(200);
    let r = t
        .post(&format!("/api/card/{a}/query"), &admin, json!({}))
        .await;
    failure(
        &r,
        400,
        "invalid-query",
        "Circular or too deeply nested source cards.",
    );
});
