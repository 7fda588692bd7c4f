//! `POST /api/user` and the insertion of a person that setup and imports share: the row, the
//! personal collection and the memberships, in the caller's transaction.
use serde_json::json;

use super::{check_groups, personal_collection_name, user_event, with_memberships};
use crate::auth::{Principal, ALL_USERS};
use crate::clock::Timestamp;
use crate::error::{ApiError, ApiResult};
use crate::passwords;
use crate::state::App;
use crate::store::{StoreError, Tx};
use crate::users::input::UserCreate;
use crate::users::membership::{self, Change};
use crate::users::store::{NewUser, UserRow};
use crate::users::view::UserDetail;

const EMAIL_IN_USE: &str = "Email address already in use.";

/// `POST /api/user`.
pub async fn create(app: &App, caller: &Principal, input: UserCreate) -> ApiResult<UserDetail> {
    let admin = caller.require_superuser()?;
    let password_hash = match input.password {
        Some(p) => Some(
            passwords::hash_password(p)
                .await
                .map_err(ApiError::internal)?,
        ),
        None => None,
    };
    let groups = input.groups.unwrap_or_else(|| vec![ALL_USERS]);
    let now = app.clock.now();
    let mut tx = app.store.begin().await?;
    if tx.user_get_by_email(&input.email).await?.is_some() {
        return Err(ApiError::field("email", EMAIL_IN_USE));
    }
    check_groups(tx.as_mut(), &groups).await?;
    let new = NewUser {
        email: input.email,
        first_name: input.first_name,
        last_name: input.last_name,
        password_hash,
        key_user: false,
        is_superuser: false,
        is_installer: false,
        locale: input.locale,
        login_attributes: input.login_attributes,
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
    let view = with_memberships(tx.as_mut(), user.id).await?;
    tx.commit().await?;
    Ok(view)
}

/// Inserts a person with their personal collection and memberships (setup, create, import).
/// Memberships other than All Users record `group-membership-create` when `audit`.
pub async fn insert_person(
    tx: &mut dyn Tx,
    actor: Option<i64>,
    new: &NewUser,
    groups: &[i64],
    audit: bool,
) -> ApiResult<UserRow> {
    let id = match tx.user_insert(new).await {
        Ok(id) => id,
        Err(StoreError::Conflict(_)) => return Err(ApiError::field("email", EMAIL_IN_USE)),
        Err(e) => return Err(e.into()),
    };
    let user = get_inserted(tx, id).await?;
    tx.personal_collection_insert(
        id,
        &crate::entity_id::new_entity_id(),
        &personal_collection_name(&user),
        new.now,
    )
    .await?;
    let actor_id = actor.unwrap_or(id);
    let now = Timestamp(new.now);
    for g in groups {
        let audit = audit && *g != ALL_USERS;
        let change = Change {
            actor_id,
            now,
            audit,
        };
        membership::add(tx, change, id, *g).await?;
    }
    get_inserted(tx, id).await
}

async fn get_inserted(tx: &mut dyn Tx, id: i64) -> ApiResult<UserRow> {
    tx.user_get(id)
        .await?
        .ok_or_else(|| ApiError::internal("user vanished"))
}
