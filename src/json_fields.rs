//! Typed reads of optional fields of a JSON object (request bodies, serialized documents): a
//! missing field, `null` and a value of another type all read as absent.
use serde_json::{Map, Value};

pub fn opt_i64(m: &Map<String, Value>, key: &str) -> Option<i64> {
    m.get(key).and_then(Value::as_i64)
}

pub fn opt_text(m: &Map<String, Value>, key: &str) -> Option<String> {
    m.get(key).and_then(Value::as_str).map(str::to_owned)
}

pub fn bool_or(m: &Map<String, Value>, key: &str, default: bool) -> bool {
    m.get(key).and_then(Value::as_bool).unwrap_or(default)
}

/// Stored JSON text as a value; text that does not parse (never written by us, but the column
/// is plain text) renders as `default` rather than failing the whole object.
pub fn parse_stored(text: &str, default: Value) -> Value {
    serde_json::from_str(text).unwrap_or(default)
}

/// A JSON-valued field (array or object) as stored text; absent or `null` takes `default`.
pub fn json_text(m: &Map<String, Value>, key: &str, default: &str) -> String {
    match m.get(key) {
        None | Some(Value::Null) => default.to_string(),
        Some(v) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_stored_reads_json_text_and_falls_back_on_garbage() {
        assert_eq!(parse_stored(r#"{"a":1}"#, json!([])), json!({"a": 1}));
        assert_eq!(parse_stored("not json", json!([])), json!([]));
        assert_eq!(parse_stored("", Value::Null), Value::Null);
    }
}
