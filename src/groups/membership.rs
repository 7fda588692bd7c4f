//! Membership changes shared by every endpoint that makes them, so Administrators membership and
//! `is_superuser` never drift apart, and the last-admin rule is enforced in one place.
use serde_json::json;

use super::store::MembershipRow;
use super::ADMINISTRATORS;
use crate::audit::AuditEvent;
use crate::clock::Timestamp;
use crate::error::{ApiError, ApiResult};
use crate::store::{LockKey, StoreResult, Tx};

pub const LAST_ADMIN: &str = "You cannot remove the last member of the 'Admin' group!";
pub const ALL_USERS_FIXED: &str = "You cannot add or remove users to/from the 'All Users' group.";

/// Who acts, and whether `group-membership-*` events are recorded (API-key endpoints record
/// only their own events).
#[derive(Debug, Clone, Copy)]
pub struct Change {
    pub actor_id: i64,
    pub now: Timestamp,
    pub audit: bool,
}

fn event(topic: &'static str, c: Change, id: i64, user_id: i64, group_id: i64) -> AuditEvent {
    AuditEvent {
        topic,
        timestamp: c.now,
        user_id: Some(c.actor_id),
        model: "PermissionsGroupMembership",
        model_id: Some(id),
        details: json!({"group_id": group_id, "user_id": user_id}),
    }
}

/// Adds a membership (a no-op returning the existing one if present).
pub async fn add(tx: &mut dyn Tx, c: Change, user_id: i64, group_id: i64) -> StoreResult<i64> {
    if let Some(m) = tx.membership_find(user_id, group_id).await? {
        return Ok(m.id);
    }
    let id = tx.membership_insert(user_id, group_id).await?;
    if group_id == ADMINISTRATORS {
        tx.user_set_superuser(user_id, true).await?;
    }
    if c.audit {
        tx.audit_insert(&event("group-membership-create", c, id, user_id, group_id))
            .await?;
    }
    notify_if_key_user(tx, user_id).await?;
    Ok(id)
}

/// Removes a membership.
pub async fn remove(tx: &mut dyn Tx, c: Change, m: &MembershipRow) -> StoreResult<()> {
    tx.membership_delete(m.id).await?;
    if m.group_id == ADMINISTRATORS {
        tx.user_set_superuser(m.user_id, false).await?;
    }
    if c.audit {
        tx.audit_insert(&event(
            "group-membership-delete",
            c,
            m.id,
            m.user_id,
            m.group_id,
        ))
        .await?;
    }
    notify_if_key_user(tx, m.user_id).await?;
    Ok(())
}

/// Tells other instances that a key user's cached groups are stale.
pub async fn notify_if_key_user(tx: &mut dyn Tx, user_id: i64) -> StoreResult<()> {
    if let Some(key_id) = tx.api_key_id_by_user(user_id).await? {
        tx.notify_key_changed(key_id).await?;
    }
    Ok(())
}

/// Takes the admin lock; call before a change that may remove an active admin person.
pub async fn lock_admins(tx: &mut dyn Tx) -> StoreResult<()> {
    tx.lock(LockKey::Admins).await
}

/// After such a change: refuses it when no active admin person remains.
pub async fn ensure_an_admin_remains(tx: &mut dyn Tx) -> ApiResult<()> {
    if tx.active_admin_people_count().await? == 0 {
        return Err(ApiError::bad_request_text(LAST_ADMIN));
    }
    Ok(())
}
