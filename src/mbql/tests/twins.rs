//! A legacy query and its MBQL 5 twin (§1.6) parse to the same model.
use serde_json::json;

use super::*;

fn twins(legacy_query: Value, v5_query: Value) {
    let (l, v) = (ok(legacy_query.clone()), ok(v5_query.clone()));
    assert_eq!(l, v, "\nlegacy: {legacy_query}\nMBQL 5: {v5_query}");
    // The legacy query written as MBQL 5 by `legacy_to_v5` is a twin too.
    let converted = Value::Object(
        crate::mbql::legacy_to_v5(legacy_query.as_object().unwrap()).expect("converts"),
    );
    assert_eq!(converted["lib/type"], "mbql/query", "{converted}");
    assert_eq!(
        ok(converted.clone()),
        l,
        "\nlegacy: {legacy_query}\nwritten as MBQL 5: {converted}"
    );
}

/// MBQL 5 field reference with a uuid and informative base type.
fn f5(id: i64) -> Value {
    json!(["field", {"lib/uuid": format!("f-{id}"), "base-type": "type/Integer"}, id])
}

fn f(id: i64) -> Value {
    json!(["field", id, null])
}

#[test]
fn scenarios_1_and_2_plain_table() {
    twins(
        legacy(json!({"source-table": 5})),
        q5(json!({"source-table": 5})),
    );
}

#[test]
fn the_spec_examples_of_1_2_and_1_3() {
    twins(
        legacy(json!({"source-table": 12,
            "filter": [">", ["field", 45, null], 50],
            "aggregation": [["count"]],
            "breakout": [["field", 41, {"temporal-unit": "month"}]],
            "order-by": [["desc", ["aggregation", 0]]],
            "limit": 10})),
        json!({"lib/type": "mbql/query", "database": 1,
         "stages": [{"lib/type": "mbql.stage/mbql", "source-table": 12,
                     "filters": [[">", {"lib/uuid": "8e1c"}, ["field", {"lib/uuid": "a1", "base-type": "type/Float"}, 45], 50]],
                     "aggregation": [["count", {"lib/uuid": "c0"}]],
                     "breakout": [["field", {"lib/uuid": "b2", "temporal-unit": "month"}, 41]],
                     "order-by": [["desc", {"lib/uuid": "d3"}, ["aggregation", {"lib/uuid": "e4"}, "c0"]]],
                     "limit": 10}]}),
    );
}

#[test]
fn scenario_27_filters_are_anded() {
    twins(
        legacy(json!({"source-table": 1,
            "filter": ["and", [">", f(2), 100], ["=", f(3), 2]]})),
        q5(json!({"source-table": 1,
            "filters": [[">", {}, f5(2), 100], ["=", {}, f5(3), 2]]})),
    );
}

#[test]
fn scenario_43_named_aggregations() {
    twins(
        legacy(json!({"source-table": 1, "aggregation": [
            ["aggregation-options", ["sum", f(7)], {"name": "revenue", "display-name": "Revenue"}]]})),
        q5(json!({"source-table": 1, "aggregation": [
            ["sum", {"lib/uuid": "s", "name": "revenue", "display-name": "Revenue"}, f5(7)]]})),
    );
}

#[test]
fn scenario_44_order_by_an_aggregation() {
    twins(
        legacy(
            json!({"source-table": 1, "aggregation": [["sum", f(7)], ["count"]],
            "breakout": [f(3)], "order-by": [["desc", ["aggregation", 1]]], "limit": 5}),
        ),
        q5(json!({"source-table": 1,
            "aggregation": [["sum", {"lib/uuid": "u-sum"}, f5(7)], ["count", {"lib/uuid": "u-count"}]],
            "breakout": [f5(3)],
            "order-by": [["desc", {"lib/uuid": "o"}, ["aggregation", {"lib/uuid": "r"}, "u-count"]]],
            "limit": 5})),
    );
}

#[test]
fn scenario_60_joins() {
    twins(
        legacy(json!({"source-table": 1, "joins": [{
            "source-table": 3, "alias": "Customers", "fields": "all", "strategy": "left-join",
            "condition": ["=", f(2), ["field", 30, {"join-alias": "Customers"}]]}]})),
        q5(json!({"source-table": 1, "joins": [{
            "lib/type": "mbql/join", "alias": "Customers", "fields": "all", "strategy": "left-join",
            "conditions": [["=", {"lib/uuid": "j"}, f5(2),
                            ["field", {"lib/uuid": "k", "join-alias": "Customers"}, 30]]],
            "stages": [{"lib/type": "mbql.stage/mbql", "source-table": 3}]}]})),
    );
}

