//! Request validation in Metabase's shapes: every failing field is reported together, with one
//! message in `errors` and a non-empty list of details (naming the received value) in
//! `specific-errors`. Nested fields nest the same way in both maps.
use serde_json::{Map, Value};

use crate::clock::Timestamp;

pub const NON_BLANK: &str = "value must be a non-blank string.";
pub const POSITIVE_INT: &str = "value must be an integer greater than zero.";
pub const NON_NEGATIVE_INT: &str = "value must be an integer greater than or equal to zero.";
pub const BOOLEAN: &str = "value must be a boolean.";
pub const BOOLEAN_STRING: &str = "value must be a valid boolean string ('true' or 'false').";
pub const EMAIL: &str = "value must be a valid email address.";
pub const PASSWORD: &str = "password is too common.";
/// PostgreSQL cannot store U+0000 in text, so no stored or looked-up string may contain it.
pub const NO_NUL: &str = "value must not contain NUL characters.";
pub const RFC3339: &str = "value must be an RFC 3339 timestamp with a time zone offset.";

#[derive(Debug, Default, Clone)]
pub struct ValidationErrors {
    errors: Box<Map<String, Value>>,
    specific: Box<Map<String, Value>>,
}

/// How a received value is written in a detail: JSON, except `null` is Metabase's `nil`.
pub fn received(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "nil".to_string(),
        Some(v) => v.to_string(),
    }
}

fn insert_nested(map: &mut Map<String, Value>, path: &[&str], value: Value) {
    match path {
        [] => {}
        [last] => {
            map.insert((*last).to_string(), value);
        }
        [first, rest @ ..] => {
            let entry = map
                .entry((*first).to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !entry.is_object() {
                *entry = Value::Object(Map::new());
            }
            if let Value::Object(inner) = entry {
                insert_nested(inner, rest, value);
            }
        }
    }
}

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Records a failing field at `path` (one element for a top-level field).
    pub fn add(&mut self, path: &[&str], message: &str, details: Vec<String>) {
        let details = if details.is_empty() {
            vec![message.to_string()]
        } else {
            details
        };
        insert_nested(&mut self.errors, path, Value::String(message.to_string()));
        insert_nested(
            &mut self.specific,
            path,
            Value::Array(details.into_iter().map(Value::String).collect()),
        );
    }

    /// Records `message, received: <value>` as the single detail.
    pub fn add_received(&mut self, path: &[&str], message: &str, got: Option<&Value>) {
        self.add(
            path,
            message,
            vec![format!("{message}, received: {}", received(got))],
        );
    }

    pub fn into_result(self) -> Result<(), crate::error::ApiError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(crate::error::ApiError::Validation(self))
        }
    }

    pub fn into_json(self) -> Value {
        serde_json::json!({"errors": self.errors, "specific-errors": self.specific})
    }
}

