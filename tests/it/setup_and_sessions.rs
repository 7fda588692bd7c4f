//! people-and-groups.md §1–2 (setup, sessions) acceptance scenarios 1–22. Login throttling and
//! session expiry (15–18, 21) are in `throttle`; passwords (23–27) in `passwords`.
use serde_json::{json, Value};

use crate::both;
use crate::support::{Auth, TestApp, PASSWORD};
use crate::users::{keys, sorted, world};

mod passwords;
mod throttle;

pub const DID_NOT_MATCH: &str = "did not match stored password";
const ALREADY_SET_UP: &str =
    "The /api/setup route can only be used to create the first user, however a user currently exists.";

pub async fn login(t: &TestApp, auth: &Auth, body: Value) -> crate::support::Resp {
    t.post("/api/session", auth, body).await
}

fn setup_body(token: &str, email: &str) -> Value {
    json!({"token": token, "prefs": {"site_name": "Acme"},
           "user": {"email": email, "password": PASSWORD, "first_name": "Ada", "last_name": "Lovelace"}})
}

fn sid_of(r: &crate::support::Resp) -> String {
    let v = r.json();
    assert_eq!(keys(&v), sorted(&["id"]), "{v}");
    let sid = v["id"].as_str().expect("id").to_string();
    assert!(uuid::Uuid::parse_str(&sid).is_ok(), "{sid}");
    assert_eq!(sid, sid.to_lowercase());
    sid
}

both!(s01_properties_before_setup, |t| async move {
    let p = t.get("/api/session/properties", &Auth::None).await.json();
    assert!(uuid::Uuid::parse_str(p["setup-token"].as_str().unwrap()).is_ok());
    assert_eq!(p["has-user-setup"], false);
    assert_eq!(p["version"]["tag"], "v0.58.0");
    assert!(p["ferrobase"]["version"].is_string());
    assert_eq!(p["password-complexity"], json!({"total": 6, "digit": 1}));
    assert_eq!(p["site-name"], "ferrobase");
    assert_eq!(p["site-locale"], "en");
    assert_eq!(p["session-cookies"], Value::Null);
    assert_eq!(p["enable-password-login"], true);
    assert_eq!(p["anon-tracking-enabled"], false);
    assert_eq!(p["available-locales"], json!([["en", "English"]]));
    assert!(p.get("admin-email").is_none());
});

both!(s02_setup_creates_first_admin, |t| async move {
    let token = t.setup_token().await;
    let r = t
        .post(
            "/api/setup",
            &Auth::None,
            json!({"token": token, "prefs": {"site_name": "Acme", "site_locale": "es-MX"},
                   "user": {"email": "Ada@Example.com", "password": PASSWORD}, "database": null, "invite": null}),
        )
        .await;
    r.assert(200);
    let cookie = r.header("set-cookie").unwrap();
    let sid = sid_of(&r);
    assert_eq!(cookie, format!("metabase.SESSION={sid}; Path=/; HttpOnly; SameSite=Lax"));
    let me = t.get("/api/user/current", &Auth::Cookie(sid.clone())).await.json();
    assert_eq!(me["id"], 1);
    assert_eq!(me["email"], "ada@example.com");
    assert_eq!(me["is_superuser"], true);
    assert_eq!(me["is_installer"], true);
    assert_eq!(me["group_ids"], json!([1, 2]));
    assert!(me["last_login"].is_string());
    assert!(me["first_login"].is_string());
    let p = t.get("/api/session/properties", &Auth::None).await.json();
    assert_eq!(p["has-user-setup"], true);
    assert_eq!(p["setup-token"], Value::Null);
    assert_eq!(p["site-name"], "Acme");
    assert_eq!(p["site-locale"], "es_MX");
    assert!(p.get("admin-email").is_none());
    let p = t.get("/api/session/properties", &Auth::Session(sid.clone())).await.json();
    assert_eq!(p["admin-email"], "ada@example.com");
    // Setup records no audit event.
    assert!(t.audit(&Auth::Session(sid), "").await.is_empty());
});

both!(s03_wrong_setup_token, |t| async move {
    let token = t.setup_token().await;
    let r = t.post("/api/setup", &Auth::None, setup_body("not-the-token", "ada@example.com")).await;
    r.assert(400);
    assert_eq!(r.json(), json!({"errors": {"token": "Token does not match the setup token."}}));
    let r = t.post("/api/setup", &Auth::None, setup_body(&token.to_uppercase(), "ada@example.com")).await;
    r.assert(400);
    let p = t.get("/api/session/properties", &Auth::None).await.json();
    assert_eq!(p["has-user-setup"], false);
    assert_eq!(p["setup-token"], token.as_str());
    let r = t
        .post("/api/session", &Auth::None, json!({"username": "ada@example.com", "password": PASSWORD}))
        .await;
    r.assert(401);
});

