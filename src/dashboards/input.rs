//! Dashboard bodies of `POST` and `PUT /api/dashboard` (content.md §3.2, §3.4, §3.5), read into
//! typed values at the edge: shapes only, every failing field reported together; rules that
//! need the database live in the service.
use serde_json::{Map, Value};

use crate::cards::input::nullable;
use crate::entity_id::is_entity_id;
use crate::error::validation::{Fields, ValidationErrors, NO_NUL};
use crate::error::ApiResult;

pub const PARAMETERS: &str =
    "value must be an array of parameters, each a map with a non-blank string `id` and `type`.";
pub const WIDTH: &str = "value must be one of: `fixed`, `full`.";
pub const TABS: &str =
    "value must be an array of tabs, each a map with an integer `id` and a non-blank `name`.";
pub const DASHCARDS: &str = "value must be an array of dashboard cards, each a map with an \
    integer `id`, `row` and `col` ≥ 0, `size_x` and `size_y` ≥ 1, a null `action_id`, an \
    integer or null `card_id` and `dashboard_tab_id`, and `series` of card ids.";
pub const ENTITY_ID: &str = "value must be a 21-character NanoID.";
const INTEGER: &str = "value must be an integer.";
const STRING: &str = "value must be a string.";

/// A tab of `PUT … {"tabs": […]}`. `id` absent or null: a new tab nothing can reference.
#[derive(Debug, Clone)]
pub struct TabInput {
    pub id: Option<i64>,
    pub name: String,
    pub entity_id: Option<String>,
}

/// A dashcard of `PUT … {"dashcards": […]}`. Outer `None`: key absent (an existing dashcard
/// keeps its stored value); the JSON fields are `Some` only when present and not null.
#[derive(Debug, Clone, Default)]
pub struct DashcardInput {
    pub id: i64,
    pub row: i64,
    pub col: i64,
    pub size_x: i64,
    pub size_y: i64,
    pub card_id: Option<Option<i64>>,
    pub dashboard_tab_id: Option<Option<i64>>,
    pub parameter_mappings: Option<Value>,
    pub visualization_settings: Option<Value>,
    pub inline_parameters: Option<Value>,
    pub series: Option<Vec<i64>>,
    pub entity_id: Option<String>,
}

/// `tabs` and `dashcards` of a PUT; `None` = absent (left unchanged).
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub tabs: Option<Vec<TabInput>>,
    pub dashcards: Option<Vec<DashcardInput>>,
}

impl Layout {
    pub fn is_present(&self) -> bool {
        self.tabs.is_some() || self.dashcards.is_some()
    }
}

/// `POST /api/dashboard`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewDashboard {
    pub name: String,
    pub description: Option<String>,
    pub parameters: Option<Value>,
    pub cache_ttl: Option<i64>,
    pub collection_id: Option<i64>,
    pub collection_position: Option<i64>,
    pub entity_id: Option<String>,
}

/// `PUT /api/dashboard/:id`. `None` leaves a field unchanged; `Some(None)` is a `null` that
/// clears it. Fields read "when present with a value" (`null` keeps what is stored, e.g. for
/// NOT NULL columns) are a single `Option`.
#[derive(Debug, Clone, Default)]
pub struct DashboardPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub parameters: Option<Value>,
    pub width: Option<String>,
    pub auto_apply_filters: Option<bool>,
    pub cache_ttl: Option<Option<i64>>,
    pub position: Option<Option<i64>>,
    pub collection_id: Option<Option<i64>>,
    pub collection_position: Option<Option<i64>>,
    pub caveats: Option<Option<String>>,
    pub points_of_interest: Option<Option<String>>,
    pub archived: Option<bool>,
    pub enable_embedding: Option<bool>,
    pub layout: Layout,
}

