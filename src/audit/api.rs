//! `GET /api/audit-log` (api-keys.md 5.7): superusers only, newest first, always paged.
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::store::AuditFilter;
use crate::clock::Timestamp;
use crate::error::validation::{ValidationErrors, NON_NEGATIVE_INT, NO_NUL};
use crate::error::ApiResult;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::ApiJson;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/audit-log", get(list))
}

async fn list(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let mut errs = ValidationErrors::new();
    let model_id = q.positive_int(&mut errs, "model_id");
    if let Some(m) = q.get("model").filter(|m| m.contains('\0')) {
        // PostgreSQL text cannot hold NUL; no model name contains one.
        errs.add_received(&["model"], NO_NUL, Some(&Value::String(m.into())));
    }
    let limit = q.int_in_range(
        &mut errs,
        "limit",
        1,
        1000,
        "value must be an integer between 1 and 1000.",
    );
    let offset = q.int_in_range(&mut errs, "offset", 0, i64::MAX, NON_NEGATIVE_INT);
    errs.into_result()?;
    c.require_superuser()?;
    let filter = AuditFilter {
        model: q.get("model").map(str::to_string),
        model_id,
        limit: limit.unwrap_or(50),
        offset: offset.unwrap_or(0),
    };
    let mut tx = app.store.read().await?;
    let (rows, total) = tx.audit_list(&filter).await?;
    let data: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id, "topic": r.topic, "timestamp": Timestamp(r.timestamp).to_rfc3339(),
                "user_id": r.user_id, "model": r.model, "model_id": r.model_id,
                "details": serde_json::from_str::<Value>(&r.details).unwrap_or(Value::Null),
            })
        })
        .collect();
    Ok(ApiJson(
        json!({"data": data, "total": total, "limit": filter.limit, "offset": filter.offset}),
    ))
}
