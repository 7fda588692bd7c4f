//! Unit tests of the API-key service with a stubbed key generator (scenario 29) and explicit
//! times (scenario 75).
use std::collections::VecDeque;

use parking_lot::Mutex;
use serde_json::json;

use super::*;
use crate::api_keys::format::PlainKey;
use crate::api_keys::input::NewKey;
use crate::api_keys::test_support::{app_with, SpyStore, TestClock};
use crate::audit::store::AuditFilter;

const T0: i64 = 1_740_824_130_000_000;
const S: i64 = 1_000_000;

/// Hands out a fixed list of keys and counts how many were taken.
struct StubGenerator {
    keys: Mutex<VecDeque<PlainKey>>,
    taken: Mutex<usize>,
}

impl StubGenerator {
    fn new(keys: Vec<PlainKey>) -> Self {
        StubGenerator {
            keys: Mutex::new(keys.into()),
            taken: Mutex::new(0),
        }
    }
    fn taken(&self) -> usize {
        *self.taken.lock()
    }
}

impl KeyGenerator for StubGenerator {
    fn generate(&self) -> PlainKey {
        *self.taken.lock() += 1;
        self.keys
            .lock()
            .pop_front()
            .expect("the stub generator ran out of keys")
    }
}

/// A key whose random part starts with `first4` (so its prefix is `mb_<first4>`).
fn key(first4: &str, n: u32) -> PlainKey {
    PlainKey::from_random_part(&format!("{first4}{n:036}")).expect("valid random part")
}

fn new_key(name: &str) -> NewKey {
    NewKey {
        name: name.into(),
        group_id: ALL_USERS,
        expires_at: None,
        restrictions: None,
    }
}

/// (keys, users, memberships, audit entries) in the database.
async fn counts(app: &App) -> (i64, usize, usize, i64) {
    let mut tx = app.store.read().await.expect("read");
    let keys = tx.api_key_count().await.expect("count");
    let mut users = 0;
    for id in 1..=50 {
        if tx.user_get(id).await.expect("user").is_some() {
            users += 1;
        }
    }
    let memberships = tx.membership_all().await.expect("memberships").len();
    let filter = AuditFilter {
        limit: 1000,
        ..Default::default()
    };
    let (_, audit) = tx.audit_list(&filter).await.expect("audit");
    (keys, users, memberships, audit)
}

fn assert_exhausted<T>(r: ApiResult<T>) {
    match r {
        Err(ApiError::JsonBody(status, body)) => {
            assert_eq!(status, crate::error::Kind::Internal);
            assert_eq!(
                body,
                json!({"message": "could not generate key with unique prefix"})
            );
        }
        Err(e) => panic!("expected the prefix-exhaustion 500, got {e:?}"),
        Ok(_) => panic!("expected the prefix-exhaustion 500, got success"),
    }
}

