//! Every malformed-query message (§5 `Invalid query: <path>: <what>.`), exactly.
use serde_json::json;

use super::*;

fn legacy_err(inner: Value) -> String {
    err(legacy(inner))
}

fn t1(mut inner: Value) -> Value {
    inner["source-table"] = json!(1);
    inner
}

#[test]
fn scenario_75_and_79_shapes() {
    let cases = [
        (
            legacy(t1(json!({"aggregation": [["cnt"]]}))),
            "Invalid query: query.aggregation[0]: unknown aggregation \"cnt\".",
        ),
        (
            legacy(t1(json!({"limit": -1}))),
            "Invalid query: query.limit: expected an integer ≥ 0.",
        ),
        (
            json!({"database": 1, "type": "query"}),
            "Invalid query: query: expected an inner query map.",
        ),
        (
            legacy(json!({})),
            "Invalid query: query: exactly one of \"source-table\" and \"source-query\" is required.",
        ),
        (
            legacy(json!({"source-table": 1, "source-query": {"source-table": 1}})),
            "Invalid query: query: exactly one of \"source-table\" and \"source-query\" is required.",
        ),
        (
            v5(json!([])),
            "Invalid query: stages: expected a non-empty array of stages.",
        ),
        (
            json!({"lib/type": "mbql/query", "database": 1}),
            "Invalid query: stages: expected a non-empty array of stages.",
        ),
    ];
    for (q, message) in cases {
        assert_eq!(err(q.clone()), message, "{q}");
    }
}

#[test]
fn top_level_and_stage_shapes() {
    let cases = [
        (
            json!({"type": "query", "query": {"source-table": 1}}),
            "Invalid query: database: expected a positive integer id.",
        ),
        (
            json!({"database": 0, "type": "query", "query": {"source-table": 1}}),
            "Invalid query: database: expected a positive integer id.",
        ),
        (
            json!({"database": 1, "type": "native", "native": {"query": "SELECT 1"}}),
            "Invalid query: type: expected \"query\" (legacy MBQL) or \"lib/type\": \"mbql/query\" (MBQL 5).",
        ),
        (
            legacy(json!({"source-table": "card__x"})),
            "Invalid query: query.source-table: invalid card reference \"card__x\".",
        ),
        (
            legacy(json!({"source-table": -3})),
            "Invalid query: query.source-table: expected a table id or \"card__<id>\".",
        ),
        (
            legacy(json!({"source-query": 5})),
            "Invalid query: query.source-query: expected a map.",
        ),
        (
            legacy(json!({"source-query": {"native": 5}})),
            "Invalid query: query.source-query.native: expected SQL text.",
        ),
        (
            legacy(json!({"source-query": {"source-query": {"aggregation": []}}})),
            "Invalid query: query.source-query.source-query: exactly one of \"source-table\" and \"source-query\" is required.",
        ),
        (
            legacy(t1(json!({"page": {"page": 0, "items": 10}}))),
            "Invalid query: query.page.page: expected an integer ≥ 1.",
        ),
        (
            legacy(t1(json!({"page": {"page": 1}}))),
            "Invalid query: query.page.items: expected an integer ≥ 1.",
        ),
        (
            legacy(t1(json!({"page": 2}))),
            "Invalid query: query.page: expected {\"page\": <integer ≥ 1>, \"items\": <integer ≥ 1>}.",
        ),
        (
            legacy(t1(json!({"breakout": {"a": 1}}))),
            "Invalid query: query.breakout: expected an array.",
        ),
        (
            legacy(t1(json!({"expressions": [1]}))),
            "Invalid query: query.expressions: expected a map of names to expressions.",
        ),
        (
            legacy(t1(json!({"limit": 1.5}))),
            "Invalid query: query.limit: expected an integer ≥ 0.",
        ),
    ];
    for (q, message) in cases {
        assert_eq!(err(q.clone()), message, "{q}");
    }
}

