//! API-key rules (api-keys.md 2, 3.3, 4.4, 4.7, 5, 6, 8): the superuser check, the business rules
//! in the spec's order, the key user and its memberships, unique prefixes, grace periods, cache
//! invalidation and the audit events. Every write runs in one unit of work; the local cache is
//! evicted after the commit and before the caller responds, and other instances are told through
//! `notify_key_changed` (delivered at commit).
use std::collections::BTreeSet;

use serde_json::{json, Value};

use super::format::{self, PlainKey};
use super::input::{KeyPatch, NewKey};
use super::store::{ApiKeyRow, KeyFields, KeyRotation, NewApiKey};
use super::view::{self, KeyObject, WithSecret};
use crate::audit::AuditEvent;
use crate::auth::restrictions::Restrictions;
use crate::auth::ALL_USERS;
use crate::auth::{AdminCap, Principal, Via};
use crate::clock::Timestamp;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::{StoreError, Tx};
use crate::users::membership::{self, Change};
use crate::users::store::{NewUser, UserProfile};

pub const DUPLICATE_NAME: &str = "An API key with this name already exists.";
pub const GROUP_NOT_FOUND: &str = "Group not found.";
pub const EXPIRY_NOT_IN_FUTURE: &str = "Expiration must be in the future.";
pub const PREFIX_EXHAUSTED: &str = "could not generate key with unique prefix";
/// Keys generated per request before giving up on a unique prefix (3.3).
pub const PREFIX_ATTEMPTS: usize = 6;

/// Where new secrets come from. Production uses [`OsKeyGenerator`]; tests stub it to force
/// prefix collisions.
pub trait KeyGenerator: Send + Sync {
    fn generate(&self) -> PlainKey;
}

/// The operating system's CSPRNG (3.1).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsKeyGenerator;

impl KeyGenerator for OsKeyGenerator {
    fn generate(&self) -> PlainKey {
        format::generate_os()
    }
}

fn event(
    topic: &'static str,
    admin: AdminCap,
    key_id: i64,
    now: Timestamp,
    details: Value,
) -> AuditEvent {
    AuditEvent::about("ApiKey", key_id, topic, admin.actor_id, now, details)
}

fn object(app: &App, row: &ApiKeyRow, now: Timestamp) -> KeyObject {
    view::key_view(row, app.api_keys.last_used.seen(row.id), now)
}

/// A key whose prefix no current secret and no retired secret still in its grace period has.
/// Runs before anything is written, so exhaustion leaves nothing behind.
async fn unique_key(
    tx: &mut dyn Tx,
    gen: &dyn KeyGenerator,
    now: Timestamp,
) -> ApiResult<PlainKey> {
    for _ in 0..PREFIX_ATTEMPTS {
        let key = gen.generate();
        if !tx.api_key_prefix_taken(key.prefix(), now.micros()).await? {
            return Ok(key);
        }
    }
    tracing::warn!(attempts = PREFIX_ATTEMPTS, "no unique API-key prefix found");
    Err(ApiError::internal_json(
        json!({"message": PREFIX_EXHAUSTED}),
    ))
}

fn check_expiry(expires_at: Option<Timestamp>, now: Timestamp) -> ApiResult<()> {
    match expires_at {
        Some(e) if e <= now => Err(ApiError::field("expires_at", EXPIRY_NOT_IN_FUTURE)),
        _ => Ok(()),
    }
}

/// Makes the key user's memberships exactly {All Users, `group_id`}, recording no
/// `group-membership-*` events (6). Returns whether anything changed.
async fn set_group(
    tx: &mut dyn Tx,
    change: Change,
    user_id: i64,
    group_id: i64,
) -> ApiResult<bool> {
    // A set: `group_id` may be All Users itself.
    let target: Vec<i64> = BTreeSet::from([ALL_USERS, group_id]).into_iter().collect();
    Ok(membership::sync(tx, change, user_id, &target).await?)
}

async fn get_row(tx: &mut dyn Tx, id: i64) -> ApiResult<ApiKeyRow> {
    tx.api_key_get(id).await?.ok_or(ApiError::NotFound)
}

