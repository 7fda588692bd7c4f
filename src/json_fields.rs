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

/// The keys of a PUT body applied onto a stored row, in Metabase's two manners: some keys are
/// written whenever present (`null` clears them), others only when present with a value (`null`
/// keeps what is stored, e.g. for NOT NULL columns). Absent keys never touch the row.
pub struct Patch<'a>(pub &'a Map<String, Value>);

impl Patch<'_> {
    /// Written whenever present; `null` (or a value of another type) clears it.
    pub fn nullable_i64(&self, key: &str, field: &mut Option<i64>) {
        if self.0.contains_key(key) {
            *field = opt_i64(self.0, key);
        }
    }

    /// Written whenever present; `null` (or a value of another type) clears it.
    pub fn nullable_text(&self, key: &str, field: &mut Option<String>) {
        if self.0.contains_key(key) {
            *field = opt_text(self.0, key);
        }
    }

    /// Written only when present as a string.
    pub fn text(&self, key: &str, field: &mut String) {
        if let Some(v) = opt_text(self.0, key) {
            *field = v;
        }
    }

    /// Written only when present as a boolean.
    pub fn boolean(&self, key: &str, field: &mut bool) {
        if let Some(b) = self.0.get(key).and_then(Value::as_bool) {
            *field = b;
        }
    }

    /// A JSON-valued field stored as text: written only when present, not `null`, and different
    /// from the stored JSON, so re-sending the same value leaves the row unchanged (and so not
    /// "edited").
    pub fn json(&self, key: &str, field: &mut String) {
        if let Some(v) = self.0.get(key).filter(|v| !v.is_null()) {
            let stored: Option<Value> = serde_json::from_str(field).ok();
            if stored.as_ref() != Some(v) {
                *field = v.to_string();
            }
        }
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

    #[test]
    fn patch_writes_nullable_keys_whenever_present_and_others_only_with_a_value() {
        let body = json!({"a": null, "b": 7, "c": null, "d": "x", "e": true});
        let Value::Object(body) = body else {
            unreachable!()
        };
        let p = Patch(&body);
        let (mut a, mut b, mut z) = (Some(1), None, Some(3));
        p.nullable_i64("a", &mut a);
        p.nullable_i64("b", &mut b);
        p.nullable_i64("absent", &mut z);
        assert_eq!((a, b, z), (None, Some(7), Some(3)));
        let (mut c, mut d) = (Some("old".to_string()), "old".to_string());
        p.nullable_text("c", &mut c);
        p.text("d", &mut d);
        assert_eq!((c, d.as_str()), (None, "x"));
        let mut kept = "old".to_string();
        p.text("c", &mut kept);
        assert_eq!(kept, "old");
        let (mut e, mut f) = (false, true);
        p.boolean("e", &mut e);
        p.boolean("c", &mut f);
        assert!(e && f);
    }

    #[test]
    fn patch_json_keeps_stored_text_when_the_value_is_the_same() {
        let body = json!({"same": {"a": 1, "b": 2}, "new": [1], "null": null});
        let Value::Object(body) = body else {
            unreachable!()
        };
        let p = Patch(&body);
        let mut same = r#"{ "b": 2, "a": 1 }"#.to_string();
        p.json("same", &mut same);
        assert_eq!(same, r#"{ "b": 2, "a": 1 }"#);
        let mut new = "[]".to_string();
        p.json("new", &mut new);
        assert_eq!(new, "[1]");
        let mut null = "[2]".to_string();
        p.json("null", &mut null);
        assert_eq!(null, "[2]");
    }
}
