//! Group and membership rules (people-and-groups.md 5–6). Membership changes go through
//! [`crate::users::membership`]; cached API-key state of users whose groups changed is evicted
//! after the commit, before the caller responds.
use serde_json::{json, Value};

use super::input::{NewMembership, Page};
use super::store::GroupRow;
use super::view::{Group, GroupCount, GroupDetail, Member, MembershipMap};
use crate::audit::AuditEvent;
use crate::auth::Principal;
use crate::auth::{ADMINISTRATORS, ALL_USERS};
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::Tx;
use crate::users::membership::{self, Change, ALL_USERS_FIXED};
use crate::users::view::name_order_key;

pub const DUPLICATE_NAME: &str = "A group with that name already exists.";
pub const GROUP_MANAGER_402: &str = "The group manager permissions functionality is only enabled if you have a premium token with the advanced-permissions feature.";

fn fixed_group_error(id: i64) -> Option<ApiError> {
    match id {
        ALL_USERS => Some(ApiError::bad_request_text(
            "You cannot edit or delete the 'All Users' permissions group!",
        )),
        ADMINISTRATORS => Some(ApiError::bad_request_text(
            "You cannot edit or delete the 'Administrators' permissions group!",
        )),
        _ => None,
    }
}

fn group_event(
    topic: &'static str,
    actor: i64,
    id: i64,
    now: crate::clock::Timestamp,
    details: Value,
) -> AuditEvent {
    AuditEvent::about("PermissionsGroup", id, topic, actor, now, details)
}

pub async fn list(app: &App, caller: &Principal, paging: Page) -> ApiResult<Vec<GroupCount>> {
    caller.require_superuser()?;
    let mut tx = app.store.read().await?;
    let mut rows = tx.group_list().await?;
    // Sorted here rather than in SQL, so the order does not depend on the database collation.
    rows.sort_by_cached_key(|g| (g.name.to_lowercase(), g.id));
    let offset = paging.offset.unwrap_or(0).max(0) as usize;
    let limit = paging.limit.map(|l| l as usize).unwrap_or(usize::MAX);
    Ok(rows
        .iter()
        .skip(offset)
        .take(limit)
        .map(GroupCount::from)
        .collect())
}

/// The group with its members, in Metabase's order of people.
async fn detail(tx: &mut dyn Tx, group: &GroupRow) -> ApiResult<GroupDetail> {
    let mut rows = tx.group_members(group.id).await?;
    // Unicode case-folding, identical on both backends (SQLite's lower() folds ASCII only).
    rows.sort_by_cached_key(|m| {
        name_order_key(m.first_name.as_deref(), m.last_name.as_deref(), m.user_id)
    });
    Ok(GroupDetail {
        id: group.id,
        name: group.name.clone(),
        magic_group_type: group.magic_group_type.clone(),
        members: rows.iter().map(Member::from).collect(),
    })
}

pub async fn get(app: &App, caller: &Principal, id: i64) -> ApiResult<GroupDetail> {
    caller.require_superuser()?;
    let mut tx = app.store.read().await?;
    let g = tx.group_get(id).await?.ok_or(ApiError::NotFound)?;
    detail(tx.as_mut(), &g).await
}

pub async fn create(app: &App, caller: &Principal, name: String) -> ApiResult<Group> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    if tx.group_get_by_name(&name).await?.is_some() {
        return Err(ApiError::bad_request_text(DUPLICATE_NAME));
    }
    let g = match tx.group_insert(&name).await {
        Ok(g) => g,
        Err(crate::store::StoreError::Conflict(_)) => {
            return Err(ApiError::bad_request_text(DUPLICATE_NAME))
        }
        Err(e) => return Err(e.into()),
    };
    crate::permissions::on_group_created(tx.as_mut(), g.id).await?;
    tx.audit_insert(&group_event(
        "group-create",
        admin.actor_id,
        g.id,
        now,
        json!({"name": g.name}),
    ))
    .await?;
    tx.commit().await?;
    Ok(Group::from(&g))
}

pub async fn rename(app: &App, caller: &Principal, id: i64, name: String) -> ApiResult<Group> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    let g = tx.group_get(id).await?.ok_or(ApiError::NotFound)?;
    if let Some(e) = fixed_group_error(id) {
        return Err(e);
    }
    if let Some(other) = tx.group_get_by_name(&name).await? {
        if other.id != id {
            return Err(ApiError::bad_request_text(DUPLICATE_NAME));
        }
    }
    if g.name != name {
        tx.group_rename(id, &name).await?;
        tx.audit_insert(&group_event(
            "group-update",
            admin.actor_id,
            id,
            now,
            json!({"previous": {"name": g.name}, "new": {"name": name}}),
        ))
        .await?;
    }
    let g = tx.group_get(id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Group::from(&g))
}

