//! `GET /api/user/current`: the view, built by one statement ([`crate::store::Store::current_user`]),
//! and its serialised form served from
//! [`crate::users::current_cache::CurrentUserCache`] while no write has committed since
//! it was filled.
use std::future::Future;

use bytes::Bytes;

use crate::auth::{Principal, Via};
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::users::current_cache::{CurrentUserCache, ViewKey};
use crate::users::view::CurrentUser;

/// `GET /api/user/current`.
pub async fn current(app: &App, caller: &Principal) -> ApiResult<CurrentUser> {
    let row = app
        .store
        .current_user(caller.user_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    let key_user = matches!(caller.via, Via::ApiKey { .. }) || row.user.is_key_user();
    Ok(CurrentUser::new(row, key_user))
}

/// `GET /api/user/current` as JSON bytes. The write generation is read before the query, so a
/// write committing meanwhile leaves an entry that is never served.
pub async fn current_json(app: &App, caller: &Principal) -> ApiResult<Bytes> {
    let generation = app.store.write_generation();
    cached(&app.current_users, view_key(caller), generation, || {
        current(app, caller)
    })
    .await
}

/// The cache entry of a caller: key and session views differ.
fn view_key(caller: &Principal) -> ViewKey {
    (caller.user_id, matches!(caller.via, Via::ApiKey { .. }))
}

/// Serves `key` from `cache` while `generation` (read before calling) is known and unchanged
/// since the entry was filled; otherwise runs `query` and fills the entry.
async fn cached<F, Fut>(
    cache: &CurrentUserCache,
    key: ViewKey,
    generation: Option<u64>,
    query: F,
) -> ApiResult<Bytes>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = ApiResult<CurrentUser>>,
{
    if let Some(g) = generation {
        if let Some(body) = cache.get(key, g) {
            return Ok(body);
        }
    }
    let view = query().await?;
    let body = Bytes::from(serde_json::to_vec(&view).map_err(ApiError::internal)?);
    if let Some(g) = generation {
        cache.put(key, g, body.clone());
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::test_support::{app_on, memory_store, TestClock};
    use crate::users::store::UserProfile;
    use crate::users::test_support::insert_admin;
    use serde_json::Value;

    fn name(body: &Bytes) -> Value {
        let v: Value = serde_json::from_slice(body).expect("json");
        v["first_name"].clone()
    }

    /// [`current_json`] with its view query counted. `generation_known: false` stands for a
    /// PostgreSQL listener that is down (the store cannot know its write generation).
    async fn serve(
        app: &App,
        caller: &Principal,
        queries: &AtomicUsize,
        generation_known: bool,
    ) -> ApiResult<Bytes> {
        let generation = app.store.write_generation().filter(|_| generation_known);
        cached(&app.current_users, view_key(caller), generation, || {
            queries.fetch_add(1, Ordering::SeqCst);
            current(app, caller)
        })
        .await
    }

    /// Served from the cache until a write commits; a write that is rolled back changes
    /// nothing; the key and session views are separate entries.
    #[tokio::test]
    async fn cached_until_a_write_commits() {
        let app = app_on(memory_store().await, TestClock::at(1_000_000));
        let admin = insert_admin(&app).await;
        let queries = AtomicUsize::new(0);
        let calls = || queries.load(Ordering::SeqCst);
        let a = serve(&app, &admin, &queries, true).await.expect("first");
        let b = serve(&app, &admin, &queries, true).await.expect("second");
        assert_eq!(a, b);
        assert_eq!(calls(), 1);

        // Rolled back: the generation does not move.
        let mut tx = app.store.begin().await.expect("begin");
        tx.user_set_qbnewb(admin.user_id, false)
            .await
            .expect("write");
        drop(tx);
        serve(&app, &admin, &queries, true).await.expect("third");
        assert_eq!(calls(), 1);

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
        let c = serve(&app, &admin, &queries, true)
            .await
            .expect("after the write");
        assert_eq!(name(&c), "Augusta");
        assert_eq!(calls(), 2);

        let as_key = Principal {
            via: Via::ApiKey { key_id: 1 },
            ..admin.clone()
        };
        serve(&app, &as_key, &queries, true)
            .await
            .expect("key view");
        assert_eq!(calls(), 3);
        assert_eq!(app.current_users.len(), 2);
        // `current_json` itself serves the entries just filled.
        assert_eq!(current_json(&app, &admin).await.expect("served"), c);
        assert_eq!(app.current_users.len(), 2);
    }

    /// While the generation cannot be known (the listener is down), every request queries.
    #[tokio::test]
    async fn bypassed_while_the_generation_is_unknown() {
        let app = app_on(memory_store().await, TestClock::at(1_000_000));
        let admin = insert_admin(&app).await;
        let queries = AtomicUsize::new(0);
        let calls = || queries.load(Ordering::SeqCst);
        serve(&app, &admin, &queries, false).await.expect("first");
        serve(&app, &admin, &queries, false).await.expect("second");
        assert_eq!(calls(), 2);
        assert!(app.current_users.is_empty());
        serve(&app, &admin, &queries, true).await.expect("third");
        serve(&app, &admin, &queries, true).await.expect("fourth");
        assert_eq!(calls(), 3);
    }
}
