//! people-and-groups.md §1 (setup) acceptance scenarios 1–7.
use serde_json::{json, Value};

use super::{setup_body, sid_of, ALREADY_SET_UP};
use crate::both;
use crate::support::{Auth, PASSWORD};
use crate::users::{keys, sorted};

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
    assert_eq!(
        cookie,
        format!("metabase.SESSION={sid}; Path=/; HttpOnly; SameSite=Lax")
    );
    let me = t
        .get("/api/user/current", &Auth::Cookie(sid.clone()))
        .await
        .json();
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
    let p = t
        .get("/api/session/properties", &Auth::Session(sid.clone()))
        .await
        .json();
    assert_eq!(p["admin-email"], "ada@example.com");
    // Setup records no audit event.
    assert!(t.audit(&Auth::Session(sid), "").await.is_empty());
});

both!(s03_wrong_setup_token, |t| async move {
    let token = t.setup_token().await;
    let r = t
        .post(
            "/api/setup",
            &Auth::None,
            setup_body("not-the-token", "ada@example.com"),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"token": "Token does not match the setup token."}})
    );
    let r = t
        .post(
            "/api/setup",
            &Auth::None,
            setup_body(&token.to_uppercase(), "ada@example.com"),
        )
        .await;
    r.assert(400);
    let p = t.get("/api/session/properties", &Auth::None).await.json();
    assert_eq!(p["has-user-setup"], false);
    assert_eq!(p["setup-token"], token.as_str());
    let r = t
        .post(
            "/api/session",
            &Auth::None,
            json!({"username": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    r.assert(401);
});

both!(s04_setup_validation_nests, |t| async move {
    let token = t.setup_token().await;
    let mut body = setup_body(&token, "not-an-email");
    let r = t.post("/api/setup", &Auth::None, body.clone()).await;
    r.assert(400);
    let v = r.json();
    assert_eq!(
        v["errors"],
        json!({"user": {"email": "value must be a valid email address."}})
    );
    assert!(!v["specific-errors"]["user"]["email"]
        .as_array()
        .unwrap()
        .is_empty());
    body["user"]["email"] = json!("ada@example.com");
    body["user"]["password"] = json!("abc");
    let r = t.post("/api/setup", &Auth::None, body.clone()).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"user": {"password": "password is too common."}})
    );
    body["user"]["password"] = json!(PASSWORD);
    body["prefs"]["site_name"] = json!("  ");
    let r = t.post("/api/setup", &Auth::None, body).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"prefs": {"site_name": "value must be a non-blank string."}})
    );
    // Wrong types are validation errors too, reported together.
    let r = t
        .post(
            "/api/setup",
            &Auth::None,
            json!({"token": 5, "user": "x", "prefs": []}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        keys(&r.json()["errors"]),
        sorted(&["token", "user", "prefs"])
    );
    // Validation comes before the token check.
    let r = t
        .post("/api/setup", &Auth::None, setup_body("wrong", "bad"))
        .await;
    assert_eq!(
        r.json()["errors"],
        json!({"user": {"email": "value must be a valid email address."}})
    );
    assert_eq!(
        t.get("/api/session/properties", &Auth::None).await.json()["has-user-setup"],
        false
    );
});

both!(s05_setup_after_setup_is_403, |t| async move {
    let token = t.setup_token().await;
    t.setup().await;
    t.post("/api/setup", &Auth::None, json!({}))
        .await
        .assert_text(403, ALREADY_SET_UP);
    t.post(
        "/api/setup",
        &Auth::None,
        setup_body(&token, "eve@example.com"),
    )
    .await
    .assert_text(403, ALREADY_SET_UP);
    t.request("POST", "/api/setup", &Auth::None, None)
        .await
        .assert_text(403, ALREADY_SET_UP);
});

both!(s06_concurrent_setups_one_wins, |t| async move {
    let token = t.setup_token().await;
    let a = setup_body(&token, "ada@example.com");
    let b = setup_body(&token, "eve@example.com");
    let (ra, rb) = tokio::join!(
        t.post("/api/setup", &Auth::None, a),
        t.post("/api/setup", &Auth::None, b)
    );
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
    let me = t
        .get("/api/user/current", &Auth::Session(sid_of(&r)))
        .await
        .json();
    assert_eq!(me["common_name"], "ada@example.com");
    assert_eq!(
        (me["first_name"].clone(), me["last_name"].clone()),
        (Value::Null, Value::Null)
    );
});
