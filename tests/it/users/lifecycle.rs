//! people-and-groups.md §4.7–4.10 acceptance scenarios 56–63: deactivate, reactivate, passwords,
//! modals.
use serde_json::json;

use super::{create_key, key_user_id, membership_ids, user, world, FORBIDDEN, LAST_ADMIN};
use crate::both;
use crate::support::{Auth, PASSWORD};

const NEW_PASSWORD: &str = "green8-otter-comet";

fn session_id(v: &serde_json::Value) -> String {
    let sid = v["session_id"].as_str().expect("session_id").to_string();
    assert!(uuid::Uuid::parse_str(&sid).is_ok(), "{sid}");
    sid
}

both!(
    s56_deactivate_ends_sessions_and_keeps_memberships,
    |t| async move {
        let w = world(&t).await;
        let g1 = t.group(&w.admin, "G1").await;
        t.post(
            "/api/permissions/membership",
            &w.admin,
            json!({"group_id": g1, "user_id": w.alice_id}),
        )
        .await
        .assert(200);
        let second = t.login("alice@example.com", PASSWORD).await;
        let r = t
            .delete(&format!("/api/user/{}", w.alice_id), &w.admin)
            .await;
        r.assert(200);
        assert_eq!(r.json(), json!({"success": true}));
        t.get("/api/user/current", &w.alice)
            .await
            .assert_text(401, "Unauthenticated");
        t.get("/api/user/current", &second)
            .await
            .assert_text(401, "Unauthenticated");
        let v = user(&t, &w.admin, w.alice_id).await;
        assert_eq!(v["is_active"], false);
        assert_eq!(membership_ids(&v), vec![1, g1]);
        // A session of an inactive user never authenticates, even if its row exists.
        let sid = {
            let mut tx = t.app.store.begin().await.expect("begin");
            let now = t.app.clock.now();
            let sid = ferrobase::sessions::service::create_session(tx.as_mut(), w.alice_id, now)
                .await
                .expect("session");
            tx.commit().await.expect("commit");
            sid
        };
        t.get("/api/user/current", &Auth::Session(sid.to_string()))
            .await
            .assert_text(401, "Unauthenticated");
        // Deactivating again succeeds and records nothing more.
        let before = t.audit(&w.admin, "model=User").await;
        assert_eq!(
            before
                .iter()
                .filter(|e| e["topic"] == "user-deactivated")
                .count(),
            1
        );
        let r = t
            .delete(&format!("/api/user/{}", w.alice_id), &w.admin)
            .await;
        assert_eq!((r.status, r.json()), (200, json!({"success": true})));
        let after = t.audit(&w.admin, "model=User").await;
        assert_eq!(
            after
                .iter()
                .filter(|e| e["topic"] == "user-deactivated")
                .count(),
            1
        );
        // Bob is untouched.
        t.get("/api/user/current", &w.bob).await.assert(200);
    }
);

