//! Card bodies of `POST` and `PUT /api/card` (content.md §2.2, §2.4, §2.7), read into a typed
//! [`CardInput`] at the edge: shapes only, every failing field reported together in Metabase's
//! order; rules that need the database live in the service.
use serde_json::{Map, Value};

use crate::entity_id::is_entity_id;
use crate::error::validation::{Fields, ValidationErrors, NON_BLANK};
use crate::error::{ApiError, ApiResult};

pub const DATASET_QUERY: &str = "value must be a valid dataset query: an object with an integer \
    `database` and either `type` (`native` or `query`) or `lib/type` `mbql/query` with stages.";

/// Fields derived from a `dataset_query` (§2.2).
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    pub database_id: i64,
    pub query_type: &'static str,
    pub table_id: Option<i64>,
    /// The card an MBQL query reads (`"card__N"`, `source-card`): its `table_id` is the
    /// card's (mbql.md §7.1).
    pub source_card: Option<i64>,
}

/// `"card__12"` → 12.
fn card_source(v: Option<&Value>) -> Option<i64> {
    v?.as_str()?.strip_prefix("card__")?.parse().ok()
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
            source_card: if native {
                None
            } else {
                first.get("source-card").and_then(Value::as_i64)
            },
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
                source_card: None,
            })
        }
        "query" => {
            let source = m.get("query").and_then(|q| q.get("source-table"));
            Some(Derived {
                database_id,
                query_type: "query",
                table_id: source.and_then(Value::as_i64),
                source_card: card_source(source),
            })
        }
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

/// A `dataset_query` that passed [`check`], with what it says.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Stored verbatim.
    pub value: Value,
    pub derived: Derived,
}

/// A card body. For `PUT`, `None` leaves a field unchanged; `Some(None)` is a `null` that
/// clears it. Fields read "when present with a value" (`null` keeps what is stored) are a
/// single `Option`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CardInput {
    pub name: Option<String>,
    pub display: Option<String>,
    pub description: Option<Option<String>>,
    pub dataset_query: Option<Query>,
    /// `type`.
    pub card_type: Option<String>,
    /// The legacy `dataset: true` (a model), read on `POST` only.
    pub dataset: Option<bool>,
    pub visualization_settings: Option<Value>,
    pub parameters: Option<Value>,
    pub parameter_mappings: Option<Value>,
    /// Key present: `Some(Some(_))` for a non-empty array, `Some(None)` for `null` or `[]`.
    pub result_metadata: Option<Option<Value>>,
    pub collection_id: Option<Option<i64>>,
    pub collection_position: Option<Option<i64>>,
    pub collection_preview: Option<bool>,
    pub dashboard_id: Option<Option<i64>>,
    pub dashboard_tab_id: Option<Option<i64>>,
    pub cache_ttl: Option<Option<i64>>,
    pub archived: Option<bool>,
    pub enable_embedding: Option<bool>,
    pub entity_id: Option<String>,
}

impl CardInput {
    /// Whether the body brings its own `result_metadata` (a non-empty array).
    pub fn gives_result_metadata(&self) -> bool {
        matches!(self.result_metadata, Some(Some(_)))
    }

    /// Whether the body gave `result_metadata` to keep: for a query-builder card an empty
    /// array asks for it to be computed, like `null` (mbql.md §7.1).
    pub fn keeps_result_metadata(&self, query_type: Option<&str>) -> bool {
        match &self.result_metadata {
            Some(Some(Value::Array(a))) if a.is_empty() => query_type != Some("query"),
            Some(Some(_)) => true,
            _ => false,
        }
    }

    /// The `result_metadata` to store on `POST`: `None` lets the query engine compute it.
    pub fn result_metadata_text(&self) -> Option<String> {
        self.result_metadata
            .clone()
            .flatten()
            .map(|v| v.to_string())
    }
}

/// Validates a `POST` (`create`: the required keys must be present) or `PUT` body.
pub fn parse(body: &Map<String, Value>, create: bool) -> ApiResult<CardInput> {
    let mut errs = ValidationErrors::new();
    check(body, create, &mut errs);
    errs.into_result()?;
    let dataset_query = match given(body, "dataset_query") {
        Some(q) => Some(Query {
            derived: derive(q).ok_or_else(|| ApiError::internal("unchecked dataset_query"))?,
            value: q.clone(),
        }),
        None => None,
    };
    Ok(CardInput {
        name: text(body, "name"),
        display: text(body, "display"),
        description: nullable(body, "description", text),
        dataset_query,
        card_type: text(body, "type"),
        dataset: body.get("dataset").and_then(Value::as_bool),
        visualization_settings: given(body, "visualization_settings").cloned(),
        parameters: given(body, "parameters").cloned(),
        parameter_mappings: given(body, "parameter_mappings").cloned(),
        result_metadata: nullable(body, "result_metadata", |b, k| {
            given(b, k)
                .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()))
                .cloned()
        }),
        collection_id: nullable(body, "collection_id", int),
        collection_position: nullable(body, "collection_position", int),
        collection_preview: body.get("collection_preview").and_then(Value::as_bool),
        dashboard_id: nullable(body, "dashboard_id", int),
        dashboard_tab_id: nullable(body, "dashboard_tab_id", int),
        cache_ttl: nullable(body, "cache_ttl", int),
        archived: body.get("archived").and_then(Value::as_bool),
        enable_embedding: body.get("enable_embedding").and_then(Value::as_bool),
        entity_id: text(body, "entity_id"),
    })
}

/// Present and not `null`.
fn given<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|v| !v.is_null())
}

fn text(body: &Map<String, Value>, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn int(body: &Map<String, Value>, key: &str) -> Option<i64> {
    body.get(key).and_then(Value::as_i64)
}

/// `None` when `key` is absent, else what `read` makes of it (`null` reads as `None`).
pub(crate) fn nullable<T>(
    body: &Map<String, Value>,
    key: &str,
    read: impl Fn(&Map<String, Value>, &str) -> Option<T>,
) -> Option<Option<T>> {
    body.contains_key(key).then(|| read(body, key))
}
