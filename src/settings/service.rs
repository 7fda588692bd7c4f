//! Settings rules: `GET/PUT /api/setting[/:key]` for superusers, checked against the
//! definitions of [`super::instance`] before anything is written, and the public
//! `GET /api/session/properties`.
use serde::Serialize;
use serde_json::{json, Value};

use super::instance::{self, Def};
use crate::auth::Principal;
use crate::config::{METABASE_TAG, VERSION};
use crate::data_model::rehumanize::rehumanize;
use crate::error::{ApiError, ApiResult, Kind};
use crate::state::App;
use crate::store::Tx;

/// One setting as `GET /api/setting` lists it.
#[derive(Debug, Serialize)]
pub struct SettingView {
    pub key: &'static str,
    pub value: Option<Value>,
    pub default: Value,
    pub description: &'static str,
    pub is_env_setting: bool,
    pub env_name: String,
}

/// The stored value, typed; `None` when nothing is stored.
async fn stored(tx: &mut dyn Tx, d: &Def) -> ApiResult<Option<Value>> {
    let raw = tx.setting_get(d.key).await?;
    Ok(raw.map(|s| instance::typed(d, s)))
}

/// `GET /api/setting`.
pub async fn list(app: &App, caller: &Principal) -> ApiResult<Vec<SettingView>> {
    caller.require_superuser()?;
    let mut tx = app.store.read().await?;
    let mut out = Vec::new();
    for d in instance::DEFS {
        out.push(SettingView {
            key: d.key,
            value: stored(tx.as_mut(), d).await?,
            default: (d.default)(),
            description: d.description,
            is_env_setting: false,
            env_name: instance::env_name(d.key),
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// `GET /api/setting/:key`: one setting's value, bare (a string, a number, a map, …: each
/// setting has its own type).
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct SettingValue(pub Value);

/// `GET /api/setting/:key`: the stored value or the default.
pub async fn get(app: &App, caller: &Principal, key: &str) -> ApiResult<SettingValue> {
    caller.require_superuser()?;
    let d = instance::def(key)?;
    let mut tx = app.store.read().await?;
    let v = stored(tx.as_mut(), d).await?.unwrap_or_else(d.default);
    tx.commit().await?;
    Ok(SettingValue(v))
}

fn invalid(msg: String) -> ApiError {
    ApiError::JsonBody(Kind::BadRequest, json!({"errors": {"value": msg}}))
}

/// `PUT /api/setting/:key` (one pair) and `PUT /api/setting` (the body's pairs, in order): every
/// key must be known (404) and every value valid (400) before anything is written.
pub async fn put(app: &App, caller: &Principal, writes: &[(String, Value)]) -> ApiResult<()> {
    caller.require_superuser()?;
    let mut checked: Vec<(&str, Option<String>)> = Vec::new();
    for (k, v) in writes {
        let d = instance::def(k)?;
        checked.push((d.key, instance::checked(d, v).map_err(invalid)?));
    }
    let mut tx = app.store.begin().await?;
    for (k, text) in &checked {
        if *k == HUMANIZATION {
            let old = tx.setting_get(k).await?;
            let now = app.clock.now().micros();
            rehumanize(tx.as_mut(), old.as_deref(), text.as_deref(), now).await?;
        }
        tx.setting_set(k, text.as_deref()).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Display names of tables and fields follow it (data-model.md §1.4).
const HUMANIZATION: &str = "humanization-strategy";

/// `GET /api/session/properties` (spec README 3.4).
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Properties {
    pub setup_token: Option<String>,
    pub has_user_setup: bool,
    pub site_name: String,
    pub site_locale: String,
    pub version: BuildVersion,
    pub ferrobase: FerrobaseVersion,
    pub password_complexity: Value,
    pub session_cookies: Option<bool>,
    pub enable_password_login: bool,
    pub anon_tracking_enabled: bool,
    pub available_locales: [[&'static str; 2]; 1],
    /// Authenticated callers only; `Some(None)` is a `null` address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin_email: Option<Option<String>>,
}

/// The Metabase version ferrobase answers as, and its own build.
#[derive(Debug, Serialize)]
pub struct BuildVersion {
    pub tag: &'static str,
    pub date: &'static str,
    pub branch: &'static str,
    pub hash: &'static str,
}

#[derive(Debug, Serialize)]
pub struct FerrobaseVersion {
    pub version: &'static str,
}

/// `GET /api/session/properties`: public settings, plus `admin-email` for authenticated
/// callers.
pub async fn properties(app: &App, authenticated: bool) -> ApiResult<Properties> {
    let mut tx = app.store.read().await?;
    let set_up = crate::setup::service::is_set_up(tx.as_mut()).await?;
    let token = if set_up {
        None
    } else {
        tx.setting_get("setup-token").await?
    };
    let site_name = tx.setting_get("site-name").await?;
    let site_locale = tx.setting_get("site-locale").await?;
    let admin_email = match authenticated {
        true => Some(tx.setting_get("admin-email").await?),
        false => None,
    };
    Ok(Properties {
        setup_token: token,
        has_user_setup: set_up,
        site_name: site_name.unwrap_or_else(|| "ferrobase".into()),
        site_locale: site_locale.unwrap_or_else(|| "en".into()),
        version: BuildVersion {
            tag: METABASE_TAG,
            date: env!("FERROBASE_BUILD_DATE"),
            branch: "ferrobase",
            hash: env!("FERROBASE_GIT_HASH"),
        },
        ferrobase: FerrobaseVersion { version: VERSION },
        password_complexity: app.config.password_policy.property(),
        session_cookies: app.config.session_cookies,
        enable_password_login: true,
        anon_tracking_enabled: false,
        available_locales: [["en", "English"]],
        admin_email,
    })
}
