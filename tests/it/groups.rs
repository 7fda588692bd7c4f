//! people-and-groups.md §5 (groups) acceptance scenarios 64–72. Memberships (73–80) and API-key
//! users with the audit events (98–100) are in submodules.
use serde_json::{json, Value};

use crate::both;
use crate::support::{Auth, TestApp};
use crate::users::{create_key, keys, membership_ids, sorted, user, world, FORBIDDEN};

mod key_users_and_audit;
mod memberships;

pub const DUPLICATE: &str = "A group with that name already exists.";
pub const FIXED_ALL_USERS: &str = "You cannot edit or delete the 'All Users' permissions group!";
pub const FIXED_ADMINS: &str = "You cannot edit or delete the 'Administrators' permissions group!";

pub async fn groups(t: &TestApp, admin: &Auth, query: &str) -> Vec<Value> {
    let r = t
        .get(&format!("/api/permissions/group{query}"), admin)
        .await;
    r.assert(200);
    r.json().as_array().expect("bare array").clone()
}

pub async fn member_count(t: &TestApp, admin: &Auth, id: i64) -> i64 {
    groups(t, admin, "")
        .await
        .iter()
        .find(|g| g["id"] == id)
        .unwrap_or_else(|| panic!("group {id} not listed"))["member_count"]
        .as_i64()
        .expect("member_count")
}

pub async fn group_detail(t: &TestApp, admin: &Auth, id: i64) -> Value {
    let r = t.get(&format!("/api/permissions/group/{id}"), admin).await;
    r.assert(200);
    r.json()
}

pub fn member_user_ids(detail: &Value) -> Vec<i64> {
    detail["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["user_id"].as_i64().unwrap())
        .collect()
}

both!(s64_fixed_groups_listed_in_name_order, |t| async move {
    let admin = t.setup().await;
    let r = t.get("/api/permissions/group", &admin).await;
    r.assert(200);
    assert!(r.content_type().starts_with("application/json"));
    assert_eq!(
        r.json(),
        json!([
            {"id": 2, "name": "Administrators", "magic_group_type": "admin", "member_count": 1},
            {"id": 1, "name": "All Users", "magic_group_type": "all-internal-users", "member_count": 1}
        ])
    );
    // Case-insensitive name order, then id.
    let z = t.group(&admin, "zeta").await;
    let b = t.group(&admin, "Beta").await;
    let a = t.group(&admin, "alpha").await;
    let e2 = t.group(&admin, "Émile").await;
    let e1 = t.group(&admin, "éa").await;
    let ids: Vec<i64> = groups(&t, &admin, "")
        .await
        .iter()
        .map(|g| g["id"].as_i64().unwrap())
        .collect();
    // "all users" < "alpha" < "Beta" < "zeta" < "éa" < "émile" when case is ignored.
    assert_eq!(ids, vec![2, 1, a, b, z, e1, e2]);
});

both!(s65_member_count_counts_active_members, |t| async move {
    let w = world(&t).await;
    let g = t.group(&w.admin, "Empty").await;
    assert_eq!(member_count(&t, &w.admin, g).await, 0);
    assert_eq!(member_count(&t, &w.admin, 1).await, 3);
    for id in [w.alice_id, w.bob_id] {
        t.post(
            "/api/permissions/membership",
            &w.admin,
            json!({"group_id": g, "user_id": id}),
        )
        .await
        .assert(200);
    }
    assert_eq!(member_count(&t, &w.admin, g).await, 2);
    t.delete(&format!("/api/user/{}", w.bob_id), &w.admin)
        .await
        .assert(200);
    assert_eq!(member_count(&t, &w.admin, g).await, 1);
    assert_eq!(member_count(&t, &w.admin, 1).await, 2);
});

both!(s65_api_key_counts_as_a_member, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    create_key(&t, &w.admin, "robot", g1).await;
    assert_eq!(member_count(&t, &w.admin, g1).await, 1);
    assert_eq!(member_count(&t, &w.admin, 1).await, 4);
    assert_eq!(member_count(&t, &w.admin, 2).await, 1);
});

