//! README.md §4.2, 4.3 and 4.6: request bodies, response content types, and bad input that
//! must never cause a 500.
use serde_json::json;

use super::{raw, session};
use crate::both;
use crate::support::PASSWORD;
use crate::users::world;

both!(readme_4_2_request_bodies, |t| async move {
    let admin = t.setup().await;
    let sid = session(&admin);
    let auth: Vec<(&str, &str)> = vec![("X-Metabase-Session", sid.as_str())];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut h = auth.clone();
        h.extend_from_slice(extra);
        h
    };
    let json_ct = with(&[("Content-Type", "application/json")]);
    let r = raw(
        &t,
        "POST",
        "/api/user",
        &json_ct,
        Some(b"{\"email\": ".to_vec()),
    )
    .await;
    r.assert_text(400, "Malformed JSON in request body.");
    let r = raw(&t, "POST", "/api/user", &json_ct, Some(b"[1, 2]".to_vec())).await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"body": "Value must be a map."}, "specific-errors": {"body": ["Value must be a map."]}})
    );
    for body in ["\"x\"", "5", "null"] {
        let r = raw(
            &t,
            "POST",
            "/api/permissions/group",
            &json_ct,
            Some(body.as_bytes().to_vec()),
        )
        .await;
        assert_eq!(
            r.json()["errors"],
            json!({"body": "Value must be a map."}),
            "{body}"
        );
    }
    // Parameters of the media type are fine; so is a missing Content-Type.
    let ct_params = with(&[("Content-Type", "application/json; charset=utf-8")]);
    let r = raw(
        &t,
        "POST",
        "/api/permissions/group",
        &ct_params,
        Some(br#"{"name":"G1"}"#.to_vec()),
    )
    .await;
    r.assert(200);
    let r = raw(
        &t,
        "POST",
        "/api/permissions/group",
        &auth,
        Some(br#"{"name":"G2"}"#.to_vec()),
    )
    .await;
    r.assert(200);
    // Any other Content-Type: the endpoint sees an empty body.
    let text = [("Content-Type", "text/plain")];
    let body = json!({"username": "ada@example.com", "password": PASSWORD})
        .to_string()
        .into_bytes();
    let r = raw(&t, "POST", "/api/session", &text, Some(body.clone())).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"username": "value must be a non-blank string.", "password": "value must be a non-blank string."})
    );
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    raw(&t, "POST", "/api/session", &form, Some(body.clone()))
        .await
        .assert(400);
    raw(
        &t,
        "POST",
        "/api/session",
        &[("Content-Type", "application/json")],
        Some(body),
    )
    .await
    .assert(200);
    // Unknown fields are ignored.
    t.post(
        "/api/permissions/group",
        &admin,
        json!({"name": "G3", "color": "red"}),
    )
    .await
    .assert(200);
    // Bodies over 1 MiB are refused.
    let big = format!("{{\"name\":\"{}\"}}", "x".repeat(1024 * 1024));
    let r = raw(
        &t,
        "POST",
        "/api/permissions/group",
        &json_ct,
        Some(big.into_bytes()),
    )
    .await;
    r.assert_text(413, "Request body too large.");
    // Just under the limit is parsed (and refused by validation, not by size).
    let fits = format!("{{\"name\":\"{}\"}}", "x".repeat(1024 * 1024 - 20));
    let r = raw(
        &t,
        "POST",
        "/api/permissions/group",
        &json_ct,
        Some(fits.into_bytes()),
    )
    .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"name": "value must be a string of at most 255 characters."})
    );
});

both!(readme_4_3_content_types, |t| async move {
    let w = world(&t).await;
    for path in [
        "/api/user",
        "/api/user/current",
        "/api/session/properties",
        "/api/permissions/group",
    ] {
        let r = t.get(path, &w.admin).await;
        assert_eq!(
            r.content_type(),
            "application/json; charset=utf-8",
            "{path}"
        );
    }
    let r = t.get("/api/user", &w.alice).await;
    assert_eq!(r.content_type(), "text/plain; charset=utf-8");
    let r = t.get("/api/nope", &w.alice).await;
    assert_eq!(r.content_type(), "text/plain; charset=utf-8");
    // Plain-text bodies are the bare message, not a JSON string.
    assert_eq!(r.text, "Not found.");
    let r = t.post("/api/user", &w.admin, json!({})).await;
    assert!(r.content_type().starts_with("application/json"));
});