fn text(body: &Map<String, Value>, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn int(body: &Map<String, Value>, key: &str) -> Option<i64> {
    body.get(key).and_then(Value::as_i64)
}

fn boolean(body: &Map<String, Value>, key: &str) -> Option<bool> {
    body.get(key).and_then(Value::as_bool)
}

/// Present and not `null`.
fn given(body: &Map<String, Value>, key: &str) -> Option<Value> {
    body.get(key).filter(|v| !v.is_null()).cloned()
}

/// Validates a `POST` body.
pub fn new_dashboard(body: &Map<String, Value>) -> ApiResult<NewDashboard> {
    let mut errs = ValidationErrors::new();
    check(body, true, &mut errs);
    errs.into_result()?;
    Ok(NewDashboard {
        name: text(body, "name").unwrap_or_default(),
        description: text(body, "description"),
        parameters: given(body, "parameters"),
        cache_ttl: int(body, "cache_ttl"),
        collection_id: int(body, "collection_id"),
        collection_position: int(body, "collection_position"),
        entity_id: text(body, "entity_id"),
    })
}

/// Validates a `PUT` body, its scalar fields and then its layout.
pub fn patch(body: &Map<String, Value>) -> ApiResult<DashboardPatch> {
    let mut errs = ValidationErrors::new();
    check(body, false, &mut errs);
    let layout = layout(body, &mut errs);
    errs.into_result()?;
    Ok(DashboardPatch {
        name: text(body, "name"),
        description: nullable(body, "description", text),
        parameters: given(body, "parameters"),
        width: text(body, "width"),
        auto_apply_filters: boolean(body, "auto_apply_filters"),
        cache_ttl: nullable(body, "cache_ttl", int),
        position: nullable(body, "position", int),
        collection_id: nullable(body, "collection_id", int),
        collection_position: nullable(body, "collection_position", int),
        caveats: nullable(body, "caveats", text),
        points_of_interest: nullable(body, "points_of_interest", text),
        archived: boolean(body, "archived"),
        enable_embedding: boolean(body, "enable_embedding"),
        layout,
    })
}

fn is_int(v: &Value) -> bool {
    v.is_i64() && !v.is_f64()
}

/// An optional string without U+0000 (`null` allowed).
fn nullable_string(body: &Map<String, Value>, key: &'static str, errs: &mut ValidationErrors) {
    match body.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if !s.contains('\0') => {}
        Some(Value::String(_)) => errs.add_received(&[key], NO_NUL, body.get(key)),
        other => errs.add_received(&[key], STRING, other),
    }
}

fn parameters_ok(v: &Value) -> bool {
    let non_blank = |p: &Map<String, Value>, k: &str| {
        p.get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    v.as_array().is_some_and(|a| {
        a.iter().all(|p| {
            p.as_object()
                .is_some_and(|p| non_blank(p, "id") && non_blank(p, "type"))
        })
    })
}

fn entity_id(v: Option<&Value>, errs: &mut ValidationErrors) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if is_entity_id(s) => Some(s.clone()),
        Some(other) => {
            errs.add_received(&["entity_id"], ENTITY_ID, Some(other));
            None
        }
    }
}

/// Shape checks shared by POST and PUT. `create`: `name` is required.
pub fn check(body: &Map<String, Value>, create: bool, errs: &mut ValidationErrors) {
    let f = Fields::new(body);
    f.non_blank(errs, "name", 254, create);
    nullable_string(body, "description", errs);
    match body.get("parameters") {
        None | Some(Value::Null) => {}
        Some(v) if parameters_ok(v) => {}
        other => errs.add_received(&["parameters"], PARAMETERS, other),
    }
    f.positive_int(errs, "cache_ttl", false);
    f.positive_int(errs, "collection_id", false);
    f.positive_int(errs, "collection_position", false);
    if create {
        entity_id(body.get("entity_id"), errs);
        return;
    }
    match body.get("width") {
        None | Some(Value::Null) => {}
        Some(Value::String(w)) if w == "fixed" || w == "full" => {}
        other => errs.add_received(&["width"], WIDTH, other),
    }
    match body.get("position") {
        None | Some(Value::Null) => {}
        Some(v) if is_int(v) => {}
        other => errs.add_received(&["position"], INTEGER, other),
    }
    nullable_string(body, "caveats", errs);
    nullable_string(body, "points_of_interest", errs);
    for key in [
        "archived",
        "auto_apply_filters",
        "enable_embedding",
        "show_in_getting_started",
    ] {
        f.boolean(errs, key);
    }
}

