//! people-and-groups.md §4.5 (`POST /api/user`) acceptance scenarios 38–45.
use serde_json::{json, Value};

use super::{
    keys, membership_ids, people_total, sorted, world, ALL_USERS_TEXT, EMAIL_MSG, FORBIDDEN,
    FULL_VIEW,
};
use crate::both;
use crate::support::{Auth, PASSWORD};

both!(s38_admin_creates_a_person, |t| async move {
    let w = world(&t).await;
    let r = t
        .post(
            "/api/user",
            &w.admin,
            json!({"email": "Carol@Example.com", "first_name": "Carol", "last_name": "C"}),
        )
        .await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["email"], "carol@example.com");
    assert_eq!(v["is_active"], true);
    assert_eq!(v["is_superuser"], false);
    assert_eq!(v["is_qbnewb"], true);
    assert_eq!(v["last_login"], Value::Null);
    assert_eq!(v["locale"], Value::Null);
    assert_eq!(v["common_name"], "Carol C");
    assert_eq!(v["user_group_memberships"], json!([{"id": 1}]));
    let mut want: Vec<&str> = FULL_VIEW.to_vec();
    want.push("user_group_memberships");
    assert_eq!(keys(&v), sorted(&want));
    // Without a password the person cannot log in.
    let r = t
        .post(
            "/api/session",
            &Auth::None,
            json!({"username": "carol@example.com", "password": PASSWORD}),
        )
        .await;
    r.assert(401);
});

both!(s39_non_admin_cannot_create, |t| async move {
    let w = world(&t).await;
    t.post("/api/user", &w.alice, json!({"email": "x@example.com"}))
        .await
        .assert_text(403, FORBIDDEN);
    // Validation comes before the permission check.
    let r = t
        .post("/api/user", &w.alice, json!({"email": "nope"}))
        .await;
    r.assert(400);
    assert_eq!(r.json()["errors"]["email"], EMAIL_MSG);
});

both!(s40_duplicate_email_on_create, |t| async move {
    let w = world(&t).await;
    t.post("/api/user", &w.admin, json!({"email": "carol@example.com"}))
        .await
        .assert(200);
    let r = t
        .post("/api/user", &w.admin, json!({"email": "CAROL@example.com"}))
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"email": "Email address already in use."}})
    );
    // Inactive people keep their email.
    t.delete(&format!("/api/user/{}", w.bob_id), &w.admin)
        .await
        .assert(200);
    let r = t
        .post("/api/user", &w.admin, json!({"email": "Bob@Example.com"}))
        .await;
    assert_eq!(
        r.json(),
        json!({"errors": {"email": "Email address already in use."}})
    );
});

both!(s41_invalid_emails, |t| async move {
    let w = world(&t).await;
    for body in [
        json!({}),
        json!({"email": null}),
        json!({"email": "x@y"}),
        json!({"email": "k@api-key.invalid"}),
        json!({"email": "K@API-KEY.INVALID"}),
        json!({"email": 5}),
    ] {
        let r = t.post("/api/user", &w.admin, body.clone()).await;
        r.assert(400);
        let v = r.json();
        assert_eq!(v["errors"], json!({"email": EMAIL_MSG}), "{body}");
        assert!(!v["specific-errors"]["email"].as_array().unwrap().is_empty());
    }
    assert_eq!(people_total(&t, &w.admin, "status=all").await, 3);
});

both!(s42_create_with_memberships, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    let r = t
        .post("/api/user", &w.admin,
              json!({"email": "c@example.com", "user_group_memberships": [{"id": 1}, {"id": g1, "is_group_manager": true}, {"id": g1}]}))
        .await;
    r.assert(200);
    assert_eq!(membership_ids(&r.json()), vec![1, g1]);
    let r = t
        .post(
            "/api/user",
            &w.admin,
            json!({"email": "d@example.com", "user_group_memberships": [{"id": g1}]}),
        )
        .await;
    r.assert_text(400, ALL_USERS_TEXT);
    let r = t
        .post(
            "/api/user",
            &w.admin,
            json!({"email": "e@example.com", "user_group_memberships": [{"id": 1}, {"id": 9999}]}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"user_group_memberships": "Group not found."}})
    );
    // Nothing was created by the refused calls.
    assert_eq!(people_total(&t, &w.admin, "status=all").await, 4);
    for email in ["d@example.com", "e@example.com"] {
        t.post("/api/user", &w.admin, json!({"email": email}))
            .await
            .assert(200);
    }
    // An empty list means All Users only.
    let r = t
        .post(
            "/api/user",
            &w.admin,
            json!({"email": "f@example.com", "user_group_memberships": []}),
        )
        .await;
    assert_eq!(membership_ids(&r.json()), vec![1]);
});

