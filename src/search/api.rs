//! `GET /api/search`.
use axum::extract::{Query, State};
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
    Router::new().route("/api/search", get(search))
}

async fn search(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<impl IntoResponse> {
    let query = input::query(&q, &pairs)?;
    Ok(ApiJson(service::search(&app, &c, query).await?))
}
