//! Validation of card bodies (content.md §2.2, §2.4, §2.7): shapes only; rules that need the
//! database live in the service.
use serde_json::{Map, Value};

use crate::error::validation::{Fields, ValidationErrors, NON_BLANK};

pub const DATASET_QUERY: &str = "value must be a valid dataset query: an object with an integer \
    `database` and either `type` (`native` or `query`) or `lib/type` `mbql/query` with stages.";

/// Fields derived from a `dataset_query` (§2.2).
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub database_id: i64,
    pub query_type: &'static str,
    pub table_id: Option<i64>,
}

/// Checks the shape of a `dataset_query` and derives `database_id`, `query_type`, `table_id`.
pub fn derive(q: &Value) -> Option<Derived> {
    let m = q.as_object()?;
    let database_id = m
        .get("database")
        .filter(|v| v.is_i64() || v.is_u64())?
        .as_i64()?;
    if m.get("lib/type").and_then(Value::as_str) == Some("mbql/query") {
        let stages = m.get("stages")?.as_array().filter(|s| !s.is_empty())?;
        let first = stages[0].as_object()?;
        let native = first.get("lib/type").and_then(Value::as_str) == Some("mbql.stage/native");
        if native && !first.get("native").is_some_and(Value::is_string) {
            return None;
        }
        let query_type = if native && stages.len() == 1 {
            "native"
        } else {
            "query"
        };
        let table_id = if native {
            None
        } else {
            first.get("source-table").and_then(Value::as_i64)
        };
        return Some(Derived {
            database_id,
            query_type,
            table_id,
        });
    }
    match m.get("type").and_then(Value::as_str)? {
        "native" => {
            let native = m.get("native")?.as_object()?;
            native.get("query").filter(|v| v.is_string())?;
            Some(Derived {
                database_id,
                query_type: "native",
                table_id: None,
            })
        }
        "query" => Some(Derived {
            database_id,
            query_type: "query",
            table_id: m
                .get("query")
                .and_then(|q| q.get("source-table"))
                .and_then(Value::as_i64),
        }),
        _ => None,
    }
}

pub const TYPES: &[&str] = &["question", "model", "metric"];

/// Shape checks shared by POST and PUT. `create`: the required keys must be present.
pub fn check(body: &Map<String, Value>, create: bool, errs: &mut ValidationErrors) {
    let f = Fields::new(body);
    f.non_blank(errs, "name", 254, create);
    f.non_blank(errs, "display", 254, create);
    match body.get("description") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if !s.trim().is_empty() && !s.contains('\0') => {}
        Some(other) => errs.add_received(&["description"], NON_BLANK, Some(other)),
    }
    match body.get("dataset_query") {
        None | Some(Value::Null) if !create => {}
        Some(q) if derive(q).is_some() => {}
        other => errs.add_received(&["dataset_query"], DATASET_QUERY, other),
    }
    match body.get("visualization_settings") {
        None | Some(Value::Null) if !create => {}
        Some(Value::Object(_)) => {}
        other => errs.add_received(&["visualization_settings"], "value must be a map.", other),
    }
    match body.get("type") {
        None | Some(Value::Null) => {}
        Some(Value::String(t)) if TYPES.contains(&t.as_str()) => {}
        other => errs.add_received(
            &["type"],
            "value must be one of: `metric`, `model`, `question`.",
            other,
        ),
    }
    for key in ["parameters", "parameter_mappings", "result_metadata"] {
        match body.get(key) {
            None | Some(Value::Null) | Some(Value::Array(_)) => {}
            other => errs.add_received(&[key], "value must be an array.", other),
        }
    }
    f.positive_int(errs, "collection_id", false);
    f.positive_int(errs, "dashboard_id", false);
    f.positive_int(errs, "dashboard_tab_id", false);
    f.positive_int(errs, "cache_ttl", false);
    match body.get("collection_position") {
        None | Some(Value::Null) => {}
        Some(v) if v.as_i64().is_some_and(|n| n > 0) && !v.is_f64() => {}
        other => errs.add_received(
            &["collection_position"],
            crate::error::validation::POSITIVE_INT,
            other,
        ),
    }
    f.boolean(errs, "archived");
    f.boolean(errs, "collection_preview");
    f.boolean(errs, "dataset");
    f.boolean(errs, "enable_embedding");
    if let Some(v) = body.get("entity_id").filter(|v| !v.is_null()) {
        if !v.as_str().is_some_and(is_entity_id) {
            errs.add_received(
                &["entity_id"],
                "value must be a 21-character NanoID.",
                Some(v),
            );
        }
    }
}

use crate::entity_id::is_entity_id;

pub use crate::json_fields::json_text;
