//! api-keys.md §11, scenarios 58–66: groups and key users in the rest of the API.
use serde_json::json;

use crate::api_keys::*;
use crate::both;
use crate::support::{Auth, PASSWORD};

both!(
    s58_deleting_the_keys_group_falls_back_to_all_users,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let k = create_key(&t, &admin, "Robot", g1).await;
        let ka = create_key(&t, &admin, "Admin robot", 2).await;
        assert_eq!(key_user(&t, &k.auth()).await["group_ids"], json!([1, g1])); // cached
        t.delete(&format!("/api/permissions/group/{g1}"), &admin)
            .await
            .assert(204);
        assert_eq!(key_user(&t, &k.auth()).await["group_ids"], json!([1]));
        assert_eq!(
            listed(&t, &admin, k.id).await["group"],
            json!({"id": 1, "name": "All Users"})
        );
        // Administrators cannot be deleted, so an admin key loses nothing.
        t.delete("/api/permissions/group/2", &admin)
            .await
            .assert(400);
        t.get("/api/user", &ka.auth()).await.assert(200);
        assert_eq!(
            listed(&t, &admin, ka.id).await["group"],
            json!({"id": 2, "name": "Administrators"})
        );
    }
);

both!(
    s59_renaming_the_group_renames_the_keys_group,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let k = create_key(&t, &admin, "Robot", g1).await;
        t.put(
            &format!("/api/permissions/group/{g1}"),
            &admin,
            json!({"name": "Renamed Group"}),
        )
        .await
        .assert(200);
        assert_eq!(
            listed(&t, &admin, k.id).await["group"],
            json!({"id": g1, "name": "Renamed Group"})
        );
    }
);

both!(
    s60_key_users_cannot_be_added_to_groups_by_hand,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let g2 = t.group(&admin, G2).await;
        let k = create_key(&t, &admin, "Robot", g1).await;
        let uid = key_user(&t, &k.auth()).await["id"].as_i64().unwrap();
        let r = t
            .post(
                "/api/permissions/membership",
                &admin,
                json!({"group_id": g2, "user_id": uid}),
            )
            .await;
        r.assert(400);
        assert_eq!(
            r.json(),
            json!({"errors": {"user_id": "API key users change groups through PUT /api/api-key/:id."}})
        );
        assert_eq!(memberships_of(&t, &admin, uid).await, vec![1, g1]);
    }
);

both!(
    s61_removing_the_keys_membership_falls_back_to_all_users,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let k = create_key(&t, &admin, "Robot", g1).await;
        let uid = key_user(&t, &k.auth()).await["id"].as_i64().unwrap();
        let all = t.get("/api/permissions/membership", &admin).await.json();
        let m = all[uid.to_string()]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["group_id"] == g1)
            .expect("the G1 membership")["membership_id"]
            .as_i64()
            .unwrap();
        t.delete(&format!("/api/permissions/membership/{m}"), &admin)
            .await
            .assert(204);
        assert_eq!(
            listed(&t, &admin, k.id).await["group"],
            json!({"id": 1, "name": "All Users"})
        );
        assert_eq!(key_user(&t, &k.auth()).await["group_ids"], json!([1]));
    }
);

both!(s62_key_users_are_not_listed_as_people, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 1).await;
    let uid = key_user(&t, &k.auth()).await["id"].clone();
    let r = t.get("/api/user?status=all", &admin).await.json();
    assert_eq!(r["total"], 1);
    assert!(r["data"].as_array().unwrap().iter().all(|u| u["id"] != uid));
});

both!(s63_key_users_cannot_log_in, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 1).await;
    let email = key_user(&t, &k.auth()).await["email"]
        .as_str()
        .unwrap()
        .to_string();
    for password in [PASSWORD, "", "x", k.secret.as_str()] {
        let r = t
            .post(
                "/api/session",
                &Auth::None,
                json!({"username": email, "password": password}),
            )
            .await;
        r.assert(if password.is_empty() { 400 } else { 401 });
        if !password.is_empty() {
            assert_eq!(
                r.json(),
                json!({"errors": {"password": "did not match stored password"}})
            );
        }
    }
});

both!(
    s64_key_users_are_hidden_from_the_user_write_endpoints,
    |t| async move {
        let admin = t.setup().await;
        let k = create_key(&t, &admin, "Robot", 1).await;
        let uid = key_user(&t, &k.auth()).await["id"].as_i64().unwrap();
        t.put(
            &format!("/api/user/{uid}"),
            &admin,
            json!({"first_name": "X"}),
        )
        .await
        .assert_text(404, "Not found.");
        t.delete(&format!("/api/user/{uid}"), &admin)
            .await
            .assert_text(404, "Not found.");
        t.put(
            &format!("/api/user/{uid}/password"),
            &admin,
            json!({"password": "blue7-ferret-orbit-2"}),
        )
        .await
        .assert_text(404, "Not found.");
        t.put(&format!("/api/user/{uid}/reactivate"), &admin, json!({}))
            .await
            .assert_text(404, "Not found.");
        // The key still works and its user is unchanged.
        assert_eq!(key_user(&t, &k.auth()).await["first_name"], "Robot");
    }
);

both!(
    s65_logging_out_with_only_a_key_is_not_found,
    |t| async move {
        let admin = t.setup().await;
        let k = create_key(&t, &admin, "Robot", 2).await;
        t.delete("/api/session", &k.auth())
            .await
            .assert_text(404, "Not found.");
        t.get("/api/user/current", &k.auth()).await.assert(200);
    }
);

both!(
    s66_admin_keys_do_not_count_as_the_last_admin,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let k = create_key(&t, &admin, "Robot", 2).await;
        t.put(
            &format!("/api/api-key/{}", k.id),
            &admin,
            json!({"group_id": g1}),
        )
        .await
        .assert(200);
        assert_eq!(key_user(&t, &k.auth()).await["is_superuser"], false);
        t.delete(&format!("/api/api-key/{}", k.id), &admin)
            .await
            .assert(204);
        // The only human admin is still one.
        assert_eq!(
            t.get("/api/user/current", &admin).await.json()["is_superuser"],
            true
        );
    }
);
