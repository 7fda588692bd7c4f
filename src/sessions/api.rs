//! `/api/session`: log in, log out, password check.
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::json;

use super::input::Login;
use crate::error::validation::{ValidationErrors, PASSWORD};
use crate::error::{ApiError, ApiResult};
use crate::http::auth::{MaybeCaller, SESSION_COOKIE};
use crate::http::{no_content, ApiJson, JsonBody};
use crate::state::{App, AppState};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/session", post(login).delete(logout))
        .route("/api/session/password-check", post(password_check))
}

/// `Set-Cookie` for a new session (people-and-groups.md 2.3).
pub fn session_cookie(
    app: &App,
    headers: &HeaderMap,
    sid: &uuid::Uuid,
    remember: bool,
) -> HeaderValue {
    let mut c = format!("{SESSION_COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax");
    if remember && app.config.session_cookies != Some(true) {
        c.push_str(&format!(
            "; Max-Age={}",
            app.config.max_session_age_minutes * 60
        ));
    }
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    if https {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A `{"id": <session id>}` response that also sets the session cookie.
pub fn session_response(
    app: &App,
    headers: &HeaderMap,
    sid: &uuid::Uuid,
    remember: bool,
) -> Response {
    let mut r = ApiJson(json!({"id": sid.to_string()})).into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(app, headers, sid, remember),
    );
    r
}

async fn login(
    State(app): State<AppState>,
    MaybeCaller(info): MaybeCaller,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let login = Login::parse(&body)?;
    let remember = login.remember;
    let sid = app.sessions.login(&app, login, info.client_ip).await?;
    Ok(session_response(&app, &headers, &sid, remember))
}

async fn logout(
    State(app): State<AppState>,
    MaybeCaller(info): MaybeCaller,
) -> ApiResult<Response> {
    app.sessions.logout(&app, info.presented_session).await?;
    let mut r = no_content();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "metabase.SESSION=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax",
        ),
    );
    Ok(r)
}

async fn password_check(
    State(app): State<AppState>,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let ok = body
        .get("password")
        .and_then(|v| v.as_str())
        .is_some_and(|p| app.config.password_policy.check(p));
    if !ok {
        let mut e = ValidationErrors::new();
        // The details never echo the password.
        e.add(&["password"], PASSWORD, vec![]);
        return Err(ApiError::Validation(e));
    }
    Ok(ApiJson(json!({"valid": true})).into_response())
}
