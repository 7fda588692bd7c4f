//! `/api/user` routes: thin handlers over [`super::service`].
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use serde_json::json;

use super::input;
use super::service::{self, PasswordChanged};
use crate::error::ApiResult;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::{no_content, ApiJson, Id, JsonBody};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/user", get(list).post(create))
        .route("/api/user/current", get(current))
        .route(
            "/api/user/{id}",
            get(get_user).put(update).delete(deactivate),
        )
        .route("/api/user/{id}/reactivate", put(reactivate))
        .route("/api/user/{id}/password", put(password))
        .route("/api/user/{id}/modal/qbnewb", put(qbnewb))
        .route("/api/user/{id}/modal/datasetnewb", put(datasetnewb))
        .route_layer(axum::middleware::from_fn(crate::http::numeric_path_params))
}

/// `{"success": true}`, the answer of deactivation and of the modal flags.
fn success() -> ApiJson<serde_json::Value> {
    ApiJson(json!({"success": true}))
}

async fn list(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let q = input::list_query(&q)?;
    Ok(ApiJson(service::list(&app, &c, q).await?))
}

async fn current(State(app): State<AppState>, Caller(c): Caller) -> ApiResult<Response> {
    let body = service::current_json(&app, &c).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        body,
    )
        .into_response())
}

async fn get_user(
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
    let new = input::user_create(&b, &app.config.password_policy)?;
    Ok(ApiJson(service::create(&app, &c, new).await?))
}

async fn update(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let patch = input::user_update(&b)?;
    Ok(ApiJson(service::update(&app, &c, id, patch).await?))
}

async fn deactivate(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    service::deactivate(&app, &c, id).await?;
    Ok(success())
}

async fn reactivate(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::reactivate(&app, &c, id).await?))
}

async fn password(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    headers: HeaderMap,
    JsonBody(b): JsonBody,
) -> ApiResult<Response> {
    let change = input::password_change(&b, &app.config.password_policy)?;
    match service::set_password(&app, &c, id, change).await? {
        PasswordChanged::Own(sid) => {
            let mut r =
                ApiJson(json!({"success": true, "session_id": sid.to_string()})).into_response();
            r.headers_mut().insert(
                header::SET_COOKIE,
                crate::sessions::api::session_cookie(&app, &headers, &sid, false),
            );
            Ok(r)
        }
        PasswordChanged::Other => Ok(no_content()),
    }
}

// The two modals are separate routes, so any other name is an unknown route (404) even
// without credentials.
async fn qbnewb(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    service::dismiss_modal(&app, &c, id, "qbnewb").await?;
    Ok(success())
}

async fn datasetnewb(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    service::dismiss_modal(&app, &c, id, "datasetnewb").await?;
    Ok(success())
}
