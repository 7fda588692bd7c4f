//! `/api/user` routes: thin handlers over [`super::service`].
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;
use serde_json::json;

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

async fn list(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::list(&app, &c, &q).await?))
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
    Ok(ApiJson(service::create(&app, &c, &b).await?))
}

async fn update(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::update(&app, &c, id, &b).await?))
}

async fn deactivate(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::deactivate(&app, &c, id).await?))
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
    match service::set_password(&app, &c, id, &b).await? {
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
    Ok(ApiJson(
        service::dismiss_modal(&app, &c, id, "qbnewb").await?,
    ))
}

async fn datasetnewb(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(
        service::dismiss_modal(&app, &c, id, "datasetnewb").await?,
    ))
}
