//! api-keys.md §11, scenarios 16–33: create, list and count. Scenario 29 is a unit test
//! (`src/api_keys/service_tests.rs`).
use serde_json::{json, Value};

use crate::api_keys::*;
use crate::both;
use crate::support::Auth;

both!(
    s16_create_returns_the_key_object_and_the_secret_once,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let r = t
            .post(
                "/api/api-key",
                &admin,
                json!({"name": "My Key", "group_id": g1}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
        assert!(
            r.content_type().starts_with("application/json"),
            "{}",
            r.content_type()
        );
        let k = r.json();
        assert_eq!(sorted_keys(&k), key_object_fields(&["unmasked_key"]));
        assert_eq!(k["name"], "My Key");
        assert_eq!(k["group"], json!({"id": g1, "name": G1}));
        assert_eq!(
            k["updated_by"],
            json!({"id": 1, "common_name": "Ada Lovelace"})
        );
        assert_eq!(k["created_at"], k["updated_at"]);
        let s = k["created_at"].as_str().unwrap();
        assert!(s.ends_with('Z') && s.len() == 27, "{s}");
        for f in ["expires_at", "last_used_at", "previous_key_valid_until"] {
            assert_eq!(k[f], Value::Null, "{f}");
        }
    }
);

both!(s17_duplicate_names_are_refused, |t| async move {
    let admin = t.setup().await;
    let g1 = t.group(&admin, G1).await;
    create_key(&t, &admin, "My Key", g1).await;
    let r = t
        .post(
            "/api/api-key",
            &admin,
            json!({"name": "My Key", "group_id": g1}),
        )
        .await;
    r.assert(400);
    assert_eq!(r.json(), json!({"errors": {"name": DUPLICATE}}));
    assert_eq!(count_keys(&t, &admin).await, 1);
});

both!(s18_names_are_compared_case_sensitively, |t| async move {
    let admin = t.setup().await;
    create_key(&t, &admin, "Key", 1).await;
    create_key(&t, &admin, "key", 1).await;
    assert_eq!(count_keys(&t, &admin).await, 2);
});

both!(s19_group_id_null_is_a_validation_error, |t| async move {
    let admin = t.setup().await;
    let r = t
        .post(
            "/api/api-key",
            &admin,
            json!({"name": "x", "group_id": null}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"group_id": "value must be an integer greater than zero."},
               "specific-errors": {"group_id": ["value must be an integer greater than zero., received: nil"]}})
    );
    for bad in [json!(0), json!(-3), json!(1.5), json!("5")] {
        let r = t
            .post(
                "/api/api-key",
                &admin,
                json!({"name": "x", "group_id": bad}),
            )
            .await;
        r.assert(400);
        assert_eq!(
            r.json()["errors"]["group_id"],
            "value must be an integer greater than zero."
        );
    }
});

both!(s20_blank_names_are_validation_errors, |t| async move {
    let admin = t.setup().await;
    let r = t
        .post("/api/api-key", &admin, json!({"name": "", "group_id": 1}))
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"name": "value must be a non-blank string."},
               "specific-errors": {"name": ["should be at least 1 character, received: \"\"",
                                            "non-blank string, received: \"\""]}})
    );
    let r = t
        .post(
            "/api/api-key",
            &admin,
            json!({"name": "   ", "group_id": 1}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"name": "value must be a non-blank string."},
               "specific-errors": {"name": ["non-blank string, received: \"   \""]}})
    );
    for body in [
        json!({"group_id": 1}),
        json!({"name": null, "group_id": 1}),
        json!({"name": 7, "group_id": 1}),
    ] {
        let r = t.post("/api/api-key", &admin, body).await;
        r.assert(400);
        assert_eq!(
            r.json()["errors"]["name"],
            "value must be a non-blank string."
        );
        assert!(!r.json()["specific-errors"]["name"]
            .as_array()
            .unwrap()
            .is_empty());
    }
    assert_eq!(count_keys(&t, &admin).await, 0);
});

both!(s21_names_hold_at_most_254_characters, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, &"n".repeat(254), 1).await;
    assert_eq!(k.body["name"].as_str().unwrap().len(), 254);
    let r = t
        .post(
            "/api/api-key",
            &admin,
            json!({"name": "n".repeat(255), "group_id": 1}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"name": "value must be a string of at most 254 characters."})
    );
    assert!(!r.json()["specific-errors"]["name"]
        .as_array()
        .unwrap()
        .is_empty());
});

both!(
    s22_an_unknown_group_is_refused_and_nothing_is_created,
    |t| async move {
        let admin = t.setup().await;
        let before = t.get("/api/permissions/membership", &admin).await.json();
        let r = t
            .post(
                "/api/api-key",
                &admin,
                json!({"name": "x", "group_id": 9999}),
            )
            .await;
        r.assert(400);
        assert_eq!(
            r.json(),
            json!({"errors": {"group_id": "Group not found."}})
        );
        assert_eq!(count_keys(&t, &admin).await, 0);
        assert_eq!(
            t.get("/api/permissions/membership", &admin).await.json(),
            before
        );
    }
);

both!(s23_a_key_in_all_users_has_one_membership, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 1).await;
    assert_eq!(k.body["group"], json!({"id": 1, "name": "All Users"}));
    let uid = key_user(&t, &k.auth()).await["id"].as_i64().unwrap();
    assert_eq!(memberships_of(&t, &admin, uid).await, vec![1]);
});

