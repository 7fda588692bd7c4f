//! Database bodies of `POST`, `PUT /api/database` and `POST /api/database/validate`, and the
//! `include` parameter of `GET` (queries.md §1.3–§1.7), read into typed values at the edge:
//! shapes only, before permissions (README 4.7), every failing field reported together.
//! Connection details are opaque JSON, checked by `databases::details` in the service.
use serde_json::{json, Map, Value};

use crate::error::validation::{Fields, ValidationErrors};
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryParams;

/// `POST /api/database`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDatabase {
    pub name: String,
    pub engine: String,
    pub details: Value,
    pub description: Option<String>,
    pub auto_run_queries: bool,
    pub cache_ttl: Option<i64>,
}

/// `PUT /api/database/:id`: `None` leaves a field unchanged; `Some(None)` is a `null` that
/// clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DatabasePatch {
    pub name: Option<String>,
    pub engine: Option<String>,
    /// The details sent (masked secrets are resolved against the stored ones).
    pub details: Option<Map<String, Value>>,
    pub description: Option<Option<String>>,
    pub auto_run_queries: Option<bool>,
    pub cache_ttl: Option<Option<i64>>,
}

/// What `include` adds to one database (§1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Include {
    Nothing,
    Tables,
    TablesAndFields,
}

/// `POST /api/database/validate`: `{"details": {"engine": …, "details": {…}}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub engine: String,
    pub details: Value,
}

/// Shape validation of POST (`create`) and PUT bodies; also what an imported database file
/// must pass.
pub fn check_body(body: &Map<String, Value>, create: bool) -> ApiResult<()> {
    let mut errs = ValidationErrors::new();
    let f = Fields::new(body);
    f.non_blank(&mut errs, "name", 254, create);
    f.non_blank(&mut errs, "engine", 254, create);
    match body.get("details") {
        None | Some(Value::Null) if !create => {}
        Some(Value::Object(_)) => {}
        other => errs.add_received(&["details"], "value must be a map.", other),
    }
    match body.get("description") {
        None | Some(Value::Null) | Some(Value::String(_)) => {}
        other => errs.add_received(&["description"], "value must be a string.", other),
    }
    f.boolean(&mut errs, "auto_run_queries");
    f.positive_int(&mut errs, "cache_ttl", false);
    errs.into_result()
}

fn text(body: &Map<String, Value>, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn int(body: &Map<String, Value>, key: &str) -> Option<i64> {
    body.get(key).and_then(Value::as_i64)
}

pub fn new_database(body: &Map<String, Value>) -> ApiResult<NewDatabase> {
    check_body(body, true)?;
    Ok(NewDatabase {
        name: text(body, "name").unwrap_or_default(),
        engine: text(body, "engine").unwrap_or_default(),
        details: body.get("details").cloned().unwrap_or_else(|| json!({})),
        description: text(body, "description"),
        auto_run_queries: body
            .get("auto_run_queries")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        cache_ttl: int(body, "cache_ttl"),
    })
}

pub fn patch(body: &Map<String, Value>) -> ApiResult<DatabasePatch> {
    check_body(body, false)?;
    Ok(DatabasePatch {
        name: text(body, "name"),
        engine: text(body, "engine"),
        details: body.get("details").and_then(Value::as_object).cloned(),
        description: body
            .contains_key("description")
            .then(|| text(body, "description")),
        auto_run_queries: body.get("auto_run_queries").and_then(Value::as_bool),
        cache_ttl: body
            .contains_key("cache_ttl")
            .then(|| int(body, "cache_ttl")),
    })
}

pub fn connection(body: &Map<String, Value>) -> ApiResult<Connection> {
    let outer = body.get("details").and_then(Value::as_object);
    let mut errs = ValidationErrors::new();
    if outer.is_none() {
        errs.add_received(&["details"], "value must be a map.", body.get("details"));
    }
    errs.into_result()?;
    let outer = outer.cloned().unwrap_or_default();
    Ok(Connection {
        engine: text(&outer, "engine").unwrap_or_default(),
        details: outer.get("details").cloned().unwrap_or_else(|| json!({})),
    })
}

/// `include=tables` (and, for one database, `include=tables.fields`).
pub fn include(q: &QueryParams, allow_fields: bool) -> ApiResult<Include> {
    match q.get("include") {
        None => Ok(Include::Nothing),
        Some("tables") => Ok(Include::Tables),
        Some("tables.fields") if allow_fields => Ok(Include::TablesAndFields),
        Some(other) => {
            let mut errs = ValidationErrors::new();
            errs.add_received(
                &["include"],
                "nullable enum of tables",
                Some(&Value::String(other.into())),
            );
            Err(ApiError::Validation(errs))
        }
    }
}
