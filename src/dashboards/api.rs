//! `/api/dashboard` routes (content.md §3).
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use super::service::{self, DashRef, Filter};
use crate::app::AppState;
use crate::cards::input::is_entity_id;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::validate::ValidationErrors;
use crate::http::{no_content, parse_path_id, ApiJson, JsonBody};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/dashboard", get(list).post(create))
        .route(
            "/api/dashboard/{id}",
            get(get_one).put(update).delete(delete),
        )
}

/// A path segment that is an integer id or a 21-character entity id; anything else matches no
/// route (content.md §0.2). Refusing `0` waits for [`RawRef::resolve`], after authentication.
pub enum RawRef {
    Digits(String),
    Entity(String),
}

impl RawRef {
    pub fn resolve(self) -> ApiResult<DashRef> {
        match self {
            RawRef::Digits(d) => parse_path_id("id", &d).map(DashRef::Id),
            RawRef::Entity(e) => Ok(DashRef::EntityId(e)),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RawRef {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
            if raw.parse::<i64>().is_err() {
                return Err(ApiError::NotFound);
            }
            Ok(RawRef::Digits(raw))
        } else if is_entity_id(&raw) {
            Ok(RawRef::Entity(raw))
        } else {
            Err(ApiError::NotFound)
        }
    }
}

async fn create(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(body): JsonBody,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::create(&app, &c, &body).await?))
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
    Ok(ApiJson(super::update::update(&app, &c, &r, &body).await?))
}

async fn delete(State(app): State<AppState>, r: RawRef, Caller(c): Caller) -> ApiResult<Response> {
    let r = r.resolve()?;
    service::delete(&app, &c, &r).await?;
    Ok(no_content())
}