/// `POST /api/api-key` (5.1), after validation.
pub async fn create(
    app: &App,
    caller: &Principal,
    input: NewKey,
    gen: &dyn KeyGenerator,
) -> ApiResult<WithSecret> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    if tx.api_key_id_by_name(&input.name).await?.is_some() {
        return Err(ApiError::field("name", DUPLICATE_NAME));
    }
    if tx.group_get(input.group_id).await?.is_none() {
        return Err(ApiError::field("group_id", GROUP_NOT_FOUND));
    }
    check_expiry(input.expires_at, now)?;
    let key = unique_key(tx.as_mut(), gen, now).await?;
    let user_id = insert_key_user(tx.as_mut(), &input.name, now).await?;
    let change = Change {
        actor_id: admin.actor_id,
        now,
        audit: false,
    };
    set_group(tx.as_mut(), change, user_id, input.group_id).await?;
    let id = insert_key(tx.as_mut(), admin, &input, user_id, &key, now).await?;
    let row = get_row(tx.as_mut(), id).await?;
    tx.audit_insert(&event(
        "api-key-create",
        admin,
        id,
        now,
        view::snapshot(&row),
    ))
    .await?;
    tx.commit().await?;
    tracing::info!(key_id = id, prefix = key.prefix(), "API key created");
    Ok(WithSecret::new(object(app, &row, now), &key, false))
}

/// The key user a new key acts as: named after the key, no password, no login.
async fn insert_key_user(tx: &mut dyn Tx, name: &str, now: Timestamp) -> ApiResult<i64> {
    Ok(tx
        .user_insert(&NewUser {
            email: format!(
                "api-key-user-{}@api-key.invalid",
                uuid::Uuid::new_v4().hyphenated()
            ),
            first_name: Some(name.to_string()),
            last_name: Some(String::new()),
            password_hash: None,
            key_user: true,
            is_superuser: false,
            is_installer: false,
            locale: None,
            login_attributes: None,
            now: now.micros(),
        })
        .await?)
}

/// The key's row (its secret only as a digest and prefix); its id.
async fn insert_key(
    tx: &mut dyn Tx,
    admin: AdminCap,
    input: &NewKey,
    user_id: i64,
    key: &PlainKey,
    now: Timestamp,
) -> ApiResult<i64> {
    let inserted = tx
        .api_key_insert(&NewApiKey {
            name: input.name.clone(),
            user_id,
            key_hash: key.digest().0.to_vec(),
            key_prefix: key.prefix().to_string(),
            expires_at: input.expires_at.map(Timestamp::micros),
            restrictions: input.restrictions.as_ref().map(Restrictions::to_db),
            creator_id: admin.actor_id,
            now: now.micros(),
        })
        .await;
    match inserted {
        Ok(id) => Ok(id),
        // A concurrent create took the name between the check and the insert.
        Err(StoreError::Conflict(_)) => Err(ApiError::field("name", DUPLICATE_NAME)),
        Err(e) => Err(e.into()),
    }
}

/// `GET /api/api-key` (5.2), as JSON bytes ([`super::list`]).
pub async fn list(app: &App, caller: &Principal) -> ApiResult<Vec<u8>> {
    caller.require_superuser()?;
    let now = app.clock.now();
    let keys = {
        let mut tx = app.store.read().await?;
        tx.api_key_list().await?
    };
    super::list::render(&keys, |id| app.api_keys.last_used.seen(id), now)
        .map_err(ApiError::internal)
}

/// `GET /api/api-key/count` (5.3).
pub async fn count(app: &App, caller: &Principal) -> ApiResult<i64> {
    caller.require_superuser()?;
    let mut tx = app.store.read().await?;
    Ok(tx.api_key_count().await?)
}

