//! `PUT /api/user/:id/password`: self (with the old password) or a superuser; every session of
//! the person ends, and a person changing their own password gets a new one.
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::{target_person, user_event};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::passwords;
use crate::state::App;
use crate::users::input::PasswordChange;
use crate::users::store::UserRow;

/// What a password change answers.
pub enum PasswordChanged {
    /// The caller changed their own password: a new session replaces the old ones.
    Own(uuid::Uuid),
    /// A superuser changed someone else's.
    Other,
}

/// `PUT /api/user/:id/password`.
pub async fn set_password(
    app: &App,
    caller: &Principal,
    id: i64,
    input: PasswordChange,
) -> ApiResult<PasswordChanged> {
    let is_admin = caller.is_superuser;
    if caller.user_id != id && !is_admin {
        return Err(ApiError::Forbidden);
    }
    let user = {
        let mut tx = app.store.read().await?;
        target_person(tx.as_mut(), id).await?
    };
    if !user.is_active {
        return Err(ApiError::NotFound);
    }
    if !is_admin {
        check_old_password(&user, input.old_password).await?;
    }
    let hash = passwords::hash_password(input.password)
        .await
        .map_err(ApiError::internal)?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    tx.user_set_password(id, &hash).await?;
    tx.session_delete_for_user(id).await?;
    let event = user_event("user-password-update", caller.user_id, id, now, json!({}));
    tx.audit_insert(&event).await?;
    let result = if caller.user_id == id {
        PasswordChanged::Own(crate::sessions::service::create_session(tx.as_mut(), id, now).await?)
    } else {
        PasswordChanged::Other
    };
    tx.commit().await?;
    Ok(result)
}

/// People who are not superusers must give their current password.
async fn check_old_password(user: &UserRow, old: SecretString) -> ApiResult<()> {
    let ok = !old.expose_secret().is_empty()
        && passwords::verify_password(old, user.password_hash.clone()).await;
    if !ok {
        return Err(ApiError::field("old_password", "Invalid password"));
    }
    Ok(())
}