/// Drops cached API-key state of users whose memberships changed.
fn evict(app: &App, users: &[i64]) {
    for u in users {
        app.api_keys.evict_user(*u);
    }
}

pub async fn delete(app: &App, caller: &Principal, id: i64) -> ApiResult<()> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    let g = tx.group_get(id).await?.ok_or(ApiError::NotFound)?;
    if let Some(e) = fixed_group_error(id) {
        return Err(e);
    }
    let affected: Vec<i64> = tx
        .memberships_of_group(id)
        .await?
        .iter()
        .map(|m| m.user_id)
        .collect();
    for u in &affected {
        membership::notify_if_key_user(tx.as_mut(), *u).await?;
    }
    tx.group_delete(id).await?;
    tx.collection_perm_delete_group(id).await?;
    tx.audit_insert(&group_event(
        "group-delete",
        admin.actor_id,
        id,
        now,
        json!({"name": g.name}),
    ))
    .await?;
    tx.commit().await?;
    evict(app, &affected);
    Ok(())
}

pub async fn membership_map(app: &App, caller: &Principal) -> ApiResult<MembershipMap> {
    caller.require_superuser()?;
    let mut tx = app.store.read().await?;
    Ok(MembershipMap::from_rows(&tx.membership_all().await?))
}

/// `PUT /api/permissions/membership/:id`: group managers need a premium token, so superusers
/// get 402 (after validation and the superuser check).
pub fn set_manager(caller: &Principal) -> ApiResult<()> {
    caller.require_superuser()?;
    Err(ApiError::Text(
        crate::error::Kind::PaymentRequired,
        GROUP_MANAGER_402.into(),
    ))
}

/// `POST /api/permissions/membership`: the group's members after the addition.
pub async fn add_member(
    app: &App,
    caller: &Principal,
    new: NewMembership,
) -> ApiResult<Vec<Member>> {
    let admin = caller.require_superuser()?;
    let NewMembership {
        group_id,
        user_id,
        is_group_manager,
    } = new;
    if is_group_manager {
        return Err(ApiError::Text(
            crate::error::Kind::PaymentRequired,
            GROUP_MANAGER_402.into(),
        ));
    }
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    let g = tx
        .group_get(group_id)
        .await?
        .ok_or_else(|| ApiError::field("group_id", "Group not found."))?;
    let user = tx
        .user_get(user_id)
        .await?
        .ok_or_else(|| ApiError::field("user_id", "User not found."))?;
    if group_id == ALL_USERS {
        return Err(ApiError::bad_request_text(ALL_USERS_FIXED));
    }
    if user.is_key_user() {
        return Err(ApiError::field(
            "user_id",
            "API key users change groups through PUT /api/api-key/:id.",
        ));
    }
    let change = Change {
        actor_id: admin.actor_id,
        now,
        audit: true,
    };
    membership::add(tx.as_mut(), change, user_id, group_id).await?;
    let group = detail(tx.as_mut(), &g).await?;
    tx.commit().await?;
    evict(app, &[user_id]);
    Ok(group.members)
}

/// `DELETE /api/permissions/membership/:id`.
pub async fn remove_member(app: &App, caller: &Principal, membership_id: i64) -> ApiResult<()> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    membership::lock_admins(tx.as_mut()).await?;
    let m = tx
        .membership_get(membership_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if m.group_id == ALL_USERS {
        return Err(ApiError::bad_request_text(ALL_USERS_FIXED));
    }
    let change = Change {
        actor_id: admin.actor_id,
        now,
        audit: true,
    };
    membership::remove(tx.as_mut(), change, &m).await?;
    if m.group_id == ADMINISTRATORS {
        membership::ensure_an_admin_remains(tx.as_mut()).await?;
    }
    tx.commit().await?;
    evict(app, &[m.user_id]);
    Ok(())
}

/// `PUT /api/permissions/membership/:group-id/clear`.
pub async fn clear(app: &App, caller: &Principal, group_id: i64) -> ApiResult<()> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    tx.group_get(group_id).await?.ok_or(ApiError::NotFound)?;
    if group_id == ADMINISTRATORS {
        return Err(ApiError::bad_request_text("Invalid Request."));
    }
    if group_id == ALL_USERS {
        return Err(ApiError::bad_request_text(ALL_USERS_FIXED));
    }
    let change = Change {
        actor_id: admin.actor_id,
        now,
        audit: true,
    };
    let ms = tx.memberships_of_group(group_id).await?;
    for m in &ms {
        membership::remove(tx.as_mut(), change, m).await?;
    }
    tx.commit().await?;
    let affected: Vec<i64> = ms.iter().map(|m| m.user_id).collect();
    evict(app, &affected);
    Ok(())
}