/// `PUT /api/api-key/:id` (5.4), after validation. Writes nothing when nothing changes.
pub async fn update(
    app: &App,
    caller: &Principal,
    id: i64,
    patch: KeyPatch,
) -> ApiResult<KeyObject> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    let before = get_row(tx.as_mut(), id).await?;
    check_patch(tx.as_mut(), id, &patch, now).await?;
    let next = Updated::of(&before, &patch);
    if next.restrictions != before.restrictions {
        may_change_restrictions(caller, id)?;
    }
    let change = Change {
        actor_id: admin.actor_id,
        now,
        audit: false,
    };
    let mut changed = next.differs_from(&before);
    if let Some(g) = patch.group_id {
        changed |= set_group(tx.as_mut(), change, before.user_id, g).await?;
    }
    if !changed {
        // Nothing to write: the unit of work rolls back, `updated_at` stays, no event.
        return Ok(object(app, &before, now));
    }
    if next.name != before.name {
        rename_key_user(tx.as_mut(), before.user_id, &next.name, now).await?;
    }
    let after = write_update(tx.as_mut(), admin, &before, &next, now).await?;
    tx.commit().await?;
    app.api_keys.evict_key(id);
    app.api_keys.limits.forget(id);
    Ok(object(app, &after, now))
}

/// The checks of a `PUT` that need the store, in api-keys.md's order: a name no other key has,
/// an existing group, an expiry in the future.
async fn check_patch(tx: &mut dyn Tx, id: i64, patch: &KeyPatch, now: Timestamp) -> ApiResult<()> {
    if let Some(name) = &patch.name {
        if tx
            .api_key_id_by_name(name)
            .await?
            .is_some_and(|other| other != id)
        {
            return Err(ApiError::field("name", DUPLICATE_NAME));
        }
    }
    if let Some(g) = patch.group_id {
        if tx.group_get(g).await?.is_none() {
            return Err(ApiError::field("group_id", GROUP_NOT_FOUND));
        }
    }
    if let Some(e) = patch.expires_at {
        check_expiry(e, now)?;
    }
    Ok(())
}

/// The key's own columns after a `PUT`: what the patch sends, else what is stored.
struct Updated {
    name: String,
    expires_at: Option<i64>,
    /// Stored form (canonical JSON text), `None` for no restrictions.
    restrictions: Option<String>,
}

impl Updated {
    fn of(before: &ApiKeyRow, patch: &KeyPatch) -> Updated {
        Updated {
            name: patch.name.clone().unwrap_or_else(|| before.name.clone()),
            expires_at: match patch.expires_at {
                Some(e) => e.map(Timestamp::micros),
                None => before.expires_at,
            },
            restrictions: match &patch.restrictions {
                Some(r) => r.as_ref().map(Restrictions::to_db),
                None => before.restrictions.clone(),
            },
        }
    }

    fn differs_from(&self, before: &ApiKeyRow) -> bool {
        self.name != before.name
            || self.expires_at != before.expires_at
            || self.restrictions != before.restrictions
    }
}

/// A renamed key renames its key user (its first name is the key's name).
async fn rename_key_user(
    tx: &mut dyn Tx,
    user_id: i64,
    name: &str,
    now: Timestamp,
) -> ApiResult<()> {
    let user = tx
        .user_get(user_id)
        .await?
        .ok_or_else(|| ApiError::internal("API key user missing"))?;
    let profile = UserProfile {
        email: user.email,
        first_name: Some(name.to_string()),
        last_name: Some(String::new()),
        locale: user.locale,
        login_attributes: user.login_attributes,
    };
    tx.user_set_profile(user_id, &profile, now.micros()).await?;
    Ok(())
}

/// Writes the key's columns, tells other instances, records `api-key-update`; the row after.
async fn write_update(
    tx: &mut dyn Tx,
    admin: AdminCap,
    before: &ApiKeyRow,
    next: &Updated,
    now: Timestamp,
) -> ApiResult<ApiKeyRow> {
    let fields = KeyFields {
        name: &next.name,
        expires_at: next.expires_at,
        restrictions: next.restrictions.as_deref(),
        updated_by_id: admin.actor_id,
        now: now.micros(),
    };
    match tx.api_key_set_fields(before.id, &fields).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(ApiError::field("name", DUPLICATE_NAME)),
        Err(e) => return Err(e.into()),
    }
    tx.notify_key_changed(before.id).await?;
    let after = get_row(tx, before.id).await?;
    let details = view::update_details(before, &after);
    tx.audit_insert(&event("api-key-update", admin, before.id, now, details))
        .await?;
    Ok(after)
}

