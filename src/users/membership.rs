//! A user's group memberships: every endpoint that changes them (users, groups, API keys) goes
//! through here, so Administrators membership and `is_superuser` never drift apart, and the
//! last-admin rule is enforced in one place. Groups and API keys depend on this module; it
//! depends on neither.
use serde_json::json;

use super::store::MembershipRow;
use crate::audit::AuditEvent;
use crate::auth::{ADMINISTRATORS, ALL_USERS};
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

/// Makes `user_id`'s memberships exactly `target`, except that All Users is never removed (every
/// person stays in it). Removals come first, then additions in `target`'s order; each records its
/// `group-membership-*` event when `c.audit`. Returns whether anything changed. The last-admin
/// rule is the caller's: call [`ensure_an_admin_remains`] afterwards when an admin may go.
pub async fn sync(tx: &mut dyn Tx, c: Change, user_id: i64, target: &[i64]) -> StoreResult<bool> {
    let current = tx.memberships_of_user(user_id).await?;
    let mut changed = false;
    for m in current
        .iter()
        .filter(|m| m.group_id != ALL_USERS && !target.contains(&m.group_id))
    {
        remove(tx, c, m).await?;
        changed = true;
    }
    for g in target {
        if !current.iter().any(|m| m.group_id == *g) {
            add(tx, c, user_id, *g).await?;
            changed = true;
        }
    }
    Ok(changed)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::store::AuditFilter;
    use crate::store::DatabaseUrl;
    use crate::users::store::NewUser;

    async fn person(tx: &mut dyn Tx) -> i64 {
        tx.user_insert(&NewUser {
            email: "grace@example.com".into(),
            first_name: None,
            last_name: None,
            password_hash: None,
            key_user: false,
            is_superuser: false,
            is_installer: false,
            locale: None,
            login_attributes: None,
            now: 0,
        })
        .await
        .expect("insert user")
    }

    async fn groups_of(tx: &mut dyn Tx, user_id: i64) -> Vec<i64> {
        let ms = tx.memberships_of_user(user_id).await.expect("memberships");
        ms.iter().map(|m| m.group_id).collect()
    }

    async fn topics(tx: &mut dyn Tx) -> Vec<&'static str> {
        let filter = AuditFilter {
            limit: 100,
            ..Default::default()
        };
        let (rows, _) = tx.audit_list(&filter).await.expect("audit");
        let mut t: Vec<&'static str> = rows
            .iter()
            .map(|r| match r.topic.as_str() {
                "group-membership-create" => "create",
                "group-membership-delete" => "delete",
                _ => "other",
            })
            .collect();
        t.sort_unstable();
        t
    }

    #[tokio::test]
    async fn sync_reaches_the_target_keeps_all_users_and_reports_changes() {
        let store = crate::store::open(&DatabaseUrl::SqliteMemory)
            .await
            .expect("store");
        let mut tx = store.begin().await.expect("begin");
        let tx = tx.as_mut();
        let user = person(tx).await;
        let extra = tx.group_insert("Analysts").await.expect("group").id;
        let c = Change {
            actor_id: user,
            now: Timestamp(0),
            audit: true,
        };
        add(tx, c, user, ALL_USERS).await.expect("all users");
        add(tx, c, user, ADMINISTRATORS).await.expect("admins");

        // All Users stays although the target leaves it out; Administrators goes, `extra` comes.
        assert!(sync(tx, c, user, &[extra]).await.expect("sync"));
        assert_eq!(groups_of(tx, user).await, vec![ALL_USERS, extra]);
        assert!(
            !tx.user_get(user)
                .await
                .expect("get")
                .expect("user")
                .is_superuser
        );
        assert_eq!(
            topics(tx).await,
            vec!["create", "create", "create", "delete"]
        );

        // Already there: nothing changes and nothing is recorded.
        assert!(!sync(tx, c, user, &[ALL_USERS, extra]).await.expect("sync"));
        assert_eq!(topics(tx).await.len(), 4);

        // Without auditing, changes are made but not recorded.
        let quiet = Change { audit: false, ..c };
        assert!(sync(tx, quiet, user, &[ALL_USERS]).await.expect("sync"));
        assert_eq!(groups_of(tx, user).await, vec![ALL_USERS]);
        assert_eq!(topics(tx).await.len(), 4);
    }
}
