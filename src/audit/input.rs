//! `GET /api/audit-log` query parameters, validated at the edge; every failing parameter is
//! reported together.
use serde_json::Value;

use super::store::AuditFilter;
use crate::error::validation::{ValidationErrors, NON_NEGATIVE_INT, NO_NUL};
use crate::error::ApiResult;
use crate::http::query::QueryParams;

pub const DEFAULT_LIMIT: i64 = 50;
const LIMIT_MESSAGE: &str = "value must be an integer between 1 and 1000.";

/// `model`, `model_id`, `limit` (1–1000, default 50) and `offset` (default 0).
pub fn list_query(q: &QueryParams) -> ApiResult<AuditFilter> {
    let mut errs = ValidationErrors::new();
    let model_id = q.positive_int(&mut errs, "model_id");
    if let Some(m) = q.get("model").filter(|m| m.contains('\0')) {
        // PostgreSQL text cannot hold NUL; no model name contains one.
        errs.add_received(&["model"], NO_NUL, Some(&Value::String(m.into())));
    }
    let limit = q.int_in_range(&mut errs, "limit", 1, 1000, LIMIT_MESSAGE);
    let offset = q.int_in_range(&mut errs, "offset", 0, i64::MAX, NON_NEGATIVE_INT);
    errs.into_result()?;
    Ok(AuditFilter {
        model: q.get("model").map(str::to_string),
        model_id,
        limit: limit.unwrap_or(DEFAULT_LIMIT),
        offset: offset.unwrap_or(0),
    })
}
