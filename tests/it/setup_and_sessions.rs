//! people-and-groups.md §2 (login sessions) acceptance scenarios 8–14, 19, 20 and 22. Setup
//! (1–7) is in `setup`, login throttling and session expiry (15–18, 21) in `throttle`, and
//! passwords (23–27) in `passwords`.
use serde_json::{json, Value};

use crate::both;
use crate::support::{Auth, TestApp, PASSWORD};
use crate::users::{keys, sorted, world};

mod passwords;
mod setup;
mod throttle;

pub const DID_NOT_MATCH: &str = "did not match stored password";
pub const ALREADY_SET_UP: &str =
    "The /api/setup route can only be used to create the first user, however a user currently exists.";

pub async fn login(t: &TestApp, auth: &Auth, body: Value) -> crate::support::Resp {
    t.post("/api/session", auth, body).await
}

pub fn setup_body(token: &str, email: &str) -> Value {
    json!({"token": token, "prefs": {"site_name": "Acme"},
           "user": {"email": email, "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"}})
}

pub fn sid_of(r: &crate::support::Resp) -> String {
    let v = r.json();
    assert_eq!(keys(&v), sorted(&["id"]), "{v}");
    let sid = v["id"].as_str().expect("id").to_string();
    assert!(uuid::Uuid::parse_str(&sid).is_ok(), "{sid}");
    assert_eq!(sid, sid.to_lowercase());
    sid
}

both!(s08_login_email_case_insensitive, |t| async move {
    t.setup().await;
    let r = login(
        &t,
        &Auth::None,
        json!({"username": "ADA@EXAMPLE.COM", "password": PASSWORD}),
    )
    .await;
    r.assert(200);
    assert!(r.content_type().starts_with("application/json"));
    let sid = sid_of(&r);
    assert_eq!(
        t.get("/api/user/current", &Auth::Session(sid)).await.json()["id"],
        1
    );
});

both!(s09_remember_sets_max_age, |t| async move {
    t.setup().await;
    let cookie = |remember: Value| {
        let t = t.clone();
        async move {
            let mut body = json!({"username": "ada@example.com", "password": PASSWORD});
            if !remember.is_null() {
                body["remember"] = remember;
            }
            let r = login(&t, &Auth::None, body).await;
            r.assert(200);
            let sid = sid_of(&r);
            let c = r.header("set-cookie").expect("set-cookie");
            assert!(c.starts_with(&format!("metabase.SESSION={sid}; ")), "{c}");
            assert!(
                c.contains("Path=/") && c.contains("HttpOnly") && c.contains("SameSite=Lax"),
                "{c}"
            );
            c
        }
    };
    let c = cookie(json!(true)).await;
    assert!(c.contains("; Max-Age=1209600"), "{c}");
    for remember in [json!(false), Value::Null] {
        let c = cookie(remember).await;
        assert!(!c.contains("Max-Age") && !c.contains("Expires"), "{c}");
    }
});

both!(
    s09_session_cookies_setting_drops_max_age,
    config = |c: &mut ferrobase::config::Config| c.session_cookies = Some(true),
    |t| async move {
        t.setup().await;
        let r = login(
            &t,
            &Auth::None,
            json!({"username": "ada@example.com", "password": PASSWORD, "remember": true}),
        )
        .await;
        r.assert(200);
        let c = r.header("set-cookie").unwrap();
        assert!(!c.contains("Max-Age") && !c.contains("Expires"), "{c}");
        let p = t.get("/api/session/properties", &Auth::None).await.json();
        assert_eq!(p["session-cookies"], true);
    }
);

both!(s10_forwarded_https_sets_secure, |t| async move {
    t.setup().await;
    let body = json!({"username": "ada@example.com", "password": PASSWORD});
    let https = Auth::Headers(vec![("X-Forwarded-Proto".into(), "https".into())]);
    let r = login(&t, &https, body.clone()).await;
    r.assert(200);
    assert!(r.header("set-cookie").unwrap().contains("; Secure"));
    let r = login(&t, &Auth::None, body).await;
    assert!(!r.header("set-cookie").unwrap().contains("Secure"));
});