both!(readme_4_6_bad_input_is_never_a_500, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    let alice = format!("/api/user/{}", w.alice_id);
    let huge = json!(99999999999999999999u128.to_string().parse::<f64>().unwrap());
    let cases: Vec<(&str, String, serde_json::Value)> = vec![
        (
            "POST",
            "/api/user".into(),
            json!({"email": "a\u{0}b@example.com"}),
        ),
        (
            "POST",
            "/api/user".into(),
            json!({"email": "ab@example.com", "first_name": "x\u{0}y"}),
        ),
        (
            "POST",
            "/api/user".into(),
            json!({"email": ["x"], "first_name": 5, "last_name": {}, "locale": 7}),
        ),
        (
            "POST",
            "/api/user".into(),
            json!({"email": "ab@example.com", "user_group_memberships": "x"}),
        ),
        (
            "POST",
            "/api/user".into(),
            json!({"email": "ab@example.com", "user_group_memberships": [{"id": huge}]}),
        ),
        (
            "POST",
            "/api/user".into(),
            json!({"email": "ab@example.com", "group_ids": [-1]}),
        ),
        (
            "POST",
            "/api/user".into(),
            json!({"email": "ab@example.com", "login_attributes": [1]}),
        ),
        (
            "POST",
            "/api/user".into(),
            json!({"email": "ab@example.com", "login_attributes": {"a": {"b": 1}}}),
        ),
        (
            "POST",
            "/api/user".into(),
            json!({"email": "ab@example.com", "password": 123456789}),
        ),
        ("PUT", alice.clone(), json!({"email": "q\u{0}@example.com"})),
        ("PUT", alice.clone(), json!({"last_name": "q\u{0}"})),
        ("PUT", alice.clone(), json!({"is_superuser": "yes"})),
        (
            "PUT",
            alice.clone(),
            json!({"user_group_memberships": [{"id": 1}, {"nope": 2}]}),
        ),
        (
            "PUT",
            format!("{alice}/password"),
            json!({"password": ["x"]}),
        ),
        (
            "POST",
            "/api/permissions/group".into(),
            json!({"name": "g\u{0}"}),
        ),
        (
            "POST",
            "/api/permissions/group".into(),
            json!({"name": ["G"]}),
        ),
        (
            "PUT",
            format!("/api/permissions/group/{g1}"),
            json!({"name": "g\u{0}"}),
        ),
        (
            "POST",
            "/api/permissions/membership".into(),
            json!({"group_id": huge, "user_id": 1}),
        ),
        (
            "POST",
            "/api/permissions/membership".into(),
            json!({"group_id": "1", "user_id": [1]}),
        ),
        (
            "PUT",
            "/api/permissions/membership/1".into(),
            json!({"is_group_manager": 1}),
        ),
        (
            "POST",
            "/api/session".into(),
            json!({"username": "a\u{0}@example.com", "password": "x"}),
        ),
        (
            "POST",
            "/api/session".into(),
            json!({"username": 5, "password": true}),
        ),
        (
            "POST",
            "/api/session/password-check".into(),
            json!({"password": {"a": 1}}),
        ),
    ];
    for (method, path, body) in cases {
        let r = t.request(method, &path, &w.admin, Some(body.clone())).await;
        assert_eq!(r.status, 400, "{method} {path} {body}: {}", r.text);
    }
    for q in [
        "query=%00",
        "query=%FF",
        "status=%00",
        "group_id=99999999999999999999",
        "limit=1e3",
        "offset=%00",
    ] {
        let r = t.get(&format!("/api/user?{q}"), &w.admin).await;
        assert!(
            r.status == 200 || r.status == 400,
            "?{q}: {} {}",
            r.status,
            r.text
        );
    }
    let r = t.get("/api/user?query=%00", &w.admin).await;
    assert_eq!((r.status, r.json()["total"].clone()), (200, json!(0)));
    // Names with NUL characters are refused with a message that says so.
    let r = t
        .post(
            "/api/permissions/group",
            &w.admin,
            json!({"name": "g\u{0}"}),
        )
        .await;
    assert_eq!(
        r.json()["errors"],
        json!({"name": "value must not contain NUL characters."})
    );
    // A password may contain one, and works at login.
    let r = t
        .post(
            "/api/user",
            &w.admin,
            json!({"email": "nul@example.com", "password": "abc\u{0}defg1"}),
        )
        .await;
    r.assert(200);
    t.login("nul@example.com", "abc\u{0}defg1").await;
});
