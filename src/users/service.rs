//! User rules (people-and-groups.md 4): who may see and change whom, in the spec's order of
//! checks, with every change and its audit events in one transaction.
use secrecy::SecretString;
use serde_json::{json, Map, Value};

use super::input::{self, Patch};
use super::membership::{self, Change, ALL_USERS_FIXED};
use super::store::{NewUser, UserListFilter, UserRow, UserStatus};
use super::view;
use crate::audit::AuditEvent;
use crate::auth::Principal;
use crate::auth::{ADMINISTRATORS, ALL_USERS};
use crate::clock::Timestamp;
use crate::error::validation::{Fields, ValidationErrors, PASSWORD};
use crate::error::{ApiError, ApiResult};
use crate::http::query::QueryParams;
use crate::passwords;
use crate::state::App;
use crate::store::Tx;

mod current;
mod update;
pub use current::{current, current_json};
pub use update::update;

fn user_event(
    topic: &'static str,
    actor: i64,
    user_id: i64,
    now: Timestamp,
    details: Value,
) -> AuditEvent {
    AuditEvent {
        topic,
        timestamp: now,
        user_id: Some(actor),
        model: "User",
        model_id: Some(user_id),
        details,
    }
}

pub fn personal_collection_name(u: &UserRow) -> String {
    format!(
        "{}'s Personal Collection",
        view::common_name(&u.email, u.first_name.as_deref(), u.last_name.as_deref())
    )
}

