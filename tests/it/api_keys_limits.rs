//! api-keys.md §11, scenarios 67–76: the failed-key rate limit and `last_used_at`. Scenario 75
//! is a unit test with explicit times (`src/api_keys/service_tests.rs`), 77 a process test
//! (`api_keys_process.rs`).
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::api_keys::*;
use crate::both;
use crate::support::{Auth, TestApp};

const LIMITED: &str = "Too many failed API key attempts. Try again later.";

/// Ten failed attempts, each answered 401, then the 11th answered 429. Returns `Retry-After`.
async fn exhaust(t: &TestApp) -> u64 {
    for i in 0..10 {
        t.get("/api/user/current", &Auth::Key(format!("mb_bad_{i}")))
            .await
            .assert_text(401, "Unauthenticated");
    }
    let r = t
        .get("/api/user/current", &Auth::Key(never_issued_key()))
        .await;
    r.assert_text(429, LIMITED);
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .expect("an integer");
    assert!((1..=60).contains(&retry), "{retry}");
    retry
}

both!(
    s67_the_eleventh_failed_key_in_a_minute_is_limited,
    |t| async move {
        t.setup().await;
        exhaust(&t).await;
        // Every later failure in the window is limited too, whatever the endpoint.
        t.get("/api/session/properties", &Auth::Key("mb_x".into()))
            .await
            .assert_text(429, LIMITED);
        // Requests without a key are neither counted nor limited.
        t.get("/api/user/current", &Auth::None)
            .await
            .assert_text(401, "Unauthenticated");
    }
);

async fn timed(t: &TestApp, auth: &Auth) -> Duration {
    let start = Instant::now();
    t.get("/api/user/current", auth).await.assert(200);
    start.elapsed()
}

both!(s68_valid_keys_are_never_slowed_down, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 1).await;
    // Unthrottled baseline (after warming up the connection and the cache).
    timed(&t, &k.auth()).await;
    let mut base = Duration::MAX;
    for _ in 0..5 {
        base = base.min(timed(&t, &k.auth()).await);
    }
    exhaust(&t).await;
    let mut limited = Duration::MAX;
    for _ in 0..5 {
        limited = limited.min(timed(&t, &k.auth()).await);
    }
    assert!(
        limited <= base + Duration::from_millis(50),
        "{limited:?} vs {base:?}"
    );
    // A success neither resets nor ends the window.
    t.get("/api/user/current", &Auth::Key("mb_bad".into()))
        .await
        .assert_text(429, LIMITED);
});

both!(
    s69_the_window_closes_after_retry_after_seconds,
    |t| async move {
        t.setup().await;
        let retry = exhaust(&t).await;
        tokio::time::sleep(Duration::from_secs(retry) + Duration::from_millis(300)).await;
        t.get("/api/user/current", &Auth::Key(never_issued_key()))
            .await
            .assert_text(401, "Unauthenticated");
    }
);

both!(
    s70_keys_beside_a_valid_session_are_never_evaluated,
    |t| async move {
        let admin = t.setup().await;
        let Auth::Session(sid) = admin.clone() else {
            unreachable!()
        };
        for i in 0..20 {
            let auth = Auth::Headers(vec![
                ("X-Metabase-Session".into(), sid.clone()),
                ("X-Api-Key".into(), format!("mb_bad_{i}")),
            ]);
            t.get("/api/user/current", &auth).await.assert(200);
        }
        t.get("/api/user/current", &Auth::Key("mb_bad".into()))
            .await
            .assert_text(401, "Unauthenticated");
    }
);

both!(
    s71_the_throttle_can_be_disabled,
    config = |c: &mut ferrobase::config::Config| c.disable_api_key_throttle = true,
    |t| async move {
        t.setup().await;
        for i in 0..30 {
            t.get("/api/user/current", &Auth::Key(format!("mb_bad_{i}")))
                .await
                .assert_text(401, "Unauthenticated");
        }
    }
);

both!(s72_the_health_check_never_counts_keys, |t| async move {
    t.setup().await;
    for i in 0..20 {
        let r = t
            .get("/api/health", &Auth::Key(format!("mb_bad_{i}")))
            .await;
        r.assert(200);
        assert_eq!(r.json(), json!({"status": "ok"}));
    }
    for i in 0..10 {
        t.get("/api/user/current", &Auth::Key(format!("mb_bad_{i}")))
            .await
            .assert_text(401, "Unauthenticated");
    }
});

both!(
    s73_a_use_shows_at_once_in_last_used_at_without_touching_updated_at,
    |t| async move {
        let admin = t.setup().await;
        let k = create_key(&t, &admin, "Robot", 1).await;
        assert_eq!(k.body["last_used_at"], Value::Null);
        let audit_before = t.audit(&admin, "").await.len();
        let used_at = now_micros();
        t.get("/api/user/current", &k.auth()).await.assert(200);
        let after = listed(&t, &admin, k.id).await;
        let last_used = micros(&after["last_used_at"]);
        assert!(
            last_used / 1_000_000 >= used_at / 1_000_000,
            "{last_used} < {used_at}"
        );
        assert!(last_used <= now_micros());
        assert_eq!(after["updated_at"], k.body["updated_at"]);
        assert_eq!(t.audit(&admin, "").await.len(), audit_before);
    }
);

both!(
    s74_any_authenticated_use_counts_and_failed_attempts_do_not,
    |t| async move {
        let admin = t.setup().await;
        let k = create_key(&t, &admin, "Admin robot", 2).await;
        let other = create_key(&t, &admin, "Unused", 1).await;
        t.get("/api/user/999999", &k.auth())
            .await
            .assert_text(404, "Not found.");
        assert!(listed(&t, &admin, k.id).await["last_used_at"].is_string());
        // Failed attempts: a wrong checksum of the unused key, an unknown key.
        let mut wrong = other.secret.clone();
        let last = if wrong.ends_with('A') { "B" } else { "A" };
        wrong.replace_range(48..49, last);
        t.get("/api/user/current", &Auth::Key(wrong))
            .await
            .assert(401);
        t.get("/api/user/current", &Auth::Key(never_issued_key()))
            .await
            .assert(401);
        assert_eq!(
            listed(&t, &admin, other.id).await["last_used_at"],
            Value::Null
        );
    }
);

both!(
    s76_a_retired_secret_in_its_grace_period_sets_last_used_at,
    |t| async move {
        let admin = t.setup().await;
        let k = create_key(&t, &admin, "Robot", 1).await;
        let r = t
            .put(
                &format!("/api/api-key/{}/regenerate", k.id),
                &admin,
                json!({"grace_period_seconds": 60}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.json()["last_used_at"], Value::Null);
        t.get("/api/user/current", &k.auth()).await.assert(200);
        assert!(listed(&t, &admin, k.id).await["last_used_at"].is_string());
    }
);
