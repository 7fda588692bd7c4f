//! `GET /api/session/properties`: public settings, plus `admin-email` for authenticated callers.
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::config::{METABASE_TAG, VERSION};
use crate::error::ApiResult;
use crate::http::auth::MaybeCaller;
use crate::http::ApiJson;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/session/properties", get(properties))
}

/// The properties, shared with the web UI (which embeds them in its setup page).
pub async fn properties_json(app: &crate::state::App, authenticated: bool) -> ApiResult<Value> {
    let mut tx = app.store.read().await?;
    let set_up = crate::setup::api::is_set_up(tx.as_mut()).await?;
    let token = if set_up {
        None
    } else {
        tx.setting_get("setup-token").await?
    };
    let site_name = tx
        .setting_get("site-name")
        .await?
        .unwrap_or_else(|| "ferrobase".into());
    let site_locale = tx
        .setting_get("site-locale")
        .await?
        .unwrap_or_else(|| "en".into());
    let mut v = json!({
        "setup-token": token,
        "has-user-setup": set_up,
        "site-name": site_name,
        "site-locale": site_locale,
        "version": {"tag": METABASE_TAG, "date": env!("FERROBASE_BUILD_DATE"),
                    "branch": "ferrobase", "hash": env!("FERROBASE_GIT_HASH")},
        "ferrobase": {"version": VERSION},
        "password-complexity": app.config.password_policy.property(),
        "session-cookies": app.config.session_cookies,
        "enable-password-login": true,
        "anon-tracking-enabled": false,
        "available-locales": [["en", "English"]],
    });
    if authenticated {
        v["admin-email"] = json!(tx.setting_get("admin-email").await?);
    }
    Ok(v)
}

async fn properties(
    State(app): State<AppState>,
    MaybeCaller(info): MaybeCaller,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(
        properties_json(&app, info.principal.is_some()).await?,
    ))
}