#[test]
fn scenario_63_two_stages() {
    let count = json!(["field", "count", {"base-type": "type/BigInteger"}]);
    let count5 = json!(["field", {"base-type": "type/BigInteger"}, "count"]);
    twins(
        legacy(
            json!({"source-query": {"source-table": 1, "aggregation": [["count"]], "breakout": [f(4)]},
            "filter": [">", count, 30], "order-by": [["desc", count]]}),
        ),
        v5(json!([
            {"lib/type": "mbql.stage/mbql", "source-table": 1,
             "aggregation": [["count", {}]], "breakout": [f5(4)]},
            {"lib/type": "mbql.stage/mbql", "filters": [[">", {}, count5, 30]],
             "order-by": [["desc", {}, count5]]}])),
    );
}

#[test]
fn scenario_66_source_cards() {
    twins(
        legacy(
            json!({"source-table": "card__12", "aggregation": [["count"]],
            "filter": ["=", f(6), 2]}),
        ),
        q5(json!({"source-card": 12, "aggregation": [["count", {}]],
            "filters": [["=", {}, f5(6), 2]]})),
    );
}

#[test]
fn native_sources() {
    twins(
        legacy(
            json!({"source-query": {"native": "SELECT CATEGORY, PRICE FROM PRODUCTS",
                                       "template-tags": {}},
            "aggregation": [["avg", ["field", "PRICE", {"base-type": "type/Float"}]]],
            "breakout": [["field", "CATEGORY", {"base-type": "type/Text"}]]}),
        ),
        v5(json!([
            {"lib/type": "mbql.stage/native", "native": "SELECT CATEGORY, PRICE FROM PRODUCTS"},
            {"lib/type": "mbql.stage/mbql",
             "aggregation": [["avg", {}, ["field", {"base-type": "type/Float"}, "PRICE"]]],
             "breakout": [["field", {"base-type": "type/Text"}, "CATEGORY"]]}])),
    );
}

#[test]
fn expressions_and_their_references() {
    twins(
        legacy(json!({"source-table": 1,
            "expressions": {"Net": ["-", f(8), f(9)],
                            "Size": ["case", [[[">", f(8), 100], "big"]], {"default": "small"}],
                            "Five": ["value", 5, null]},
            "fields": [f(1), ["expression", "Net"]],
            "order-by": [["asc", ["expression", "Size"]]]})),
        q5(json!({"source-table": 1,
            "expressions": [["-", {"lib/expression-name": "Net"}, f5(8), f5(9)],
                            ["case", {"lib/expression-name": "Size"},
                             [[[">", {}, f5(8), 100], "big"]], "small"],
                            ["value", {"lib/expression-name": "Five", "base-type": "type/Integer"}, 5]],
            "fields": [f5(1), ["expression", {}, "Net"]],
            "order-by": [["asc", {}, ["expression", {}, "Size"]]]})),
    );
}

#[test]
fn filters_with_options_and_relative_values() {
    twins(
        legacy(json!({"source-table": 1, "filter": ["and",
            ["contains", f(4), "a", {"case-sensitive": false}],
            ["time-interval", f(5), -3, "year", {"include-current": true}],
            ["<", f(5), ["relative-datetime", -1, "month"]],
            ["during", f(5), "2024-02-10", "month"],
            ["=", f(5), ["absolute-datetime", "2024-03-05", "day"]]]})),
        q5(json!({"source-table": 1, "filters": [
            ["contains", {"case-sensitive": false}, f5(4), "a"],
            ["time-interval", {"include-current": true}, f5(5), -3, "year"],
            ["<", {}, f5(5), ["relative-datetime", {}, -1, "month"]],
            ["during", {}, f5(5), "2024-02-10", "month"],
            ["=", {}, f5(5), ["absolute-datetime", {}, "2024-03-05", "day"]]]})),
    );
}

#[test]
fn bucketing_and_implicit_joins() {
    twins(
        legacy(json!({"source-table": 1, "aggregation": [["sum", f(7)]],
            "breakout": [["field", 41, {"temporal-unit": "year"}],
                         ["field", 20, {"source-field": 3}],
                         ["field", 21, {"binning": {"strategy": "num-bins", "num-bins": 10}}]]})),
        q5(
            json!({"source-table": 1, "aggregation": [["sum", {}, f5(7)]],
            "breakout": [["field", {"temporal-unit": "year"}, 41],
                         ["field", {"source-field": 3, "base-type": "type/Text"}, 20],
                         ["field", {"binning": {"strategy": "num-bins", "num-bins": 10}}, 21]]}),
        ),
    );
}

#[test]
fn old_legacy_spellings_have_the_same_twin() {
    twins(
        legacy(json!({"source-table": 1,
            "breakout": [["datetime-field", ["field-id", 41], "year"],
                         ["fk->", ["field-id", 3], ["field-id", 20]],
                         ["binning-strategy", ["field-id", 21], "num-bins", 10]]})),
        q5(json!({"source-table": 1,
            "breakout": [["field", {"temporal-unit": "year"}, 41],
                         ["field", {"source-field": 3}, 20],
                         ["field", {"binning": {"strategy": "num-bins", "num-bins": 10}}, 21]]})),
    );
}
