//! api-keys.md §11, scenarios 16–43: create, list, count and update. Scenario 29 is a unit
//! test (`src/api_keys/service_tests.rs`).
use serde_json::{json, Value};

use crate::api_keys::*;
use crate::both;
use crate::support::{Auth, TestApp};

fn sorted_keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
    k.sort();
    k
}

const KEY_OBJECT: [&str; 10] = [
    "created_at",
    "expires_at",
    "group",
    "id",
    "last_used_at",
    "masked_key",
    "name",
    "previous_key_valid_until",
    "updated_at",
    "updated_by",
];

fn key_object_fields(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = KEY_OBJECT
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    v.sort();
    v
}

async fn audit_count(t: &TestApp, admin: &Auth, topic: &str) -> usize {
    t.audit(admin, "model=ApiKey")
        .await
        .iter()
        .filter(|e| e["topic"] == topic)
        .count()
}

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
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
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

both!(
    s34_changing_the_group_replaces_the_memberships,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let g2 = t.group(&admin, G2).await;
        let k = create_key(&t, &admin, "Robot", g1).await;
        let r = t
            .put(
                &format!("/api/api-key/{}", k.id),
                &admin,
                json!({"group_id": g2}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.json()["group"], json!({"id": g2, "name": G2}));
        let uid = key_user(&t, &k.auth()).await["id"].as_i64().unwrap();
        assert_eq!(memberships_of(&t, &admin, uid).await, vec![1, g2]);
    }
);

both!(s35_renaming_renames_the_key_user, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 1).await;
    let r = t
        .put(
            &format!("/api/api-key/{}", k.id),
            &admin,
            json!({"name": "Renamed"}),
        )
        .await;
    r.assert(200);
    assert_eq!(sorted_keys(&r.json()), key_object_fields(&[]));
    assert_eq!(r.json()["name"], "Renamed");
    assert!(r.header("cache-control").is_none_or(|c| c != "no-store"));
    let uid = key_user(&t, &k.auth()).await["id"].as_i64().unwrap();
    let u = t.get(&format!("/api/user/{uid}"), &admin).await.json();
    assert_eq!(
        (
            u["common_name"].as_str(),
            u["first_name"].as_str(),
            u["last_name"].as_str()
        ),
        (Some("Renamed"), Some("Renamed"), Some(""))
    );
});

both!(
    s36_renaming_to_another_keys_name_is_refused,
    |t| async move {
        let admin = t.setup().await;
        let a = create_key(&t, &admin, "A", 1).await;
        create_key(&t, &admin, "B", 1).await;
        let before = listed(&t, &admin, a.id).await;
        let r = t
            .put(
                &format!("/api/api-key/{}", a.id),
                &admin,
                json!({"name": "B", "group_id": 2}),
            )
            .await;
        r.assert(400);
        assert_eq!(r.json(), json!({"errors": {"name": DUPLICATE}}));
        assert_eq!(listed(&t, &admin, a.id).await, before);
    }
);

both!(
    s37_an_update_to_the_same_values_changes_nothing,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let a = create_key(&t, &admin, "A", g1).await;
        let before = listed(&t, &admin, a.id).await;
        let r = t
            .put(
                &format!("/api/api-key/{}", a.id),
                &admin,
                json!({"name": "A", "group_id": g1}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.json()["updated_at"], before["updated_at"]);
        assert_eq!(listed(&t, &admin, a.id).await, before);
        assert_eq!(audit_count(&t, &admin, "api-key-update").await, 0);
    }
);

both!(
    s38_any_effective_change_stamps_updated_by_and_updated_at,
    |t| async move {
        let admin = t.setup().await;
        let g2 = t.group(&admin, G2).await;
        let (admin2_id, _) = t.person(&admin, "Grace", "grace@example.com").await;
        t.post(
            "/api/permissions/membership",
            &admin,
            json!({"group_id": 2, "user_id": admin2_id}),
        )
        .await
        .assert(200);
        let admin2 = t.login("grace@example.com", crate::support::PASSWORD).await;
        let k = create_key(&t, &admin, "Robot", 1).await;
        assert_eq!(k.body["updated_by"]["id"], 1);
        let r = t
            .put(
                &format!("/api/api-key/{}", k.id),
                &admin2,
                json!({"group_id": g2}),
            )
            .await;
        r.assert(200);
        let after = r.json();
        assert_eq!(
            after["updated_by"],
            json!({"id": admin2_id, "common_name": "Grace"})
        );
        assert!(micros(&after["updated_at"]) > micros(&k.body["updated_at"]));
        assert_eq!(after["created_at"], k.body["created_at"]);
    }
);

