//! User rules (people-and-groups.md 4): who may see and change whom, in the spec's order of
//! checks, with every change and its audit events in one transaction. Services take the typed
//! requests of [`super::input`] and answer the views of [`super::view`].
use serde::Serialize;
use serde_json::Value;

use super::input::UserListQuery;
use super::store::UserRow;
use super::view::{self, ListedUser, UserDetail};
use crate::audit::AuditEvent;
use crate::auth::{Principal, ALL_USERS};
use crate::clock::Timestamp;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::Tx;

mod create;
mod current;
mod lifecycle;
mod password;
mod update;
pub use create::{create, insert_person};
pub use current::{current, current_json};
pub use lifecycle::{deactivate, reactivate};
pub use password::{set_password, PasswordChanged};
pub use update::update;

/// A `User` audit event.
fn user_event(
    topic: &'static str,
    actor: i64,
    user_id: i64,
    now: Timestamp,
    details: Value,
) -> AuditEvent {
    AuditEvent::about("User", user_id, topic, actor, now, details)
}

pub fn personal_collection_name(u: &UserRow) -> String {
    format!(
        "{}'s Personal Collection",
        view::common_name(&u.email, u.first_name.as_deref(), u.last_name.as_deref())
    )
}

/// A page of `GET /api/user`.
#[derive(Debug, Serialize)]
pub struct UserPage {
    pub data: Vec<ListedUser>,
    pub total: usize,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// `GET /api/user`.
pub async fn list(app: &App, caller: &Principal, q: UserListQuery) -> ApiResult<UserPage> {
    caller.require_superuser()?;
    let mut tx = app.store.read().await?;
    let mut rows = tx.user_list(&q.filter).await?;
    let pairs = tx.user_list_group_ids(&q.filter).await?;
    drop(tx);
    if let Some(needle) = &q.needle {
        rows.retain(|u| view::matches_query(u, needle));
    }
    rows.sort_by_cached_key(|u| {
        view::name_order_key(u.first_name.as_deref(), u.last_name.as_deref(), u.id)
    });
    let total = rows.len();
    let rows: Vec<UserRow> = match (q.limit, q.offset) {
        (Some(limit), Some(offset)) => rows
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect(),
        _ => rows,
    };
    let mut groups: std::collections::HashMap<i64, Vec<i64>> = Default::default();
    for (u, g) in pairs {
        groups.entry(u).or_default().push(g);
    }
    let data: Vec<ListedUser> = rows
        .iter()
        .map(|u| ListedUser::new(u, groups.get(&u.id).map(Vec::as_slice).unwrap_or(&[])))
        .collect();
    Ok(UserPage {
        data,
        total,
        limit: q.limit,
        offset: q.offset,
    })
}

/// `GET /api/user/:id`: self or superuser (403 before existence).
pub async fn get(app: &App, caller: &Principal, id: i64) -> ApiResult<UserDetail> {
    if caller.user_id != id {
        caller.require_superuser()?;
    }
    let mut tx = app.store.read().await?;
    let u = tx.user_get(id).await?.ok_or(ApiError::NotFound)?;
    let groups = tx.user_group_ids(id).await?;
    Ok(UserDetail::new(&u, &groups))
}

/// Checks a membership list: non-empty lists must hold All Users, and every group must exist.
async fn check_groups(tx: &mut dyn Tx, groups: &[i64]) -> ApiResult<()> {
    if !groups.is_empty() && !groups.contains(&ALL_USERS) {
        return Err(ApiError::bad_request_text(
            super::membership::ALL_USERS_FIXED,
        ));
    }
    for g in groups {
        if tx.group_get(*g).await?.is_none() {
            return Err(ApiError::field(
                "user_group_memberships",
                "Group not found.",
            ));
        }
    }
    Ok(())
}

/// The target of `PUT`, `/password` and `/reactivate`: people only (key users are 404).
async fn target_person(tx: &mut dyn Tx, id: i64) -> ApiResult<UserRow> {
    match tx.user_get(id).await? {
        Some(u) if !u.is_key_user() => Ok(u),
        _ => Err(ApiError::NotFound),
    }
}

/// The user with their group ids, after a change (detail, create, update, reactivate).
async fn with_memberships(tx: &mut dyn Tx, id: i64) -> ApiResult<UserDetail> {
    let user = tx.user_get(id).await?.ok_or(ApiError::NotFound)?;
    let group_ids = tx.user_group_ids(id).await?;
    Ok(UserDetail::new(&user, &group_ids))
}

/// `PUT /api/user/:id/modal/:modal`.
pub async fn dismiss_modal(app: &App, caller: &Principal, id: i64, modal: &str) -> ApiResult<()> {
    if caller.user_id != id {
        caller.require_superuser()?;
    }
    let mut tx = app.store.begin().await?;
    tx.user_get(id).await?.ok_or(ApiError::NotFound)?;
    if modal == "qbnewb" {
        tx.user_set_qbnewb(id, false).await?;
    }
    tx.commit().await?;
    Ok(())
}
