//! people-and-groups.md §6 (memberships) acceptance scenarios 73–80.
use serde_json::{json, Value};

use super::{group_detail, member_count, member_user_ids};
use crate::both;
use crate::support::{Auth, TestApp};
use crate::users::{
    keys, membership_ids, sorted, user, world, ALL_USERS_TEXT, FORBIDDEN, LAST_ADMIN,
};

pub const GROUP_MANAGER: &str = "The group manager permissions functionality is only enabled if you have a premium token with the advanced-permissions feature.";

pub async fn add(t: &TestApp, admin: &Auth, group_id: i64, user_id: i64) -> crate::support::Resp {
    t.post(
        "/api/permissions/membership",
        admin,
        json!({"group_id": group_id, "user_id": user_id}),
    )
    .await
}

/// The membership id of `user_id` in `group_id`, from `GET /api/permissions/membership`.
pub async fn membership_id(t: &TestApp, admin: &Auth, user_id: i64, group_id: i64) -> i64 {
    let map = t.get("/api/permissions/membership", admin).await.json();
    map[user_id.to_string()]
        .as_array()
        .expect("user's memberships")
        .iter()
        .find(|m| m["group_id"] == group_id)
        .unwrap_or_else(|| panic!("no membership of {user_id} in {group_id}: {map}"))
        ["membership_id"]
        .as_i64()
        .expect("membership_id")
}

both!(s73_membership_map, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    add(&t, &w.admin, g1, w.bob_id).await.assert(200);
    t.delete(&format!("/api/user/{}", w.bob_id), &w.admin)
        .await
        .assert(200);
    let r = t.get("/api/permissions/membership", &w.admin).await;
    r.assert(200);
    let map = r.json();
    assert_eq!(
        keys(&map),
        sorted(&["1", &w.alice_id.to_string(), &w.bob_id.to_string()])
    );
    let groups_of = |id: i64| -> Vec<i64> {
        map[id.to_string()]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["group_id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(groups_of(1), vec![1, 2]);
    assert_eq!(groups_of(w.alice_id), vec![1]);
    assert_eq!(groups_of(w.bob_id), vec![1, g1]);
    for m in map
        .as_object()
        .unwrap()
        .values()
        .flat_map(|v| v.as_array().unwrap())
    {
        assert_eq!(
            keys(m),
            sorted(&["membership_id", "group_id", "user_id", "is_group_manager"])
        );
        assert_eq!(m["is_group_manager"], false);
    }
    assert_eq!(map["1"][0]["user_id"], 1);
    t.get("/api/permissions/membership", &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
});

both!(s74_add_member_returns_the_member_list, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    let r = add(&t, &w.admin, g1, w.alice_id).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let list = r.json();
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["user_id"], w.alice_id);
    assert_eq!(list[0]["group_id"], g1);
    assert_eq!(list[0]["email"], "alice@example.com");
    let mid = list[0]["membership_id"].clone();
    let events = t
        .audit(&w.admin, "model=PermissionsGroupMembership")
        .await
        .len();
    let r = add(&t, &w.admin, g1, w.alice_id).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json().as_array().unwrap().len(), 1);
    assert_eq!(r.json()[0]["membership_id"], mid);
    assert_eq!(
        t.audit(&w.admin, "model=PermissionsGroupMembership")
            .await
            .len(),
        events
    );
    let r = add(&t, &w.admin, g1, w.bob_id).await;
    r.assert(200);
    let ids: Vec<Value> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].clone())
        .collect();
    assert_eq!(ids, vec![json!(w.alice_id), json!(w.bob_id)]);
    assert_eq!(
        membership_ids(&user(&t, &w.admin, w.alice_id).await),
        vec![1, g1]
    );
    // Inactive users can be added but are not listed.
    t.delete(&format!("/api/user/{}", w.bob_id), &w.admin)
        .await
        .assert(200);
    let g2 = t.group(&w.admin, "G2").await;
    let r = add(&t, &w.admin, g2, w.bob_id).await;
    assert_eq!((r.status, r.json()), (200, json!([])));
    assert_eq!(
        membership_ids(&user(&t, &w.admin, w.bob_id).await),
        vec![1, g1, g2]
    );
    add(&t, &w.alice, g2, w.alice_id)
        .await
        .assert_text(403, FORBIDDEN);
});

