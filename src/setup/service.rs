//! Setup rules: the first admin is created once, of two concurrent setups exactly one succeeds
//! (checked again under `LockKey::Setup`), and the setup token must match. The person, the site
//! settings and the first session are written in one transaction.
use crate::auth::{ADMINISTRATORS, ALL_USERS};
use crate::error::{ApiError, ApiResult, Kind};
use crate::state::App;
use crate::store::{LockKey, Tx};
use crate::users::store::NewUser;

use super::input::SetupRequest;

pub const ALREADY_SET_UP: &str = "The /api/setup route can only be used to create the first user, however a user currently exists.";

/// Setup is done when at least one active person exists.
pub async fn is_set_up(tx: &mut dyn Tx) -> ApiResult<bool> {
    Ok(tx.active_people_count().await? > 0)
}

fn already_set_up() -> ApiError {
    ApiError::Text(Kind::Forbidden, ALREADY_SET_UP.into())
}

/// `POST /api/setup`. `request` is the parsed body: an instance already set up answers 403
/// before any validation error (Metabase's order). Returns the new session's id.
pub async fn setup(app: &App, request: ApiResult<SetupRequest>) -> ApiResult<uuid::Uuid> {
    {
        let mut tx = app.store.read().await?;
        if is_set_up(tx.as_mut()).await? {
            return Err(already_set_up());
        }
    }
    let input = request?;
    let joined = app.clock.now().micros();
    let hash = crate::passwords::hash_password(input.password.clone())
        .await
        .map_err(ApiError::internal)?;
    let mut tx = app.store.begin().await?;
    tx.lock(LockKey::Setup).await?;
    // Checked again under the lock: of two concurrent setups exactly one succeeds.
    if is_set_up(tx.as_mut()).await? {
        return Err(already_set_up());
    }
    let expected = tx.setting_get("setup-token").await?;
    if expected.as_deref() != Some(input.token.as_str()) {
        return Err(ApiError::field(
            "token",
            "Token does not match the setup token.",
        ));
    }
    let admin = NewUser {
        email: input.email.clone(),
        first_name: input.first_name.clone(),
        last_name: input.last_name.clone(),
        password_hash: Some(hash),
        key_user: false,
        is_superuser: true,
        is_installer: true,
        locale: None,
        login_attributes: None,
        now: joined,
    };
    let groups = [ALL_USERS, ADMINISTRATORS];
    let user =
        crate::users::service::insert_person(tx.as_mut(), None, &admin, &groups, false).await?;
    write_site_settings(tx.as_mut(), &input, &user.email).await?;
    let now = app.clock.now();
    let sid = crate::sessions::service::create_session(tx.as_mut(), user.id, now).await?;
    tx.user_record_login(user.id, now.micros()).await?;
    tx.commit().await?;
    Ok(sid)
}

async fn write_site_settings(tx: &mut dyn Tx, input: &SetupRequest, email: &str) -> ApiResult<()> {
    tx.setting_set("site-name", Some(&input.site_name)).await?;
    let locale = input.site_locale.as_deref().unwrap_or("en");
    tx.setting_set("site-locale", Some(locale)).await?;
    tx.setting_set("admin-email", Some(email)).await?;
    Ok(())
}
