//! Request bodies of the data-model edits (data-model.md §5.8, §5.9, §5.12, §5.16, §3.3) turned
//! into typed values, with the validation messages of §5.19: `nullable ` in `errors`, the
//! unprefixed message and the received value in `specific-errors`.
use serde_json::{Map, Value};

use super::types;
use crate::error::validation::{received, ValidationErrors};
use crate::error::ApiResult;

const NON_BLANK: &str = "value must be a non-blank string.";
const STRING: &str = "value must be a string.";
const BOOLEAN: &str = "value must be a boolean.";
const POSITIVE: &str = "value must be an integer greater than zero.";
const MAP: &str = "value must be a map.";

fn refuse(errs: &mut ValidationErrors, key: &'static str, message: &str, got: &Value) {
    errs.add(
        &[key],
        &format!("nullable {message}"),
        vec![format!("{message}, received: {}", received(Some(got)))],
    );
}

/// A key's value: absent, `null`, or a value.
fn given<'a>(body: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    body.get(key)
}

/// A string key; `blank_ok` accepts `""` and spaces. `Some(None)` for `null`.
fn text(
    errs: &mut ValidationErrors,
    body: &Map<String, Value>,
    key: &'static str,
    blank_ok: bool,
) -> Option<Option<String>> {
    match given(body, key)? {
        Value::Null => Some(None),
        Value::String(s) if (blank_ok || !s.trim().is_empty()) && !s.contains('\0') => {
            Some(Some(s.clone()))
        }
        other => {
            refuse(errs, key, if blank_ok { STRING } else { NON_BLANK }, other);
            None
        }
    }
}

/// One of `allowed` (`message` names them). `Some(None)` for `null`.
fn one_of(
    errs: &mut ValidationErrors,
    body: &Map<String, Value>,
    key: &'static str,
    allowed: &[&str],
    message: &str,
) -> Option<Option<String>> {
    match given(body, key)? {
        Value::Null => Some(None),
        Value::String(s) if allowed.contains(&s.as_str()) => Some(Some(s.clone())),
        other => {
            refuse(errs, key, message, other);
            None
        }
    }
}

fn boolean(
    errs: &mut ValidationErrors,
    body: &Map<String, Value>,
    key: &'static str,
) -> Option<bool> {
    match given(body, key)? {
        Value::Null => None,
        Value::Bool(b) => Some(*b),
        other => {
            refuse(errs, key, BOOLEAN, other);
            None
        }
    }
}

fn enum_message(values: &[&str]) -> String {
    format!("enum of {}", values.join(", "))
}

/// `PUT /api/table/:id` (and the shared keys of `PUT /api/table`). `None`: no change;
/// `Some(None)`: clear.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TablePatch {
    pub display_name: Option<String>,
    pub description: Option<Option<String>>,
    pub caveats: Option<Option<String>>,
    pub points_of_interest: Option<Option<String>>,
    pub entity_type: Option<String>,
    pub visibility_type: Option<Option<String>>,
    pub field_order: Option<String>,
    pub show_in_getting_started: Option<bool>,
}

impl TablePatch {
    pub fn parse(body: &Map<String, Value>, with_order: bool) -> ApiResult<TablePatch> {
        let mut errs = ValidationErrors::new();
        let p = TablePatch {
            display_name: text(&mut errs, body, "display_name", false).flatten(),
            description: text(&mut errs, body, "description", true),
            caveats: text(&mut errs, body, "caveats", true),
            points_of_interest: text(&mut errs, body, "points_of_interest", true),
            entity_type: one_of(
                &mut errs,
                body,
                "entity_type",
                types::ENTITY_TYPES,
                "value must be a valid entity type (keyword or string).",
            )
            .flatten(),
            visibility_type: one_of(
                &mut errs,
                body,
                "visibility_type",
                types::TABLE_VISIBILITY,
                &enum_message(types::TABLE_VISIBILITY),
            ),
            field_order: if with_order {
                one_of(
                    &mut errs,
                    body,
                    "field_order",
                    types::FIELD_ORDERS,
                    &enum_message(types::FIELD_ORDERS),
                )
                .flatten()
            } else {
                None
            },
            show_in_getting_started: boolean(&mut errs, body, "show_in_getting_started"),
        };
        errs.into_result()?;
        Ok(p)
    }
}

/// `PUT /api/table`: the ids and the shared patch.
pub fn bulk(body: &Map<String, Value>) -> ApiResult<(Vec<i64>, TablePatch)> {
    let mut errs = ValidationErrors::new();
    let ids = match body.get("ids") {
        Some(Value::Array(a)) if a.iter().all(|v| v.as_i64().is_some_and(|n| n > 0)) => {
            a.iter().filter_map(Value::as_i64).collect()
        }
        other => {
            errs.add_received(
                &["ids"],
                "value must be an array of integers greater than zero.",
                other,
            );
            Vec::new()
        }
    };
    let patch = TablePatch::parse(body, false);
    errs.into_result()?;
    Ok((ids, patch?))
}

