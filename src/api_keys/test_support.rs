//! Unit-test doubles for the API-key code: a store that records (or forbids) the calls of the
//! authentication hot path, and an app on it with an admin to act as. The clock is the crate's
//! ([`crate::test_support::TestClock`]).
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use parking_lot::Mutex;

use super::store::KeyAuthRow;
use crate::auth::Principal;
use crate::sessions::store::SessionAuthRow;
use crate::state::AppState;
use crate::store::{Backend, DynStore, KeyInvalidation, Store, StoreResult, Tx};
pub use crate::test_support::TestClock;

/// Wraps a real store and counts what the hot path asks of it. Without an inner store every
/// call fails the test.
pub struct SpyStore {
    inner: Option<DynStore>,
    pub auth_calls: AtomicUsize,
    /// Every `last_used_at` write: (key id, value written).
    pub touches: Mutex<Vec<(i64, i64)>>,
}

impl SpyStore {
    pub fn wrapping(inner: DynStore) -> Arc<SpyStore> {
        Arc::new(SpyStore {
            inner: Some(inner),
            auth_calls: AtomicUsize::new(0),
            touches: Mutex::new(Vec::new()),
        })
    }

    /// A store that panics whenever it is used.
    pub fn forbidden() -> Arc<SpyStore> {
        Arc::new(SpyStore {
            inner: None,
            auth_calls: AtomicUsize::new(0),
            touches: Mutex::new(Vec::new()),
        })
    }

    fn inner(&self, what: &str) -> &DynStore {
        match &self.inner {
            Some(s) => s,
            None => panic!("the store was called ({what}) but must not be"),
        }
    }

    pub fn auth_calls(&self) -> usize {
        self.auth_calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Store for SpyStore {
    fn backend(&self) -> Backend {
        self.inner.as_ref().map_or(Backend::Sqlite, |s| s.backend())
    }
    async fn begin(&self) -> StoreResult<Box<dyn Tx>> {
        self.inner("begin").begin().await
    }
    async fn read(&self) -> StoreResult<Box<dyn Tx>> {
        self.inner("read").read().await
    }
    async fn ping(&self) -> StoreResult<()> {
        self.inner("ping").ping().await
    }
    fn write_generation(&self) -> Option<u64> {
        self.inner("write_generation").write_generation()
    }
    async fn session_auth(&self, digest: &[u8]) -> StoreResult<Option<SessionAuthRow>> {
        self.inner("session_auth").session_auth(digest).await
    }
    async fn current_user(
        &self,
        user_id: i64,
    ) -> StoreResult<Option<crate::users::store::CurrentUserRow>> {
        self.inner("current_user").current_user(user_id).await
    }
    async fn api_key_auth(&self, digest: &[u8]) -> StoreResult<Option<KeyAuthRow>> {
        let inner = self.inner("api_key_auth");
        self.auth_calls.fetch_add(1, Ordering::SeqCst);
        inner.api_key_auth(digest).await
    }
    async fn api_key_touch(&self, uses: &[(i64, i64)]) -> StoreResult<()> {
        let inner = self.inner("api_key_touch");
        self.touches.lock().extend_from_slice(uses);
        inner.api_key_touch(uses).await
    }
    async fn listen_key_events(
        &self,
        tx: KeyInvalidation,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> StoreResult<()> {
        self.inner("listen_key_events")
            .listen_key_events(tx, shutdown)
            .await
    }
    async fn try_import_lock(&self) -> StoreResult<Option<crate::store::import_lock::ImportLock>> {
        self.inner("try_import_lock").try_import_lock().await
    }
    async fn sync_lock(
        &self,
        db_id: i64,
        wait: std::time::Duration,
    ) -> StoreResult<Option<crate::store::import_lock::ImportLock>> {
        self.inner("sync_lock").sync_lock(db_id, wait).await
    }
    async fn close(&self) {
        if let Some(s) = &self.inner {
            s.close().await;
        }
    }
}

/// An app on a spied in-memory SQLite database (no listener, no background tasks) and a
/// superuser principal backed by a real user row.
pub async fn app_with(clock: Arc<TestClock>) -> (AppState, Arc<SpyStore>, Principal) {
    let spy = SpyStore::wrapping(crate::test_support::memory_store().await);
    let app = crate::test_support::app_on(spy.clone(), clock);
    let admin = crate::users::test_support::insert_admin(&app).await;
    (app, spy, admin)
}
