//! `POST /api/setup`. Its own order of checks: already set up (403) before validation, then
//! validation, then the token.
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde_json::{Map, Value};

use crate::auth::{ADMINISTRATORS, ALL_USERS};
use crate::error::validation::{Fields, ValidationErrors, PASSWORD};
use crate::error::{ApiError, ApiResult};
use crate::http::JsonBody;
use crate::state::{App, AppState};
use crate::store::{LockKey, Tx};
use crate::users::input;
use crate::users::store::NewUser;

pub const ALREADY_SET_UP: &str = "The /api/setup route can only be used to create the first user, however a user currently exists.";

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/setup", post(setup))
}

/// Setup is done when at least one active person exists.
pub async fn is_set_up(tx: &mut dyn Tx) -> ApiResult<bool> {
    Ok(tx.active_people_count().await? > 0)
}

struct SetupInput {
    token: String,
    user: NewUser,
    password: String,
    site_name: String,
    site_locale: Option<String>,
}

fn parse(app: &App, body: &Map<String, Value>) -> ApiResult<SetupInput> {
    let empty = Map::new();
    let mut errs = ValidationErrors::new();
    let f = Fields::new(body);
    let token = match f.get("token") {
        Some(Value::String(s)) => Some(s.clone()),
        other => {
            errs.add_received(&["token"], "value must be a string.", other);
            None
        }
    };
    let user = input::object(body.get("user")).unwrap_or(&empty);
    let uf = Fields::nested(user, "user");
    let email = input::email(&uf, &mut errs, true);
    let password = match user.get("password") {
        Some(Value::String(p)) if app.config.password_policy.check(p) => Some(p.clone()),
        _ => {
            errs.add(&["user", "password"], PASSWORD, vec![]);
            None
        }
    };
    let first = input::name(&uf, &mut errs, "first_name");
    let last = input::name(&uf, &mut errs, "last_name");
    let prefs = input::object(body.get("prefs")).unwrap_or(&empty);
    let pf = Fields::nested(prefs, "prefs");
    let site_name = pf.non_blank(&mut errs, "site_name", 254, true);
    let site_locale = match prefs.get("site_locale") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_str().and_then(input::normalize_locale) {
            Some(l) => Some(l),
            None => {
                errs.add_received(&["prefs", "site_locale"], input::LOCALE_MESSAGE, Some(v));
                None
            }
        },
    };
    errs.into_result()?;
    let now = app.clock.now().micros();
    Ok(SetupInput {
        token: token.unwrap_or_default(),
        user: NewUser {
            email: email.unwrap_or_default(),
            first_name: first.flatten(),
            last_name: last.flatten(),
            password_hash: None,
            key_user: false,
            is_superuser: true,
            is_installer: true,
            locale: None,
            login_attributes: None,
            now,
        },
        password: password.unwrap_or_default(),
        site_name: site_name.unwrap_or_default(),
        site_locale,
    })
}

async fn setup(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> ApiResult<Response> {
    let forbidden = || ApiError::Text(crate::error::Kind::Forbidden, ALREADY_SET_UP.into());
    {
        let mut tx = app.store.read().await?;
        if is_set_up(tx.as_mut()).await? {
            return Err(forbidden());
        }
    }
    let mut input = parse(&app, &body)?;
    let hash = crate::passwords::hash_password(secrecy::SecretString::from(input.password.clone()))
        .await
        .map_err(ApiError::internal)?;
    input.user.password_hash = Some(hash);
    let mut tx = app.store.begin().await?;
    tx.lock(LockKey::Setup).await?;
    // Checked again under the lock: of two concurrent setups exactly one succeeds.
    if is_set_up(tx.as_mut()).await? {
        return Err(forbidden());
    }
    let expected = tx.setting_get("setup-token").await?;
    if expected.as_deref() != Some(input.token.as_str()) {
        return Err(ApiError::field(
            "token",
            "Token does not match the setup token.",
        ));
    }
    let user = crate::users::service::insert_person(
        tx.as_mut(),
        None,
        &input.user,
        &[ALL_USERS, ADMINISTRATORS],
        false,
    )
    .await?;
    tx.setting_set("site-name", Some(&input.site_name)).await?;
    tx.setting_set(
        "site-locale",
        Some(input.site_locale.as_deref().unwrap_or("en")),
    )
    .await?;
    tx.setting_set("admin-email", Some(&user.email)).await?;
    let now = app.clock.now();
    let sid = crate::sessions::service::create_session(tx.as_mut(), user.id, now).await?;
    tx.user_record_login(user.id, now.micros()).await?;
    tx.commit().await?;
    Ok(crate::sessions::api::session_response(
        &app, &headers, &sid, false,
    ))
}
