//! `GET /api/user/current` is served from a per-instance cache (README §Benchmarks). These tests
//! prime that cache, make each kind of write that changes the view, and check the very next
//! request shows it — on both backends, for a person's session and for an API key — and that a
//! write through one `ferrobase serve` process reaches another one's cached view within a second
//! (PostgreSQL).
use std::time::Duration;

use serde_json::{json, Value};

use crate::api_keys_process::{two_instances, with_pg, Pair, Server};
use crate::both;
use crate::cards::native;
use crate::support::{Auth, PgDb, TestApp};
use crate::users::world;

/// `GET /api/user/current` twice (the second one from the cache); both must agree.
async fn current(t: &TestApp, auth: &Auth) -> Value {
    let a = t.get("/api/user/current", auth).await;
    a.assert(200);
    let b = t.get("/api/user/current", auth).await;
    b.assert(200);
    assert_eq!(a.json(), b.json());
    b.json()
}

fn group_ids(v: &Value) -> Vec<i64> {
    v["group_ids"]
        .as_array()
        .expect("group_ids")
        .iter()
        .map(|g| g.as_i64().expect("id"))
        .collect()
}

async fn model_card(t: &TestApp, by: &Auth) {
    t.post(
        "/api/card",
        by,
        json!({"name": "M", "dataset_query": native("select 1"), "display": "table",
               "visualization_settings": {}, "type": "model"}),
    )
    .await
    .assert(200);
}

both!(current_user_cache_person_sees_every_write, |t| async move {
    let w = world(&t).await;
    let alice_path = format!("/api/user/{}", w.alice_id);
    let v = current(&t, &w.alice).await;
    assert_eq!(v["first_name"], "Alice");

    // Rename.
    t.put(&alice_path, &w.admin, json!({"first_name": "Alicia"}))
        .await
        .assert(200);
    let v = current(&t, &w.alice).await;
    assert_eq!(
        (&v["first_name"], &v["common_name"]),
        (&json!("Alicia"), &json!("Alicia"))
    );

    // Add, then remove, a membership.
    let g = t.group(&w.admin, "Analysts").await;
    let members = t
        .post(
            "/api/permissions/membership",
            &w.admin,
            json!({"group_id": g, "user_id": w.alice_id}),
        )
        .await
        .json();
    assert_eq!(group_ids(&current(&t, &w.alice).await), vec![1, g]);
    let membership = members
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["user_id"] == w.alice_id)
        .and_then(|m| m["membership_id"].as_i64())
        .expect("membership id");
    t.delete(
        &format!("/api/permissions/membership/{membership}"),
        &w.admin,
    )
    .await
    .assert(204);
    assert_eq!(group_ids(&current(&t, &w.alice).await), vec![1]);

    // Make superuser.
    t.put(
        &alice_path,
        &w.admin,
        json!({"is_superuser": true, "user_group_memberships": [{"id": 1}, {"id": 2}]}),
    )
    .await
    .assert(200);
    let v = current(&t, &w.alice).await;
    assert_eq!(v["is_superuser"], true);
    assert_eq!(group_ids(&v), vec![1, 2]);

    // A card by someone else flips a content flag in everyone's view.
    assert_eq!(current(&t, &w.alice).await["has_model"], false);
    model_card(&t, &w.admin).await;
    assert_eq!(current(&t, &w.alice).await["has_model"], true);

    // A login moves last_login.
    let before = current(&t, &w.bob).await["last_login"].clone();
    tokio::time::sleep(Duration::from_millis(5)).await;
    t.login("bob@example.com", crate::support::PASSWORD).await;
    assert_ne!(current(&t, &w.bob).await["last_login"], before);

    // Deactivation.
    t.delete(&alice_path, &w.admin).await.assert(200);
    t.get("/api/user/current", &w.alice)
        .await
        .assert_text(401, "Unauthenticated");
});