/// `PUT /api/field/:id`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldPatch {
    pub display_name: Option<String>,
    pub description: Option<Option<String>>,
    pub caveats: Option<Option<String>>,
    pub points_of_interest: Option<Option<String>>,
    pub semantic_type: Option<Option<String>>,
    pub fk_target_field_id: Option<Option<i64>>,
    pub coercion_strategy: Option<Option<String>>,
    pub visibility_type: Option<String>,
    pub has_field_values: Option<Option<String>>,
    /// JSON object text.
    pub settings: Option<String>,
    pub json_unfolding: Option<bool>,
    /// JSON array text; `Some(None)` clears.
    pub nfc_path: Option<Option<String>>,
}

/// A value that `valid` accepts; `Some(None)` for `null`.
fn member(
    errs: &mut ValidationErrors,
    body: &Map<String, Value>,
    key: &'static str,
    valid: fn(&str) -> bool,
    message: &str,
) -> Option<Option<String>> {
    match given(body, key)? {
        Value::Null => Some(None),
        Value::String(s) if valid(s) => Some(Some(s.clone())),
        other => {
            refuse(errs, key, message, other);
            None
        }
    }
}

const SEMANTIC: &str = "value must be a valid field semantic or relation type (keyword or string).";
const COERCION: &str = "value must be a valid coercion strategy (keyword or string).";

fn is_semantic(s: &str) -> bool {
    types::SEMANTIC_TYPES.contains(&s)
}

fn fk_target(errs: &mut ValidationErrors, body: &Map<String, Value>) -> Option<Option<i64>> {
    match given(body, "fk_target_field_id")? {
        Value::Null => Some(None),
        v if v.as_i64().is_some_and(|n| n > 0) => Some(v.as_i64()),
        other => {
            refuse(errs, "fk_target_field_id", POSITIVE, other);
            None
        }
    }
}

fn settings(errs: &mut ValidationErrors, body: &Map<String, Value>) -> Option<String> {
    match given(body, "settings")? {
        Value::Null => None,
        v @ Value::Object(_) => Some(v.to_string()),
        other => {
            refuse(errs, "settings", MAP, other);
            None
        }
    }
}

fn nfc_path(errs: &mut ValidationErrors, body: &Map<String, Value>) -> Option<Option<String>> {
    match given(body, "nfc_path")? {
        Value::Null => Some(None),
        v @ Value::Array(a)
            if a.iter()
                .all(|x| x.as_str().is_some_and(|s| !s.trim().is_empty())) =>
        {
            Some(Some(v.to_string()))
        }
        other => {
            refuse(
                errs,
                "nfc_path",
                "value must be an array of non-blank strings.",
                other,
            );
            None
        }
    }
}

impl FieldPatch {
    pub fn parse(body: &Map<String, Value>) -> ApiResult<FieldPatch> {
        let mut errs = ValidationErrors::new();
        let p = FieldPatch {
            display_name: text(&mut errs, body, "display_name", false).flatten(),
            description: text(&mut errs, body, "description", false),
            caveats: text(&mut errs, body, "caveats", false),
            points_of_interest: text(&mut errs, body, "points_of_interest", false),
            semantic_type: member(&mut errs, body, "semantic_type", is_semantic, SEMANTIC),
            fk_target_field_id: fk_target(&mut errs, body),
            coercion_strategy: member(
                &mut errs,
                body,
                "coercion_strategy",
                types::is_coercion,
                COERCION,
            ),
            visibility_type: one_of(
                &mut errs,
                body,
                "visibility_type",
                types::FIELD_VISIBILITY,
                &enum_message(types::FIELD_VISIBILITY),
            )
            .flatten(),
            has_field_values: one_of(
                &mut errs,
                body,
                "has_field_values",
                types::HAS_FIELD_VALUES,
                &enum_message(types::HAS_FIELD_VALUES),
            ),
            settings: settings(&mut errs, body),
            json_unfolding: boolean(&mut errs, body, "json_unfolding"),
            nfc_path: nfc_path(&mut errs, body),
        };
        errs.into_result()?;
        Ok(p)
    }
}

/// `PUT /api/table/:id/fields/order`: a JSON array of positive integers.
pub fn field_order(body: &Value) -> ApiResult<Vec<i64>> {
    match body {
        Value::Array(a) if a.iter().all(|v| v.as_i64().is_some_and(|n| n > 0)) => {
            Ok(a.iter().filter_map(Value::as_i64).collect())
        }
        other => {
            let mut errs = ValidationErrors::new();
            errs.add_received(
                &["body"],
                "value must be an array of integers greater than zero.",
                Some(other),
            );
            Err(errs.into_result().unwrap_err())
        }
    }
}

