//! people-and-groups.md §10–11: API-key users (scenarios 98–99, and the key-user rules of 2.2,
//! 2.5 and 6.2) and the audit events (scenario 100).
use serde_json::{json, Value};

use super::memberships::{add, membership_id};
use super::{group_detail, member_user_ids};
use crate::both;
use crate::support::{Auth, TestApp, PASSWORD};
use crate::users::{create_key, key_user_id, world, FORBIDDEN};

both!(s98_admin_key_can_call_admin_endpoints, |t| async move {
    let w = world(&t).await;
    let key = Auth::Key(create_key(&t, &w.admin, "admin key", 2).await);
    let r = t.get("/api/user", &key).await;
    r.assert(200);
    assert_eq!(r.json()["total"], 3);
    let r = t
        .post(
            "/api/permissions/group",
            &key,
            json!({"name": "Made by key"}),
        )
        .await;
    r.assert(200);
    let g = r.json()["id"].as_i64().unwrap();
    add(&t, &key, g, w.alice_id).await.assert(200);
    t.get("/api/permissions/membership", &key).await.assert(200);
    t.delete(&format!("/api/user/{}", w.bob_id), &key)
        .await
        .assert(200);
    // The key user is the actor of the events it causes.
    let kid = key_user_id(
        &t,
        match &key {
            Auth::Key(k) => k,
            _ => unreachable!(),
        },
    )
    .await;
    let events = t.audit(&key, "model=PermissionsGroup").await;
    assert_eq!(
        (events[0]["topic"].clone(), events[0]["user_id"].clone()),
        (json!("group-create"), json!(kid))
    );
});

both!(s99_key_user_is_not_a_person, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    let plain = create_key(&t, &w.admin, "Reporter", g1).await;
    let key = Auth::Key(plain.clone());
    t.get("/api/user", &key).await.assert_text(403, FORBIDDEN);
    let r = t.get("/api/user/current", &key).await;
    r.assert(200);
    let me = r.json();
    let kid = me["id"].as_i64().unwrap();
    assert_eq!(me["first_name"], "Reporter");
    assert_eq!(me["last_name"], "");
    assert_eq!(me["common_name"], "Reporter");
    let email = me["email"].as_str().unwrap().to_string();
    assert!(email.ends_with("@api-key.invalid"), "{email}");
    assert_eq!(me["group_ids"], json!([1, g1]));
    assert_eq!(me["is_superuser"], false);
    assert_eq!(me["personal_collection_id"], Value::Null);
    assert_eq!(me["is_installer"], false);
    assert_eq!(me["first_login"], Value::Null);
    assert_eq!(me["last_login"], Value::Null);
    assert!(me.get("type").is_none());
    // Key users cannot log in (their email behaves like an unknown one) nor log out.
    let r = t
        .post(
            "/api/session",
            &Auth::None,
            json!({"username": email, "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (
            401,
            json!({"errors": {"password": "did not match stored password"}})
        )
    );
    t.delete("/api/session", &key)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/user/current", &key).await.assert(200);
    // They change groups only through the API-key endpoints.
    let g2 = t.group(&w.admin, "G2").await;
    let r = add(&t, &w.admin, g2, kid).await;
    assert_eq!(
        (r.status, r.json()),
        (
            400,
            json!({"errors": {"user_id": "API key users change groups through PUT /api/api-key/:id."}})
        )
    );
    // They are visible to admins: detail, membership map, group members.
    let u = t.get(&format!("/api/user/{kid}"), &w.admin).await.json();
    assert_eq!(u["user_group_memberships"], json!([{"id": 1}, {"id": g1}]));
    assert!(member_user_ids(&group_detail(&t, &w.admin, g1).await).contains(&kid));
    let map = t.get("/api/permissions/membership", &w.admin).await.json();
    assert_eq!(map[kid.to_string()].as_array().unwrap().len(), 2);
    // Removing its membership makes the key fall back to All Users; it keeps working.
    let mid = membership_id(&t, &w.admin, kid, g1).await;
    t.delete(&format!("/api/permissions/membership/{mid}"), &w.admin)
        .await
        .assert(204);
    assert_eq!(
        t.get("/api/user/current", &key).await.json()["group_ids"],
        json!([1])
    );
});

both!(
    s99_key_user_leaving_administrators_loses_admin_rights,
    |t| async move {
        let w = world(&t).await;
        let key = Auth::Key(create_key(&t, &w.admin, "admin key", 2).await);
        t.get("/api/user", &key).await.assert(200);
        let kid = match &key {
            Auth::Key(k) => key_user_id(&t, k).await,
            _ => unreachable!(),
        };
        // Key users never count for the last-admin rule, so this is allowed.
        let mid = membership_id(&t, &w.admin, kid, 2).await;
        t.delete(&format!("/api/permissions/membership/{mid}"), &w.admin)
            .await
            .assert(204);
        t.get("/api/user", &key).await.assert_text(403, FORBIDDEN);
        assert_eq!(
            t.get("/api/user/current", &key).await.json()["is_superuser"],
            false
        );
    }
);

