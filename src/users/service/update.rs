//! `PUT /api/user/:id` (people-and-groups.md 4.6): the order of checks, the Administrators ⇄
//! `is_superuser` rule, the last-admin rule, and a `user-update` event listing only what changed.
use serde_json::{json, Map, Value};

use super::{check_groups, personal_collection_name, target_person, user_event, with_memberships};
use crate::auth::{Principal, ADMINISTRATORS};
use crate::clock::Timestamp;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::Tx;
use crate::users::input::UserUpdate;
use crate::users::membership::{self, Change};
use crate::users::store::{UserProfile, UserRow};
use crate::users::view::UserDetail;

const EMAIL_TAKEN: &str = "Email address already associated to another user.";
const SUPERUSER_MISMATCH: &str =
    "Value of is_superuser must correspond to presence of Admin group ID in group_ids.";

/// `PUT /api/user/:id`.
pub async fn update(
    app: &App,
    caller: &Principal,
    id: i64,
    input: UserUpdate,
) -> ApiResult<UserDetail> {
    let is_admin = caller.admin_cap().is_some();
    if caller.user_id != id && !is_admin {
        return Err(ApiError::Forbidden);
    }
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    membership::lock_admins(tx.as_mut()).await?;
    let user = target_person(tx.as_mut(), id).await?;
    if !user.is_active {
        return Err(ApiError::NotFound);
    }
    let current_groups = tx.user_group_ids(id).await?;
    let input = if is_admin {
        input
    } else {
        self_service(input, &current_groups)?
    };
    check_rules(tx.as_mut(), id, &input).await?;
    let target = target_groups(&input, &current_groups);
    let change = Change {
        actor_id: caller.user_id,
        now,
        audit: true,
    };
    let groups_changed = sync_groups(tx.as_mut(), change, id, target.as_deref()).await?;
    let was_admin = current_groups.contains(&ADMINISTRATORS);
    let is_now_admin = target
        .as_ref()
        .map_or(was_admin, |g| g.contains(&ADMINISTRATORS));
    let old = profile_of(&user);
    let new = apply(&user, input);
    if new != old || groups_changed {
        write_profile(tx.as_mut(), &user, &new, now).await?;
        if let Some(details) = diff(&old, &new, was_admin, is_now_admin) {
            let event = user_event("user-update", caller.user_id, id, now, details);
            tx.audit_insert(&event).await?;
        }
    }
    let view = with_memberships(tx.as_mut(), id).await?;
    tx.commit().await?;
    Ok(view)
}

/// A person editing themselves may not change their groups (403 unless the list is the one they
/// have), their admin flag or their login attributes (both silently ignored).
fn self_service(input: UserUpdate, current_groups: &[i64]) -> ApiResult<UserUpdate> {
    if let Some(g) = &input.groups {
        let mut want = g.clone();
        want.sort_unstable();
        if want != current_groups {
            return Err(ApiError::Forbidden);
        }
    }
    Ok(UserUpdate {
        is_superuser: None,
        login_attributes: None,
        ..input
    })
}

/// The business rules, in the spec's order: a free email, `is_superuser` agreeing with the
/// Administrators group when both are given, and a valid membership list.
async fn check_rules(tx: &mut dyn Tx, id: i64, input: &UserUpdate) -> ApiResult<()> {
    if let Some(e) = &input.email {
        if let Some(other) = tx.user_get_by_email(e).await? {
            if other.id != id {
                return Err(ApiError::field("email", EMAIL_TAKEN));
            }
        }
    }
    if let (Some(su), Some(g)) = (input.is_superuser, &input.groups) {
        if su != g.contains(&ADMINISTRATORS) {
            return Err(ApiError::field("is_superuser", SUPERUSER_MISMATCH));
        }
    }
    if let Some(g) = &input.groups {
        check_groups(tx, g).await?;
    }
    Ok(())
}

/// The memberships the request asks for: the given list, or the current one with
/// Administrators added or removed per `is_superuser`; `None` leaves them alone.
fn target_groups(input: &UserUpdate, current_groups: &[i64]) -> Option<Vec<i64>> {
    match (&input.groups, input.is_superuser) {
        (Some(g), _) => Some(g.clone()),
        (None, Some(su)) => {
            let mut g: Vec<i64> = current_groups
                .iter()
                .copied()
                .filter(|g| *g != ADMINISTRATORS)
                .collect();
            if su {
                g.push(ADMINISTRATORS);
            }
            Some(g)
        }
        (None, None) => None,
    }
}

/// Applies `target` (when given) and enforces the last-admin rule. Returns whether anything
/// changed.
async fn sync_groups(
    tx: &mut dyn Tx,
    change: Change,
    id: i64,
    target: Option<&[i64]>,
) -> ApiResult<bool> {
    let Some(target) = target else {
        return Ok(false);
    };
    let changed = membership::sync(tx, change, id, target).await?;
    membership::ensure_an_admin_remains(tx).await?;
    Ok(changed)
}

fn profile_of(user: &UserRow) -> UserProfile {
    UserProfile {
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        locale: user.locale.clone(),
        login_attributes: user.login_attributes.clone(),
    }
}

/// The profile after the request: absent fields keep their value, `null` clears.
fn apply(user: &UserRow, input: UserUpdate) -> UserProfile {
    let old = profile_of(user);
    UserProfile {
        email: input.email.unwrap_or(old.email),
        first_name: input.first_name.unwrap_or(old.first_name),
        last_name: input.last_name.unwrap_or(old.last_name),
        locale: input.locale.unwrap_or(old.locale),
        login_attributes: input.login_attributes.unwrap_or(old.login_attributes),
    }
}

/// Writes the profile and renames the personal collection after the (new) name.
async fn write_profile(
    tx: &mut dyn Tx,
    user: &UserRow,
    new: &UserProfile,
    now: Timestamp,
) -> ApiResult<()> {
    tx.user_set_profile(user.id, new, now.micros()).await?;
    let renamed = UserRow {
        email: new.email.clone(),
        first_name: new.first_name.clone(),
        last_name: new.last_name.clone(),
        ..user.clone()
    };
    tx.personal_collection_rename(user.id, &personal_collection_name(&renamed))
        .await?;
    Ok(())
}

/// The `user-update` details, `{"previous": …, "new": …}` with only the fields that changed,
/// in Metabase's order; `None` when nothing visible changed.
fn diff(old: &UserProfile, new: &UserProfile, was_admin: bool, is_admin: bool) -> Option<Value> {
    let attrs = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .unwrap_or(Value::Null)
    };
    let pairs = [
        ("email", json!(old.email), json!(new.email)),
        ("first_name", json!(old.first_name), json!(new.first_name)),
        ("last_name", json!(old.last_name), json!(new.last_name)),
        ("locale", json!(old.locale), json!(new.locale)),
        ("is_superuser", json!(was_admin), json!(is_admin)),
        (
            "login_attributes",
            attrs(&old.login_attributes),
            attrs(&new.login_attributes),
        ),
    ];
    let mut previous = Map::new();
    let mut next = Map::new();
    for (k, a, b) in pairs {
        if a != b {
            previous.insert(k.into(), a);
            next.insert(k.into(), b);
        }
    }
    (!previous.is_empty()).then(|| json!({"previous": previous, "new": next}))
}