#[test]
fn mbql5_shapes_and_paths() {
    let cases = [
        (
            q5(json!({"source-table": 1, "aggregation": [["count"]]})),
            "Invalid query: stages[0].aggregation[0]: \"count\" needs an options map as its second element.",
        ),
        (
            q5(json!({"source-table": 1, "aggregation": [["cnt", {}]]})),
            "Invalid query: stages[0].aggregation[0]: unknown aggregation \"cnt\".",
        ),
        (
            q5(json!({"source-table": 1, "filters": [[">", {}, ["field", {}, "x"], 1]]})),
            "Invalid query: stages[0].filters[0][2]: field \"x\" is referred to by name and needs a \"base-type\" option.",
        ),
        (
            q5(json!({"source-table": 1, "expressions": [["+", {}, 1, 2]]})),
            "Invalid query: stages[0].expressions[0]: an expression needs a \"lib/expression-name\" option.",
        ),
        (
            v5(json!([{"source-table": 1}])),
            "Invalid query: stages[0].lib/type: expected \"mbql.stage/mbql\" or \"mbql.stage/native\".",
        ),
        (
            v5(json!([{"lib/type": "mbql.stage/mbql", "source-table": 1},
                      {"lib/type": "mbql.stage/native", "native": "x"}])),
            "Invalid query: stages[1]: only the first stage may be native.",
        ),
        (
            v5(json!([{"lib/type": "mbql.stage/mbql", "source-table": 1},
                      {"lib/type": "mbql.stage/mbql", "source-table": 1}])),
            "Invalid query: stages[1]: only the first stage may have \"source-table\" or \"source-card\".",
        ),
        (
            v5(json!([{"lib/type": "mbql.stage/mbql"}])),
            "Invalid query: stages[0]: exactly one of \"source-table\" and \"source-card\" is required.",
        ),
        (
            v5(json!([{"lib/type": "mbql.stage/mbql", "source-table": 1, "source-card": 2}])),
            "Invalid query: stages[0]: exactly one of \"source-table\" and \"source-card\" is required.",
        ),
        (
            v5(json!([{"lib/type": "mbql.stage/native", "native": "SELECT 1"}])),
            "Invalid query: stages: a native stage must be followed by an MBQL stage.",
        ),
        (
            q5(json!({"source-card": "card__1"})),
            "Invalid query: stages[0].source-card: expected a positive integer id.",
        ),
    ];
    for (q, message) in cases {
        assert_eq!(err(q.clone()), message, "{q}");
    }
}

#[test]
fn clause_shapes() {
    let cases = [
        (
            t1(json!({"filter": ["like", ["field", 1, null], "x"]})),
            "Invalid query: query.filter: unknown filter \"like\".",
        ),
        (
            t1(json!({"filter": ["between", ["field", 1, null], 1]})),
            "Invalid query: query.filter: \"between\" takes 3 arguments, not 2.",
        ),
        (
            t1(json!({"filter": ["and", ["=", ["field", 1, null]]]})),
            "Invalid query: query.filter[1]: \"=\" takes at least 2 arguments, not 1.",
        ),
        (
            t1(json!({"filter": "x"})),
            "Invalid query: query.filter: expected a filter clause.",
        ),
        (
            t1(json!({"filter": ["contains", ["field", 1, null], 5]})),
            "Invalid query: query.filter[2]: expected a string.",
        ),
        (
            t1(json!({"filter": ["contains", ["field", 1, null], "a", {"case-sensitive": "no"}]})),
            "Invalid query: query.filter: option \"case-sensitive\" must be true or false.",
        ),
        (
            t1(json!({"filter": ["time-interval", ["field", 1, null], "soon", "day"]})),
            "Invalid query: query.filter[2]: expected an integer, \"current\", \"last\" or \"next\", not \"soon\".",
        ),
        (
            t1(json!({"filter": ["time-interval", ["field", 1, null], -1, "fortnight"]})),
            "Invalid query: query.filter[3]: unknown temporal unit \"fortnight\".",
        ),
        (
            t1(json!({"filter": ["time-interval", ["field", 1, null], -1, "day-of-week"]})),
            "Invalid query: query.filter[3]: \"day-of-week\" is not a unit of time.",
        ),
        (
            t1(json!({"filter": ["during", ["field", 1, null], "2024-02-30", "month"]})),
            "Invalid query: query.filter[2]: invalid date or datetime value \"2024-02-30\".",
        ),
        (
            t1(json!({"filter": ["relative-time-interval", ["field", 1, null], -1.5, "day", 0, "day"]})),
            "Invalid query: query.filter[2]: expected an integer.",
        ),
        (
            t1(json!({"filter": [">", ["aggregation", 0], 1]})),
            "Invalid query: query.filter[1]: an aggregation reference is only allowed in \"order-by\".",
        ),
        (
            t1(json!({"expressions": {"E": ["+", 1, {"a": 1}, 2]}})),
            "Invalid query: query.expressions.E[2]: expected an expression.",
        ),
        (
            t1(json!({"expressions": {"E": ["frobnicate", 1]}})),
            "Invalid query: query.expressions.E: unknown expression \"frobnicate\".",
        ),
        (
            t1(json!({"expressions": {"E": ["+", ["sum", ["field", 1, null]], 1]}})),
            "Invalid query: query.expressions.E[1]: aggregation \"sum\" is not allowed in an expression.",
        ),
        (
            t1(json!({"expressions": {"E": ["+", 1]}})),
            "Invalid query: query.expressions.E: \"+\" takes at least 2 arguments, not 1.",
        ),
        (
            t1(json!({"expressions": {"E": ["relative-datetime", -1]}})),
            "Invalid query: query.expressions.E: \"relative-datetime\" needs a unit.",
        ),
        (
            t1(json!({"expressions": {"E": ["absolute-datetime", "yesterday", "day"]}})),
            "Invalid query: query.expressions.E[1]: invalid date or datetime value \"yesterday\".",
        ),
        (
            t1(json!({"expressions": {"E": ["substring", ["field", 1, null], -1]}})),
            "Invalid query: query.expressions.E[2]: the start of a substring is 1 or more.",
        ),
        (
            t1(json!({"expressions": {"E": ["case", []]}})),
            "Invalid query: query.expressions.E[1]: expected a non-empty array of [condition, value] pairs.",
        ),
        (
            t1(json!({"expressions": {"E": ["case", [[true]]]}})),
            "Invalid query: query.expressions.E[1][0]: expected a [condition, value] pair.",
        ),
        (
            t1(json!({"expressions": {"E": ["get-day-of-week", ["field", 1, null], "monday"]}})),
            "Invalid query: query.expressions.E[2]: unknown week mode \"monday\".",
        ),
        (
            t1(json!({"expressions": {"E": ["value", [1]]}})),
            "Invalid query: query.expressions.E[1]: expected a literal value.",
        ),
        (
            t1(json!({"aggregation": [["percentile", ["field", 1, null], 90]]})),
            "Invalid query: query.aggregation[0][2]: a percentile is a number from 0 to 1.",
        ),
        (
            t1(json!({"aggregation": [["sum"]]})),
            "Invalid query: query.aggregation[0]: \"sum\" takes 1 argument, not 0.",
        ),
        (
            t1(json!({"aggregation": [["aggregation-options", ["count"], {"name": 5}]]})),
            "Invalid query: query.aggregation[0]: option \"name\" must be a string.",
        ),
        (
            t1(json!({"order-by": [["sideways", ["field", 1, null]]]})),
            "Invalid query: query.order-by[0]: unknown order-by direction \"sideways\".",
        ),
        (
            t1(json!({"order-by": [["asc", ["aggregation", -1]]]})),
            "Invalid query: query.order-by[0][1][1]: expected an aggregation index or uuid.",
        ),
    ];
    for (inner, message) in cases {
        assert_eq!(legacy_err(inner.clone()), message, "{inner}");
    }
}