both!(s75_add_member_errors_in_order, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    add(&t, &w.admin, 1, w.alice_id)
        .await
        .assert_text(400, ALL_USERS_TEXT);
    let r = t
        .post(
            "/api/permissions/membership",
            &w.admin,
            json!({"group_id": g1, "user_id": w.alice_id, "is_group_manager": true}),
        )
        .await;
    r.assert_text(402, GROUP_MANAGER);
    let r = add(&t, &w.admin, 999999, w.alice_id).await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"errors": {"group_id": "Group not found."}}))
    );
    let r = add(&t, &w.admin, g1, 999999).await;
    assert_eq!(
        (r.status, r.json()),
        (400, json!({"errors": {"user_id": "User not found."}}))
    );
    // Unknown group is reported before unknown user, and both before All Users.
    let r = add(&t, &w.admin, 999999, 999999).await;
    assert_eq!(
        r.json(),
        json!({"errors": {"group_id": "Group not found."}})
    );
    let r = add(&t, &w.admin, 1, 999999).await;
    assert_eq!(r.json(), json!({"errors": {"user_id": "User not found."}}));
    // 402 comes after the superuser check and before existence.
    let manager = json!({"group_id": 999999, "user_id": 999999, "is_group_manager": true});
    t.post("/api/permissions/membership", &w.admin, manager.clone())
        .await
        .assert_text(402, GROUP_MANAGER);
    t.post("/api/permissions/membership", &w.alice, manager)
        .await
        .assert_text(403, FORBIDDEN);
    // Explicit false is fine.
    t.post(
        "/api/permissions/membership",
        &w.admin,
        json!({"group_id": g1, "user_id": w.alice_id, "is_group_manager": false}),
    )
    .await
    .assert(200);
    // Validation: integers only, both required, reported together.
    for (body, fields) in [
        (json!({}), vec!["group_id", "user_id"]),
        (
            json!({"group_id": 5.0, "user_id": "5"}),
            vec!["group_id", "user_id"],
        ),
        (
            json!({"group_id": 0, "user_id": w.alice_id}),
            vec!["group_id"],
        ),
        (
            json!({"group_id": g1, "user_id": w.alice_id, "is_group_manager": "yes"}),
            vec!["is_group_manager"],
        ),
    ] {
        let r = t
            .post("/api/permissions/membership", &w.alice, body.clone())
            .await;
        r.assert(400);
        assert_eq!(keys(&r.json()["errors"]), sorted(&fields), "{body}");
    }
    assert_eq!(
        r_messages(&t, &w.admin).await,
        "value must be an integer greater than zero."
    );
});

async fn r_messages(t: &TestApp, admin: &Auth) -> String {
    let r = t
        .post(
            "/api/permissions/membership",
            admin,
            json!({"group_id": null, "user_id": 1}),
        )
        .await;
    assert_eq!(
        r.json()["specific-errors"]["group_id"],
        json!(["value must be an integer greater than zero., received: nil"])
    );
    r.json()["errors"]["group_id"].as_str().unwrap().to_string()
}

both!(
    s76_administrators_membership_is_is_superuser,
    |t| async move {
        let w = world(&t).await;
        let r = add(&t, &w.admin, 2, w.alice_id).await;
        r.assert(200);
        assert!(member_user_ids(&serde_json::json!({"members": r.json()})).contains(&w.alice_id));
        assert_eq!(user(&t, &w.admin, w.alice_id).await["is_superuser"], true);
        // Her existing session gains admin rights at once.
        t.get("/api/user", &w.alice).await.assert(200);
        let mid = membership_id(&t, &w.admin, w.alice_id, 2).await;
        let r = t
            .delete(&format!("/api/permissions/membership/{mid}"), &w.admin)
            .await;
        assert_eq!((r.status, r.text.as_str()), (204, ""));
        assert_eq!(user(&t, &w.admin, w.alice_id).await["is_superuser"], false);
        t.get("/api/user", &w.alice)
            .await
            .assert_text(403, FORBIDDEN);
        t.delete(&format!("/api/permissions/membership/{mid}"), &w.admin)
            .await
            .assert_text(404, "Not found.");
    }
);

