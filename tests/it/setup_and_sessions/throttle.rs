//! people-and-groups.md §2.4 (login throttling) and §2.6 (expiry) acceptance scenarios 15–18
//! and 21. They run on the real clock.
use std::time::{Duration, Instant};

use axum::http::HeaderName;
use serde_json::{json, Value};

use super::{login, DID_NOT_MATCH};
use crate::both;
use crate::support::{Auth, TestApp, PASSWORD};
use crate::users::world;

/// N of `Too many attempts! You must wait N seconds before trying again.`, or a panic.
fn throttled_wait(r: &crate::support::Resp) -> u64 {
    assert_eq!(r.status, 401, "{}", r.text);
    let v = r.json();
    let errors = v["errors"].as_object().expect("errors");
    assert_eq!(errors.len(), 1, "{v}");
    let msg = errors["username"]
        .as_str()
        .unwrap_or_else(|| panic!("not throttled: {v}"));
    let n = msg
        .strip_prefix("Too many attempts! You must wait ")
        .and_then(|s| s.strip_suffix(" seconds before trying again."))
        .unwrap_or_else(|| panic!("{msg}"));
    assert!(
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()),
        "{msg}"
    );
    n.parse().expect("number")
}

#[track_caller]
fn assert_did_not_match(r: &crate::support::Resp) {
    assert_eq!(
        (r.status, r.json()),
        (401, json!({"errors": {"password": DID_NOT_MATCH}}))
    );
}

fn creds(user: &str, password: &str) -> Value {
    json!({"username": user, "password": password})
}

fn xff(v: &str) -> Auth {
    Auth::Headers(vec![("X-Forwarded-For".into(), v.into())])
}

both!(s15_username_throttle, |t| async move {
    world(&t).await;
    for i in 0..10 {
        let r = login(
            &t,
            &Auth::None,
            creds("alice@example.com", &format!("wrong-{i}")),
        )
        .await;
        assert_did_not_match(&r);
    }
    // The 11th is refused even with the right password, and in another letter case.
    let r = login(&t, &Auth::None, creds("ALICE@example.com", PASSWORD)).await;
    let n = throttled_wait(&r);
    assert!(n == 14 || n == 15, "{n}");
    let r = login(&t, &Auth::None, creds("alice@example.com", PASSWORD)).await;
    let n = throttled_wait(&r);
    assert!((40..50).contains(&n), "{n}");
    // Other usernames are not affected; validation failures are not attempts.
    t.login("bob@example.com", PASSWORD).await;
    login(&t, &Auth::None, json!({"username": "alice@example.com"}))
        .await
        .assert(400);
});

both!(
    s15_validation_failures_do_not_count_and_success_does_not_reset,
    |t| async move {
        world(&t).await;
        for i in 0..5 {
            assert_did_not_match(
                &login(
                    &t,
                    &Auth::None,
                    creds("alice@example.com", &format!("wrong-{i}")),
                )
                .await,
            );
        }
        // A success in between does not reset the count; 400s are not attempts.
        t.login("alice@example.com", PASSWORD).await;
        for _ in 0..5 {
            login(&t, &Auth::None, json!({"username": "alice@example.com"}))
                .await
                .assert(400);
            login(
                &t,
                &Auth::None,
                json!({"username": "alice@example.com", "password": ""}),
            )
            .await
            .assert(400);
        }
        for i in 5..10 {
            assert_did_not_match(
                &login(
                    &t,
                    &Auth::None,
                    creds("alice@example.com", &format!("wrong-{i}")),
                )
                .await,
            );
        }
        let n = throttled_wait(&login(&t, &Auth::None, creds("alice@example.com", PASSWORD)).await);
        assert!(n == 14 || n == 15, "{n}");
    }
);

