//! Settings routes: `GET /api/session/properties` (public) and `GET/PUT /api/setting[/:key]`
//! (superusers), thin handlers over [`super::service`].
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use super::service;
use crate::error::ApiResult;
use crate::http::auth::{Caller, MaybeCaller};
use crate::http::{no_content, ApiJson, JsonBody};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/session/properties", get(properties))
        .route("/api/setting", get(list).put(put_many))
        .route("/api/setting/{key}", get(get_one).put(put_one))
}

async fn properties(
    State(app): State<AppState>,
    MaybeCaller(info): MaybeCaller,
) -> ApiResult<impl IntoResponse> {
    let authenticated = info.principal.is_some();
    Ok(ApiJson(service::properties(&app, authenticated).await?))
}

async fn list(State(app): State<AppState>, Caller(c): Caller) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::list(&app, &c).await?))
}

async fn get_one(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(key): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::get(&app, &c, &key).await?))
}

/// `{"value": …}`; an absent value restores the default, like `null`.
async fn put_one(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(key): Path<String>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let value = body.get("value").cloned().unwrap_or(Value::Null);
    service::put(&app, &c, &[(key, value)]).await?;
    Ok(no_content())
}

/// `{key: value, …}`, written in the body's order.
async fn put_many(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let writes: Vec<(String, Value)> = body.into_iter().collect();
    service::put(&app, &c, &writes).await?;
    Ok(no_content())
}