both!(s66_group_list_paging_and_permissions, |t| async move {
    let w = world(&t).await;
    t.get("/api/permissions/group", &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
    t.get("/api/permissions/group/1", &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
    t.get("/api/permissions/group/999999", &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
    let page = groups(&t, &w.admin, "?limit=1&offset=1").await;
    assert_eq!(page.len(), 1);
    assert_eq!(
        (page[0]["id"].clone(), page[0]["name"].clone()),
        (json!(1), json!("All Users"))
    );
    let page = groups(&t, &w.admin, "?limit=1").await;
    assert_eq!(page[0]["id"], 2);
    assert_eq!(groups(&t, &w.admin, "?offset=1").await.len(), 1);
    assert!(groups(&t, &w.admin, "?offset=5").await.is_empty());
    t.get("/api/permissions/group?limit=0", &w.admin)
        .await
        .assert(400);
    t.get("/api/permissions/group?offset=-1", &w.admin)
        .await
        .assert(400);
});

both!(s67_group_detail_lists_active_members, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    let (carol, _) = t.person(&w.admin, "carol", "carol@example.com").await;
    let (emile, _) = t.person(&w.admin, "Émile", "emile@example.com").await;
    let (ea, _) = t.person(&w.admin, "éa", "ea@example.com").await;
    let nameless = t
        .post("/api/user", &w.admin, json!({"email": "aaa@example.com"}))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    for id in [nameless, emile, carol, ea, w.bob_id, w.alice_id] {
        t.post(
            "/api/permissions/membership",
            &w.admin,
            json!({"group_id": g1, "user_id": id}),
        )
        .await
        .assert(200);
    }
    let d = group_detail(&t, &w.admin, g1).await;
    assert_eq!(
        keys(&d),
        sorted(&["id", "name", "magic_group_type", "members"])
    );
    assert_eq!(
        (
            d["id"].clone(),
            d["name"].clone(),
            d["magic_group_type"].clone()
        ),
        (json!(g1), json!("G1"), Value::Null)
    );
    // Names case-insensitively (Unicode, on both backends), missing names last.
    assert_eq!(
        member_user_ids(&d),
        vec![w.alice_id, w.bob_id, carol, ea, emile, nameless]
    );
    let alice = &d["members"][0];
    assert_eq!(
        keys(alice),
        sorted(&[
            "id",
            "user_id",
            "membership_id",
            "group_id",
            "email",
            "first_name",
            "last_name",
            "common_name",
            "is_superuser",
            "is_group_manager"
        ])
    );
    assert_eq!(alice["id"], w.alice_id);
    assert_eq!(alice["group_id"], g1);
    assert_eq!(alice["email"], "alice@example.com");
    assert_eq!(alice["first_name"], "Alice");
    assert_eq!(alice["last_name"], Value::Null);
    assert_eq!(alice["common_name"], "Alice");
    assert_eq!(alice["is_superuser"], false);
    assert_eq!(alice["is_group_manager"], false);
    assert!(alice["membership_id"].is_i64());
    t.delete(&format!("/api/user/{}", w.bob_id), &w.admin)
        .await
        .assert(200);
    let d = group_detail(&t, &w.admin, g1).await;
    assert_eq!(
        member_user_ids(&d),
        vec![w.alice_id, carol, ea, emile, nameless]
    );
    let admins = group_detail(&t, &w.admin, 2).await;
    assert_eq!(admins["members"][0]["is_superuser"], true);
    assert_eq!(admins["magic_group_type"], "admin");
    t.get("/api/permissions/group/999999", &w.admin)
        .await
        .assert_text(404, "Not found.");
});

both!(s68_create_group, |t| async move {
    let w = world(&t).await;
    let r = t
        .post(
            "/api/permissions/group",
            &w.admin,
            json!({"name": "Analysts"}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"id": 3, "name": "Analysts", "magic_group_type": null})
    );
    assert_eq!(member_count(&t, &w.admin, 3).await, 0);
    for body in [
        json!({"name": null}),
        json!({}),
        json!({"name": "  "}),
        json!({"name": 5}),
    ] {
        let r = t
            .post("/api/permissions/group", &w.admin, body.clone())
            .await;
        r.assert(400);
        assert_eq!(
            r.json()["errors"],
            json!({"name": "value must be a non-blank string."}),
            "{body}"
        );
        assert!(!r.json()["specific-errors"]["name"]
            .as_array()
            .unwrap()
            .is_empty());
    }
    let r = t
        .post(
            "/api/permissions/group",
            &w.admin,
            json!({"name": "x".repeat(256)}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"name": "value must be a string of at most 255 characters."})
    );
    t.post(
        "/api/permissions/group",
        &w.admin,
        json!({"name": "é".repeat(255)}),
    )
    .await
    .assert(200);
    t.post("/api/permissions/group", &w.alice, json!({"name": "Mine"}))
        .await
        .assert_text(403, FORBIDDEN);
    // Validation comes before the permission check.
    t.post("/api/permissions/group", &w.alice, json!({"name": null}))
        .await
        .assert(400);
});

