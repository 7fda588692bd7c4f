//! `/api/permissions/graph` routes (people-and-groups.md §9.2, §9.4).
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::graph::{self, Scope};
use super::input;
use crate::error::ApiResult;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::{parse_path_id, ApiJson, JsonBody};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/permissions/graph", get(get_all).put(put))
        .route("/api/permissions/graph/db/{db-id}", get(get_db))
        .route("/api/permissions/graph/group/{group-id}", get(get_group))
        .route_layer(axum::middleware::from_fn(crate::http::numeric_path_params))
}

async fn get_all(State(app): State<AppState>, Caller(c): Caller) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(graph::get(&app, &c, Scope::All).await?))
}

async fn get_db(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(raw): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let id = parse_path_id("db-id", &raw)?;
    Ok(ApiJson(graph::get(&app, &c, Scope::Database(id)).await?))
}

async fn get_group(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(raw): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let id = parse_path_id("group-id", &raw)?;
    Ok(ApiJson(graph::get(&app, &c, Scope::Group(id)).await?))
}

async fn put(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let put = input::graph_put(&q, &b)?;
    Ok(ApiJson(graph::put(&app, &c, put).await?))
}
