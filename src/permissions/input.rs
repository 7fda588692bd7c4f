//! The body of `PUT /api/permissions/graph` (people-and-groups.md §9.4), read into typed
//! entries: the shared graph reading of [`super::graph_put`], each database entry's keys and
//! values checked here.
use serde_json::{Map, Value};

use super::grant::Grant;
use super::graph::{EntryPatch, GraphBody};
use super::graph_put::{self, invalid};
use crate::error::validation::ValidationErrors;
use crate::error::ApiResult;
use crate::http::query::QueryParams;

pub fn graph_put(q: &QueryParams, body: &Map<String, Value>) -> ApiResult<GraphBody> {
    let paid = |errs: &mut ValidationErrors| {
        let mut paid_features = false;
        for key in ["sandboxes", "impersonations"] {
            match body.get(key) {
                None | Some(Value::Null) => {}
                Some(Value::Array(a)) => paid_features |= !a.is_empty(),
                other => errs.add_received(&[key], "value must be an array.", other),
            }
        }
        paid_features
    };
    graph_put::parse(q, body, paid, |gkey, dkey, sent| {
        let Value::Object(sent) = sent else {
            return Err(invalid(format!(
                "the entry of group {gkey} on database {dkey} is not a map"
            )));
        };
        entry_patch(sent)
    })
}

/// A `{"schemas": <v>}` value (or a bare string) among `allowed`.
fn schemas_value(key: &str, v: &Value, allowed: &[&str]) -> ApiResult<String> {
    let inner = match v {
        Value::Object(m) => m
            .get("schemas")
            .ok_or_else(|| invalid(format!("{key} must be {{\"schemas\": …}}")))?,
        other => other,
    };
    match inner {
        Value::String(s) if allowed.contains(&s.as_str()) => Ok(s.clone()),
        Value::Object(_) => Err(invalid(format!(
            "per-schema permissions for {key} are not supported"
        ))),
        other => Err(invalid(format!("invalid value {other} for {key}"))),
    }
}

fn plain_value(key: &str, v: &Value, allowed: &[&str]) -> ApiResult<String> {
    match v {
        Value::String(s) if allowed.contains(&s.as_str()) => Ok(s.clone()),
        Value::Object(_) => Err(invalid(format!(
            "per-schema or per-table permissions for {key} are not supported"
        ))),
        other => Err(invalid(format!("invalid value {other} for {key}"))),
    }
}

/// The keys one database entry sets, each value checked.
fn entry_patch(sent: &Map<String, Value>) -> ApiResult<EntryPatch> {
    let mut p = EntryPatch::default();
    for (key, v) in sent {
        match key.as_str() {
            "view-data" => p.view_data = Some(Grant::from_json(key, v).map_err(invalid)?),
            "create-queries" => p.create_queries = Some(Grant::from_json(key, v).map_err(invalid)?),
            "download" => p.download = Some(schemas_value(key, v, &["full", "limited", "none"])?),
            "data-model" => p.data_model = Some(schemas_value(key, v, &["all", "none"])?),
            "details" => p.details = Some(plain_value(key, v, &["yes", "no"])?),
            other => return Err(invalid(format!("unknown permission key {other:?}"))),
        }
    }
    Ok(p)
}
