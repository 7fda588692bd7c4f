//! `/api/database` routes (queries.md §1.3–§1.7); the data-model routes under it are in `data_model::api`.
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::input::Include;
use super::{input, service};
use crate::error::ApiResult;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::{no_content, ApiJson, Id, JsonBody};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/database", get(list).post(create))
        .route("/api/database/validate", post(validate))
        .route("/api/database/sample_database", post(sample_database))
        .route(
            "/api/database/{id}",
            get(get_one).put(update).delete(delete),
        )
        .route("/api/database/{id}/healthcheck", get(healthcheck))
        .route_layer(axum::middleware::from_fn(crate::http::numeric_path_params))
}

async fn list(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let tables = input::include(&q, false)? == Include::Tables;
    Ok(ApiJson(service::list(&app, &c, tables).await?))
}

async fn get_one(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let include = input::include(&q, true)?;
    Ok(ApiJson(service::get(&app, &c, id, include).await?))
}

async fn create(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let input = input::new_database(&body)?;
    Ok(ApiJson(service::create(&app, &c, &input).await?))
}

async fn update(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let input = input::patch(&body)?;
    Ok(ApiJson(service::update(&app, &c, id, &input).await?))
}

async fn delete(State(app): State<AppState>, Caller(c): Caller, Id(id): Id) -> ApiResult<Response> {
    service::delete(&app, &c, id).await?;
    Ok(no_content())
}

async fn validate(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let input = input::connection(&body)?;
    Ok(ApiJson(service::validate(&app, &c, &input).await?))
}

async fn sample_database(
    State(app): State<AppState>,
    Caller(c): Caller,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::sample_database(&app, &c).await?))
}

async fn healthcheck(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::healthcheck(&app, &c, id).await?))
}
