//! README.md §4 conventions, as they apply to the setup, session, user, group and membership
//! endpoints: trailing slashes, unknown routes and methods, numeric path parameters, request
//! ids, and credentials in the URL. Bodies, content types and bad input are in `bodies`.
use serde_json::json;

use crate::both;
use crate::support::{Auth, Resp, TestApp, PASSWORD};
use crate::users::{world, FORBIDDEN};

mod bodies;

/// A request with raw headers and an optional raw body.
pub async fn raw(
    t: &TestApp,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Resp {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = t.client.request(method, format!("{}{}", t.base, path));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    if let Some(b) = body {
        req = req.body(b);
    }
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    Resp {
        status,
        headers,
        text,
    }
}

pub fn session(auth: &Auth) -> String {
    match auth {
        Auth::Session(s) => s.clone(),
        _ => panic!("not a session"),
    }
}

both!(
    readme_4_1_reads_are_the_same_with_a_trailing_slash,
    |t| async move {
        let w = world(&t).await;
        let g1 = t.group(&w.admin, "G1").await;
        for path in [
            "/api/health".to_string(),
            "/api/session/properties".into(),
            "/api/user".into(),
            "/api/user?status=all&limit=1".into(),
            "/api/user/current".into(),
            format!("/api/user/{}", w.alice_id),
            "/api/user/999999".into(),
            "/api/permissions/group".into(),
            format!("/api/permissions/group/{g1}"),
            "/api/permissions/membership".into(),
            "/api/audit-log".into(),
        ] {
            let plain = t.get(&path, &w.admin).await;
            let slashed_path = match path.split_once('?') {
                Some((p, q)) => format!("{p}/?{q}"),
                None => format!("{path}/"),
            };
            let slashed = t.get(&slashed_path, &w.admin).await;
            assert!(
                plain.status == 200 || path.ends_with("999999"),
                "{path}: {}",
                plain.status
            );
            assert_eq!(
                (slashed.status, &slashed.text),
                (plain.status, &plain.text),
                "{slashed_path}"
            );
            assert!(slashed.header("location").is_none(), "no redirect");
        }
        // Without credentials the same answers come back with or without the slash.
        t.get("/api/user/", &Auth::None)
            .await
            .assert_text(401, "Unauthenticated");
        t.get("/api/user/current/", &w.alice).await.assert(200);
        t.get("/api/permissions/group/", &w.alice)
            .await
            .assert_text(403, FORBIDDEN);
    }
);

both!(readme_4_1_writes_accept_a_trailing_slash, |t| async move {
    let token = t.setup_token().await;
    let r = t
        .post("/api/setup/", &Auth::None,
              json!({"token": token, "prefs": {"site_name": "Acme"}, "user": {"email": "ada@example.com", "password": PASSWORD}}))
        .await;
    r.assert(200);
    let r = t
        .post(
            "/api/session/",
            &Auth::None,
            json!({"username": "ada@example.com", "password": PASSWORD}),
        )
        .await;
    r.assert(200);
    let admin = Auth::Session(r.json()["id"].as_str().unwrap().to_string());
    t.post(
        "/api/session/password-check/",
        &Auth::None,
        json!({"password": PASSWORD}),
    )
    .await
    .assert(200);
    let r = t
        .post(
            "/api/user/",
            &admin,
            json!({"email": "alice@example.com", "password": PASSWORD}),
        )
        .await;
    r.assert(200);
    let alice = r.json()["id"].as_i64().unwrap();
    t.put(
        &format!("/api/user/{alice}/"),
        &admin,
        json!({"first_name": "Alice"}),
    )
    .await
    .assert(200);
    t.put(
        &format!("/api/user/{alice}/modal/qbnewb/"),
        &admin,
        json!({}),
    )
    .await
    .assert(200);
    t.put(
        &format!("/api/user/{alice}/password/"),
        &admin,
        json!({"password": "green8-otter-comet"}),
    )
    .await
    .assert(204);
    t.delete(&format!("/api/user/{alice}/"), &admin)
        .await
        .assert(200);
    t.put(&format!("/api/user/{alice}/reactivate/"), &admin, json!({}))
        .await
        .assert(200);
    let r = t
        .post("/api/permissions/group/", &admin, json!({"name": "G1"}))
        .await;
    r.assert(200);
    let g1 = r.json()["id"].as_i64().unwrap();
    t.put(
        &format!("/api/permissions/group/{g1}/"),
        &admin,
        json!({"name": "G2"}),
    )
    .await
    .assert(200);
    let r = t
        .post(
            "/api/permissions/membership/",
            &admin,
            json!({"group_id": g1, "user_id": alice}),
        )
        .await;
    r.assert(200);
    let mid = r.json()[0]["membership_id"].as_i64().unwrap();
    t.put(
        &format!("/api/permissions/membership/{mid}/"),
        &admin,
        json!({"is_group_manager": true}),
    )
    .await
    .assert(402);
    t.delete(&format!("/api/permissions/membership/{mid}/"), &admin)
        .await
        .assert(204);
    t.put(
        &format!("/api/permissions/membership/{g1}/clear/"),
        &admin,
        json!({}),
    )
    .await
    .assert(204);
    t.delete(&format!("/api/permissions/group/{g1}/"), &admin)
        .await
        .assert(204);
    t.delete("/api/session/", &admin).await.assert(204);
});

both!(
    readme_4_1_unknown_routes_and_methods_are_404,
    |t| async move {
        let w = world(&t).await;
        let cases: &[(&str, &str)] = &[
            ("GET", "/api/nope"),
            ("GET", "/api/User"),
            ("GET", "/api/user/1/nope"),
            ("PATCH", "/api/user"),
            ("DELETE", "/api/user"),
            ("PUT", "/api/user"),
            ("POST", "/api/user/current"),
            ("POST", "/api/user/1"),
            ("GET", "/api/user/1/password"),
            ("DELETE", "/api/session/properties"),
            ("GET", "/api/session"),
            ("GET", "/api/setup"),
            ("PATCH", "/api/permissions/group/1"),
            ("POST", "/api/permissions/membership/1"),
            ("GET", "/api/permissions/membership/1/clear"),
            // §12: endpoints ferrobase does not provide.
            ("POST", "/api/session/forgot_password"),
            ("POST", "/api/session/reset_password"),
            ("GET", "/api/session/password_reset_token_valid"),
            ("POST", "/api/session/google_auth"),
            ("GET", "/api/user/recipients"),
            ("POST", "/api/user/1/send_invite"),
            ("PUT", "/api/user/1/send_invite"),
            ("GET", "/api/login-history/current"),
            ("PUT", "/api/user/1/modal/other"),
        ];
        for (method, path) in cases {
            for auth in [&Auth::None, &w.alice, &w.admin] {
                let r = t.request(method, path, auth, Some(json!({}))).await;
                assert_eq!(
                    (r.status, r.text.as_str()),
                    (404, "Not found."),
                    "{method} {path} {auth:?}"
                );
                assert!(
                    r.content_type().starts_with("text/plain"),
                    "{method} {path}"
                );
            }
        }
    }
);

both!(readme_4_1_numeric_path_parameters, |t| async move {
    let w = world(&t).await;
    for auth in [&Auth::None, &w.alice, &w.admin] {
        for path in [
            "/api/user/abc",
            "/api/user/%FF",
            "/api/user/%201",
            "/api/user/-1",
            "/api/user/1.0",
            "/api/user/99999999999999999999",
            "/api/permissions/group/abc",
            "/api/permissions/group/99999999999999999999",
        ] {
            t.get(path, auth).await.assert_text(404, "Not found.");
        }
        t.put("/api/permissions/membership/x/clear", auth, json!({}))
            .await
            .assert_text(404, "Not found.");
        t.delete("/api/permissions/membership/1e3", auth)
            .await
            .assert_text(404, "Not found.");
    }
    // 0 is a validation error keyed by the parameter, after authentication.
    t.get("/api/user/0", &Auth::None)
        .await
        .assert_text(401, "Unauthenticated");
    for auth in [&w.admin, &w.alice] {
        let r = t.get("/api/user/0", auth).await;
        r.assert(400);
        assert_eq!(
            r.json(),
            json!({"errors": {"id": "value must be an integer greater than zero."},
                   "specific-errors": {"id": ["value must be an integer greater than zero., received: 0"]}})
        );
    }
    let r = t.delete("/api/permissions/group/0", &w.admin).await;
    assert_eq!(
        (r.status, r.json()["errors"].clone()),
        (
            400,
            json!({"id": "value must be an integer greater than zero."})
        )
    );
    // 9223372036854775807 fits: it is just unknown.
    t.get("/api/user/9223372036854775807", &w.admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/user/9223372036854775808", &w.admin)
        .await
        .assert_text(404, "Not found.");
});

both!(readme_request_ids_are_echoed, |t| async move {
    let r = raw(
        &t,
        "GET",
        "/api/session/properties",
        &[("x-request-id", "trace-abc-123")],
        None,
    )
    .await;
    r.assert(200);
    assert_eq!(r.header("x-request-id").as_deref(), Some("trace-abc-123"));
    let r = raw(
        &t,
        "GET",
        "/api/nope",
        &[("X-Request-Id", "trace-404")],
        None,
    )
    .await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("trace-404"));
    let r = t.get("/api/session/properties", &Auth::None).await;
    assert!(r.header("x-request-id").is_some_and(|v| !v.is_empty()));
    let other = t.get("/api/session/properties", &Auth::None).await;
    assert_ne!(r.header("x-request-id"), other.header("x-request-id"));
});

both!(
    readme_5_1_credentials_in_the_url_are_ignored,
    |t| async move {
        let admin = t.setup().await;
        let sid = session(&admin);
        for q in [
            format!("session_id={sid}"),
            format!("metabase.SESSION={sid}"),
            format!("X-Metabase-Session={sid}"),
            format!("api_key={sid}"),
        ] {
            t.get(&format!("/api/user/current?{q}"), &Auth::None)
                .await
                .assert_text(401, "Unauthenticated");
        }
        // Header names are case-insensitive.
        let lower = Auth::Headers(vec![("x-metabase-session".into(), sid.clone())]);
        t.get("/api/user/current", &lower).await.assert(200);
        let r = t
            .get("/api/session/properties?session_id=x", &Auth::None)
            .await;
        r.assert(200);
        assert!(r.json().get("admin-email").is_none());
    }
);
