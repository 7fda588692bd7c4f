//! The parts of query requests that are not the query object itself (queries.md §5, §6.1,
//! mbql.md §4.7), read into typed values with Metabase's validation errors. The query object is
//! read by [`super::request`].
use serde_json::{Map, Value};

use super::format::{ExportFormat, ExportOptions};
use crate::error::validation::{ValidationErrors, BOOLEAN};
use crate::error::{ApiError, ApiResult};
use crate::http::query::bool_string;

/// The `:export-format` segment (§6.1).
pub fn export_format(raw: &str) -> ApiResult<ExportFormat> {
    match raw {
        "csv" => Ok(ExportFormat::Csv),
        "json" => Ok(ExportFormat::Json),
        "xlsx" | "api" => Err(ApiError::field(
            "export-format",
            format!("Export format '{raw}' is not supported by ferrobase."),
        )),
        other => {
            let mut errs = ValidationErrors::new();
            errs.add_received(
                &["export-format"],
                "value must be one of: csv, json, xlsx, api.",
                Some(&Value::String(other.into())),
            );
            Err(ApiError::Validation(errs))
        }
    }
}

/// `pretty` of `POST /api/dataset/native` (default `true`).
pub fn pretty(body: &Map<String, Value>) -> ApiResult<bool> {
    let mut errs = ValidationErrors::new();
    let pretty = match body.get("pretty") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        other => {
            errs.add_received(&["pretty"], BOOLEAN, other);
            true
        }
    };
    errs.into_result()?;
    Ok(pretty)
}

/// The `parameters` of a card run (§5): an array, given as JSON or as a string holding one.
pub fn card_parameters(body: &Map<String, Value>) -> ApiResult<Vec<Value>> {
    let mut errs = ValidationErrors::new();
    let params = parameters_array(body.get("parameters"), &mut errs);
    errs.into_result()?;
    Ok(params)
}

fn parameters_array(v: Option<&Value>, errs: &mut ValidationErrors) -> Vec<Value> {
    match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) if s.trim().is_empty() || s.trim() == "null" => Vec::new(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(a)) => a,
            Ok(Value::Null) => Vec::new(),
            _ => {
                errs.add_received(&["parameters"], "value must be an array.", v);
                Vec::new()
            }
        },
        Some(other) => {
            errs.add_received(&["parameters"], "value must be an array.", Some(other));
            Vec::new()
        }
    }
}

/// A boolean given as JSON or as the strings `true`/`false` (an empty string is `false`).
fn flag(body: &Map<String, Value>, key: &'static str, errs: &mut ValidationErrors) -> bool {
    let v = body.get(key);
    let read = match v {
        None | Some(Value::Null) => Some(false),
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::String(s)) if s.is_empty() => Some(false),
        Some(Value::String(s)) => bool_string(s),
        Some(_) => None,
    };
    read.unwrap_or_else(|| {
        errs.add_received(&[key], BOOLEAN, v);
        false
    })
}

/// An object given as JSON or as a string holding one.
fn object(
    body: &Map<String, Value>,
    key: &'static str,
    required: bool,
    errs: &mut ValidationErrors,
) -> Option<Map<String, Value>> {
    let v = body.get(key);
    match v {
        None | Some(Value::Null) if !required => None,
        Some(Value::Object(m)) => Some(m.clone()),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(m)) => Some(m),
            Ok(Value::Null) if !required => None,
            _ => {
                errs.add_received(&[key], "value must be a map.", v);
                None
            }
        },
        _ => {
            errs.add_received(&[key], "value must be a map.", v);
            None
        }
    }
}

/// `POST /api/dataset/:export-format` (§6.1): the query object (read by [`super::request`]
/// next), the `visualization_settings` export titles use, and the download options.
pub struct AdhocExport {
    pub query: Map<String, Value>,
    pub visualization_settings: Value,
    pub options: ExportOptions,
}

pub fn adhoc_export(format: ExportFormat, body: &Map<String, Value>) -> ApiResult<AdhocExport> {
    let mut errs = ValidationErrors::new();
    let query = object(body, "query", true, &mut errs);
    let settings = object(body, "visualization_settings", false, &mut errs);
    let format_rows = flag(body, "format_rows", &mut errs);
    let bom = flag(body, "csv_include_bom", &mut errs);
    flag(body, "pivot_results", &mut errs);
    errs.into_result()?;
    Ok(AdhocExport {
        query: query.unwrap_or_default(),
        visualization_settings: settings
            .map(Value::Object)
            .unwrap_or_else(|| Value::Object(Map::new())),
        options: ExportOptions {
            format,
            format_rows,
            bom,
        },
    })
}

/// `POST /api/card/:id/query/:export-format` (§6.1): the card's parameters and the options.
pub struct CardExport {
    pub parameters: Vec<Value>,
    pub options: ExportOptions,
}

pub fn card_export(format: ExportFormat, body: &Map<String, Value>) -> ApiResult<CardExport> {
    let mut errs = ValidationErrors::new();
    let parameters = parameters_array(body.get("parameters"), &mut errs);
    let format_rows = flag(body, "format_rows", &mut errs);
    flag(body, "pivot_results", &mut errs);
    errs.into_result()?;
    Ok(CardExport {
        parameters,
        options: ExportOptions {
            format,
            format_rows,
            bom: false,
        },
    })
}