both!(s04_setup_validation_nests, |t| async move {
    let token = t.setup_token().await;
    let mut body = setup_body(&token, "not-an-email");
    let r = t.post("/api/setup", &Auth::None, body.clone()).await;
    r.assert(400);
    let v = r.json();
    assert_eq!(v["errors"], json!({"user": {"email": "value must be a valid email address."}}));
    assert!(!v["specific-errors"]["user"]["email"].as_array().unwrap().is_empty());
    body["user"]["email"] = json!("ada@example.com");
    body["user"]["password"] = json!("abc");
    let r = t.post("/api/setup", &Auth::None, body.clone()).await;
    r.assert(400);
    assert_eq!(r.json()["errors"], json!({"user": {"password": "password is too common."}}));
    body["user"]["password"] = json!(PASSWORD);
    body["prefs"]["site_name"] = json!("  ");
    let r = t.post("/api/setup", &Auth::None, body).await;
    r.assert(400);
    assert_eq!(r.json()["errors"], json!({"prefs": {"site_name": "value must be a non-blank string."}}));
    // Validation comes before the token check.
    let r = t.post("/api/setup", &Auth::None, setup_body("wrong", "bad")).await;
    assert_eq!(r.json()["errors"], json!({"user": {"email": "value must be a valid email address."}}));
    assert_eq!(t.get("/api/session/properties", &Auth::None).await.json()["has-user-setup"], false);
});

both!(s05_setup_after_setup_is_403, |t| async move {
    let token = t.setup_token().await;
    t.setup().await;
    t.post("/api/setup", &Auth::None, json!({})).await.assert_text(403, ALREADY_SET_UP);
    t.post("/api/setup", &Auth::None, setup_body(&token, "eve@example.com"))
        .await
        .assert_text(403, ALREADY_SET_UP);
    t.request("POST", "/api/setup", &Auth::None, None).await.assert_text(403, ALREADY_SET_UP);
});

both!(s06_concurrent_setups_one_wins, |t| async move {
    let token = t.setup_token().await;
    let a = setup_body(&token, "ada@example.com");
    let b = setup_body(&token, "eve@example.com");
    let (ra, rb) = tokio::join!(t.post("/api/setup", &Auth::None, a), t.post("/api/setup", &Auth::None, b));
    let mut statuses = vec![ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, vec![200, 403], "{} / {}", ra.text, rb.text);
    let winner = if ra.status == 200 { &ra } else { &rb };
    let loser = if ra.status == 200 { &rb } else { &ra };
    loser.assert_text(403, ALREADY_SET_UP);
    let admin = Auth::Session(sid_of(winner));
    let v = t.get("/api/user?status=all", &admin).await.json();
    assert_eq!(v["total"], 1);
    assert_eq!(v["data"][0]["id"], 1);
});

both!(s07_setup_with_null_names, |t| async move {
    let token = t.setup_token().await;
    let mut body = setup_body(&token, "ada@example.com");
    body["user"]["first_name"] = Value::Null;
    body["user"]["last_name"] = Value::Null;
    let r = t.post("/api/setup", &Auth::None, body).await;
    r.assert(200);
    let me = t.get("/api/user/current", &Auth::Session(sid_of(&r))).await.json();
    assert_eq!(me["common_name"], "ada@example.com");
    assert_eq!((me["first_name"].clone(), me["last_name"].clone()), (Value::Null, Value::Null));
});

both!(s08_login_email_case_insensitive, |t| async move {
    t.setup().await;
    let r = login(&t, &Auth::None, json!({"username": "ADA@EXAMPLE.COM", "password": PASSWORD})).await;
    r.assert(200);
    assert!(r.content_type().starts_with("application/json"));
    let sid = sid_of(&r);
    assert_eq!(t.get("/api/user/current", &Auth::Session(sid)).await.json()["id"], 1);
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
            assert!(c.contains("Path=/") && c.contains("HttpOnly") && c.contains("SameSite=Lax"), "{c}");
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
        let r = login(&t, &Auth::None, json!({"username": "ada@example.com", "password": PASSWORD, "remember": true}))
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
    assert_eq!(keys(&v["specific-errors"]), sorted(&["username", "password"]));
    let r = login(&t, &Auth::None, json!({"username": "ada@example.com"})).await;
    r.assert(400);
    assert_eq!(r.json()["errors"], json!({"password": "value must be a non-blank string."}));
    let r = login(&t, &Auth::None, json!({"username": " ", "password": PASSWORD})).await;
    assert_eq!(r.json()["errors"], json!({"username": "value must be a non-blank string."}));
    let r = login(&t, &Auth::None, json!({"username": "ada@example.com", "password": PASSWORD, "remember": "yes"})).await;
    r.assert(400);
    assert_eq!(r.json()["errors"], json!({"remember": "value must be a boolean."}));
    login(&t, &Auth::None, json!({"username": "ada@example.com", "password": PASSWORD, "remember": null}))
        .await
        .assert(200);
});

