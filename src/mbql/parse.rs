//! The entry point: normalise a query object (§1.7), tell its form (§1.1), read `database` and
//! build the stages with the legacy or the MBQL 5 reader.
use serde_json::{Map, Value};

use super::clause::{get, positive_id, Form};
use super::error::{MbqlError, Path};
use super::model::Query;
use super::normalize::normalize;
use super::tokens::token;
use super::{legacy, v5};

/// The most stages a query may have (§2.11, ferrobase rule).
pub const MAX_STAGES: usize = 16;

/// Parses an MBQL query object, legacy or MBQL 5, into the typed model. Malformed input is
/// refused here; clauses ferrobase does not run and references that name nothing are kept for
/// [`super::check`] (§5 orders those checks after the existence and permission checks).
pub fn parse(query: &Map<String, Value>) -> Result<Query, MbqlError> {
    let query = normalize(query)?;
    let form = form(&query)?;
    let database = match get(&query, "database") {
        Some(v) => positive_id(v, &Path::root("database"))?,
        None => return Err(Path::root("database").malformed("expected a positive integer id")),
    };
    let stages = match form {
        Form::Legacy => legacy::stages(&query)?,
        Form::V5 => v5::stages(&query)?,
    };
    Ok(Query { database, stages })
}

fn form(query: &Map<String, Value>) -> Result<Form, MbqlError> {
    if query.get("lib/type").and_then(Value::as_str) == Some("mbql/query") {
        return Ok(Form::V5);
    }
    match get(query, "type") {
        Some(Value::String(t)) if token(t) == "query" => Ok(Form::Legacy),
        _ => Err(Path::root("type").malformed(
            "expected \"query\" (legacy MBQL) or \"lib/type\": \"mbql/query\" (MBQL 5)",
        )),
    }
}

/// Whether a query object is MBQL (§1.1): legacy `"type": "query"`, or MBQL 5 whose last stage
/// is an MBQL stage. Native queries in either form are not.
pub fn is_mbql_query(query: &Map<String, Value>) -> bool {
    if query.get("lib/type").and_then(Value::as_str) == Some("mbql/query") {
        return query
            .get("stages")
            .and_then(Value::as_array)
            .and_then(|stages| stages.last())
            .and_then(|stage| stage.get("lib/type"))
            .and_then(Value::as_str)
            == Some("mbql.stage/mbql");
    }
    query
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| token(t) == "query")
}
