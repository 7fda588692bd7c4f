//! `DELETE /api/user/:id` and `PUT /api/user/:id/reactivate`: deactivation keeps the last active
//! admin, ends the person's sessions; reactivation brings a person back without admin rights.
use serde_json::json;

use super::{target_person, user_event, with_memberships};
use crate::auth::{Principal, ADMINISTRATORS};
use crate::error::{ApiError, ApiResult, Kind};
use crate::state::App;
use crate::users::membership::{self, Change};
use crate::users::view::UserDetail;

/// `DELETE /api/user/:id`.
pub async fn deactivate(app: &App, caller: &Principal, id: i64) -> ApiResult<()> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    membership::lock_admins(tx.as_mut()).await?;
    let user = target_person(tx.as_mut(), id).await?;
    if user.is_active {
        tx.user_set_active(id, false, now.micros()).await?;
        membership::ensure_an_admin_remains(tx.as_mut()).await?;
        tx.session_delete_for_user(id).await?;
        let event = user_event("user-deactivated", admin.actor_id, id, now, json!({}));
        tx.audit_insert(&event).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `PUT /api/user/:id/reactivate`.
pub async fn reactivate(app: &App, caller: &Principal, id: i64) -> ApiResult<UserDetail> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    let user = target_person(tx.as_mut(), id).await?;
    if user.is_active {
        return Err(ApiError::JsonBody(
            Kind::BadRequest,
            json!({"message": "Not able to reactivate an active user"}),
        ));
    }
    tx.user_set_active(id, true, now.micros()).await?;
    if let Some(m) = tx.membership_find(id, ADMINISTRATORS).await? {
        let change = Change {
            actor_id: admin.actor_id,
            now,
            audit: true,
        };
        membership::remove(tx.as_mut(), change, &m).await?;
    }
    tx.user_set_superuser(id, false).await?;
    let event = user_event("user-reactivated", admin.actor_id, id, now, json!({}));
    tx.audit_insert(&event).await?;
    let view = with_memberships(tx.as_mut(), id).await?;
    tx.commit().await?;
    Ok(view)
}
