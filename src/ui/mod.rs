//! The admin web UI (server-rendered pages, small ES modules calling the JSON API).
use axum::Router;

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
}
