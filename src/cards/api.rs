//! `/api/card` routes (content.md §2).
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
        .route("/api/card", get(list).post(create))
        .route("/api/card/{id}", get(get_one).put(update).delete(delete))
}

pub use crate::http::path_ref::RawRef;

async fn create(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let input = input::parse(&body, true)?;
    Ok(ApiJson(service::create(&app, &c, &input).await?))
}

async fn get_one(
    State(app): State<AppState>,
    r: RawRef,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let r = r.resolve()?;
    let mut errs = ValidationErrors::new();
    let legacy = q
        .boolean(&mut errs, "legacy-mbql")
        .or_else(|| q.boolean(&mut errs, "legacy_mbql"))
        .unwrap_or(false);
    errs.into_result()?;
    Ok(ApiJson(service::get(&app, &c, &r, legacy).await?))
}

async fn list(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let mut errs = ValidationErrors::new();
    let model_id = q.positive_int(&mut errs, "model_id");
    let f = q.get("f").unwrap_or("all");
    let needs_model = |make: fn(i64) -> Filter| -> ApiResult<Filter> {
        model_id.map(make).ok_or_else(|| {
            ApiError::field(
                "model_id",
                format!("model_id is a required parameter when filter mode is '{f}'"),
            )
        })
    };
    let filter = match f {
        "all" => Filter::All,
        "mine" => Filter::Mine,
        "bookmarked" => Filter::Bookmarked,
        "archived" => Filter::Archived,
        "using_segment" => Filter::UsingSegment,
        "database" | "table" | "using_model" => {
            std::mem::take(&mut errs).into_result()?;
            needs_model(match f {
                "database" => Filter::Database,
                "table" => Filter::Table,
                _ => Filter::UsingModel,
            })?
        }
        other => {
            errs.add_received(
                &["f"],
                "nullable enum of archived, table, using_model, bookmarked, using_segment, all, mine, database",
                Some(&Value::String(other.into())),
            );
            return Err(ApiError::Validation(errs));
        }
    };
    if model_id.is_none() && matches!(filter, Filter::UsingSegment) {
        return Err(ApiError::field(
            "model_id",
            "model_id is a required parameter when filter mode is 'using_segment'",
        ));
    }
    errs.into_result()?;
    Ok(ApiJson(service::list(&app, &c, filter).await?))
}

async fn update(
    State(app): State<AppState>,
    r: RawRef,
    Caller(c): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let r = r.resolve()?;
    let input = input::parse(&body, false)?;
    Ok(ApiJson(super::update::update(&app, &c, &r, &input).await?))
}

async fn delete(State(app): State<AppState>, r: RawRef, Caller(c): Caller) -> ApiResult<Response> {
    let r = r.resolve()?;
    service::delete(&app, &c, &r).await?;
    Ok(no_content())
}
