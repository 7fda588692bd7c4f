//! `GET /api/audit-log` (api-keys.md 5.7): a thin handler over [`super::service::list`].
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::{input, service};
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
    let filter = input::list_query(&q)?;
    Ok(ApiJson(service::list(&app, &c, filter).await?))
}
