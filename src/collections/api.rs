//! `/api/collection` routes (content.md §1, people-and-groups.md §8.2–8.3). The literal
//! segments `root`, `trash`, `tree` and `graph` are routes of their own and win over `{key}`.
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::graph;
use super::input;
use super::items;
use super::service::{self, parse_key};
use super::tree as collection_tree;
use crate::error::ApiResult;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::{ApiJson, JsonBody};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/collection", get(list).post(create))
        .route("/api/collection/tree", get(tree))
        .route("/api/collection/root", get(root))
        .route("/api/collection/root/items", get(root_items))
        .route("/api/collection/trash", get(trash))
        .route("/api/collection/graph", get(graph_get).put(graph_put))
        .route("/api/collection/{key}", get(get_one).put(update))
        .route("/api/collection/{key}/items", get(key_items))
}

async fn list(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let lq = input::list_query(&q)?;
    Ok(ApiJson(service::list(&app, &c, lq).await?))
}

async fn tree(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let tq = input::tree_query(&q)?;
    Ok(ApiJson(collection_tree::tree(&app, &c, tq).await?))
}

async fn root(State(app): State<AppState>, Caller(c): Caller) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::root(&app, &c).await?))
}

async fn trash(State(app): State<AppState>, Caller(c): Caller) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::trash(&app, &c).await?))
}

async fn get_one(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(key): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let key = parse_key(&key)?;
    Ok(ApiJson(service::get_one(&app, &c, key).await?))
}

async fn create(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let new = input::new_collection(&b)?;
    Ok(ApiJson(service::create(&app, &c, new).await?))
}

async fn update(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(key): Path<String>,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let key = parse_key(&key)?;
    let patch = input::update(&b)?;
    Ok(ApiJson(service::update(&app, &c, key, patch).await?))
}

async fn root_items(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<impl IntoResponse> {
    let iq = input::items_query(&q, &pairs)?;
    Ok(ApiJson(items::items(&app, &c, None, iq).await?))
}

async fn key_items(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(key): Path<String>,
    q: QueryParams,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<impl IntoResponse> {
    let key = parse_key(&key)?;
    let iq = input::items_query(&q, &pairs)?;
    Ok(ApiJson(items::items(&app, &c, Some(key), iq).await?))
}

async fn graph_get(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(graph::get(&app, &c, q.get("namespace")).await?))
}

async fn graph_put(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let put = input::graph_put(&q, &b)?;
    Ok(ApiJson(graph::put(&app, &c, put).await?))
}
