//! Stub endpoints (content.md §6): families of Metabase features ferrobase does not offer, which
//! real clients still call (metabase-sync aborts its export on any `5xx`). They require
//! authentication like every other endpoint; lists answer `200 []`, everything else `404`.
use axum::routing::{any, get};
use axum::Router;
use serde_json::{json, Value};

use crate::error::{ApiError, ApiResult};
use crate::http::auth::Caller;
use crate::http::ApiJson;
use crate::state::AppState;

/// The families whose list (`GET /api/<family>`) is an empty array.
const FAMILIES: [&str; 8] = [
    "pulse",
    "alert",
    "notification",
    "segment",
    "legacy-metric",
    "native-query-snippet",
    "timeline",
    "timeline-event",
];

pub fn routes() -> Router<AppState> {
    let mut r = Router::new()
        .route("/api/alert/question/{id}", get(empty_list))
        .route("/api/collection/root/timelines", get(empty_list))
        .route("/api/collection/{key}/timelines", get(empty_list));
    for family in FAMILIES {
        // `GET` lists; any other method on the list path, and every method on a member path or
        // below it, is "not found" once the caller is authenticated.
        r = r
            .route(
                &format!("/api/{family}"),
                get(empty_list).fallback(not_found),
            )
            .route(&format!("/api/{family}/{{*rest}}"), any(not_found));
    }
    r
}

async fn empty_list(Caller(_): Caller) -> ApiResult<ApiJson<Value>> {
    Ok(ApiJson(json!([])))
}

async fn not_found(Caller(_): Caller) -> ApiResult<ApiJson<Value>> {
    Err(ApiError::NotFound)
}
