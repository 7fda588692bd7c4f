//! `POST /api/ee/serialization/import` (serialization.md §3).
use axum::Router;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
