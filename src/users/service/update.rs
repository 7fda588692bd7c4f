//! `PUT /api/user/:id` (people-and-groups.md 4.6): the order of checks, the Administrators ⇄
//! `is_superuser` rule, the last-admin rule, and a `user-update` event listing only what changed.
use serde_json::{json, Map, Value};

use super::{check_groups, personal_collection_name, target_person, user_event};
use crate::auth::ADMINISTRATORS;
use crate::auth::{AdminCap, Principal};
use crate::error::validation::{Fields, ValidationErrors};
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::users::input::{self, Patch};
use crate::users::membership::{self, Change};
use crate::users::store::{UserProfile, UserRow};
use crate::users::view;

/// `PUT /api/user/:id`.
pub async fn update(
    app: &App,
    caller: &Principal,
    id: i64,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let f = Fields::new(body);
    let mut errs = ValidationErrors::new();
    let email = input::email(&f, &mut errs, false);
    let first = input::name(&f, &mut errs, "first_name");
    let last = input::name(&f, &mut errs, "last_name");
    let groups = input::memberships(&f, &mut errs);
    let is_superuser = f.boolean(&mut errs, "is_superuser");
    let attrs = input::login_attributes(&f, &mut errs);
    let locale = input::locale(&f, &mut errs);
    errs.into_result()?;
    let admin: Option<AdminCap> = caller.admin_cap();
    if caller.user_id != id && admin.is_none() {
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
    let groups = groups.filter(|g| !g.is_empty());
    let (is_superuser, attrs) = if admin.is_some() {
        (is_superuser, attrs)
    } else {
        if let Some(g) = &groups {
            let mut want = g.clone();
            want.sort_unstable();
            if want != current_groups {
                return Err(ApiError::Forbidden);
            }
        }
        (None, Patch::Absent)
    };
    if let Some(e) = &email {
        if let Some(other) = tx.user_get_by_email(e).await? {
            if other.id != id {
                return Err(ApiError::field(
                    "email",
                    "Email address already associated to another user.",
                ));
            }
        }
    }
    if let (Some(su), Some(g)) = (is_superuser, &groups) {
        if su != g.contains(&ADMINISTRATORS) {
            return Err(ApiError::field(
                "is_superuser",
                "Value of is_superuser must correspond to presence of Admin group ID in group_ids.",
            ));
        }
    }
    if let Some(g) = &groups {
        check_groups(tx.as_mut(), g).await?;
    }

    // Apply.
    let apply = |p: Patch<String>, old: &Option<String>| match p {
        Patch::Absent => old.clone(),
        Patch::Null => None,
        Patch::Value(v) => Some(v),
    };
    let new_profile = UserProfile {
        email: email.clone().unwrap_or_else(|| user.email.clone()),
        first_name: apply(first, &user.first_name),
        last_name: apply(last, &user.last_name),
        locale: apply(locale, &user.locale),
        login_attributes: apply(attrs, &user.login_attributes),
    };
    let old_profile = UserProfile {
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        locale: user.locale.clone(),
        login_attributes: user.login_attributes.clone(),
    };
    let target_groups: Option<Vec<i64>> = match (&groups, is_superuser) {
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
    };
    let change = Change {
        actor_id: caller.user_id,
        now,
        audit: true,
    };
    let changed_groups = match &target_groups {
        Some(target) => {
            let changed = membership::sync(tx.as_mut(), change, id, target).await?;
            membership::ensure_an_admin_remains(tx.as_mut()).await?;
            changed
        }
        None => false,
    };
    let was_admin = current_groups.contains(&ADMINISTRATORS);
    let is_admin = target_groups
        .as_ref()
        .map(|g| g.contains(&ADMINISTRATORS))
        .unwrap_or(was_admin);
    let mut previous = Map::new();
    let mut new = Map::new();
    let mut diff = |k: &str, a: Value, b: Value| {
        if a != b {
            previous.insert(k.into(), a);
            new.insert(k.into(), b);
        }
    };
    let attrs_json = |s: &Option<String>| {
        s.as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .unwrap_or(Value::Null)
    };
    diff("email", json!(old_profile.email), json!(new_profile.email));
    diff(
        "first_name",
        json!(old_profile.first_name),
        json!(new_profile.first_name),
    );
    diff(
        "last_name",
        json!(old_profile.last_name),
        json!(new_profile.last_name),
    );
    diff(
        "locale",
        json!(old_profile.locale),
        json!(new_profile.locale),
    );
    diff("is_superuser", json!(was_admin), json!(is_admin));
    diff(
        "login_attributes",
        attrs_json(&old_profile.login_attributes),
        attrs_json(&new_profile.login_attributes),
    );
    if new_profile != old_profile || changed_groups {
        tx.user_set_profile(id, &new_profile, now.micros()).await?;
        let renamed = UserRow {
            email: new_profile.email.clone(),
            first_name: new_profile.first_name.clone(),
            last_name: new_profile.last_name.clone(),
            ..user.clone()
        };
        tx.personal_collection_rename(id, &personal_collection_name(&renamed))
            .await?;
        if !previous.is_empty() {
            tx.audit_insert(&user_event(
                "user-update",
                caller.user_id,
                id,
                now,
                json!({"previous": previous, "new": new}),
            ))
            .await?;
        }
    }
    let user = tx.user_get(id).await?.ok_or(ApiError::NotFound)?;
    let group_ids = tx.user_group_ids(id).await?;
    tx.commit().await?;
    Ok(view::with_memberships(&user, &group_ids))
}