both!(s57_last_admin_cannot_deactivate_themself, |t| async move {
    let w = world(&t).await;
    t.delete("/api/user/1", &w.admin)
        .await
        .assert_text(400, LAST_ADMIN);
    assert_eq!(user(&t, &w.admin, 1).await["is_active"], true);
    t.get("/api/user/current", &w.admin).await.assert(200);
    t.delete(&format!("/api/user/{}", w.alice_id), &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
    t.delete(&format!("/api/user/{}", w.bob_id), &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
    assert_eq!(user(&t, &w.admin, w.alice_id).await["is_active"], true);
});

both!(
    s57_admin_api_key_does_not_save_the_last_admin_person,
    |t| async move {
        let w = world(&t).await;
        let key = create_key(&t, &w.admin, "admin key", 2).await;
        t.delete("/api/user/1", &w.admin)
            .await
            .assert_text(400, LAST_ADMIN);
        // Not even when the key itself asks.
        t.delete("/api/user/1", &Auth::Key(key))
            .await
            .assert_text(400, LAST_ADMIN);
        assert_eq!(user(&t, &w.admin, 1).await["is_active"], true);
    }
);

both!(s58_deactivate_unknown_user_is_404, |t| async move {
    let w = world(&t).await;
    t.delete("/api/user/999999", &w.admin)
        .await
        .assert_text(404, "Not found.");
    t.delete("/api/user/999999", &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
});

both!(s58_deactivate_key_user_is_404, |t| async move {
    let w = world(&t).await;
    let key = create_key(&t, &w.admin, "robot", 1).await;
    let kid = key_user_id(&t, &key).await;
    t.delete(&format!("/api/user/{kid}"), &w.admin)
        .await
        .assert_text(404, "Not found.");
    t.put(&format!("/api/user/{kid}/reactivate"), &w.admin, json!({}))
        .await
        .assert_text(404, "Not found.");
    t.put(
        &format!("/api/user/{kid}/password"),
        &w.admin,
        json!({"password": NEW_PASSWORD}),
    )
    .await
    .assert_text(404, "Not found.");
    // The key still works, and admins can read its user.
    t.get("/api/user/current", &Auth::Key(key))
        .await
        .assert(200);
    assert_eq!(user(&t, &w.admin, kid).await["is_active"], true);
});

both!(s59_reactivate, |t| async move {
    let w = world(&t).await;
    let g1 = t.group(&w.admin, "G1").await;
    t.put(
        &format!("/api/user/{}", w.alice_id),
        &w.admin,
        json!({"user_group_memberships": [{"id": 1}, {"id": 2}, {"id": g1}]}),
    )
    .await
    .assert(200);
    t.delete(&format!("/api/user/{}", w.alice_id), &w.admin)
        .await
        .assert(200);
    assert_eq!(
        membership_ids(&user(&t, &w.admin, w.alice_id).await),
        vec![1, 2, g1]
    );
    t.put(
        &format!("/api/user/{}/reactivate", w.alice_id),
        &w.bob,
        json!({}),
    )
    .await
    .assert_text(403, FORBIDDEN);
    let r = t
        .put(
            &format!("/api/user/{}/reactivate", w.alice_id),
            &w.admin,
            json!({}),
        )
        .await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["is_active"], true);
    assert_eq!(v["is_superuser"], false);
    assert_eq!(membership_ids(&v), vec![1, g1]);
    // She can log in again, without admin rights.
    let alice = t.login("alice@example.com", PASSWORD).await;
    t.get("/api/user", &alice).await.assert_text(403, FORBIDDEN);
    t.put("/api/user/999999/reactivate", &w.admin, json!({}))
        .await
        .assert_text(404, "Not found.");
    let r = t
        .put(
            &format!("/api/user/{}/reactivate", w.bob_id),
            &w.admin,
            json!({}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"message": "Not able to reactivate an active user"})
    );
});

both!(s60_own_password_change_replaces_sessions, |t| async move {
    let w = world(&t).await;
    let other = t.login("alice@example.com", PASSWORD).await;
    let r = t
        .put(
            &format!("/api/user/{}/password", w.alice_id),
            &w.alice,
            json!({"password": NEW_PASSWORD, "old_password": PASSWORD}),
        )
        .await;
    r.assert(200);
    let v = r.json();
    assert_eq!(
        crate::users::keys(&v),
        crate::users::sorted(&["success", "session_id"])
    );
    assert_eq!(v["success"], true);
    let sid = session_id(&v);
    let cookie = r.header("set-cookie").expect("set-cookie");
    assert_eq!(
        cookie,
        format!("metabase.SESSION={sid}; Path=/; HttpOnly; SameSite=Lax")
    );
    t.get("/api/user/current", &w.alice)
        .await
        .assert_text(401, "Unauthenticated");
    t.get("/api/user/current", &other)
        .await
        .assert_text(401, "Unauthenticated");
    let me = t.get("/api/user/current", &Auth::Cookie(sid)).await;
    me.assert(200);
    assert_eq!(me.json()["id"], w.alice_id);
    let r = t
        .post(
            "/api/session",
            &Auth::None,
            json!({"username": "alice@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        (r.status, r.json()),
        (
            401,
            json!({"errors": {"password": "did not match stored password"}})
        )
    );
    t.login("alice@example.com", NEW_PASSWORD).await;
    // Bob's sessions are unaffected.
    t.get("/api/user/current", &w.bob).await.assert(200);
});

both!(s61_admin_resets_a_password, |t| async move {
    let w = world(&t).await;
    let r = t
        .put(
            &format!("/api/user/{}/password", w.alice_id),
            &w.admin,
            json!({"password": NEW_PASSWORD}),
        )
        .await;
    assert_eq!((r.status, r.text.as_str()), (204, ""));
    assert!(r.header("set-cookie").is_none());
    t.get("/api/user/current", &w.alice)
        .await
        .assert_text(401, "Unauthenticated");
    t.get("/api/user/current", &w.admin).await.assert(200);
    t.login("alice@example.com", NEW_PASSWORD).await;
    // An admin changing their own password gets a new session, without an old password.
    let r = t
        .put(
            "/api/user/1/password",
            &w.admin,
            json!({"password": NEW_PASSWORD}),
        )
        .await;
    r.assert(200);
    session_id(&r.json());
    t.get("/api/user/current", &w.admin)
        .await
        .assert_text(401, "Unauthenticated");
    // A deactivated person's password cannot be set.
    let admin = t.login("ada@example.com", NEW_PASSWORD).await;
    t.delete(&format!("/api/user/{}", w.bob_id), &admin)
        .await
        .assert(200);
    t.put(
        &format!("/api/user/{}/password", w.bob_id),
        &admin,
        json!({"password": NEW_PASSWORD}),
    )
    .await
    .assert_text(404, "Not found.");
    t.put(
        "/api/user/999999/password",
        &admin,
        json!({"password": NEW_PASSWORD}),
    )
    .await
    .assert_text(404, "Not found.");
});

both!(s62_password_change_errors, |t| async move {
    let w = world(&t).await;
    t.put(
        &format!("/api/user/{}/password", w.bob_id),
        &w.alice,
        json!({"password": NEW_PASSWORD, "old_password": PASSWORD}),
    )
    .await
    .assert_text(403, FORBIDDEN);
    for body in [
        json!({"password": NEW_PASSWORD, "old_password": "wrong-1234"}),
        json!({"password": NEW_PASSWORD}),
    ] {
        let r = t
            .put(
                &format!("/api/user/{}/password", w.alice_id),
                &w.alice,
                body,
            )
            .await;
        r.assert(400);
        assert_eq!(
            r.json(),
            json!({"errors": {"old_password": "Invalid password"}})
        );
    }
    for body in [
        json!({}),
        json!({"password": "abc123", "old_password": PASSWORD}),
    ] {
        let r = t
            .put(
                &format!("/api/user/{}/password", w.alice_id),
                &w.alice,
                body,
            )
            .await;
        r.assert(400);
        let v = r.json();
        assert_eq!(v["errors"], json!({"password": "password is too common."}));
        assert!(!v["specific-errors"]["password"]
            .as_array()
            .unwrap()
            .is_empty());
    }
    // Validation comes before the permission check.
    let r = t
        .put(
            &format!("/api/user/{}/password", w.bob_id),
            &w.alice,
            json!({}),
        )
        .await;
    r.assert(400);
    // Nothing changed: the old sessions and password still work.
    t.get("/api/user/current", &w.alice).await.assert(200);
    t.login("alice@example.com", PASSWORD).await;
});

both!(s63_dismiss_modals, |t| async move {
    let w = world(&t).await;
    assert_eq!(user(&t, &w.admin, w.alice_id).await["is_qbnewb"], true);
    let r = t
        .put(
            &format!("/api/user/{}/modal/qbnewb", w.alice_id),
            &w.alice,
            json!({}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json(), json!({"success": true}));
    assert_eq!(user(&t, &w.admin, w.alice_id).await["is_qbnewb"], false);
    let r = t
        .put(
            &format!("/api/user/{}/modal/datasetnewb", w.bob_id),
            &w.bob,
            json!({}),
        )
        .await;
    assert_eq!((r.status, r.json()), (200, json!({"success": true})));
    assert_eq!(user(&t, &w.admin, w.bob_id).await["is_qbnewb"], true);
    t.put(
        &format!("/api/user/{}/modal/other", w.alice_id),
        &w.alice,
        json!({}),
    )
    .await
    .assert_text(404, "Not found.");
    t.put(
        &format!("/api/user/{}/modal/qbnewb", w.bob_id),
        &w.alice,
        json!({}),
    )
    .await
    .assert_text(403, FORBIDDEN);
    t.put(
        &format!("/api/user/{}/modal/qbnewb", w.bob_id),
        &w.admin,
        json!({}),
    )
    .await
    .assert(200);
    t.put("/api/user/999999/modal/qbnewb", &w.admin, json!({}))
        .await
        .assert_text(404, "Not found.");
});
