//! Typed `PUT` fields applied onto a stored row (cards and dashboards, content.md §2.7, §3.4):
//! a field the body left out (`None`) never touches the row.
use serde_json::Value;

/// Writes `given` when the body had it. With `T = Option<_>` a `null` clears the field.
pub fn set<T: Clone>(field: &mut T, given: &Option<T>) {
    if let Some(v) = given {
        *field = v.clone();
    }
}

/// A JSON-valued field stored as text: written only when given and different from the stored
/// JSON, so re-sending the same value leaves the row unchanged (and so not "edited").
pub fn set_json(field: &mut String, given: &Option<Value>) {
    if let Some(v) = given {
        if serde_json::from_str::<Value>(field).ok().as_ref() != Some(v) {
            *field = v.to_string();
        }
    }
}

/// A JSON-valued field as stored text on creation: `default` when not given.
pub fn json_text(given: &Option<Value>, default: &str) -> String {
    given
        .as_ref()
        .map_or_else(|| default.to_string(), Value::to_string)
}
