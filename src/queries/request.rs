//! The query object of `POST /api/dataset` and of a card's `dataset_query` (queries.md §3.1):
//! legacy (`type`/`native`) and pMBQL (`lib/type`/`stages`) shapes, validated in Metabase's
//! error shape, reduced to what ferrobase runs.
use serde_json::{Map, Value};

use crate::cards::native::{native_part, Native};
use crate::error::validation::{ValidationErrors, POSITIVE_INT};

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub database: i64,
    /// `None` for an MBQL query (never run, §4.9).
    pub native: Option<Native>,
    pub parameters: Vec<Value>,
    pub constraints: Constraints,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Constraints {
    pub max_results_bare_rows: Option<u64>,
    pub max_results: Option<u64>,
}

fn positive(v: Option<&Value>) -> Result<Option<u64>, ()> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_u64().filter(|n| *n > 0).map(Some).ok_or(()),
        Some(_) => Err(()),
    }
}

/// The native part of the query, if it has one, and the errors of its shape (legacy `type`
/// and `native`, or pMBQL `stages`).
fn native_of(body: &Map<String, Value>, errs: &mut ValidationErrors) -> Option<Native> {
    if body.get("lib/type").and_then(Value::as_str) == Some("mbql/query") {
        return match body.get("stages") {
            Some(Value::Array(a)) if !a.is_empty() => native_part(body),
            other => {
                errs.add_received(&["stages"], "value must be a non-empty array.", other);
                None
            }
        };
    }
    match body.get("type").and_then(Value::as_str) {
        Some("native") => match body.get("native").and_then(|n| n.get("query")) {
            Some(Value::String(_)) => native_part(body),
            other => {
                errs.add_received(
                    &["native"],
                    "value must be a map with a string `query`.",
                    other,
                );
                None
            }
        },
        Some("query") | Some("internal") => None,
        _ => {
            errs.add_received(
                &["type"],
                "value must be one of: `internal`, `native`, `query`.",
                body.get("type"),
            );
            None
        }
    }
}

/// `constraints`: positive row limits.
fn constraints_of(body: &Map<String, Value>, errs: &mut ValidationErrors) -> Constraints {
    let mut constraints = Constraints::default();
    match body.get("constraints") {
        None | Some(Value::Null) => {}
        Some(Value::Object(c)) => {
            for (key, slot) in [
                (
                    "max-results-bare-rows",
                    &mut constraints.max_results_bare_rows,
                ),
                ("max-results", &mut constraints.max_results),
            ] {
                match positive(c.get(key)) {
                    Ok(v) => *slot = v,
                    Err(()) => {
                        errs.add(
                            &["constraints"],
                            "value must be a map with positive integer limits.",
                            vec![format!(
                                "{key}: value must be an integer greater than zero., received: {}",
                                crate::error::validation::received(c.get(key))
                            )],
                        );
                    }
                }
            }
        }
        other => errs.add_received(&["constraints"], "value must be a map.", other),
    }
    constraints
}

/// Validates a `POST /api/dataset` body (or an export's `query`).
pub fn parse(body: &Map<String, Value>) -> Result<Query, ValidationErrors> {
    let mut errs = ValidationErrors::new();
    let database = match body.get("database") {
        Some(Value::Number(n)) if n.as_i64().is_some_and(|n| n > 0) => n.as_i64(),
        other => {
            errs.add_received(&["database"], POSITIVE_INT, other);
            None
        }
    };
    let native = native_of(body, &mut errs);
    let parameters = match body.get("parameters") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        other => {
            errs.add_received(&["parameters"], "value must be an array.", other);
            Vec::new()
        }
    };
    let constraints = constraints_of(body, &mut errs);
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Query {
        database: database.unwrap_or(0),
        native,
        parameters,
        constraints,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Value) -> Result<Query, ValidationErrors> {
        parse(v.as_object().unwrap())
    }

    #[test]
    fn shapes() {
        let q =
            p(json!({"database": 1, "type": "native", "native": {"query": "SELECT 1"}})).unwrap();
        assert_eq!(q.native.unwrap().sql, "SELECT 1");
        let q = p(json!({"lib/type": "mbql/query", "database": 1,
                         "stages": [{"lib/type": "mbql.stage/native", "native": "SELECT 2"}]}))
        .unwrap();
        assert_eq!(q.native.unwrap().sql, "SELECT 2");
        let q = p(json!({"database": 1, "type": "query", "query": {"source-table": 1}})).unwrap();
        assert!(q.native.is_none());
        assert!(p(json!({})).is_err());
        assert!(p(json!({"database": "x", "type": "native", "native": {"query": "x"}})).is_err());
        assert!(p(
            json!({"database": 1, "type": "native", "native": {"query": "x"},
                         "parameters": {}})
        )
        .is_err());
    }
}
