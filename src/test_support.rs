//! Unit-test doubles shared by every feature: a clock set by hand to the microsecond and an app
//! on a fresh in-memory SQLite database. Depends on no feature, so any feature's tests may use
//! it; feature-specific helpers (a user to act as, a spied store) live with their feature.
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use crate::clock::{Clock, Timestamp};
use crate::config::Config;
use crate::state::{App, AppState};
use crate::store::{DatabaseUrl, DynStore};

/// A clock that moves only when told to, in microseconds.
#[derive(Debug, Default)]
pub struct TestClock(AtomicI64);

impl TestClock {
    pub fn at(t: i64) -> Arc<TestClock> {
        Arc::new(TestClock(AtomicI64::new(t)))
    }
    pub fn set(&self, t: i64) {
        self.0.store(t, Ordering::SeqCst);
    }
}

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// A new in-memory SQLite store (migrated and seeded).
pub async fn memory_store() -> DynStore {
    crate::store::open(&DatabaseUrl::SqliteMemory)
        .await
        .expect("open in-memory store")
}

/// An app over `store` with the test configuration (no listener, no background tasks).
pub fn app_on(store: DynStore, clock: Arc<TestClock>) -> AppState {
    App::new(store, Config::for_tests(), clock)
}