both!(s11_login_validation, |t| async move {
    t.setup().await;
    let r = login(&t, &Auth::None, json!({})).await;
    r.assert(400);
    let v = r.json();
    assert_eq!(
        v["errors"],
        json!({"username": "value must be a non-blank string.", "password": "value must be a non-blank string."})
    );
    assert_eq!(
        keys(&v["specific-errors"]),
        sorted(&["username", "password"])
    );
    let r = login(&t, &Auth::None, json!({"username": "ada@example.com"})).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"password": "value must be a non-blank string."})
    );
    let r = login(
        &t,
        &Auth::None,
        json!({"username": " ", "password": PASSWORD}),
    )
    .await;
    assert_eq!(
        r.json()["errors"],
        json!({"username": "value must be a non-blank string."})
    );
    let r = login(
        &t,
        &Auth::None,
        json!({"username": "ada@example.com", "password": PASSWORD, "remember": "yes"}),
    )
    .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"remember": "value must be a boolean."})
    );
    login(
        &t,
        &Auth::None,
        json!({"username": "ada@example.com", "password": PASSWORD, "remember": null}),
    )
    .await
    .assert(200);
});

both!(
    s12_wrong_password_and_unknown_email_look_alike,
    |t| async move {
        t.setup().await;
        let wrong = login(
            &t,
            &Auth::None,
            json!({"username": "ada@example.com", "password": "wrong-pass1"}),
        )
        .await;
        let unknown = login(
            &t,
            &Auth::None,
            json!({"username": "nobody@example.com", "password": "wrong-pass1"}),
        )
        .await;
        assert_eq!(wrong.status, 401);
        assert_eq!(wrong.json(), json!({"errors": {"password": DID_NOT_MATCH}}));
        assert_eq!(
            (unknown.status, unknown.text.as_str()),
            (wrong.status, wrong.text.as_str())
        );
        // A person without a password cannot log in either.
        let admin = t.login("ada@example.com", PASSWORD).await;
        t.post("/api/user", &admin, json!({"email": "np@example.com"}))
            .await
            .assert(200);
        let r = login(
            &t,
            &Auth::None,
            json!({"username": "np@example.com", "password": PASSWORD}),
        )
        .await;
        assert_eq!(
            (r.status, r.text.as_str()),
            (wrong.status, wrong.text.as_str())
        );
    }
);