#[test]
fn reference_shapes() {
    let breakout = |r: Value| legacy_err(t1(json!({ "breakout": [r] })));
    let cases = [
        (json!(["field", 0, null]), "Invalid query: query.breakout[0][1]: expected a positive integer id."),
        (json!(["field", 1, 2]), "Invalid query: query.breakout[0]: \"field\" takes 1 argument, not 2."),
        (
            json!(["field", "TOTAL", null]),
            "Invalid query: query.breakout[0]: field \"TOTAL\" is referred to by name and needs a \"base-type\" option.",
        ),
        (
            json!(["field", 1, {"temporal-unit": "fortnight"}]),
            "Invalid query: query.breakout[0]: unknown temporal unit \"fortnight\".",
        ),
        (
            json!(["field", 1, {"temporal-unit": 5}]),
            "Invalid query: query.breakout[0]: a temporal unit must be a string.",
        ),
        (
            json!(["field", 1, {"temporal-unit": "day", "binning": {"strategy": "default"}}]),
            "Invalid query: query.breakout[0]: options \"temporal-unit\" and \"binning\" cannot be combined.",
        ),
        (
            json!(["field", 1, {"binning": {"strategy": "num-bins", "num-bins": 0}}]),
            "Invalid query: query.breakout[0]: \"num-bins\" must be an integer from 1 to 1000.",
        ),
        (
            json!(["field", 1, {"binning": {"strategy": "num-bins", "num-bins": 1001}}]),
            "Invalid query: query.breakout[0]: \"num-bins\" must be an integer from 1 to 1000.",
        ),
        (
            json!(["field", 1, {"binning": {"strategy": "bin-width", "bin-width": -2}}]),
            "Invalid query: query.breakout[0]: \"bin-width\" must be a number greater than 0.",
        ),
        (
            json!(["field", 1, {"binning": {"strategy": "quantiles"}}]),
            "Invalid query: query.breakout[0]: unknown binning strategy \"quantiles\".",
        ),
        (
            json!(["field", 1, {"binning": {"num-bins": 3}}]),
            "Invalid query: query.breakout[0]: binning needs a \"strategy\".",
        ),
        (
            json!(["field", 1, {"binning": "default"}]),
            "Invalid query: query.breakout[0]: option \"binning\" must be a map.",
        ),
        (
            json!(["field", 1, {"join-alias": 3}]),
            "Invalid query: query.breakout[0]: option \"join-alias\" must be a string.",
        ),
        (
            json!(["field", 1, {"source-field": "x"}]),
            "Invalid query: query.breakout[0]: option \"source-field\" must be a positive integer field id.",
        ),
        (
            json!(["expression", 5]),
            "Invalid query: query.breakout[0][1]: expected a string.",
        ),
        (
            json!(["count"]),
            "Invalid query: query.breakout[0]: expected a field or expression reference, not \"count\".",
        ),
        (
            json!(["fk->", "x", 2]),
            "Invalid query: query.breakout[0]: expected a field or expression reference, not \"fk->\".",
        ),
    ];
    for (r, message) in cases {
        assert_eq!(breakout(r.clone()), message, "{r}");
    }
}