/// `POST /api/field/:id/values`: `[value]` or `[value, label]` entries.
#[derive(Debug, Clone, PartialEq)]
pub struct ValuesBody {
    pub values: Vec<Value>,
    /// One per value, or none at all; `Err` when only some are labelled.
    pub labels: Vec<Option<String>>,
}

pub fn values(body: &Map<String, Value>) -> ApiResult<ValuesBody> {
    let entries = match body.get("values") {
        Some(Value::Array(a)) => a,
        other => {
            let mut errs = ValidationErrors::new();
            errs.add_received(
                &["values"],
                "value must be an array of one- or two-element arrays.",
                other,
            );
            return Err(errs.into_result().unwrap_err());
        }
    };
    let mut out = ValuesBody {
        values: Vec::new(),
        labels: Vec::new(),
    };
    for e in entries {
        match e.as_array().map(Vec::as_slice) {
            Some([v]) => {
                out.values.push(v.clone());
                out.labels.push(None);
            }
            Some([v, Value::String(label)]) if !label.trim().is_empty() => {
                out.values.push(v.clone());
                out.labels.push(Some(label.clone()));
            }
            _ => {
                let mut errs = ValidationErrors::new();
                errs.add_received(
                    &["values"],
                    "value must be an array of one- or two-element arrays.",
                    Some(e),
                );
                return Err(errs.into_result().unwrap_err());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn errors(r: ApiResult<impl std::fmt::Debug>) -> Value {
        match r {
            Err(crate::error::ApiError::Validation(v)) => v.into_json(),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn table_patch_null_and_values() {
        let p = TablePatch::parse(
            &obj(json!({"display_name": null, "visibility_type": null,
            "description": ""})),
            true,
        )
        .unwrap();
        assert_eq!(p.display_name, None);
        assert_eq!(p.visibility_type, Some(None));
        assert_eq!(p.description, Some(Some(String::new())));
        let e = errors(TablePatch::parse(&obj(json!({"display_name": ""})), true));
        assert_eq!(
            e["errors"]["display_name"],
            "nullable value must be a non-blank string."
        );
        let e = errors(TablePatch::parse(
            &obj(json!({"visibility_type": "secret",
            "field_order": "random", "entity_type": "entity/Bogus"})),
            true,
        ));
        assert_eq!(
            e["errors"]["visibility_type"],
            "nullable enum of hidden, technical, cruft"
        );
        assert_eq!(
            e["errors"]["field_order"],
            "nullable enum of database, alphabetical, custom, smart"
        );
        assert_eq!(
            e["errors"]["entity_type"],
            "nullable value must be a valid entity type (keyword or string)."
        );
    }

    #[test]
    fn field_patch_messages() {
        let e = errors(FieldPatch::parse(&obj(
            json!({"semantic_type": "type/Bogus"}),
        )));
        assert_eq!(
            e["errors"]["semantic_type"],
            "nullable value must be a valid field semantic or relation type (keyword or string)."
        );
        assert_eq!(e["specific-errors"]["semantic_type"][0],
            "value must be a valid field semantic or relation type (keyword or string)., received: \"type/Bogus\"");
        let e = errors(FieldPatch::parse(&obj(
            json!({"description": "", "fk_target_field_id": 0,
            "settings": 3, "has_field_values": "maybe"}),
        )));
        assert_eq!(
            e["errors"]["description"],
            "nullable value must be a non-blank string."
        );
        assert_eq!(
            e["errors"]["fk_target_field_id"],
            "nullable value must be an integer greater than zero."
        );
        assert_eq!(e["errors"]["settings"], "nullable value must be a map.");
        assert!(e["errors"]["has_field_values"]
            .as_str()
            .unwrap()
            .starts_with("nullable enum of "));
        let p = FieldPatch::parse(&obj(
            json!({"semantic_type": null, "fk_target_field_id": null}),
        ))
        .unwrap();
        assert_eq!(
            (p.semantic_type, p.fk_target_field_id),
            (Some(None), Some(None))
        );
    }

    #[test]
    fn order_and_values_bodies() {
        assert_eq!(field_order(&json!([3, 1])).unwrap(), vec![3, 1]);
        assert!(errors(field_order(&json!({"ids": [22]})))["errors"]["body"].is_string());
        let v = values(&obj(json!({"values": [["a", "A"], ["b"]]}))).unwrap();
        assert_eq!(v.labels, vec![Some("A".into()), None]);
        assert!(values(&obj(json!({"values": [["a", ""]]}))).is_err());
    }
}
