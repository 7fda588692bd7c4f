//! people-and-groups.md §4.6 and §7 (`is_superuser` ⇄ Administrators, the last-admin rule)
//! acceptance scenarios 52, 53 and 55.
use serde_json::json;

use super::{create_key, membership_ids, user, world, ALL_USERS_TEXT, FORBIDDEN, LAST_ADMIN};
use crate::both;

const IS_SUPERUSER_MSG: &str =
    "Value of is_superuser must correspond to presence of Admin group ID in group_ids.";

both!(
    s52_is_superuser_must_agree_with_memberships,
    |t| async move {
        let w = world(&t).await;
        let path = format!("/api/user/{}", w.alice_id);
        let r = t
            .put(
                &path,
                &w.admin,
                json!({"is_superuser": true, "user_group_memberships": [{"id": 1}, {"id": 2}]}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.json()["is_superuser"], true);
        assert_eq!(membership_ids(&r.json()), vec![1, 2]);
        let r = t
        .put(&path, &w.admin, json!({"is_superuser": false, "user_group_memberships": [{"id": 1}, {"id": 2}], "first_name": "Q"}))
        .await;
        r.assert(400);
        assert_eq!(
            r.json(),
            json!({"errors": {"is_superuser": IS_SUPERUSER_MSG}})
        );
        let v = user(&t, &w.admin, w.alice_id).await;
        assert_eq!(
            (v["is_superuser"].clone(), v["first_name"].clone()),
            (json!(true), json!("Alice"))
        );
        let r = t
            .put(
                &format!("/api/user/{}", w.bob_id),
                &w.admin,
                json!({"is_superuser": true, "user_group_memberships": [{"id": 1}]}),
            )
            .await;
        r.assert(400);
        assert_eq!(
            r.json(),
            json!({"errors": {"is_superuser": IS_SUPERUSER_MSG}})
        );
        assert_eq!(user(&t, &w.admin, w.bob_id).await["is_superuser"], false);
        // Check 7: a list without All Users, and an unknown group.
        t.put(
            &format!("/api/user/{}", w.bob_id),
            &w.admin,
            json!({"user_group_memberships": [{"id": 2}]}),
        )
        .await
        .assert_text(400, ALL_USERS_TEXT);
        let r = t
            .put(
                &format!("/api/user/{}", w.bob_id),
                &w.admin,
                json!({"user_group_memberships": [{"id": 1}, {"id": 9999}]}),
            )
            .await;
        assert_eq!(
            (r.status, r.json()),
            (
                400,
                json!({"errors": {"user_group_memberships": "Group not found."}})
            )
        );
        assert_eq!(membership_ids(&user(&t, &w.admin, w.bob_id).await), vec![1]);
    }
);

both!(
    s53_is_superuser_or_memberships_alone_keep_them_in_sync,
    |t| async move {
        let w = world(&t).await;
        let g1 = t.group(&w.admin, "G1").await;
        let r = t
            .put(
                &format!("/api/user/{}", w.alice_id),
                &w.admin,
                json!({"is_superuser": true}),
            )
            .await;
        r.assert(200);
        assert_eq!(membership_ids(&r.json()), vec![1, 2]);
        assert_eq!(r.json()["is_superuser"], true);
        let r = t
            .put(
                &format!("/api/user/{}", w.bob_id),
                &w.admin,
                json!({"user_group_memberships": [{"id": 1}, {"id": 2}, {"id": g1}]}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.json()["is_superuser"], true);
        assert_eq!(membership_ids(&r.json()), vec![1, 2, g1]);
        // Bob's session now carries admin rights.
        t.get("/api/user", &w.bob).await.assert(200);
        // Removing Administrators from the list demotes; is_superuser false removes the membership
        // and keeps the other groups.
        let r = t
            .put(
                &format!("/api/user/{}", w.bob_id),
                &w.admin,
                json!({"user_group_memberships": [{"id": 1}, {"id": g1}]}),
            )
            .await;
        assert_eq!(
            (r.json()["is_superuser"].clone(), membership_ids(&r.json())),
            (json!(false), vec![1, g1])
        );
        t.get("/api/user", &w.bob).await.assert_text(403, FORBIDDEN);
        let r = t
            .put(
                &format!("/api/user/{}", w.alice_id),
                &w.admin,
                json!({"is_superuser": false}),
            )
            .await;
        assert_eq!(
            (r.json()["is_superuser"].clone(), membership_ids(&r.json())),
            (json!(false), vec![1])
        );
    }
);

both!(s55_last_admin_cannot_demote_themself, |t| async move {
    let w = world(&t).await;
    t.put("/api/user/1", &w.admin, json!({"is_superuser": false}))
        .await
        .assert_text(400, LAST_ADMIN);
    t.put(
        "/api/user/1",
        &w.admin,
        json!({"user_group_memberships": [{"id": 1}]}),
    )
    .await
    .assert_text(400, LAST_ADMIN);
    assert_eq!(user(&t, &w.admin, 1).await["is_superuser"], true);
    // A second admin person lets the first step down.
    t.put(
        &format!("/api/user/{}", w.alice_id),
        &w.admin,
        json!({"is_superuser": true}),
    )
    .await
    .assert(200);
    let r = t
        .put("/api/user/1", &w.admin, json!({"is_superuser": false}))
        .await;
    r.assert(200);
    assert_eq!(r.json()["is_superuser"], false);
    t.get("/api/user", &w.admin)
        .await
        .assert_text(403, FORBIDDEN);
    // Now alice is the last admin person.
    t.put(
        &format!("/api/user/{}", w.alice_id),
        &w.alice,
        json!({"is_superuser": false}),
    )
    .await
    .assert_text(400, LAST_ADMIN);
});

both!(
    s55_admin_api_key_does_not_count_as_an_admin,
    |t| async move {
        let w = world(&t).await;
        create_key(&t, &w.admin, "admin key", 2).await;
        t.put("/api/user/1", &w.admin, json!({"is_superuser": false}))
            .await
            .assert_text(400, LAST_ADMIN);
        t.put(
            &format!("/api/user/{}", w.alice_id),
            &w.admin,
            json!({"is_superuser": true}),
        )
        .await
        .assert(200);
        t.put("/api/user/1", &w.admin, json!({"is_superuser": false}))
            .await
            .assert(200);
    }
);

both!(s52_update_checks_in_spec_order, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    let alice = format!("/api/user/{}", w.alice_id);
    // 1 validation before 2 permission.
    let r = t
        .put(
            &format!("/api/user/{}", w.bob_id),
            &w.alice,
            json!({"locale": "xx"}),
        )
        .await;
    r.assert(400);
    // 4 (memberships of a non-admin) before 5 (email in use).
    t.put(
        &alice,
        &w.alice,
        json!({"email": "bob@example.com", "user_group_memberships": [{"id": 1}, {"id": g1}]}),
    )
    .await
    .assert_text(403, FORBIDDEN);
    // 5 before 6 before 7 before 8.
    let r = t
        .put("/api/user/1", &w.admin,
             json!({"email": "bob@example.com", "is_superuser": false, "user_group_memberships": [{"id": 2}]}))
        .await;
    assert_eq!(
        r.json(),
        json!({"errors": {"email": "Email address already associated to another user."}})
    );
    let r = t
        .put(
            "/api/user/1",
            &w.admin,
            json!({"is_superuser": true, "user_group_memberships": [{"id": 1}, {"id": 9999}]}),
        )
        .await;
    assert_eq!(
        r.json(),
        json!({"errors": {"is_superuser": IS_SUPERUSER_MSG}})
    );
    t.put(
        "/api/user/1",
        &w.admin,
        json!({"user_group_memberships": [{"id": g1}]}),
    )
    .await
    .assert_text(400, ALL_USERS_TEXT);
    // Nothing changed along the way.
    let v = user(&t, &w.admin, 1).await;
    assert_eq!(
        (v["email"].clone(), membership_ids(&v)),
        (json!("ada@example.com"), vec![1, 2])
    );
});

both!(
    s55_concurrent_demotions_leave_an_admin_person,
    |t| async move {
        let w = world(&t).await;
        t.put(
            &format!("/api/user/{}", w.alice_id),
            &w.admin,
            json!({"is_superuser": true}),
        )
        .await
        .assert(200);
        // Both admins step down at the same time: exactly one may.
        let alice_path = format!("/api/user/{}", w.alice_id);
        let (a, b) = tokio::join!(
            t.put("/api/user/1", &w.admin, json!({"is_superuser": false})),
            t.put(&alice_path, &w.alice, json!({"is_superuser": false}))
        );
        let mut statuses = vec![a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, vec![200, 400], "{} / {}", a.text, b.text);
        let survivor = if a.status == 200 { &w.alice } else { &w.admin };
        assert_eq!(
            t.get("/api/user?group_id=2", survivor).await.json()["total"],
            1
        );
        // Again, removing the Administrators memberships.
        let other = if a.status == 200 { 1 } else { w.alice_id };
        t.put(
            &format!("/api/user/{other}"),
            survivor,
            json!({"is_superuser": true}),
        )
        .await
        .assert(200);
        let map = t.get("/api/permissions/membership", survivor).await.json();
        let admin_mid = |uid: i64| {
            map[uid.to_string()]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["group_id"] == 2)
                .unwrap()["membership_id"]
                .as_i64()
                .unwrap()
        };
        let (m1, m2) = (admin_mid(1), admin_mid(w.alice_id));
        let (p1, p2) = (
            format!("/api/permissions/membership/{m1}"),
            format!("/api/permissions/membership/{m2}"),
        );
        let (a, b) = tokio::join!(t.delete(&p1, &w.admin), t.delete(&p2, &w.alice));
        let mut statuses = vec![a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, vec![204, 400], "{} / {}", a.text, b.text);
        let survivor = if a.status == 204 { &w.alice } else { &w.admin };
        assert_eq!(
            t.get("/api/user?group_id=2", survivor).await.json()["total"],
            1
        );
        // And deactivating each other (the loser may already be logged out: 401).
        let other = if a.status == 204 { 1 } else { w.alice_id };
        t.put(
            &format!("/api/user/{other}"),
            survivor,
            json!({"is_superuser": true}),
        )
        .await
        .assert(200);
        let (a, b) = tokio::join!(
            t.delete(&alice_path, &w.admin),
            t.delete("/api/user/1", &w.alice)
        );
        let mut statuses = vec![a.status, b.status];
        statuses.sort();
        assert!(
            statuses == vec![200, 400] || statuses == vec![200, 401],
            "{} / {}",
            a.text,
            b.text
        );
        let survivor = if a.status == 200 { &w.admin } else { &w.alice };
        let v = t.get("/api/user?group_id=2", survivor).await.json();
        assert_eq!(v["total"], 1, "{v}");
    }
);