/// The newest audit entry of `topic` (with `model`).
async fn event(t: &TestApp, admin: &Auth, model: &str, topic: &str) -> Value {
    t.audit(admin, &format!("model={model}"))
        .await
        .into_iter()
        .find(|e| e["topic"] == topic)
        .unwrap_or_else(|| panic!("no {topic} event"))
}

#[track_caller]
fn assert_event(e: &Value, actor: i64, model: &str, model_id: i64, details: Value) {
    assert_eq!(e["user_id"], actor, "{e}");
    assert_eq!(e["model"], model, "{e}");
    assert_eq!(e["model_id"], model_id, "{e}");
    assert_eq!(e["details"], details, "{e}");
    assert!(
        e["timestamp"]
            .as_str()
            .is_some_and(|s| s.ends_with('Z') && s.len() == 27),
        "{e}"
    );
}

both!(s100_user_events, |t| async move {
    let w = world(&t).await;
    // 38: user-invited
    let r = t
        .post(
            "/api/user",
            &w.admin,
            json!({"email": "Carol@Example.com", "first_name": "Carol", "last_name": "C"}),
        )
        .await;
    let carol = r.json()["id"].as_i64().unwrap();
    let e = event(&t, &w.admin, "User", "user-invited").await;
    assert_event(
        &e,
        1,
        "User",
        carol,
        json!({"email": "carol@example.com", "first_name": "Carol", "last_name": "C"}),
    );
    // No membership events for All Users; one for each other group.
    assert!(t
        .audit(&w.admin, "model=PermissionsGroupMembership")
        .await
        .is_empty());
    let g1 = t.group(&w.admin, "G1").await;
    let r = t
        .post(
            "/api/user",
            &w.admin,
            json!({"email": "dan@example.com", "group_ids": [1, g1]}),
        )
        .await;
    let dan = r.json()["id"].as_i64().unwrap();
    let e = event(
        &t,
        &w.admin,
        "PermissionsGroupMembership",
        "group-membership-create",
    )
    .await;
    assert_event(
        &e,
        1,
        "PermissionsGroupMembership",
        membership_id(&t, &w.admin, dan, g1).await,
        json!({"group_id": g1, "user_id": dan}),
    );
    assert_eq!(
        t.audit(&w.admin, "model=PermissionsGroupMembership")
            .await
            .len(),
        1
    );
    // 46: user-update lists only the changed fields.
    t.put(
        &format!("/api/user/{}", w.alice_id),
        &w.admin,
        json!({"last_name": "Smith", "email": "alice2@example.com", "first_name": "Alice"}),
    )
    .await
    .assert(200);
    let e = event(&t, &w.admin, "User", "user-update").await;
    assert_event(
        &e,
        1,
        "User",
        w.alice_id,
        json!({
        "previous": {"email": "alice@example.com", "last_name": null},
        "new": {"email": "alice2@example.com", "last_name": "Smith"}}),
    );
    t.put(
        &format!("/api/user/{}", w.alice_id),
        &w.admin,
        json!({"is_superuser": true, "locale": "fr"}),
    )
    .await
    .assert(200);
    let e = event(&t, &w.admin, "User", "user-update").await;
    assert_eq!(
        e["details"],
        json!({"previous": {"is_superuser": false, "locale": null},
                                    "new": {"is_superuser": true, "locale": "fr"}})
    );
    // A PUT that changes nothing records nothing and keeps updated_at.
    let n = t.audit(&w.admin, "model=User").await.len();
    let before = t
        .get(&format!("/api/user/{}", w.alice_id), &w.admin)
        .await
        .json();
    let r = t
        .put(&format!("/api/user/{}", w.alice_id), &w.admin,
             json!({"locale": "fr", "last_name": "Smith", "user_group_memberships": [{"id": 1}, {"id": 2}]}))
        .await;
    r.assert(200);
    assert_eq!(r.json()["updated_at"], before["updated_at"]);
    assert_eq!(t.audit(&w.admin, "model=User").await.len(), n);
    // 56: user-deactivated; 59: user-reactivated (and the Administrators membership removed).
    t.delete(&format!("/api/user/{}", w.alice_id), &w.admin)
        .await
        .assert(200);
    assert_event(
        &event(&t, &w.admin, "User", "user-deactivated").await,
        1,
        "User",
        w.alice_id,
        json!({}),
    );
    t.put(
        &format!("/api/user/{}/reactivate", w.alice_id),
        &w.admin,
        json!({}),
    )
    .await
    .assert(200);
    assert_event(
        &event(&t, &w.admin, "User", "user-reactivated").await,
        1,
        "User",
        w.alice_id,
        json!({}),
    );
    let e = event(
        &t,
        &w.admin,
        "PermissionsGroupMembership",
        "group-membership-delete",
    )
    .await;
    assert_eq!(e["details"], json!({"group_id": 2, "user_id": w.alice_id}));
    // 61: user-password-update, never the password.
    t.put(
        &format!("/api/user/{}/password", w.bob_id),
        &w.admin,
        json!({"password": "green8-otter-comet"}),
    )
    .await
    .assert(204);
    let e = event(&t, &w.admin, "User", "user-password-update").await;
    assert_event(&e, 1, "User", w.bob_id, json!({}));
    // Logins are recorded with the person as the actor.
    let e = event(&t, &w.admin, "User", "user-login").await;
    assert_eq!(e["user_id"], e["model_id"]);
    // Failed logins and logouts record nothing.
    let n = t.audit(&w.admin, "").await.len();
    t.post(
        "/api/session",
        &Auth::None,
        json!({"username": "bob@example.com", "password": "nope-123"}),
    )
    .await;
    t.delete("/api/session", &w.bob).await;
    assert_eq!(t.audit(&w.admin, "").await.len(), n);
});

