//! `/api/api-key` routes (api-keys.md 5): thin handlers that apply the order of checks
//! (route → 401 → validation 400 → service: 403 → 404 → business 400) and mark responses that
//! carry a plain-text key `Cache-Control: no-store`.
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;

use super::input;
use super::service::{self, OsKeyGenerator};
use super::view::WithSecret;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Caller;
use crate::http::{no_content, parse_path_id, ApiJson, JsonBody};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/api-key", get(list).post(create))
        .route("/api/api-key/count", get(count))
        .route("/api/api-key/{id}", put(update).delete(delete))
        .route("/api/api-key/{id}/regenerate", put(regenerate))
}

/// The `:id` segment: non-digits and overflow match no route (404, whoever asks); `0` is a
/// validation error, reported after authentication.
fn route_id(raw: &str) -> Result<ApiResult<i64>, ApiError> {
    match parse_path_id("id", raw) {
        Err(ApiError::NotFound) => Err(ApiError::NotFound),
        other => Ok(other),
    }
}

fn secret_response(s: WithSecret) -> Response {
    let mut r = ApiJson(s).into_response();
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn create(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(b): JsonBody,
) -> ApiResult<Response> {
    let new = input::new_key(&b)?;
    Ok(secret_response(
        service::create(&app, &c, new, &OsKeyGenerator).await?,
    ))
}

async fn list(State(app): State<AppState>, Caller(c): Caller) -> ApiResult<Response> {
    let body = service::list(&app, &c).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}

async fn count(State(app): State<AppState>, Caller(c): Caller) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::count(&app, &c).await?))
}

async fn update(
    State(app): State<AppState>,
    Path(raw): Path<String>,
    caller: Result<Caller, ApiError>,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<impl IntoResponse> {
    let id = route_id(&raw)?;
    let Caller(c) = caller?;
    let id = id?;
    let JsonBody(b) = body?;
    let patch = input::patch(&b)?;
    Ok(ApiJson(service::update(&app, &c, id, patch).await?))
}

async fn regenerate(
    State(app): State<AppState>,
    Path(raw): Path<String>,
    caller: Result<Caller, ApiError>,
    body: Result<JsonBody, ApiError>,
) -> ApiResult<Response> {
    let id = route_id(&raw)?;
    let Caller(c) = caller?;
    let id = id?;
    let JsonBody(b) = body?;
    let grace = input::grace_period(&b)?;
    Ok(secret_response(
        service::regenerate(&app, &c, id, grace, &OsKeyGenerator).await?,
    ))
}

async fn delete(
    State(app): State<AppState>,
    Path(raw): Path<String>,
    caller: Result<Caller, ApiError>,
) -> ApiResult<Response> {
    let id = route_id(&raw)?;
    let Caller(c) = caller?;
    service::delete(&app, &c, id?).await?;
    Ok(no_content())
}
