//! people-and-groups.md §3 (passwords) acceptance scenarios 23–27.
use ferrobase::passwords::{Complexity, PasswordPolicy};
use serde_json::json;

use crate::both;
use crate::support::{Auth, TestApp, PASSWORD};
use crate::users::world;

async fn check(t: &TestApp, password: &str) -> crate::support::Resp {
    t.post(
        "/api/session/password-check",
        &Auth::None,
        json!({"password": password}),
    )
    .await
}

#[track_caller]
fn assert_valid(r: &crate::support::Resp) {
    assert_eq!((r.status, r.text.as_str()), (200, r#"{"valid":true}"#));
}

#[track_caller]
fn assert_too_common(r: &crate::support::Resp) {
    assert_eq!(r.status, 400, "{}", r.text);
    let v = r.json();
    assert_eq!(v["errors"], json!({"password": "password is too common."}));
    let details = v["specific-errors"]["password"]
        .as_array()
        .expect("specific-errors.password");
    assert!(!details.is_empty());
}

both!(s23_password_check_normal_rule, |t| async move {
    assert_valid(&check(&t, "blue7-ferret-orbit").await);
    for bad in [
        "abc123",
        "password1",
        "abcdef",
        "abc1",
        "123456",
        "12345678",
        "qwerty123",
        "PASSWORD1",
    ] {
        assert_too_common(&check(&t, bad).await);
    }
    // Missing or non-string passwords get the same message.
    for body in [
        json!({}),
        json!({"password": null}),
        json!({"password": 1234567}),
    ] {
        assert_too_common(
            &t.post("/api/session/password-check", &Auth::None, body)
                .await,
        );
    }
    // The details never echo the password.
    let r = check(&t, "abc1").await;
    assert!(
        !r.json()["specific-errors"].to_string().contains("abc1"),
        "{}",
        r.text
    );
});

both!(
    s24_strong_rule,
    config = |c: &mut ferrobase::config::Config| c.password_policy =
        PasswordPolicy::new(Complexity::Strong, None),
    |t| async move {
        assert_too_common(&check(&t, "blue7-ferret-orbit").await);
        assert_valid(&check(&t, "Blue7-Ferret-Orbit").await);
        assert_too_common(&check(&t, "Blue7FerretOrbit").await); // no special character
        let p = t.get("/api/session/properties", &Auth::None).await.json();
        assert_eq!(
            p["password-complexity"],
            json!({"total": 8, "lower": 2, "upper": 2, "digit": 1, "special": 1})
        );
        // Setup and user creation follow the same rule.
        let token = t.setup_token().await;
        let r = t
            .post(
                "/api/setup",
                &Auth::None,
                json!({"token": token, "prefs": {"site_name": "Acme"},
                         "user": {"email": "ada@example.com", "password": PASSWORD}}),
            )
            .await;
        r.assert(400);
        assert_eq!(
            r.json()["errors"],
            json!({"user": {"password": "password is too common."}})
        );
    }
);

both!(
    s25_weak_rule,
    config = |c: &mut ferrobase::config::Config| c.password_policy =
        PasswordPolicy::new(Complexity::Weak, None),
    |t| async move {
        assert_valid(&check(&t, "abcdef").await);
        assert_valid(&check(&t, "password").await);
        assert_too_common(&check(&t, "abcde").await);
        let p = t.get("/api/session/properties", &Auth::None).await.json();
        assert_eq!(p["password-complexity"], json!({"total": 6}));
    }
);

both!(
    s25_password_length_override,
    config = |c: &mut ferrobase::config::Config| c.password_policy =
        PasswordPolicy::new(Complexity::Normal, Some(12)),
    |t| async move {
        assert_valid(&check(&t, "blue7-ferret").await);
        assert_too_common(&check(&t, "blue7-ferre").await);
        // Length counts Unicode scalar values, not bytes.
        assert_too_common(&check(&t, "ééééé1ééééé").await);
        assert_valid(&check(&t, "ééééé1éééééé").await);
        let p = t.get("/api/session/properties", &Auth::None).await.json();
        assert_eq!(p["password-complexity"], json!({"total": 12, "digit": 1}));
    }
);

both!(s26_overlong_password_is_refused, |t| async move {
    let long = format!("blue7-{}", "x".repeat(1019));
    assert_eq!(long.chars().count(), 1025);
    assert_too_common(&check(&t, &long).await);
    assert_valid(&check(&t, &long[..1024]).await);
    let admin = t.setup().await;
    let r = t
        .post(
            "/api/user",
            &admin,
            json!({"email": "c@example.com", "password": long}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"password": "password is too common."})
    );
});

fn assert_no_secret(r: &crate::support::Resp) {
    assert!(!r.text.contains("password"), "{}", r.text);
    assert!(!r.text.contains("argon2"), "{}", r.text);
}

both!(
    s27_argon2id_hash_and_no_password_in_responses,
    |t| async move {
        let w = world(&t).await;
        let r = t
            .post(
                "/api/user",
                &w.admin,
                json!({"email": "c@example.com", "password": "green8-otter-comet"}),
            )
            .await;
        r.assert(200);
        assert_no_secret(&r);
        let id = r.json()["id"].as_i64().unwrap();
        let hash = {
            let mut tx = t.app.store.read().await.expect("read");
            tx.user_get(id)
                .await
                .expect("user_get")
                .expect("user")
                .password_hash
                .expect("hash")
        };
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(!hash.contains("green8-otter-comet"));
        for path in [
            "/api/user",
            "/api/user?status=all",
            "/api/user/current",
            &format!("/api/user/{id}"),
            "/api/permissions/membership",
            "/api/permissions/group/1",
        ] {
            let r = t.get(path, &w.admin).await;
            r.assert(200);
            assert_no_secret(&r);
        }
        let r = t
            .put(
                &format!("/api/user/{id}"),
                &w.admin,
                json!({"first_name": "C", "password": "x"}),
            )
            .await;
        r.assert(200);
        assert_no_secret(&r);
        let r = t
            .put(&format!("/api/user/{id}/reactivate"), &w.admin, json!({}))
            .await;
        assert_no_secret(&r);
    }
);

both!(
    s27_old_argon2_parameters_are_upgraded_at_login,
    |t| async move {
        use argon2::password_hash::{PasswordHasher, SaltString};
        let w = world(&t).await;
        // A hash with older, cheaper parameters, as a previous release might have stored it.
        let params = argon2::Params::new(4096, 1, 1, Some(32)).expect("params");
        let old = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
            .hash_password(
                PASSWORD.as_bytes(),
                &SaltString::encode_b64(&[7u8; 16]).expect("salt"),
            )
            .expect("hash")
            .to_string();
        assert!(old.starts_with("$argon2id$v=19$m=4096,t=1,p=1$"));
        {
            let mut tx = t.app.store.begin().await.expect("begin");
            tx.user_set_password(w.alice_id, &old).await.expect("set");
            tx.commit().await.expect("commit");
        }
        let stored = |t: std::sync::Arc<TestApp>| async move {
            let mut tx = t.app.store.read().await.expect("read");
            tx.user_get(w.alice_id)
                .await
                .expect("get")
                .expect("user")
                .password_hash
                .expect("hash")
        };
        // A wrong password changes nothing.
        let r = t
            .post(
                "/api/session",
                &Auth::None,
                json!({"username": "alice@example.com", "password": "wrong-pass1"}),
            )
            .await;
        r.assert(401);
        assert_eq!(stored(t.clone()).await, old);
        t.login("alice@example.com", PASSWORD).await;
        let upgraded = stored(t.clone()).await;
        assert!(
            upgraded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{upgraded}"
        );
        t.login("alice@example.com", PASSWORD).await;
        assert_eq!(
            stored(t.clone()).await,
            upgraded,
            "a current hash is not rewritten"
        );
    }
);