both!(s39_empty_and_null_updates_change_nothing, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 1).await;
    let before = listed(&t, &admin, k.id).await;
    for body in [
        json!({}),
        json!({"name": null, "group_id": null}),
        json!({"expires_at": null}),
    ] {
        let r = t.put(&format!("/api/api-key/{}", k.id), &admin, body).await;
        r.assert(200);
        assert_eq!(r.json(), before);
    }
    assert_eq!(listed(&t, &admin, k.id).await, before);
    assert_eq!(audit_count(&t, &admin, "api-key-update").await, 0);
});

both!(s40_unknown_and_bad_ids, |t| async move {
    let admin = t.setup().await;
    t.put("/api/api-key/999999", &admin, json!({"name": "x"}))
        .await
        .assert_text(404, "Not found.");
    t.put("/api/api-key/abc", &admin, json!({"name": "x"}))
        .await
        .assert_text(404, "Not found.");
    let r = t.put("/api/api-key/0", &admin, json!({"name": "x"})).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"id": "value must be an integer greater than zero."})
    );
    t.put(
        "/api/api-key/99999999999999999999",
        &admin,
        json!({"name": "x"}),
    )
    .await
    .assert_text(404, "Not found.");
    // The same rules hold for regenerate and delete.
    t.request("PUT", "/api/api-key/999999/regenerate", &admin, None)
        .await
        .assert_text(404, "Not found.");
    t.delete("/api/api-key/abc", &admin)
        .await
        .assert_text(404, "Not found.");
    t.delete("/api/api-key/0", &admin).await.assert(400);
    // Non-digits match no route even without credentials; 0 is checked after authentication.
    t.put("/api/api-key/abc", &Auth::None, json!({}))
        .await
        .assert_text(404, "Not found.");
    t.put("/api/api-key/0", &Auth::None, json!({}))
        .await
        .assert_text(401, "Unauthenticated");
});

both!(s41_an_unknown_group_on_update_is_refused, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 1).await;
    let before = listed(&t, &admin, k.id).await;
    let r = t
        .put(
            &format!("/api/api-key/{}", k.id),
            &admin,
            json!({"group_id": 9999}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"group_id": "Group not found."}})
    );
    assert_eq!(listed(&t, &admin, k.id).await, before);
});

both!(s42_group_changes_take_effect_at_once, |t| async move {
    let admin = t.setup().await;
    let g1 = t.group(&admin, G1).await;
    let k = create_key(&t, &admin, "Robot", g1).await;
    t.get("/api/user", &k.auth())
        .await
        .assert_text(403, FORBIDDEN); // now cached
    t.put(
        &format!("/api/api-key/{}", k.id),
        &admin,
        json!({"group_id": 2}),
    )
    .await
    .assert(200);
    t.get("/api/user", &k.auth()).await.assert(200);
    t.put(
        &format!("/api/api-key/{}", k.id),
        &admin,
        json!({"group_id": g1}),
    )
    .await
    .assert(200);
    t.get("/api/user", &k.auth())
        .await
        .assert_text(403, FORBIDDEN);
});

both!(
    s43_expires_at_can_be_set_cleared_but_not_put_in_the_past,
    |t| async move {
        let admin = t.setup().await;
        let k = create_key(&t, &admin, "Robot", 1).await;
        let path = format!("/api/api-key/{}", k.id);
        let later = from_now(3600);
        let r = t.put(&path, &admin, json!({"expires_at": later})).await;
        r.assert(200);
        assert_eq!(micros(&r.json()["expires_at"]), micros(&json!(later)));
        let r = t.put(&path, &admin, json!({"expires_at": null})).await;
        r.assert(200);
        assert_eq!(r.json()["expires_at"], Value::Null);
        let r = t
            .put(&path, &admin, json!({"expires_at": from_now(-60)}))
            .await;
        r.assert(400);
        assert_eq!(
            r.json(),
            json!({"errors": {"expires_at": "Expiration must be in the future."}})
        );
        assert_eq!(listed(&t, &admin, k.id).await["expires_at"], Value::Null);
        assert_eq!(audit_count(&t, &admin, "api-key-update").await, 2);
    }
);