#[test]
fn join_shapes() {
    let join = |j: Value| legacy_err(t1(json!({ "joins": [j] })));
    let cond = || json!(["=", ["field", 1, null], ["field", 2, {"join-alias": "P"}]]);
    let cases = [
        (json!(5), "Invalid query: query.joins[0]: expected a join map."),
        (
            json!({"source-table": 2}),
            "Invalid query: query.joins[0]: a join needs a \"condition\".",
        ),
        (
            json!({"condition": cond()}),
            "Invalid query: query.joins[0]: exactly one of \"source-table\" and \"source-query\" is required.",
        ),
        (
            json!({"source-query": {"limit": 1}, "condition": cond()}),
            // A source query without a table is more than a source: refused, not malformed.
            "",
        ),
        (
            json!({"source-query": {}, "condition": cond()}),
            "Invalid query: query.joins[0].source-query: expected a \"source-table\".",
        ),
        (
            json!({"source-table": 2, "condition": cond(), "strategy": "cross-join"}),
            "Invalid query: query.joins[0].strategy: unknown join strategy \"cross-join\".",
        ),
        (
            json!({"source-table": 2, "condition": cond(), "fields": "some"}),
            "Invalid query: query.joins[0].fields: expected \"all\", \"none\" or a list, not \"some\".",
        ),
        (
            json!({"source-table": 2, "condition": cond(), "alias": " "}),
            "Invalid query: query.joins[0].alias: expected a non-blank string.",
        ),
        (
            json!({"source-table": 2, "condition": ["is-null"]}),
            "Invalid query: query.joins[0].condition: \"is-null\" takes 1 argument, not 0.",
        ),
    ];
    for (j, message) in cases {
        if message.is_empty() {
            assert!(parse_json(&legacy(t1(json!({ "joins": [j] })))).is_ok());
            continue;
        }
        assert_eq!(join(j.clone()), message, "{j}");
    }
    let v5_join = |j: Value| err(q5(json!({"source-table": 1, "joins": [j]})));
    assert_eq!(
        v5_join(json!({"stages": [], "conditions": []})),
        "Invalid query: stages[0].joins[0].stages: expected a non-empty array of stages."
    );
    assert_eq!(
        v5_join(json!({"stages": [{"lib/type": "mbql.stage/mbql", "source-table": 2}]})),
        "Invalid query: stages[0].joins[0]: a join needs \"conditions\"."
    );
    assert_eq!(
        v5_join(json!({"stages": [{"lib/type": "mbql.stage/mbql"}], "conditions": []})),
        "Invalid query: stages[0].joins[0].stages[0]: exactly one of \"source-table\" and \"source-card\" is required."
    );
}

#[test]
fn limits_on_depth_and_stages() {
    let mut filter = json!(["=", ["field", 1, null], 1]);
    for _ in 0..1000 {
        filter = Value::Array(vec![json!("not"), filter]);
    }
    let message = legacy_err(t1(json!({ "filter": filter })));
    assert!(
        message.starts_with("Invalid query: query.filter[1][1][1]"),
        "{message}"
    );
    assert!(
        message.ends_with(": nested more than 64 levels deep."),
        "{message}"
    );

    let mut inner = json!({"source-table": 1});
    for _ in 0..16 {
        inner = json!({ "source-query": inner });
    }
    let message = legacy_err(inner);
    assert!(
        message.ends_with(": a query has at most 16 stages."),
        "{message}"
    );
    let stages: Vec<Value> = (0..17)
        .map(|i| {
            let mut s = json!({"lib/type": "mbql.stage/mbql"});
            if i == 0 {
                s["source-table"] = json!(1);
            }
            s
        })
        .collect();
    assert_eq!(
        err(v5(Value::Array(stages.clone()))),
        "Invalid query: stages: a query has at most 16 stages."
    );
    assert_eq!(ok(v5(Value::Array(stages[..16].to_vec()))).stages.len(), 16);
}

#[test]
fn temporal_literals_compared_with_columns_use_the_section_1_5_message() {
    assert_eq!(
        TemporalLiteral::parse("2024-13-01")
            .unwrap_err()
            .to_string(),
        "Invalid date or datetime value: \"2024-13-01\"."
    );
}