/// Fails `n` logins, each with a new unknown username, from `auth`'s address.
async fn fail_from(t: &TestApp, auth: &Auth, tag: &str, n: usize) {
    for i in 0..n {
        let r = login(
            t,
            auth,
            creds(&format!("{tag}-{i}@example.com"), "wrong-pass1"),
        )
        .await;
        assert!(
            r.status == 401 && r.text.contains(DID_NOT_MATCH),
            "attempt {i} from {tag}: {}",
            r.text
        );
    }
}

both!(s16_ip_throttle, |t| async move {
    t.setup().await;
    // Without --source-address-header, X-Forwarded-For is ignored: all come from the peer.
    for i in 0..50 {
        let auth = xff(&format!("10.0.0.{i}"));
        let r = login(
            &t,
            &auth,
            creds(&format!("u{i}@example.com"), "wrong-pass1"),
        )
        .await;
        assert_did_not_match(&r);
    }
    let r = login(&t, &xff("10.0.1.1"), creds("ada@example.com", PASSWORD)).await;
    let n = throttled_wait(&r);
    assert!((10..20).contains(&n), "{n}");
    let r = login(&t, &Auth::None, creds("other@example.com", "wrong-pass1")).await;
    let n = throttled_wait(&r);
    assert!((40..50).contains(&n), "{n}");
});

both!(
    s17_source_address_header,
    config = |c: &mut ferrobase::config::Config| {
        c.source_address_header = Some(HeaderName::from_static("x-forwarded-for"))
    },
    |t| async move {
        t.setup().await;
        fail_from(&t, &xff("10.9.9.9"), "a", 40).await;
        // None of these are throttled: the 40 above belong to 10.9.9.9 only.
        fail_from(&t, &xff("1.1.1.1, 10.1.2.3"), "b", 50).await;
        let r = login(&t, &xff("10.1.2.3"), creds("ada@example.com", PASSWORD)).await;
        let n = throttled_wait(&r);
        assert!((10..20).contains(&n), "{n}");
        // 10.9.9.9 (40 failures) and 1.1.1.1 (none) are below the threshold.
        login(&t, &xff("10.9.9.9"), creds("ada@example.com", PASSWORD))
            .await
            .assert(200);
        login(&t, &xff("1.1.1.1"), creds("ada@example.com", PASSWORD))
            .await
            .assert(200);
        // A last entry that is not an IP falls back to the peer address, which has no failures.
        login(
            &t,
            &xff("10.1.2.3, garbage"),
            creds("ada@example.com", PASSWORD),
        )
        .await
        .assert(200);
    }
);

both!(
    s18_throttle_can_be_disabled,
    config = |c: &mut ferrobase::config::Config| c.disable_session_throttle = true,
    |t| async move {
        world(&t).await;
        for i in 0..15 {
            let r = login(
                &t,
                &Auth::None,
                creds("alice@example.com", &format!("wrong-{i}")),
            )
            .await;
            assert_did_not_match(&r);
        }
        login(&t, &Auth::None, creds("alice@example.com", PASSWORD))
            .await
            .assert(200);
    }
);

both!(
    s21_sessions_expire_max_session_age_after_login,
    config = |c: &mut ferrobase::config::Config| c.max_session_age_minutes = 1,
    |t| async move {
        t.setup().await;
        let start = Instant::now();
        let r = login(
            &t,
            &Auth::None,
            json!({"username": "ada@example.com", "password": PASSWORD, "remember": true}),
        )
        .await;
        r.assert(200);
        assert!(r.header("set-cookie").unwrap().contains("Max-Age=60"));
        let sid = Auth::Session(r.json()["id"].as_str().unwrap().to_string());
        for at in [0u64, 20, 40] {
            tokio::time::sleep_until((start + Duration::from_secs(at)).into()).await;
            // Use does not extend the lifetime.
            t.get("/api/user/current", &sid).await.assert(200);
        }
        tokio::time::sleep_until((start + Duration::from_secs(61)).into()).await;
        t.get("/api/user/current", &sid)
            .await
            .assert_text(401, "Unauthenticated");
        t.delete("/api/session", &sid).await;
        // A new login works again.
        t.login("ada@example.com", PASSWORD).await;
    }
);