#[tokio::test]
async fn s29_prefix_collisions_retry_six_times_then_fail_writing_nothing() {
    let (app, _spy, admin) = app_with(TestClock::at(T0)).await;
    let first = StubGenerator::new(vec![key("AAAA", 0)]);
    create(&app, &admin, new_key("first"), &first)
        .await
        .expect("first key");

    // 5 colliding keys, then a fresh one: success, and all 6 generated keys were consumed.
    let mut keys: Vec<PlainKey> = (1..=5).map(|n| key("AAAA", n)).collect();
    keys.push(key("BBBB", 6));
    let stub = StubGenerator::new(keys);
    let made = create(&app, &admin, new_key("second"), &stub)
        .await
        .expect("second key");
    assert_eq!(stub.taken(), 6);
    assert!(stub.keys.lock().is_empty());
    assert_eq!(made.unmasked_key, key("BBBB", 6).expose());

    // Collisions every time (against either existing prefix): 500, after exactly 6 attempts,
    // and no key, no user, no membership and no audit entry written.
    let before = counts(&app).await;
    let mut keys: Vec<PlainKey> = (10..16)
        .map(|n| key(if n % 2 == 0 { "AAAA" } else { "BBBB" }, n))
        .collect();
    keys.push(key("CCCC", 99)); // never reached
    let stub = StubGenerator::new(keys);
    assert_exhausted(create(&app, &admin, new_key("third"), &stub).await);
    assert_eq!(stub.taken(), PREFIX_ATTEMPTS);
    assert_eq!(counts(&app).await, before);

    // Regenerate gives up the same way and leaves the key untouched.
    let stub = StubGenerator::new((20..26).map(|n| key("BBBB", n)).collect());
    assert_exhausted(regenerate(&app, &admin, 1, 0, &stub).await);
    let listed: serde_json::Value =
        serde_json::from_slice(&list(&app, &admin).await.expect("list")).expect("json");
    assert_eq!(listed[0]["masked_key"], format::masked("mb_AAAA"));
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn s29_retired_secret_in_its_grace_period_keeps_its_prefix() {
    let (app, _spy, admin) = app_with(TestClock::at(T0)).await;
    let stub = StubGenerator::new(vec![key("AAAA", 0), key("BBBB", 1)]);
    create(&app, &admin, new_key("k"), &stub)
        .await
        .expect("key");
    regenerate(&app, &admin, 1, 60, &stub)
        .await
        .expect("regenerate with grace");
    // mb_AAAA is now a retired secret still in its grace period: it collides.
    let stub = StubGenerator::new(vec![key("AAAA", 2), key("CCCC", 3)]);
    create(&app, &admin, new_key("k2"), &stub)
        .await
        .expect("second key");
    assert_eq!(stub.taken(), 2);
}

/// Runs the 10-second flush ticks due up to `until`, recording (tick time, value) per write.
#[allow(clippy::too_many_arguments)]
async fn tick_until(
    app: &App,
    spy: &SpyStore,
    clock: &TestClock,
    id: i64,
    until: i64,
    next_tick: &mut i64,
    writes: &mut Vec<(i64, i64)>,
) {
    while *next_tick <= until {
        clock.set(*next_tick);
        flush_last_used(app, false).await;
        let new: Vec<(i64, i64)> = spy.touches.lock().drain(..).collect();
        for (key_id, value) in new {
            assert_eq!(key_id, id);
            writes.push((*next_tick, value));
        }
        *next_tick += 10 * S;
    }
}

/// Scenario 75 with explicit times and a spy on the database writes: 200 requests with one
/// key spread over 30 s, flushes every 10 s (at several phases) → at most one `last_used_at`
/// write for that key during those 30 s, never two writes less than 60 s apart, and 70 s after
/// the last request the database holds the time of the last request.
#[tokio::test]
async fn s75_last_used_is_written_at_most_once_a_minute_and_lands_within_70s() {
    for phase in [0, 3_300_000, 9_900_000] {
        let clock = TestClock::at(T0);
        let (app, spy, admin) = app_with(clock.clone()).await;
        let made = create(&app, &admin, new_key("k"), &OsKeyGenerator)
            .await
            .expect("key");
        let id = made.key.id;
        let secret = made.unmasked_key.clone();
        let mut writes: Vec<(i64, i64)> = Vec::new(); // (write time, value written)
        let mut next_tick = T0 + phase;
        let mut last = T0;
        for i in 0..200 {
            let t = T0 + i * 30 * S / 200;
            tick_until(&app, &spy, &clock, id, t, &mut next_tick, &mut writes).await;
            clock.set(t);
            let p = app
                .api_keys
                .authenticate(&app, Some(&secret), std::net::IpAddr::from([127, 0, 0, 1]))
                .await
                .expect("auth");
            assert!(p.is_some(), "request {i} was refused");
            last = t;
        }
        tick_until(
            &app,
            &spy,
            &clock,
            id,
            last + 70 * S,
            &mut next_tick,
            &mut writes,
        )
        .await;

        let during = writes
            .iter()
            .filter(|(at, _)| (T0..T0 + 30 * S).contains(at))
            .count();
        assert!(during <= 1, "phase {phase}: {writes:?}");
        for pair in writes.windows(2) {
            assert!(pair[1].0 - pair[0].0 >= 60 * S, "phase {phase}: {writes:?}");
        }
        let mut tx = app.store.read().await.expect("read");
        let row = tx.api_key_get(id).await.expect("get").expect("row");
        assert_eq!(row.last_used_at, Some(last), "phase {phase}: {writes:?}");
        // Writing last_used_at never stamps the key as updated.
        assert_eq!(row.updated_at, T0);
    }
}