both!(s13_deactivated_person_cannot_log_in, |t| async move {
    let w = world(&t).await;
    t.delete(&format!("/api/user/{}", w.alice_id), &w.admin)
        .await
        .assert(200);
    let r = login(
        &t,
        &Auth::None,
        json!({"username": "alice@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (
            401,
            json!({"errors": {"_error": "Your account is disabled."}})
        )
    );
    let r = login(
        &t,
        &Auth::None,
        json!({"username": "alice@example.com", "password": "wrong-pass1"}),
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (401, json!({"errors": {"password": DID_NOT_MATCH}}))
    );
});

both!(s14_session_header_and_cookie, |t| async move {
    let admin = t.setup().await;
    let Auth::Session(sid) = admin else {
        unreachable!()
    };
    t.get("/api/user/current", &Auth::Session(sid.clone()))
        .await
        .assert(200);
    t.get("/api/user/current", &Auth::Cookie(sid.clone()))
        .await
        .assert(200);
    // Session ids parse case-insensitively.
    t.get("/api/user/current", &Auth::Session(sid.to_uppercase()))
        .await
        .assert(200);
    t.get("/api/user/current", &Auth::Session("not-a-uuid".into()))
        .await
        .assert_text(401, "Unauthenticated");
    t.get(
        "/api/user/current",
        &Auth::Session(uuid::Uuid::new_v4().to_string()),
    )
    .await
    .assert_text(401, "Unauthenticated");
    // An invalid cookie falls through to a valid header.
    let both = Auth::Headers(vec![
        (
            "Cookie".into(),
            format!("metabase.SESSION={}", uuid::Uuid::new_v4()),
        ),
        ("X-Metabase-Session".into(), sid.clone()),
    ]);
    t.get("/api/user/current", &both).await.assert(200);
    // Cookie names are case-sensitive.
    let wrong = Auth::Headers(vec![("Cookie".into(), format!("METABASE.SESSION={sid}"))]);
    t.get("/api/user/current", &wrong)
        .await
        .assert_text(401, "Unauthenticated");
});

both!(s19_logout, |t| async move {
    let admin = t.setup().await;
    t.delete("/api/session", &Auth::None)
        .await
        .assert_text(404, "Not found.");
    t.delete(
        "/api/session",
        &Auth::Session(uuid::Uuid::new_v4().to_string()),
    )
    .await
    .assert_text(404, "Not found.");
    let Auth::Session(sid) = admin else {
        unreachable!()
    };
    let r = t.delete("/api/session", &Auth::Cookie(sid.clone())).await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    assert_eq!(
        r.header("set-cookie").as_deref(),
        Some("metabase.SESSION=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax")
    );
    t.get("/api/user/current", &Auth::Cookie(sid.clone()))
        .await
        .assert_text(401, "Unauthenticated");
    t.delete("/api/session", &Auth::Cookie(sid))
        .await
        .assert_text(404, "Not found.");
});

both!(s20_logout_ends_only_that_session, |t| async move {
    let w = world(&t).await;
    let second = t.login("alice@example.com", PASSWORD).await;
    let r = t.delete("/api/session", &w.alice).await;
    r.assert(204);
    t.get("/api/user/current", &w.alice)
        .await
        .assert_text(401, "Unauthenticated");
    let me = t.get("/api/user/current", &second).await;
    me.assert(200);
    assert_eq!(me.json()["id"], w.alice_id);
});

both!(s22_first_login_records_user_joined, |t| async move {
    let admin = t.setup().await;
    let r = t
        .post(
            "/api/user",
            &admin,
            json!({"email": "dave@example.com", "first_name": "Dave", "password": PASSWORD}),
        )
        .await;
    r.assert(200);
    let dave = r.json()["id"].as_i64().unwrap();
    assert_eq!(r.json()["last_login"], Value::Null);
    let topics = |events: &[Value]| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["model_id"] == dave && e["topic"].as_str().unwrap().starts_with("user-"))
            .map(|e| e["topic"].as_str().unwrap().to_string())
            .collect()
    };
    let before = t.audit(&admin, "model=User").await;
    assert_eq!(topics(&before), vec!["user-invited"]);
    let dave_auth = t.login("dave@example.com", PASSWORD).await;
    let events = t.audit(&admin, "model=User").await;
    assert_eq!(
        topics(&events),
        vec!["user-login", "user-joined", "user-invited"]
    );
    let joined = events.iter().find(|e| e["topic"] == "user-joined").unwrap();
    assert_eq!(
        (joined["user_id"].clone(), joined["details"].clone()),
        (json!(dave), json!({}))
    );
    let me = t.get("/api/user/current", &dave_auth).await.json();
    assert!(me["last_login"].is_string());
    assert_eq!(me["first_login"], joined["timestamp"]);
    assert_eq!(me["last_login"], joined["timestamp"]);
    t.login("dave@example.com", PASSWORD).await;
    let events = t.audit(&admin, "model=User").await;
    assert_eq!(
        topics(&events),
        vec!["user-login", "user-login", "user-joined", "user-invited"]
    );
    let me = t.get("/api/user/current", &dave_auth).await.json();
    assert_eq!(me["first_login"], joined["timestamp"]);
    assert_eq!(me["last_login"], events[0]["timestamp"]);
    assert_ne!(me["last_login"], me["first_login"]);
});