both!(s24_a_key_in_administrators_is_a_superuser, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 2).await;
    assert_eq!(k.body["group"], json!({"id": 2, "name": "Administrators"}));
    let me = key_user(&t, &k.auth()).await;
    assert_eq!(me["is_superuser"], true);
    assert_eq!(me["group_ids"], json!([1, 2]));
    t.get("/api/user", &k.auth()).await.assert(200);
});

both!(s25_order_of_checks_401_then_400_then_403, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    t.post("/api/api-key", &alice, json!({"name": "x", "group_id": 1}))
        .await
        .assert_text(403, FORBIDDEN);
    t.post(
        "/api/api-key",
        &Auth::None,
        json!({"name": "x", "group_id": 1}),
    )
    .await
    .assert_text(401, "Unauthenticated");
    let r = t
        .post("/api/api-key", &alice, json!({"group_id": null}))
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"]["group_id"],
        "value must be an integer greater than zero."
    );
    // Validation failures on a taken name still come before the business rules.
    assert_eq!(count_keys(&t, &admin).await, 0);
});

both!(
    s26_expires_at_must_be_an_rfc3339_time_in_the_future,
    |t| async move {
        let admin = t.setup().await;
        let post = |expires: Value| {
            let t = t.clone();
            let admin = admin.clone();
            async move {
                t.post(
                    "/api/api-key",
                    &admin,
                    json!({"name": "x", "group_id": 1, "expires_at": expires}),
                )
                .await
            }
        };
        let r = post(json!(from_now(-3600))).await;
        r.assert(400);
        assert_eq!(
            r.json(),
            json!({"errors": {"expires_at": "Expiration must be in the future."}})
        );
        for bad in [json!("tomorrow"), json!("2030-01-01T00:00:00"), json!(5)] {
            let r = post(bad).await;
            r.assert(400);
            assert_eq!(
                r.json()["errors"],
                json!({"expires_at": "value must be an RFC 3339 timestamp with a time zone offset."})
            );
            assert!(!r.json()["specific-errors"]["expires_at"]
                .as_array()
                .unwrap()
                .is_empty());
        }
        let r = post(json!("2030-01-01T02:00:00+02:00")).await;
        r.assert(200);
        assert_eq!(r.json()["expires_at"], "2030-01-01T00:00:00.000000Z");
    }
);

both!(s27_unknown_fields_are_ignored, |t| async move {
    let admin = t.setup().await;
    let k = create_with(&t, &admin, json!({"name": "x", "group_id": 1, "foo": 1})).await;
    assert!(k.body.get("foo").is_none());
});

both!(s28_trailing_slashes_are_the_same_endpoint, |t| async move {
    let admin = t.setup().await;
    let r = t
        .post("/api/api-key/", &admin, json!({"name": "x", "group_id": 1}))
        .await;
    r.assert(200);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let with = t.get("/api/api-key/", &admin).await;
    with.assert(200);
    assert_eq!(with.json(), t.get("/api/api-key", &admin).await.json());
    assert_eq!(with.json().as_array().unwrap().len(), 1);
    assert_eq!(t.get("/api/api-key/count/", &admin).await.json(), json!(1));
});

both!(s30_an_empty_installation_lists_nothing, |t| async move {
    let admin = t.setup().await;
    let r = t.get("/api/api-key", &admin).await;
    r.assert(200);
    assert_eq!(r.text, "[]");
    let r = t.get("/api/api-key/count", &admin).await;
    r.assert(200);
    assert_eq!(r.text, "0");
    assert!(r.content_type().starts_with("application/json"));
});

both!(
    s31_list_is_in_creation_order_without_secrets,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let a = create_key(&t, &admin, "My First API Key", g1).await;
        let b = create_key(&t, &admin, "My Second API Key", 1).await;
        let list = list_keys(&t, &admin).await;
        assert_eq!(list.len(), 2);
        assert_eq!(
            (list[0]["id"].as_i64(), list[1]["id"].as_i64()),
            (Some(a.id), Some(b.id))
        );
        assert_eq!(list[0]["name"], "My First API Key");
        assert_eq!(list[0]["group"], json!({"id": g1, "name": G1}));
        assert_eq!(list[1]["group"], json!({"id": 1, "name": "All Users"}));
        for k in &list {
            assert_eq!(sorted_keys(k), key_object_fields(&[]));
        }
        assert_eq!(list[0]["masked_key"], a.body["masked_key"]);
        assert_eq!(count_keys(&t, &admin).await, 2);
        // Query parameters are ignored.
        assert_eq!(
            t.get("/api/api-key?limit=1&offset=1", &admin)
                .await
                .json()
                .as_array()
                .unwrap()
                .len(),
            2
        );
    }
);

both!(s32_expired_keys_stay_listed_and_counted, |t| async move {
    let admin = t.setup().await;
    let expires = from_now(2);
    let k = create_with(
        &t,
        &admin,
        json!({"name": "short", "group_id": 1, "expires_at": expires}),
    )
    .await;
    t.clock.advance_seconds(3);
    let listed = listed(&t, &admin, k.id).await;
    assert_eq!(micros(&listed["expires_at"]), micros(&json!(expires)));
    assert_eq!(count_keys(&t, &admin).await, 1);
});

both!(
    s33_people_who_are_not_admins_cannot_list_or_count,
    |t| async move {
        let admin = t.setup().await;
        let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
        t.get("/api/api-key", &alice)
            .await
            .assert_text(403, FORBIDDEN);
        t.get("/api/api-key/count", &alice)
            .await
            .assert_text(403, FORBIDDEN);
        t.get("/api/api-key", &Auth::None)
            .await
            .assert_text(401, "Unauthenticated");
        t.get("/api/api-key/count", &Auth::None)
            .await
            .assert_text(401, "Unauthenticated");
    }
);
