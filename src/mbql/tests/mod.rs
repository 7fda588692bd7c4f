//! Tests of the MBQL parser and checks: every clause (`clauses`, `stage_keys`, `sources`), every
//! error message (`errors`), legacy ⇄ MBQL 5 twins (`twins`) and property tests (`props`).
use serde_json::{json, Value};

use super::*;

mod clauses;
mod errors;
mod props;
mod sources;
mod stage_keys;
mod twins;

/// `{"database": 1, "type": "query", "query": inner}`.
fn legacy(inner: Value) -> Value {
    json!({"database": 1, "type": "query", "query": inner})
}

/// An MBQL 5 query of the given stages.
fn v5(stages: Value) -> Value {
    json!({"lib/type": "mbql/query", "database": 1, "stages": stages})
}

/// An MBQL 5 query of one MBQL stage.
fn q5(mut stage: Value) -> Value {
    stage["lib/type"] = json!("mbql.stage/mbql");
    v5(json!([stage]))
}

fn parse_json(v: &Value) -> Result<Query, MbqlError> {
    parse(v.as_object().expect("a query object"))
}

fn ok(v: Value) -> Query {
    match parse_json(&v) {
        Ok(q) => q,
        Err(e) => panic!("{e} for {v}"),
    }
}

fn err(v: Value) -> String {
    match parse_json(&v) {
        Ok(q) => panic!("parsed {q:?} from {v}"),
        Err(e) => e.to_string(),
    }
}

/// The single stage of a legacy query with this inner query.
fn stage(inner: Value) -> Stage {
    let mut q = ok(legacy(inner));
    assert_eq!(q.stages.len(), 1);
    q.stages.remove(0)
}

/// The one filter of a legacy query on table 1.
fn one_filter(filter: Value) -> Filter {
    let mut s = stage(json!({"source-table": 1, "filter": filter}));
    assert_eq!(s.filters.len(), 1, "{:?}", s.filters);
    s.filters.remove(0)
}

/// The one expression of a legacy query on table 1.
fn one_expr(e: Value) -> Expr {
    let mut s = stage(json!({"source-table": 1, "expressions": {"E": e}}));
    s.expressions.remove(0).expr
}

/// The one aggregation of a legacy query on table 1.
fn one_aggregation(a: Value) -> Aggregation {
    let mut s = stage(json!({"source-table": 1, "aggregation": [a]}));
    s.aggregations.remove(0)
}

fn field(id: i64) -> FieldRef {
    FieldRef::id(id)
}

fn fx(id: i64) -> Expr {
    Expr::Ref(Ref::Field(field(id)))
}

fn lit_i(i: i64) -> Expr {
    Expr::Literal(Literal::Int(i))
}

fn lit_s(s: &str) -> Expr {
    Expr::Literal(Literal::Text(s.to_string()))
}

fn unsupported(thing: &str) -> Unsupported {
    Unsupported {
        thing: thing.to_string(),
    }
}

/// The message of the first failing check of a legacy query.
fn check_err(inner: Value) -> String {
    check(&ok(legacy(inner))).expect_err("refused").to_string()
}