/// Parses `tabs` and `dashcards` of a PUT, recording shape errors.
pub fn layout(body: &Map<String, Value>, errs: &mut ValidationErrors) -> Layout {
    let mut out = Layout::default();
    match body.get("tabs") {
        None | Some(Value::Null) => {}
        Some(v) => match v
            .as_array()
            .map(|a| a.iter().map(tab).collect::<Option<Vec<_>>>())
        {
            Some(Some(tabs)) => {
                for t in &tabs {
                    if let Some(e) = &t.1 {
                        entity_id(Some(e), errs);
                    }
                }
                out.tabs = Some(
                    tabs.into_iter()
                        .map(|(t, e)| TabInput {
                            entity_id: e.as_ref().and_then(|e| e.as_str()).map(str::to_owned),
                            ..t
                        })
                        .collect(),
                );
            }
            _ => errs.add_received(&["tabs"], TABS, Some(v)),
        },
    }
    match body.get("dashcards") {
        None | Some(Value::Null) => {}
        Some(v) => {
            let parsed = v
                .as_array()
                .map(|a| a.iter().map(dashcard).collect::<Option<Vec<_>>>());
            match parsed {
                Some(Some(cards)) => {
                    for (_, e) in &cards {
                        if let Some(e) = e {
                            entity_id(Some(e), errs);
                        }
                    }
                    out.dashcards = Some(
                        cards
                            .into_iter()
                            .map(|(d, e)| DashcardInput {
                                entity_id: e.as_ref().and_then(|e| e.as_str()).map(str::to_owned),
                                ..d
                            })
                            .collect(),
                    );
                }
                _ => errs.add_received(&["dashcards"], DASHCARDS, Some(v)),
            }
        }
    }
    out
}

/// One tab, and its raw non-null `entity_id` (checked by the caller).
fn tab(v: &Value) -> Option<(TabInput, Option<Value>)> {
    let m = v.as_object()?;
    let id = match m.get("id") {
        None | Some(Value::Null) => None,
        Some(v) if is_int(v) => v.as_i64(),
        Some(_) => return None,
    };
    let name = m
        .get("name")?
        .as_str()
        .filter(|s| !s.trim().is_empty() && !s.contains('\0') && s.chars().count() <= 254)?;
    let eid = m.get("entity_id").filter(|e| !e.is_null()).cloned();
    Some((
        TabInput {
            id,
            name: name.to_owned(),
            entity_id: None,
        },
        eid,
    ))
}

/// An integer field of at least `min`.
fn int_at_least(m: &Map<String, Value>, key: &str, min: i64) -> Option<i64> {
    m.get(key)
        .filter(|v| is_int(v))
        .and_then(Value::as_i64)
        .filter(|n| *n >= min)
}

/// `Some(None)` for null, `Some(Some(n))` for an integer, `None` (invalid) otherwise; absent
/// keys are handled by the caller.
fn nullable_int(v: &Value) -> Option<Option<i64>> {
    match v {
        Value::Null => Some(None),
        v if is_int(v) => Some(v.as_i64()),
        _ => None,
    }
}

