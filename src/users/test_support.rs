//! Unit-test helpers for users and the features built on them: a superuser to act as.
use crate::auth::{Principal, Via, ADMINISTRATORS, ALL_USERS};
use crate::state::App;

use super::store::NewUser;

/// Inserts Ada, an installing superuser, and returns her session principal. Only the user row is
/// written: the group ids of the principal are the ones a superuser has.
pub async fn insert_admin(app: &App) -> Principal {
    let mut tx = app.store.begin().await.expect("begin");
    let id = tx
        .user_insert(&NewUser {
            email: "ada@example.com".into(),
            first_name: Some("Ada".into()),
            last_name: Some("Lovelace".into()),
            password_hash: None,
            key_user: false,
            is_superuser: true,
            is_installer: true,
            locale: None,
            login_attributes: None,
            now: 0,
        })
        .await
        .expect("insert admin");
    tx.commit().await.expect("commit");
    Principal {
        user_id: id,
        is_superuser: true,
        group_ids: vec![ALL_USERS, ADMINISTRATORS].into(),
        via: Via::Session,
        restrictions: None,
    }
}
