//! people-and-groups.md §1–2 (setup, sessions) acceptance scenarios.
use serde_json::json;

use crate::both;
use crate::support::{Auth, PASSWORD};

both!(s01_properties_before_setup, |t| async move {
    let p = t.get("/api/session/properties", &Auth::None).await.json();
    assert!(uuid::Uuid::parse_str(p["setup-token"].as_str().unwrap()).is_ok());
    assert_eq!(p["has-user-setup"], false);
    assert_eq!(p["version"]["tag"], "v0.58.0");
    assert!(p["ferrobase"]["version"].is_string());
    assert_eq!(p["password-complexity"], json!({"total": 6, "digit": 1}));
    assert!(p.get("admin-email").is_none());
});

both!(s02_setup_creates_first_admin, |t| async move {
    let token = t.setup_token().await;
    let r = t
        .post(
            "/api/setup",
            &Auth::None,
            json!({"token": token, "prefs": {"site_name": "Acme"},
                   "user": {"email": "ada@example.com", "password": PASSWORD}}),
        )
        .await;
    r.assert(200);
    let cookie = r.header("set-cookie").unwrap();
    assert!(cookie.starts_with("metabase.SESSION="), "{cookie}");
    assert!(!cookie.contains("Max-Age"), "{cookie}");
    let sid = r.json()["id"].as_str().unwrap().to_string();
    let me = t.get("/api/user/current", &Auth::Cookie(sid)).await.json();
    assert_eq!(me["id"], 1);
    assert_eq!(me["is_superuser"], true);
    assert_eq!(me["is_installer"], true);
    assert_eq!(me["group_ids"], json!([1, 2]));
    let p = t.get("/api/session/properties", &Auth::None).await.json();
    assert_eq!(p["has-user-setup"], true);
    assert_eq!(p["setup-token"], serde_json::Value::Null);
    assert_eq!(p["site-name"], "Acme");
});