both!(current_user_cache_key_sees_every_write, |t| async move {
    let admin = t.setup().await;
    let g = t.group(&admin, "Robots").await;
    let r = t
        .post(
            "/api/api-key",
            &admin,
            json!({"name": "Robot", "group_id": g}),
        )
        .await;
    r.assert(200);
    let id = r.json()["id"].as_i64().expect("id");
    let key = Auth::Key(r.json()["unmasked_key"].as_str().expect("key").into());
    let v = current(&t, &key).await;
    assert_eq!(
        (&v["first_name"], &v["is_superuser"]),
        (&json!("Robot"), &json!(false))
    );
    assert_eq!(group_ids(&v), vec![1, g]);

    // Rename the key (renames its key user).
    let path = format!("/api/api-key/{id}");
    t.put(&path, &admin, json!({"name": "Robby"}))
        .await
        .assert(200);
    assert_eq!(current(&t, &key).await["common_name"], "Robby");

    // Move it to Administrators: superuser, new memberships.
    t.put(&path, &admin, json!({"group_id": 2}))
        .await
        .assert(200);
    let v = current(&t, &key).await;
    assert_eq!(v["is_superuser"], true);
    assert_eq!(group_ids(&v), vec![1, 2]);

    // A write the key itself makes.
    assert_eq!(v["has_model"], false);
    model_card(&t, &key).await;
    assert_eq!(current(&t, &key).await["has_model"], true);

    // Deleting the key deactivates its user.
    t.delete(&path, &admin).await.assert(204);
    t.get("/api/user/current", &key)
        .await
        .assert_text(401, "Unauthenticated");
});

both!(
    current_user_cache_keeps_session_and_key_views_apart,
    |t| async move {
        let admin = t.setup().await;
        // The admin's own view (session) carries login times; a key user's view never does.
        let person = current(&t, &admin).await;
        assert!(person["last_login"].is_string(), "{person}");
        let key = Auth::Key(crate::users::create_key(&t, &admin, "Robot", 2).await);
        let robot = current(&t, &key).await;
        assert_eq!(robot["last_login"], Value::Null);
        assert_eq!(robot["is_installer"], false);
        assert_eq!(current(&t, &admin).await, person);
    }
);

/// Polls `GET /api/user/current` on `server` until `check` holds; fails after 1 s.
async fn within_one_second(server: &Server, auth: &Auth, check: impl Fn(&Value) -> bool) {
    crate::api_keys_process::poll_within_one_second(
        || server.get("/api/user/current", auth),
        |r| {
            r.assert(200);
            check(&r.json())
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn current_user_cache_two_instances_see_each_others_writes() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    with_pg(&db, async {
        let Pair { a, b, admin, .. } = two_instances(&db).await;
        let (_, key) = a.create_key(&admin, "Robot", 2).await;
        let key = Auth::Key(key);
        let r = a
            .request(
                "POST",
                "/api/user",
                &admin,
                Some(json!({"email": "alice@example.com", "first_name": "Alice",
                            "password": crate::support::PASSWORD})),
            )
            .await;
        r.assert(200);
        let alice_id = r.json()["id"].as_i64().expect("id");
        let r = b
            .request(
                "POST",
                "/api/session",
                &Auth::None,
                Some(json!({"username": "alice@example.com",
                            "password": crate::support::PASSWORD})),
            )
            .await;
        r.assert(200);
        let alice = Auth::Session(r.json()["id"].as_str().expect("id").into());

        // B caches both views.
        for _ in 0..2 {
            b.get("/api/user/current", &key).await.assert(200);
            b.get("/api/user/current", &alice).await.assert(200);
        }
        // A makes writes that touch neither the key nor its user.
        a.request(
            "POST",
            "/api/card",
            &key,
            Some(
                json!({"name": "M", "dataset_query": native("select 1"), "display": "table",
                        "visualization_settings": {}, "type": "model"}),
            ),
        )
        .await
        .assert(200);
        within_one_second(&b, &key, |v| v["has_model"] == true).await;
        a.request(
            "PUT",
            &format!("/api/user/{alice_id}"),
            &admin,
            Some(json!({"first_name": "Alicia"})),
        )
        .await
        .assert(200);
        within_one_second(&b, &alice, |v| v["first_name"] == "Alicia").await;
    })
    .await;
}
