//! `/api/permissions/group` and `/api/permissions/membership` routes: thin handlers over
//! [`super::service`].
use super::{input, service};
use crate::error::ApiResult;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::{no_content, parse_path_id, ApiJson, Id, JsonBody};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/permissions/group", get(list).post(create))
        .route(
            "/api/permissions/group/{id}",
            get(get_group).put(rename).delete(delete),
        )
        .route(
            "/api/permissions/membership",
            get(memberships).post(add_member),
        )
        .route(
            "/api/permissions/membership/{id}",
            put(set_manager).delete(remove_member),
        )
        .route("/api/permissions/membership/{id}/clear", put(clear))
        .route_layer(axum::middleware::from_fn(crate::http::numeric_path_params))
}

async fn list(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let page = input::page(&q)?;
    Ok(ApiJson(service::list(&app, &c, page).await?))
}

async fn get_group(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::get(&app, &c, id).await?))
}

async fn create(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let name = input::group_name(&b)?;
    Ok(ApiJson(service::create(&app, &c, name).await?))
}

async fn rename(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let name = input::group_name(&b)?;
    Ok(ApiJson(service::rename(&app, &c, id, name).await?))
}

async fn delete(State(app): State<AppState>, Caller(c): Caller, Id(id): Id) -> ApiResult<Response> {
    service::delete(&app, &c, id).await?;
    Ok(no_content())
}

async fn memberships(
    State(app): State<AppState>,
    Caller(c): Caller,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::membership_map(&app, &c).await?))
}

async fn add_member(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let new = input::new_membership(&b)?;
    Ok(ApiJson(service::add_member(&app, &c, new).await?))
}

async fn set_manager(
    State(_app): State<AppState>,
    Caller(c): Caller,
    Id(_id): Id,
    JsonBody(b): JsonBody,
) -> ApiResult<Response> {
    input::manager_flag(&b)?;
    service::set_manager(&c)?;
    Ok(no_content())
}

async fn remove_member(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<Response> {
    service::remove_member(&app, &c, id).await?;
    Ok(no_content())
}

async fn clear(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let group_id = parse_path_id("group-id", &raw)?;
    service::clear(&app, &c, group_id).await?;
    Ok(no_content())
}