/// `GET /api/user`.
pub async fn list(app: &App, caller: &Principal, q: &QueryParams) -> ApiResult<Value> {
    let mut errs = ValidationErrors::new();
    let status = match q.get("status") {
        Some("active") => Some(UserStatus::Active),
        Some("deactivated") => Some(UserStatus::Deactivated),
        Some("all") => Some(UserStatus::All),
        Some(other) => {
            errs.add_received(
                &["status"],
                "value must be one of: active, deactivated, all.",
                Some(&Value::String(other.into())),
            );
            None
        }
        None => None,
    };
    let include_deactivated = q.boolean(&mut errs, "include_deactivated");
    let group_id = q.positive_int(&mut errs, "group_id");
    let paging = q.paging(&mut errs);
    errs.into_result()?;
    caller.require_superuser()?;
    let status = status.unwrap_or(if include_deactivated == Some(true) {
        UserStatus::All
    } else {
        UserStatus::Active
    });
    let needle = q
        .get("query")
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    let filter = UserListFilter { status, group_id };
    let mut tx = app.store.read().await?;
    let mut rows = tx.user_list(&filter).await?;
    let pairs = tx.user_list_group_ids(&filter).await?;
    drop(tx);
    if let Some(needle) = &needle {
        rows.retain(|u| view::matches_query(u, needle));
    }
    rows.sort_by_cached_key(|u| {
        view::name_order_key(u.first_name.as_deref(), u.last_name.as_deref(), u.id)
    });
    let total = rows.len();
    let rows: Vec<UserRow> = match (paging.limit, paging.offset) {
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
    let data: Vec<Value> = rows
        .iter()
        .map(|u| view::list_item(u, groups.get(&u.id).map(Vec::as_slice).unwrap_or(&[])))
        .collect();
    Ok(json!({"data": data, "total": total, "limit": paging.limit, "offset": paging.offset}))
}

/// `GET /api/user/:id`: self or superuser (403 before existence).
pub async fn get(app: &App, caller: &Principal, id: i64) -> ApiResult<Value> {
    if caller.user_id != id {
        caller.require_superuser()?;
    }
    let mut tx = app.store.read().await?;
    let u = tx.user_get(id).await?.ok_or(ApiError::NotFound)?;
    let groups = tx.user_group_ids(id).await?;
    Ok(view::with_memberships(&u, &groups))
}

/// Checks a membership list: non-empty lists must hold All Users, and every group must exist.
async fn check_groups(tx: &mut dyn Tx, groups: &[i64]) -> ApiResult<()> {
    if !groups.is_empty() && !groups.contains(&ALL_USERS) {
        return Err(ApiError::bad_request_text(ALL_USERS_FIXED));
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

fn password_field(
    f: &Fields,
    errs: &mut ValidationErrors,
    app: &App,
    required: bool,
) -> Option<String> {
    match f.get("password") {
        None | Some(Value::Null) if !required => None,
        Some(Value::String(p)) if app.config.password_policy.check(p) => Some(p.clone()),
        _ => {
            let mut p = f.prefix.clone();
            p.push("password");
            // The details never echo the password.
            errs.add(&p, PASSWORD, vec![]);
            None
        }
    }
}

/// `POST /api/user`.
pub async fn create(app: &App, caller: &Principal, body: &Map<String, Value>) -> ApiResult<Value> {
    let f = Fields::new(body);
    let mut errs = ValidationErrors::new();
    let email = input::email(&f, &mut errs, true);
    let first = input::name(&f, &mut errs, "first_name");
    let last = input::name(&f, &mut errs, "last_name");
    let password = password_field(&f, &mut errs, app, false);
    let groups = input::memberships(&f, &mut errs);
    let attrs = input::login_attributes(&f, &mut errs);
    let locale = input::locale(&f, &mut errs);
    errs.into_result()?;
    let admin = caller.require_superuser()?;
    let email = email.ok_or_else(|| ApiError::internal("validated email missing"))?;
    let hash = match password {
        Some(p) => Some(
            passwords::hash_password(SecretString::from(p))
                .await
                .map_err(ApiError::internal)?,
        ),
        None => None,
    };
    let groups = groups
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| vec![ALL_USERS]);
    let value = |p: Patch<String>| match p {
        Patch::Value(v) => Some(v),
        _ => None,
    };
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    if tx.user_get_by_email(&email).await?.is_some() {
        return Err(ApiError::field("email", "Email address already in use."));
    }
    check_groups(tx.as_mut(), &groups).await?;
    let new = NewUser {
        email: email.clone(),
        first_name: value(first),
        last_name: value(last),
        password_hash: hash,
        key_user: false,
        is_superuser: false,
        is_installer: false,
        locale: value(locale),
        login_attributes: value(attrs),
        now: now.micros(),
    };
    let user = insert_person(tx.as_mut(), Some(admin.actor_id), &new, &groups, true).await?;
    tx.audit_insert(&user_event(
        "user-invited",
        admin.actor_id,
        user.id,
        now,
        json!({"email": user.email, "first_name": user.first_name, "last_name": user.last_name}),
    ))
    .await?;
    let group_ids = tx.user_group_ids(user.id).await?;
    tx.commit().await?;
    Ok(view::with_memberships(&user, &group_ids))
}

/// Inserts a person with their personal collection and memberships (setup and create).
/// Memberships other than All Users record `group-membership-create`.
pub async fn insert_person(
    tx: &mut dyn Tx,
    actor: Option<i64>,
    new: &NewUser,
    groups: &[i64],
    audit: bool,
) -> ApiResult<UserRow> {
    let id = match tx.user_insert(new).await {
        Ok(id) => id,
        Err(crate::store::StoreError::Conflict(_)) => {
            return Err(ApiError::field("email", "Email address already in use."))
        }
        Err(e) => return Err(e.into()),
    };
    let user = tx
        .user_get(id)
        .await?
        .ok_or_else(|| ApiError::internal("user vanished"))?;
    tx.personal_collection_insert(
        id,
        &crate::entity_id::new_entity_id(),
        &personal_collection_name(&user),
        new.now,
    )
    .await?;
    let actor = actor.unwrap_or(id);
    let now = Timestamp(new.now);
    for g in groups {
        let audit = audit && *g != ALL_USERS;
        membership::add(
            tx,
            Change {
                actor_id: actor,
                now,
                audit,
            },
            id,
            *g,
        )
        .await?;
    }
    tx.user_get(id)
        .await?
        .ok_or_else(|| ApiError::internal("user vanished"))
}

/// The target of `PUT`, `/password` and `/reactivate`: people only (key users are 404).
async fn target_person(tx: &mut dyn Tx, id: i64) -> ApiResult<UserRow> {
    match tx.user_get(id).await? {
        Some(u) if !u.is_key_user() => Ok(u),
        _ => Err(ApiError::NotFound),
    }
}

/// `DELETE /api/user/:id`.
pub async fn deactivate(app: &App, caller: &Principal, id: i64) -> ApiResult<Value> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    membership::lock_admins(tx.as_mut()).await?;
    let user = target_person(tx.as_mut(), id).await?;
    if user.is_active {
        tx.user_set_active(id, false, now.micros()).await?;
        membership::ensure_an_admin_remains(tx.as_mut()).await?;
        tx.session_delete_for_user(id).await?;
        tx.audit_insert(&user_event(
            "user-deactivated",
            admin.actor_id,
            id,
            now,
            json!({}),
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(json!({"success": true}))
}

/// `PUT /api/user/:id/reactivate`.
pub async fn reactivate(app: &App, caller: &Principal, id: i64) -> ApiResult<Value> {
    let admin = caller.require_superuser()?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    let user = target_person(tx.as_mut(), id).await?;
    if user.is_active {
        return Err(ApiError::JsonBody(
            crate::error::Kind::BadRequest,
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
    tx.audit_insert(&user_event(
        "user-reactivated",
        admin.actor_id,
        id,
        now,
        json!({}),
    ))
    .await?;
    let user = tx.user_get(id).await?.ok_or(ApiError::NotFound)?;
    let group_ids = tx.user_group_ids(id).await?;
    tx.commit().await?;
    Ok(view::with_memberships(&user, &group_ids))
}

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
    body: &Map<String, Value>,
) -> ApiResult<PasswordChanged> {
    let f = Fields::new(body);
    let mut errs = ValidationErrors::new();
    let password = password_field(&f, &mut errs, app, true);
    errs.into_result()?;
    let password = password.ok_or_else(|| ApiError::internal("validated password missing"))?;
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
        let old = body
            .get("old_password")
            .and_then(Value::as_str)
            .unwrap_or("");
        let ok = !old.is_empty()
            && passwords::verify_password(
                SecretString::from(old.to_string()),
                user.password_hash.clone(),
            )
            .await;
        if !ok {
            return Err(ApiError::field("old_password", "Invalid password"));
        }
    }
    let hash = passwords::hash_password(SecretString::from(password))
        .await
        .map_err(ApiError::internal)?;
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    tx.user_set_password(id, &hash).await?;
    tx.session_delete_for_user(id).await?;
    tx.audit_insert(&user_event(
        "user-password-update",
        caller.user_id,
        id,
        now,
        json!({}),
    ))
    .await?;
    let result = if caller.user_id == id {
        PasswordChanged::Own(crate::sessions::service::create_session(tx.as_mut(), id, now).await?)
    } else {
        PasswordChanged::Other
    };
    tx.commit().await?;
    Ok(result)
}

/// `PUT /api/user/:id/modal/:modal`.
pub async fn dismiss_modal(
    app: &App,
    caller: &Principal,
    id: i64,
    modal: &str,
) -> ApiResult<Value> {
    if caller.user_id != id {
        caller.require_superuser()?;
    }
    let mut tx = app.store.begin().await?;
    tx.user_get(id).await?.ok_or(ApiError::NotFound)?;
    if modal == "qbnewb" {
        tx.user_set_qbnewb(id, false).await?;
    }
    tx.commit().await?;
    Ok(json!({"success": true}))
}
