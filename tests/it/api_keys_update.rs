//! api-keys.md §11, scenarios 34–43: `PUT /api/api-key/:id`.
use serde_json::{json, Value};

use crate::api_keys::*;
use crate::both;
use crate::support::Auth;

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