/// Typed readers over a JSON object body. Each returns `None` and records an error when the value
/// is present but invalid (or required and missing).
pub struct Fields<'a> {
    pub body: &'a Map<String, Value>,
    pub prefix: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    pub fn new(body: &'a Map<String, Value>) -> Self {
        Fields {
            body,
            prefix: Vec::new(),
        }
    }

    pub fn nested(body: &'a Map<String, Value>, prefix: &'static str) -> Self {
        Fields {
            body,
            prefix: vec![prefix],
        }
    }

    fn path(&self, name: &'static str) -> Vec<&'static str> {
        let mut p = self.prefix.clone();
        p.push(name);
        p
    }

    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.body.get(name)
    }

    /// Present and not null.
    pub fn given(&self, name: &str) -> Option<&'a Value> {
        self.body.get(name).filter(|v| !v.is_null())
    }

    /// A non-blank string of at most `max` characters (Unicode scalar values) without U+0000,
    /// which PostgreSQL cannot store (so it would otherwise be a 500 there and accepted on
    /// SQLite). `required`: absent/null is an error; otherwise absent/null yields `None`.
    pub fn non_blank(
        &self,
        errs: &mut ValidationErrors,
        name: &'static str,
        max: usize,
        required: bool,
    ) -> Option<String> {
        let s = self.non_blank_any(errs, name, max, required)?;
        if s.contains('\0') {
            errs.add(
                &self.path(name),
                NO_NUL,
                vec![format!("{NO_NUL}, received: {}", Value::String(s))],
            );
            return None;
        }
        Some(s)
    }

    /// [`Fields::non_blank`] that also accepts U+0000: for secrets that are never stored as
    /// text (a password at login).
    pub fn non_blank_any(
        &self,
        errs: &mut ValidationErrors,
        name: &'static str,
        max: usize,
        required: bool,
    ) -> Option<String> {
        let path = self.path(name);
        match self.body.get(name) {
            None | Some(Value::Null) => {
                if required {
                    errs.add_received(&path, NON_BLANK, self.body.get(name));
                }
                None
            }
            Some(Value::String(s)) => {
                if s.trim().is_empty() {
                    let mut details = Vec::new();
                    if s.is_empty() {
                        details.push("should be at least 1 character, received: \"\"".to_string());
                    }
                    details.push(format!(
                        "non-blank string, received: {}",
                        Value::String(s.clone())
                    ));
                    errs.add(&path, NON_BLANK, details);
                    None
                } else if s.chars().count() > max {
                    let msg = format!("value must be a string of at most {max} characters.");
                    errs.add(
                        &path,
                        &msg,
                        vec![format!("should be at most {max} characters, received a string of {} characters", s.chars().count())],
                    );
                    None
                } else {
                    Some(s.clone())
                }
            }
            Some(other) => {
                errs.add_received(&path, NON_BLANK, Some(other));
                None
            }
        }
    }

    /// An integer > 0 (JSON integer only: `5.0` and `"5"` are refused).
    pub fn positive_int(
        &self,
        errs: &mut ValidationErrors,
        name: &'static str,
        required: bool,
    ) -> Option<i64> {
        let path = self.path(name);
        match self.body.get(name) {
            None | Some(Value::Null) => {
                if required {
                    errs.add_received(&path, POSITIVE_INT, self.body.get(name));
                }
                None
            }
            Some(v) => match v.as_i64() {
                Some(n) if n > 0 && !is_float(v) => Some(n),
                _ => {
                    errs.add_received(&path, POSITIVE_INT, Some(v));
                    None
                }
            },
        }
    }

    /// A JSON boolean when present and not null.
    pub fn boolean(&self, errs: &mut ValidationErrors, name: &'static str) -> Option<bool> {
        match self.body.get(name) {
            None | Some(Value::Null) => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(other) => {
                errs.add_received(&self.path(name), BOOLEAN, Some(other));
                None
            }
        }
    }

    /// `Some(None)` for an explicit null, `Some(Some(t))` for a valid timestamp, `None` if absent.
    pub fn timestamp(
        &self,
        errs: &mut ValidationErrors,
        name: &'static str,
    ) -> Option<Option<Timestamp>> {
        match self.body.get(name) {
            None => None,
            Some(Value::Null) => Some(None),
            Some(Value::String(s)) => match Timestamp::parse_rfc3339(s) {
                Some(t) => Some(Some(t)),
                None => {
                    errs.add_received(&self.path(name), RFC3339, self.body.get(name));
                    None
                }
            },
            Some(other) => {
                errs.add_received(&self.path(name), RFC3339, Some(other));
                None
            }
        }
    }
}

fn is_float(v: &Value) -> bool {
    matches!(v, Value::Number(n) if n.is_f64())
}

/// Email rule of people-and-groups.md 4.1 (without the reserved-domain rule).
pub fn is_valid_email(s: &str) -> bool {
    if s.chars().count() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_errors_nest_in_both_maps() {
        let mut e = ValidationErrors::new();
        e.add_received(&["user", "email"], EMAIL, Some(&json!("x")));
        e.add_received(&["token"], NON_BLANK, None);
        let v = e.into_json();
        assert_eq!(v["errors"]["user"]["email"], EMAIL);
        assert_eq!(
            v["specific-errors"]["user"]["email"][0],
            format!("{EMAIL}, received: \"x\"")
        );
        assert_eq!(
            v["specific-errors"]["token"][0],
            format!("{NON_BLANK}, received: nil")
        );
    }

    #[test]
    fn blank_name_details_match_metabase() {
        let body = json!({"a": "", "b": "   ", "c": 5.0, "d": "5", "e": 7});
        let body = body.as_object().unwrap();
        let f = Fields::new(body);
        let mut e = ValidationErrors::new();
        assert!(f.non_blank(&mut e, "a", 254, true).is_none());
        assert!(f.non_blank(&mut e, "b", 254, true).is_none());
        assert!(f.positive_int(&mut e, "c", true).is_none());
        assert!(f.positive_int(&mut e, "d", true).is_none());
        assert_eq!(f.positive_int(&mut e, "e", true), Some(7));
        let v = e.into_json();
        assert_eq!(
            v["specific-errors"]["a"],
            json!([
                "should be at least 1 character, received: \"\"",
                "non-blank string, received: \"\""
            ])
        );
        assert_eq!(
            v["specific-errors"]["b"],
            json!(["non-blank string, received: \"   \""])
        );
        assert_eq!(v["errors"]["c"], POSITIVE_INT);
        assert_eq!(v["errors"]["d"], POSITIVE_INT);
    }

    #[test]
    fn emails() {
        assert!(is_valid_email("a@b.co"));
        assert!(!is_valid_email("x@y"));
        assert!(!is_valid_email("not-an-email"));
        assert!(!is_valid_email("@b.co"));
        assert!(!is_valid_email("a b@c.de"));
        assert!(!is_valid_email("a\0b@c.de"));
        assert!(!is_valid_email("a\u{7}b@c.de"));
    }
}