both!(
    s43_admin_rights_come_from_memberships_only,
    |t| async move {
        let w = world(&t).await;
        let r = t
            .post(
                "/api/user",
                &w.admin,
                json!({"email": "c@example.com", "user_group_memberships": [{"id": 1}, {"id": 2}]}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.json()["is_superuser"], true);
        assert_eq!(membership_ids(&r.json()), vec![1, 2]);
        let r = t
            .post(
                "/api/user",
                &w.admin,
                json!({"email": "d@example.com", "is_superuser": true}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.json()["is_superuser"], false);
        assert_eq!(membership_ids(&r.json()), vec![1]);
    }
);

both!(s44_legacy_group_ids_and_password, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    let r = t
        .post(
            "/api/user",
            &w.admin,
            json!({"email": "e@example.com", "group_ids": [1, g1], "password": PASSWORD}),
        )
        .await;
    r.assert(200);
    assert_eq!(membership_ids(&r.json()), vec![1, g1]);
    t.login("e@example.com", PASSWORD).await;
    // `user_group_memberships` wins over `group_ids`; null falls back to `group_ids`.
    let r = t
        .post("/api/user", &w.admin,
              json!({"email": "f@example.com", "group_ids": [1, g1], "user_group_memberships": [{"id": 1}]}))
        .await;
    assert_eq!(membership_ids(&r.json()), vec![1]);
    let r = t
        .post(
            "/api/user",
            &w.admin,
            json!({"email": "g@example.com", "group_ids": [1, g1], "user_group_memberships": null}),
        )
        .await;
    assert_eq!(membership_ids(&r.json()), vec![1, g1]);
    // A password that breaks the rules.
    let r = t
        .post(
            "/api/user",
            &w.admin,
            json!({"email": "h@example.com", "password": "abc123"}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"password": "password is too common."})
    );
});

both!(
    s45_login_attribute_keys_must_not_start_with_at,
    |t| async move {
        let w = world(&t).await;
        let r = t
            .post(
                "/api/user",
                &w.admin,
                json!({"email": "c@example.com", "login_attributes": {"@secret": "x"}}),
            )
            .await;
        r.assert(400);
        let v = r.json();
        assert_eq!(
            v["errors"],
            json!({"login_attributes": "login attribute keys must not start with \"@\"."})
        );
        assert!(!v["specific-errors"]["login_attributes"]
            .as_array()
            .unwrap()
            .is_empty());
        let r = t
        .post("/api/user", &w.admin,
              json!({"email": "c@example.com", "login_attributes": {"team": "x", "n": 5, "b": true}, "locale": "es-MX"}))
        .await;
        r.assert(200);
        assert_eq!(
            r.json()["login_attributes"],
            json!({"team": "x", "n": 5, "b": true})
        );
        assert_eq!(r.json()["locale"], "es_MX");
        // Blank names are refused; all failing fields are reported together.
        let r = t
            .post(
                "/api/user",
                &w.admin,
                json!({"email": "x", "first_name": " ", "last_name": ""}),
            )
            .await;
        r.assert(400);
        assert_eq!(
            r.json()["errors"],
            json!({"email": EMAIL_MSG, "first_name": "value must be a non-blank string.",
               "last_name": "value must be a non-blank string."})
        );
    }
);

both!(s41_create_limits_and_order_of_errors, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    // 254 characters at most, for emails and names.
    let long_email = format!("{}@example.com", "a".repeat(243));
    assert_eq!(long_email.len(), 255);
    let r = t
        .post("/api/user", &w.admin, json!({"email": long_email}))
        .await;
    assert_eq!(
        (r.status, r.json()["errors"].clone()),
        (400, json!({"email": EMAIL_MSG}))
    );
    t.post("/api/user", &w.admin, json!({"email": &long_email[1..]}))
        .await
        .assert(200);
    let r = t
        .post(
            "/api/user",
            &w.admin,
            json!({"email": "n@example.com", "first_name": "é".repeat(255)}),
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["first_name"].is_string());
    t.post(
        "/api/user",
        &w.admin,
        json!({"email": "n@example.com", "first_name": "é".repeat(254)}),
    )
    .await
    .assert(200);
    // 1. email in use, 2. All Users missing, 3. unknown group.
    let r = t
        .post(
            "/api/user",
            &w.admin,
            json!({"email": "ALICE@example.com", "user_group_memberships": [{"id": 9999}]}),
        )
        .await;
    assert_eq!(
        r.json(),
        json!({"errors": {"email": "Email address already in use."}})
    );
    t.post(
        "/api/user",
        &w.admin,
        json!({"email": "new@example.com", "user_group_memberships": [{"id": 9999}]}),
    )
    .await
    .assert_text(400, ALL_USERS_TEXT);
    t.post(
        "/api/user",
        &w.admin,
        json!({"email": "new@example.com", "group_ids": [g1]}),
    )
    .await
    .assert_text(400, ALL_USERS_TEXT);
    // Malformed membership lists are validation errors.
    for body in [
        json!({"email": "new@example.com", "user_group_memberships": [{"id": "1"}]}),
        json!({"email": "new@example.com", "user_group_memberships": [1]}),
        json!({"email": "new@example.com", "group_ids": [1.0]}),
    ] {
        let r = t.post("/api/user", &w.admin, body.clone()).await;
        r.assert(400);
        assert!(
            r.json()["specific-errors"].is_object(),
            "{body}: {}",
            r.text
        );
    }
});
