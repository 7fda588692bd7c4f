//! Query-string parameters: booleans, integers and paging in Metabase's rules (README 4.5).
use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde_json::Value;

use super::validate::{ValidationErrors, BOOLEAN_STRING, NON_NEGATIVE_INT, POSITIVE_INT};
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
        let raw = self.get(name)?;
        match raw.to_ascii_lowercase().as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => {
                errs.add_received(&[name], BOOLEAN_STRING, Some(&Value::String(raw.into())));
                None
            }
        }
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