both!(s12_wrong_password_and_unknown_email_look_alike, |t| async move {
    t.setup().await;
    let wrong = login(&t, &Auth::None, json!({"username": "ada@example.com", "password": "wrong-pass1"})).await;
    let unknown = login(&t, &Auth::None, json!({"username": "nobody@example.com", "password": "wrong-pass1"})).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json(), json!({"errors": {"password": DID_NOT_MATCH}}));
    assert_eq!((unknown.status, unknown.text.as_str()), (wrong.status, wrong.text.as_str()));
    // A person without a password cannot log in either.
    let admin = t.login("ada@example.com", PASSWORD).await;
    t.post("/api/user", &admin, json!({"email": "np@example.com"})).await.assert(200);
    let r = login(&t, &Auth::None, json!({"username": "np@example.com", "password": PASSWORD})).await;
    assert_eq!((r.status, r.text.as_str()), (wrong.status, wrong.text.as_str()));
});

both!(s13_deactivated_person_cannot_log_in, |t| async move {
    let w = world(&t).await;
    t.delete(&format!("/api/user/{}", w.alice_id), &w.admin).await.assert(200);
    let r = login(&t, &Auth::None, json!({"username": "alice@example.com", "password": PASSWORD})).await;
    assert_eq!((r.status, r.json()), (401, json!({"errors": {"_error": "Your account is disabled."}})));
    let r = login(&t, &Auth::None, json!({"username": "alice@example.com", "password": "wrong-pass1"})).await;
    assert_eq!((r.status, r.json()), (401, json!({"errors": {"password": DID_NOT_MATCH}})));
});

both!(s14_session_header_and_cookie, |t| async move {
    let admin = t.setup().await;
    let Auth::Session(sid) = admin else { unreachable!() };
    t.get("/api/user/current", &Auth::Session(sid.clone())).await.assert(200);
    t.get("/api/user/current", &Auth::Cookie(sid.clone())).await.assert(200);
    // Session ids parse case-insensitively.
    t.get("/api/user/current", &Auth::Session(sid.to_uppercase())).await.assert(200);
    t.get("/api/user/current", &Auth::Session("not-a-uuid".into()))
        .await
        .assert_text(401, "Unauthenticated");
    t.get("/api/user/current", &Auth::Session(uuid::Uuid::new_v4().to_string()))
        .await
        .assert_text(401, "Unauthenticated");
    // An invalid cookie falls through to a valid header.
    let both = Auth::Headers(vec![
        ("Cookie".into(), format!("metabase.SESSION={}", uuid::Uuid::new_v4())),
        ("X-Metabase-Session".into(), sid.clone()),
    ]);
    t.get("/api/user/current", &both).await.assert(200);
    // Cookie names are case-sensitive.
    let wrong = Auth::Headers(vec![("Cookie".into(), format!("METABASE.SESSION={sid}"))]);
    t.get("/api/user/current", &wrong).await.assert_text(401, "Unauthenticated");
});

both!(s19_logout, |t| async move {
    let admin = t.setup().await;
    t.delete("/api/session", &Auth::None).await.assert_text(404, "Not found.");
    t.delete("/api/session", &Auth::Session(uuid::Uuid::new_v4().to_string()))
        .await
        .assert_text(404, "Not found.");
    let Auth::Session(sid) = admin else { unreachable!() };
    let r = t.delete("/api/session", &Auth::Cookie(sid.clone())).await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    assert_eq!(
        r.header("set-cookie").as_deref(),
        Some("metabase.SESSION=; Path=/; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; HttpOnly; SameSite=Lax")
    );
    t.get("/api/user/current", &Auth::Cookie(sid.clone())).await.assert_text(401, "Unauthenticated");
    t.delete("/api/session", &Auth::Cookie(sid)).await.assert_text(404, "Not found.");
});

both!(s20_logout_ends_only_that_session, |t| async move {
    let w = world(&t).await;
    let second = t.login("alice@example.com", PASSWORD).await;
    let r = t.delete("/api/session", &w.alice).await;
    r.assert(204);
    t.get("/api/user/current", &w.alice).await.assert_text(401, "Unauthenticated");
    let me = t.get("/api/user/current", &second).await;
    me.assert(200);
    assert_eq!(me.json()["id"], w.alice_id);
});

both!(s22_first_login_records_user_joined, |t| async move {
    let admin = t.setup().await;
    let r = t
        .post("/api/user", &admin, json!({"email": "dave@example.com", "first_name": "Dave", "password": PASSWORD}))
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
    assert_eq!(topics(&events), vec!["user-login", "user-joined", "user-invited"]);
    let joined = events.iter().find(|e| e["topic"] == "user-joined").unwrap();
    assert_eq!((joined["user_id"].clone(), joined["details"].clone()), (json!(dave), json!({})));
    let me = t.get("/api/user/current", &dave_auth).await.json();
    assert!(me["last_login"].is_string());
    assert_eq!(me["first_login"], joined["timestamp"]);
    assert_eq!(me["last_login"], joined["timestamp"]);
    t.login("dave@example.com", PASSWORD).await;
    let events = t.audit(&admin, "model=User").await;
    assert_eq!(topics(&events), vec!["user-login", "user-login", "user-joined", "user-invited"]);
    let me = t.get("/api/user/current", &dave_auth).await.json();
    assert_eq!(me["first_login"], joined["timestamp"]);
    assert_eq!(me["last_login"], events[0]["timestamp"]);
    assert_ne!(me["last_login"], me["first_login"]);
});
