//! Query-string parameters: booleans, integers and paging in Metabase's rules (README 4.5).
use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde_json::Value;

use crate::error::validation::{ValidationErrors, BOOLEAN_STRING, NON_NEGATIVE_INT, POSITIVE_INT};
use crate::error::ApiError;

/// Raw query parameters (the last value wins for repeated names).
pub struct QueryParams(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Query(map) = Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::bad_request_text("Malformed query string."))?;
        Ok(QueryParams(map))
    }
}

/// Metabase's boolean strings: `true` or `false` in any letter case. Every reader of a boolean
/// given as text (query strings, form fields) goes through here so they accept the same words.
pub fn bool_string(raw: &str) -> Option<bool> {
    if raw.eq_ignore_ascii_case("true") {
        Some(true)
    } else if raw.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A boolean query parameter `name` whose raw value (if given) is `raw`: `None` when absent, and
/// when not a boolean string, which is also recorded in `errs` with Metabase's message.
pub fn read_boolean(
    errs: &mut ValidationErrors,
    name: &'static str,
    raw: Option<&str>,
) -> Option<bool> {
    let raw = raw?;
    let b = bool_string(raw);
    if b.is_none() {
        errs.add_received(&[name], BOOLEAN_STRING, Some(&Value::String(raw.into())));
    }
    b
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

impl QueryParams {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn boolean(&self, errs: &mut ValidationErrors, name: &'static str) -> Option<bool> {
        read_boolean(errs, name, self.get(name))
    }

    /// A boolean flag accepted in kebab and snake case (content.md §0.1): the kebab name wins
    /// when both are given; absent is `false`.
    pub fn flag(
        &self,
        errs: &mut ValidationErrors,
        kebab: &'static str,
        snake: &'static str,
    ) -> bool {
        let name = if self.get(kebab).is_some() {
            kebab
        } else {
            snake
        };
        self.boolean(errs, name).unwrap_or(false)
    }

    fn int(
        &self,
        errs: &mut ValidationErrors,
        name: &'static str,
        min: i64,
        message: &str,
    ) -> Option<i64> {
        let raw = self.get(name)?;
        match raw.parse::<i64>() {
            Ok(n) if n >= min && raw.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => {
                errs.add_received(&[name], message, Some(&Value::String(raw.into())));
                None
            }
        }
    }

    pub fn positive_int(&self, errs: &mut ValidationErrors, name: &'static str) -> Option<i64> {
        self.int(errs, name, 1, POSITIVE_INT)
    }

    /// An integer within `[min, max]`, reported with `message` otherwise.
    pub fn int_in_range(
        &self,
        errs: &mut ValidationErrors,
        name: &'static str,
        min: i64,
        max: i64,
        message: &str,
    ) -> Option<i64> {
        let n = self.int(errs, name, min, message)?;
        if n > max {
            errs.add_received(&[name], message, Some(&Value::String(n.to_string())));
            return None;
        }
        Some(n)
    }

    /// Metabase paging: neither → no paging; one → the other defaults (limit 50, offset 0).
    pub fn paging(&self, errs: &mut ValidationErrors) -> Paging {
        let limit = self.int(errs, "limit", 1, POSITIVE_INT);
        let offset = self.int(errs, "offset", 0, NON_NEGATIVE_INT);
        let (has_l, has_o) = (self.get("limit").is_some(), self.get("offset").is_some());
        if !has_l && !has_o {
            return Paging {
                limit: None,
                offset: None,
            };
        }
        Paging {
            limit: Some(limit.unwrap_or(50)),
            offset: Some(offset.unwrap_or(0)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bool_string_accepts_true_and_false_in_any_case_only() {
        assert_eq!(bool_string("true"), Some(true));
        assert_eq!(bool_string("FaLsE"), Some(false));
        assert_eq!(bool_string(""), None);
        assert_eq!(bool_string("1"), None);
        assert_eq!(bool_string("yes"), None);
    }

    #[test]
    fn read_boolean_records_metabase_message_for_other_words() {
        let mut errs = ValidationErrors::new();
        assert_eq!(read_boolean(&mut errs, "archived", None), None);
        assert_eq!(
            read_boolean(&mut errs, "archived", Some("TRUE")),
            Some(true)
        );
        assert!(errs.into_result().is_ok());
        let mut errs = ValidationErrors::new();
        assert_eq!(read_boolean(&mut errs, "archived", Some("nope")), None);
        assert_eq!(
            errs.into_json()["errors"]["archived"],
            Value::String(BOOLEAN_STRING.into())
        );
    }
}