/// key-restrictions.md §3.3: a key never changes its own restrictions unless it is an
/// unrestricted key (a read-only key never gets here: it cannot write at all).
fn may_change_restrictions(caller: &Principal, key_id: i64) -> ApiResult<()> {
    match caller.via {
        Via::ApiKey { key_id: own } if own == key_id && caller.restrictions.is_some() => {
            Err(ApiError::Forbidden)
        }
        _ => Ok(()),
    }
}

/// `PUT /api/api-key/:id/regenerate` (5.5), after validation.
pub async fn regenerate(
    app: &App,
    caller: &Principal,
    id: i64,
    grace_seconds: i64,
    gen: &dyn KeyGenerator,
) -> ApiResult<WithSecret> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    let before = get_row(tx.as_mut(), id).await?;
    let key = unique_key(tx.as_mut(), gen, now).await?;
    let rotation = KeyRotation {
        key_hash: key.digest().0.to_vec(),
        key_prefix: key.prefix().to_string(),
        previous_valid_until: (grace_seconds > 0).then(|| now.plus_seconds(grace_seconds).micros()),
        updated_by_id: admin.actor_id,
        now: now.micros(),
    };
    tx.api_key_rotate(id, &rotation).await?;
    tx.notify_key_changed(id).await?;
    let details = view::regenerate_details(&before.key_prefix, key.prefix(), grace_seconds);
    tx.audit_insert(&event("api-key-regenerate", admin, id, now, details))
        .await?;
    let after = get_row(tx.as_mut(), id).await?;
    tx.commit().await?;
    app.api_keys.evict_key(id);
    tracing::info!(
        key_id = id,
        prefix = key.prefix(),
        grace_seconds,
        "API key regenerated"
    );
    Ok(WithSecret::new(object(app, &after, now), &key, true))
}

/// Why a key is deleted; [`DeleteReason::Leaked`] adds `"reason": "leaked"` to the audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteReason {
    /// `DELETE /api/api-key/:id`.
    Requested,
    /// `ferrobase keys scan --revoke` found the key in a file (key-restrictions.md §5).
    Leaked,
}

/// `DELETE /api/api-key/:id` (5.6): the row goes, the key user is deactivated and keeps its
/// memberships.
pub async fn delete(app: &App, caller: &Principal, id: i64) -> ApiResult<()> {
    let admin = caller.require_superuser()?;
    delete_key(app, Some(admin.actor_id), id, DeleteReason::Requested).await
}

/// `ferrobase keys scan --revoke` (key-restrictions.md §5): deletes a leaked key exactly as
/// [`delete`] does (audit event, key user deactivated, caches evicted here and, through the
/// notification, on other instances). There is no caller to check: the operator's authority is
/// access to the application database itself, so the event has no acting user.
pub async fn revoke_leaked(app: &App, id: i64) -> ApiResult<()> {
    delete_key(app, None, id, DeleteReason::Leaked).await
}

async fn delete_key(app: &App, actor: Option<i64>, id: i64, reason: DeleteReason) -> ApiResult<()> {
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    let row = get_row(tx.as_mut(), id).await?;
    let mut details = view::snapshot(&row);
    if reason == DeleteReason::Leaked {
        details["reason"] = json!("leaked");
    }
    tx.audit_insert(&AuditEvent {
        topic: "api-key-delete",
        timestamp: now,
        user_id: actor,
        model: "ApiKey",
        model_id: Some(id),
        details,
    })
    .await?;
    tx.api_key_delete(id).await?;
    tx.user_set_active(row.user_id, false, now.micros()).await?;
    tx.notify_key_changed(id).await?;
    tx.commit().await?;
    app.api_keys.evict_key(id);
    app.api_keys.last_used.forget(id);
    tracing::info!(key_id = id, prefix = %row.key_prefix, ?reason, "API key deleted");
    Ok(())
}

/// Writes due `last_used_at` values (all of them when `force`, at shutdown).
pub async fn flush_last_used(app: &App, force: bool) {
    let now = app.clock.now().micros();
    let due = app.api_keys.last_used.take_due(now, force);
    if due.is_empty() {
        return;
    }
    if let Err(e) = app.store.api_key_touch(&due).await {
        tracing::warn!(error = %e, "writing last_used_at failed; will retry");
        app.api_keys.last_used.restore(&due);
    }
}

#[cfg(test)]
#[path = "service_tests.rs"]
mod tests;