/// One dashcard, and its raw non-null `entity_id` (checked by the caller).
fn dashcard(v: &Value) -> Option<(DashcardInput, Option<Value>)> {
    let m = v.as_object()?;
    let id = m.get("id").filter(|v| is_int(v))?.as_i64()?;
    if m.get("action_id").is_some_and(|a| !a.is_null()) {
        return None;
    }
    let opt_nullable_int = |key: &str| -> Option<Option<Option<i64>>> {
        match m.get(key) {
            None => Some(None),
            Some(v) => nullable_int(v).map(Some),
        }
    };
    let json_field = |key: &str, want_object: bool| -> Option<Option<Value>> {
        match m.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(v) if want_object && v.is_object() => Some(Some(v.clone())),
            Some(v) if !want_object && v.is_array() => Some(Some(v.clone())),
            Some(_) => None,
        }
    };
    let series = match m.get("series") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|s| {
                    let id = if s.is_object() { s.get("id")? } else { s };
                    id.as_i64().filter(|n| *n > 0 && is_int(id))
                })
                .collect::<Option<Vec<i64>>>()?,
        ),
        Some(_) => return None,
    };
    let eid = m.get("entity_id").filter(|e| !e.is_null()).cloned();
    Some((
        DashcardInput {
            id,
            row: int_at_least(m, "row", 0)?,
            col: int_at_least(m, "col", 0)?,
            size_x: int_at_least(m, "size_x", 1)?,
            size_y: int_at_least(m, "size_y", 1)?,
            card_id: opt_nullable_int("card_id")?,
            dashboard_tab_id: opt_nullable_int("dashboard_tab_id")?,
            parameter_mappings: json_field("parameter_mappings", false)?,
            visualization_settings: json_field("visualization_settings", true)?,
            inline_parameters: json_field("inline_parameters", false)?,
            series,
            entity_id: None,
        },
        eid,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::validation::{BOOLEAN, POSITIVE_INT};
    use serde_json::json;

    fn errors(body: Value, create: bool) -> Value {
        let mut e = ValidationErrors::new();
        let m = body.as_object().cloned().unwrap_or_default();
        check(&m, create, &mut e);
        layout(&m, &mut e);
        e.into_json()["errors"].clone()
    }

    #[test]
    fn scalar_fields() {
        assert_eq!(errors(json!({"name": "D"}), true), json!({}));
        let e = errors(json!({"width": "wide", "parameters": [{"id": "x"}]}), false);
        assert_eq!(e["width"], WIDTH);
        assert_eq!(e["parameters"], PARAMETERS);
        assert!(errors(json!({}), true)["name"].is_string());
        assert!(errors(json!({"description": 5}), true)["description"].is_string());
        assert_eq!(errors(json!({"description": ""}), false), json!({}));
        assert_eq!(
            errors(json!({"cache_ttl": 0}), true)["cache_ttl"],
            POSITIVE_INT
        );
        assert_eq!(
            errors(json!({"archived": "yes"}), false)["archived"],
            BOOLEAN
        );
    }

    #[test]
    fn layout_shapes() {
        let ok = json!({"tabs": [{"id": -1, "name": "T", "entity_id": null}],
                        "dashcards": [{"id": 0, "card_id": null, "row": 0, "col": 0,
                                       "size_x": 1, "size_y": 1, "series": [3, {"id": 4}],
                                       "action_id": null}]});
        assert_eq!(errors(ok.clone(), false), json!({}));
        let mut e = ValidationErrors::new();
        let l = layout(ok.as_object().expect("obj"), &mut e);
        assert_eq!(l.dashcards.expect("dashcards")[0].series, Some(vec![3, 4]));
        for bad in [
            json!({"id": 0, "row": -1, "col": 0, "size_x": 1, "size_y": 1}),
            json!({"id": 0, "row": 0, "col": 0, "size_x": 0, "size_y": 1}),
            json!({"id": 1.5, "row": 0, "col": 0, "size_x": 1, "size_y": 1}),
            json!({"id": 1, "row": 0, "col": 0, "size_x": 1, "size_y": 1, "action_id": 3}),
            json!({"id": 1, "row": 0, "col": 0, "size_x": 1, "size_y": 1, "series": ["x"]}),
            json!({"row": 0, "col": 0, "size_x": 1, "size_y": 1}),
        ] {
            assert_eq!(
                errors(json!({ "dashcards": [bad] }), false)["dashcards"],
                DASHCARDS
            );
        }
        assert_eq!(
            errors(json!({"tabs": [{"id": 1, "name": " "}]}), false)["tabs"],
            TABS
        );
        assert_eq!(
            errors(
                json!({"tabs": [{"id": 1, "name": "x", "entity_id": "short"}]}),
                false
            )["entity_id"],
            ENTITY_ID
        );
    }
}
