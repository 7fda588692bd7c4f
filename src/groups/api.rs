//! `/api/permissions/group` and `/api/permissions/membership` routes.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use serde_json::{Map, Value};

use super::service;
use crate::error::validation::{Fields, ValidationErrors};
use crate::error::ApiResult;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::{no_content, parse_path_id, ApiJson, Id, JsonBody};
use crate::state::{App, AppState};

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

/// `{"name": <non-blank string, at most 255 characters>}`.
fn group_name(body: &Map<String, Value>) -> ApiResult<String> {
    let mut errs = ValidationErrors::new();
    let name = Fields::new(body).non_blank(&mut errs, "name", 255, true);
    errs.into_result()?;
    Ok(name.unwrap_or_default())
}

/// Drops cached API-key state of users whose memberships changed.
fn evict(app: &App, users: &[i64]) {
    for u in users {
        app.api_keys.evict_user(*u);
    }
}

async fn list(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let mut errs = ValidationErrors::new();
    let paging = q.paging(&mut errs);
    errs.into_result()?;
    Ok(ApiJson(service::list(&app, &c, paging).await?))
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
    let name = group_name(&b)?;
    Ok(ApiJson(service::create(&app, &c, name).await?))
}

async fn rename(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let name = group_name(&b)?;
    Ok(ApiJson(service::rename(&app, &c, id, name).await?))
}

async fn delete(State(app): State<AppState>, Caller(c): Caller, Id(id): Id) -> ApiResult<Response> {
    let affected = service::delete(&app, &c, id).await?;
    evict(&app, &affected);
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
    let f = Fields::new(&b);
    let mut errs = ValidationErrors::new();
    let group_id = f.positive_int(&mut errs, "group_id", true);
    let user_id = f.positive_int(&mut errs, "user_id", true);
    let manager = f.boolean(&mut errs, "is_group_manager");
    errs.into_result()?;
    let (group_id, user_id) = (group_id.unwrap_or_default(), user_id.unwrap_or_default());
    let v = service::add_member(&app, &c, group_id, user_id, manager == Some(true)).await?;
    evict(&app, &[user_id]);
    Ok(ApiJson(v))
}

async fn set_manager(
    State(_app): State<AppState>,
    Caller(c): Caller,
    Id(_id): Id,
    JsonBody(b): JsonBody,
) -> ApiResult<Response> {
    let mut errs = ValidationErrors::new();
    let f = Fields::new(&b);
    if f.boolean(&mut errs, "is_group_manager").is_none() && errs.is_empty() {
        errs.add_received(
            &["is_group_manager"],
            crate::error::validation::BOOLEAN,
            None,
        );
    }
    errs.into_result()?;
    c.require_superuser()?;
    Err(crate::error::ApiError::Text(
        crate::error::Kind::PaymentRequired,
        service::GROUP_MANAGER_402.into(),
    ))
}

async fn remove_member(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<Response> {
    let user = service::remove_member(&app, &c, id).await?;
    evict(&app, &[user]);
    Ok(no_content())
}

async fn clear(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(raw): Path<String>,
) -> ApiResult<Response> {
    let group_id = parse_path_id("group-id", &raw)?;
    let affected = service::clear(&app, &c, group_id).await?;
    evict(&app, &affected);
    Ok(no_content())
}