both!(s69_duplicate_group_names, |t| async move {
    let admin = t.setup().await;
    t.group(&admin, "Analysts").await;
    for name in ["analysts", "ANALYSTS", "administrators", "All users"] {
        t.post("/api/permissions/group", &admin, json!({"name": name}))
            .await
            .assert_text(400, DUPLICATE);
    }
    assert_eq!(groups(&t, &admin, "").await.len(), 3);
});

both!(s70_fixed_groups_cannot_change, |t| async move {
    let admin = t.setup().await;
    t.put("/api/permissions/group/1", &admin, json!({"name": "x"}))
        .await
        .assert_text(400, FIXED_ALL_USERS);
    t.put("/api/permissions/group/2", &admin, json!({"name": "x"}))
        .await
        .assert_text(400, FIXED_ADMINS);
    t.delete("/api/permissions/group/2", &admin)
        .await
        .assert_text(400, FIXED_ADMINS);
    t.delete("/api/permissions/group/1", &admin)
        .await
        .assert_text(400, FIXED_ALL_USERS);
    let names: Vec<Value> = groups(&t, &admin, "")
        .await
        .iter()
        .map(|g| g["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Administrators"), json!("All Users")]);
});

both!(s71_rename_group, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    let g2 = t.group(&w.admin, "G2").await;
    let r = t
        .put(
            &format!("/api/permissions/group/{g1}"),
            &w.admin,
            json!({"name": "Readers"}),
        )
        .await;
    r.assert(200);
    assert_eq!(
        r.json(),
        json!({"id": g1, "name": "Readers", "magic_group_type": null})
    );
    let before = t.audit(&w.admin, "model=PermissionsGroup").await.len();
    let r = t
        .put(
            &format!("/api/permissions/group/{g1}"),
            &w.admin,
            json!({"name": "Readers"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["name"].clone()),
        (200, json!("Readers"))
    );
    assert_eq!(
        t.audit(&w.admin, "model=PermissionsGroup").await.len(),
        before
    );
    // A change of letter case is a rename of the group itself.
    let r = t
        .put(
            &format!("/api/permissions/group/{g1}"),
            &w.admin,
            json!({"name": "readers"}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["name"].clone()),
        (200, json!("readers"))
    );
    t.put(
        &format!("/api/permissions/group/{g1}"),
        &w.admin,
        json!({"name": "g2"}),
    )
    .await
    .assert_text(400, DUPLICATE);
    t.put(
        &format!("/api/permissions/group/{g1}"),
        &w.admin,
        json!({"name": "Administrators"}),
    )
    .await
    .assert_text(400, DUPLICATE);
    let r = t
        .put(
            &format!("/api/permissions/group/{g2}"),
            &w.admin,
            json!({"name": ""}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"name": "value must be a non-blank string."})
    );
    t.put(
        &format!("/api/permissions/group/{g1}"),
        &w.alice,
        json!({"name": "Mine"}),
    )
    .await
    .assert_text(403, FORBIDDEN);
    t.put(
        "/api/permissions/group/999999",
        &w.admin,
        json!({"name": "Mine"}),
    )
    .await
    .assert_text(404, "Not found.");
    assert_eq!(group_detail(&t, &w.admin, g1).await["name"], "readers");
});

both!(s72_delete_group, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    t.post(
        "/api/permissions/membership",
        &w.admin,
        json!({"group_id": g1, "user_id": w.alice_id}),
    )
    .await
    .assert(200);
    t.delete(&format!("/api/permissions/group/{g1}"), &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
    t.delete("/api/permissions/group/999999", &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
    let r = t
        .delete(&format!("/api/permissions/group/{g1}"), &w.admin)
        .await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    assert_eq!(
        membership_ids(&user(&t, &w.admin, w.alice_id).await),
        vec![1]
    );
    let map = t.get("/api/permissions/membership", &w.admin).await.json();
    assert!(
        !map.to_string().contains(&format!("\"group_id\":{g1}")),
        "{map}"
    );
    t.delete(&format!("/api/permissions/group/{g1}"), &w.admin)
        .await
        .assert_text(404, "Not found.");
    t.get(&format!("/api/permissions/group/{g1}"), &w.admin)
        .await
        .assert_text(404, "Not found.");
    // Its name is free again.
    t.group(&w.admin, "G1").await;
});