both!(s100_group_and_membership_events, |t| async move {
    let w = world(&t).await;
    // 68: group-create
    let g1 = t.group(&w.admin, "Analysts").await;
    let e = event(&t, &w.admin, "PermissionsGroup", "group-create").await;
    assert_event(&e, 1, "PermissionsGroup", g1, json!({"name": "Analysts"}));
    // 71: group-update
    t.put(
        &format!("/api/permissions/group/{g1}"),
        &w.admin,
        json!({"name": "Readers"}),
    )
    .await
    .assert(200);
    let e = event(&t, &w.admin, "PermissionsGroup", "group-update").await;
    assert_event(
        &e,
        1,
        "PermissionsGroup",
        g1,
        json!({"previous": {"name": "Analysts"}, "new": {"name": "Readers"}}),
    );
    // 74: group-membership-create
    add(&t, &w.admin, g1, w.alice_id).await.assert(200);
    let mid = membership_id(&t, &w.admin, w.alice_id, g1).await;
    let e = event(
        &t,
        &w.admin,
        "PermissionsGroupMembership",
        "group-membership-create",
    )
    .await;
    assert_event(
        &e,
        1,
        "PermissionsGroupMembership",
        mid,
        json!({"group_id": g1, "user_id": w.alice_id}),
    );
    // 76: Administrators in and out.
    add(&t, &w.admin, 2, w.bob_id).await.assert(200);
    let admin_mid = membership_id(&t, &w.admin, w.bob_id, 2).await;
    let e = event(
        &t,
        &w.admin,
        "PermissionsGroupMembership",
        "group-membership-create",
    )
    .await;
    assert_event(
        &e,
        1,
        "PermissionsGroupMembership",
        admin_mid,
        json!({"group_id": 2, "user_id": w.bob_id}),
    );
    t.delete(
        &format!("/api/permissions/membership/{admin_mid}"),
        &w.admin,
    )
    .await
    .assert(204);
    let e = event(
        &t,
        &w.admin,
        "PermissionsGroupMembership",
        "group-membership-delete",
    )
    .await;
    assert_event(
        &e,
        1,
        "PermissionsGroupMembership",
        admin_mid,
        json!({"group_id": 2, "user_id": w.bob_id}),
    );
    // Memberships changed through PUT /api/user record membership events too.
    t.put(
        &format!("/api/user/{}", w.bob_id),
        &w.admin,
        json!({"user_group_memberships": [{"id": 1}, {"id": g1}]}),
    )
    .await
    .assert(200);
    let bob_mid = membership_id(&t, &w.admin, w.bob_id, g1).await;
    let e = event(
        &t,
        &w.admin,
        "PermissionsGroupMembership",
        "group-membership-create",
    )
    .await;
    assert_event(
        &e,
        1,
        "PermissionsGroupMembership",
        bob_mid,
        json!({"group_id": g1, "user_id": w.bob_id}),
    );
    // Clearing records one delete per membership.
    let before = t
        .audit(&w.admin, "model=PermissionsGroupMembership")
        .await
        .len();
    t.put(
        &format!("/api/permissions/membership/{g1}/clear"),
        &w.admin,
        json!({}),
    )
    .await
    .assert(204);
    let after = t.audit(&w.admin, "model=PermissionsGroupMembership").await;
    assert_eq!(after.len(), before + 2);
    let mut cleared: Vec<i64> = after[..2]
        .iter()
        .map(|e| e["model_id"].as_i64().unwrap())
        .collect();
    cleared.sort();
    let mut want = vec![mid, bob_mid];
    want.sort();
    assert_eq!(cleared, want);
    assert!(after[..2]
        .iter()
        .all(|e| e["topic"] == "group-membership-delete"));
    // 72: group-delete (its memberships go silently with it).
    add(&t, &w.admin, g1, w.alice_id).await.assert(200);
    let before = t
        .audit(&w.admin, "model=PermissionsGroupMembership")
        .await
        .len();
    t.delete(&format!("/api/permissions/group/{g1}"), &w.admin)
        .await
        .assert(204);
    let e = event(&t, &w.admin, "PermissionsGroup", "group-delete").await;
    assert_event(&e, 1, "PermissionsGroup", g1, json!({"name": "Readers"}));
    assert_eq!(
        t.audit(&w.admin, "model=PermissionsGroupMembership")
            .await
            .len(),
        before
    );
});