both!(s77_last_admin_membership_cannot_go, |t| async move {
    let w = world(&t).await;
    let mid = membership_id(&t, &w.admin, 1, 2).await;
    t.delete(&format!("/api/permissions/membership/{mid}"), &w.admin)
        .await
        .assert_text(400, LAST_ADMIN);
    assert_eq!(user(&t, &w.admin, 1).await["is_superuser"], true);
    // With a second admin person it may go.
    add(&t, &w.admin, 2, w.alice_id).await.assert(200);
    t.delete(&format!("/api/permissions/membership/{mid}"), &w.admin)
        .await
        .assert(204);
    assert_eq!(user(&t, &w.alice, 1).await["is_superuser"], false);
    let alice_mid = membership_id(&t, &w.alice, w.alice_id, 2).await;
    t.delete(
        &format!("/api/permissions/membership/{alice_mid}"),
        &w.alice,
    )
    .await
    .assert_text(400, LAST_ADMIN);
});

both!(s78_group_managers_are_a_paid_feature, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    add(&t, &w.admin, g1, w.alice_id).await.assert(200);
    let mid = membership_id(&t, &w.admin, w.alice_id, g1).await;
    let path = format!("/api/permissions/membership/{mid}");
    t.put(&path, &w.admin, json!({"is_group_manager": true}))
        .await
        .assert_text(402, GROUP_MANAGER);
    t.put(&path, &w.admin, json!({"is_group_manager": false}))
        .await
        .assert_text(402, GROUP_MANAGER);
    t.put(
        "/api/permissions/membership/999999",
        &w.admin,
        json!({"is_group_manager": true}),
    )
    .await
    .assert_text(402, GROUP_MANAGER);
    t.put(&path, &w.alice, json!({"is_group_manager": true}))
        .await
        .assert_text(403, FORBIDDEN);
    let r = t.put(&path, &w.admin, json!({})).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"is_group_manager": "value must be a boolean."})
    );
    let r = t
        .put(&path, &w.alice, json!({"is_group_manager": "x"}))
        .await;
    r.assert(400);
});

both!(s79_clear_group, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    add(&t, &w.admin, g1, w.alice_id).await.assert(200);
    add(&t, &w.admin, g1, w.bob_id).await.assert(200);
    t.put(
        &format!("/api/permissions/membership/{g1}/clear"),
        &w.alice,
        json!({}),
    )
    .await
    .assert_text(403, FORBIDDEN);
    let r = t
        .put(
            &format!("/api/permissions/membership/{g1}/clear"),
            &w.admin,
            json!({}),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    assert_eq!(member_count(&t, &w.admin, g1).await, 0);
    assert_eq!(group_detail(&t, &w.admin, g1).await["members"], json!([]));
    assert_eq!(
        membership_ids(&user(&t, &w.admin, w.alice_id).await),
        vec![1]
    );
    t.put("/api/permissions/membership/2/clear", &w.admin, json!({}))
        .await
        .assert_text(400, "Invalid Request.");
    t.put("/api/permissions/membership/1/clear", &w.admin, json!({}))
        .await
        .assert_text(400, ALL_USERS_TEXT);
    t.put(
        "/api/permissions/membership/999999/clear",
        &w.admin,
        json!({}),
    )
    .await
    .assert_text(404, "Not found.");
    let r = t
        .put("/api/permissions/membership/0/clear", &w.admin, json!({}))
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"group-id": "value must be an integer greater than zero."})
    );
    assert_eq!(member_count(&t, &w.admin, 2).await, 1);
});

both!(s80_delete_membership_errors, |t| async move {
    let w = world(&t).await;
    let mid = membership_id(&t, &w.admin, w.alice_id, 1).await;
    t.delete(&format!("/api/permissions/membership/{mid}"), &w.admin)
        .await
        .assert_text(400, ALL_USERS_TEXT);
    t.delete(&format!("/api/permissions/membership/{mid}"), &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
    t.delete("/api/permissions/membership/999999", &w.admin)
        .await
        .assert_text(404, "Not found.");
    t.delete("/api/permissions/membership/999999", &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
    assert_eq!(
        membership_ids(&user(&t, &w.admin, w.alice_id).await),
        vec![1]
    );
});
