//! `/api/dashboard` routes (content.md §3).
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use super::input;
use super::service::{self, Filter};
use crate::error::validation::ValidationErrors;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::{no_content, ApiJson, JsonBody};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/dashboard", get(list).post(create))
        .route(
            "/api/dashboard/{id}",
            get(get_one).put(update).delete(delete),
        )
}

pub use crate::http::path_ref::RawRef;

async fn create(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let input = input::new_dashboard(&body)?;
    Ok(ApiJson(service::create(&app, &c, &input).await?))
}

async fn get_one(
    State(app): State<AppState>,
    r: RawRef,
    Caller(c): Caller,
) -> ApiResult<impl IntoResponse> {
    let r = r.resolve()?;
    Ok(ApiJson(service::get(&app, &c, &r).await?))
}

async fn list(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let filter = match q.get("f").unwrap_or("all") {
        "all" => Filter::All,
        "mine" => Filter::Mine,
        "archived" => Filter::Archived,
        other => {
            let mut errs = ValidationErrors::new();
            errs.add_received(
                &["f"],
                "value must be one of: `all`, `archived`, `mine`.",
                Some(&Value::String(other.into())),
            );
            return Err(ApiError::Validation(errs));
        }
    };
    Ok(ApiJson(service::list(&app, &c, filter).await?))
}

async fn update(
    State(app): State<AppState>,
    r: RawRef,
    Caller(c): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let r = r.resolve()?;
    let input = input::patch(&body)?;
    Ok(ApiJson(super::update::update(&app, &c, &r, &input).await?))
}

async fn delete(State(app): State<AppState>, r: RawRef, Caller(c): Caller) -> ApiResult<Response> {
    let r = r.resolve()?;
    service::delete(&app, &c, &r).await?;
    Ok(no_content())
}
