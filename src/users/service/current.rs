//! `GET /api/user/current`: the view, built by one statement ([`crate::store::Store::current_user`]),
//! and its serialised form served from
//! [`crate::users::current_cache::CurrentUserCache`] while no write has committed since
//! it was filled.
use bytes::Bytes;
use serde_json::{json, Value};

use crate::auth::{Principal, Via};
use crate::clock::Timestamp;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::users::view;

/// `GET /api/user/current`.
pub async fn current(app: &App, caller: &Principal) -> ApiResult<Value> {
    let row = app
        .store
        .current_user(caller.user_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let (u, group_ids) = (row.user, row.group_ids);
    let mut m = view::full(&u);
    let key_user = matches!(caller.via, Via::ApiKey { .. }) || u.is_key_user();
    m.insert("group_ids".into(), json!(group_ids));
    m.insert(
        "personal_collection_id".into(),
        json!(u.personal_collection_id),
    );
    m.insert("is_installer".into(), json!(u.is_installer && !key_user));
    m.insert(
        "has_invited_second_user".into(),
        json!(u.is_installer && row.has_other_person),
    );
    let (has_q_and_d, has_model) = (row.has_question_and_dashboard, row.has_model);
    m.insert("has_question_and_dashboard".into(), json!(has_q_and_d));
    m.insert("has_model".into(), json!(has_model));
    m.insert(
        "first_login".into(),
        json!(u.first_login.map(|t| Timestamp(t).to_rfc3339())),
    );
    m.insert("custom_homepage".into(), Value::Null);
    if key_user {
        m.insert("last_login".into(), Value::Null);
        m.insert("first_login".into(), Value::Null);
    }
    Ok(Value::Object(m))
}

/// `GET /api/user/current` as JSON bytes. The write generation is read before the query, so a
/// write committing meanwhile leaves an entry that is never served.
pub async fn current_json(app: &App, caller: &Principal) -> ApiResult<Bytes> {
    let key = (caller.user_id, matches!(caller.via, Via::ApiKey { .. }));
    let generation = app.store.write_generation();
    if let Some(g) = generation {
        if let Some(body) = app.current_users.get(key, g) {
            return Ok(body);
        }
    }
    let view = current(app, caller).await?;
    let body = Bytes::from(serde_json::to_vec(&view).map_err(ApiError::internal)?);
    if let Some(g) = generation {
        app.current_users.put(key, g, body.clone());
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api_keys::test_support::{app_with, TestClock};
    use crate::users::store::UserProfile;

    fn name(body: &Bytes) -> Value {
        let v: Value = serde_json::from_slice(body).expect("json");
        v["first_name"].clone()
    }

    /// Served from the cache until a write commits; a write that is rolled back changes
    /// nothing; the key and session views are separate entries.
    #[tokio::test]
    async fn cached_until_a_write_commits() {
        let (app, spy, admin) = app_with(TestClock::at(1_000_000)).await;
        let a = current_json(&app, &admin).await.expect("first");
        let b = current_json(&app, &admin).await.expect("second");
        assert_eq!(a, b);
        assert_eq!(spy.current_user_calls(), 1);

        // Rolled back: the generation does not move.
        let mut tx = app.store.begin().await.expect("begin");
        tx.user_set_qbnewb(admin.user_id, false)
            .await
            .expect("write");
        drop(tx);
        current_json(&app, &admin).await.expect("third");
        assert_eq!(spy.current_user_calls(), 1);

        let mut tx = app.store.begin().await.expect("begin");
        let profile = UserProfile {
            email: "ada@example.com".into(),
            first_name: Some("Augusta".into()),
            last_name: Some("Lovelace".into()),
            locale: None,
            login_attributes: None,
        };
        tx.user_set_profile(admin.user_id, &profile, 2_000_000)
            .await
            .expect("write");
        tx.commit().await.expect("commit");
        let c = current_json(&app, &admin).await.expect("after the write");
        assert_eq!(name(&c), "Augusta");
        assert_eq!(spy.current_user_calls(), 2);

        let as_key = Principal {
            via: Via::ApiKey { key_id: 1 },
            ..admin.clone()
        };
        current_json(&app, &as_key).await.expect("key view");
        assert_eq!(spy.current_user_calls(), 3);
        assert_eq!(app.current_users.len(), 2);
    }

    /// While the generation cannot be known (the listener is down), every request queries.
    #[tokio::test]
    async fn bypassed_while_the_generation_is_unknown() {
        use std::sync::atomic::Ordering;
        let (app, spy, admin) = app_with(TestClock::at(1_000_000)).await;
        spy.untrusted.store(true, Ordering::SeqCst);
        current_json(&app, &admin).await.expect("first");
        current_json(&app, &admin).await.expect("second");
        assert_eq!(spy.current_user_calls(), 2);
        assert!(app.current_users.is_empty());
        spy.untrusted.store(false, Ordering::SeqCst);
        current_json(&app, &admin).await.expect("third");
        current_json(&app, &admin).await.expect("fourth");
        assert_eq!(spy.current_user_calls(), 3);
    }
}
