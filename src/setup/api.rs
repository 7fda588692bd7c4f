//! `POST /api/setup`. Its own order of checks: already set up (403) before validation, then
//! validation, then the token ([`super::service::setup`]).
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::Router;

use super::{input, service};
use crate::error::ApiResult;
use crate::http::JsonBody;
use crate::state::AppState;

/// Kept at its old path for callers outside setup (the web UI, database start-up).
pub use super::service::is_set_up;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/setup", post(setup))
}

async fn setup(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let request = input::setup_request(&body, &app.config.password_policy);
    let sid = service::setup(&app, request).await?;
    Ok(crate::sessions::api::session_response(
        &app, &headers, &sid, false,
    ))
}
