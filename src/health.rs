//! `GET /api/health`: never looks at credentials and is never rate-limited.
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::{extract::State, Router};
use serde_json::json;

use crate::http::json_response;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/health", get(health))
}

async fn health(State(app): State<AppState>) -> Response {
    match app.store.ping().await {
        Ok(()) => json_response(StatusCode::OK, &json!({"status": "ok"})),
        Err(_) => json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "Unable to get app-db connection"}),
        ),
    }
}
