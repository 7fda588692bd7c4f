//! people-and-groups.md §4.6 (`PUT /api/user/:id`) acceptance scenarios 46–51 and 54.
use serde_json::{json, Value};

use super::{create_key, key_user_id, membership_ids, user, world, FORBIDDEN};
use crate::both;
use crate::support::TestApp;

const LOCALE_MSG: &str =
    "String must be a valid two-letter ISO language or language-country code, e.g. 'en' or 'en_US'.";

async fn collection_name(t: &TestApp, owner: i64) -> Option<String> {
    let mut tx = t.app.store.read().await.expect("read");
    tx.personal_collection_name(owner)
        .await
        .expect("collection name")
}

both!(s46_update_renames_the_personal_collection, |t| async move {
    let w = world(&t).await;
    assert_eq!(
        collection_name(&t, w.alice_id).await.as_deref(),
        Some("Alice's Personal Collection")
    );
    let before = user(&t, &w.admin, w.alice_id).await;
    let r = t
        .put(
            &format!("/api/user/{}", w.alice_id),
            &w.admin,
            json!({"last_name": "Smith", "email": "alice2@example.com"}),
        )
        .await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["email"], "alice2@example.com");
    assert_eq!(
        (v["first_name"].clone(), v["last_name"].clone()),
        (json!("Alice"), json!("Smith"))
    );
    assert_eq!(v["common_name"], "Alice Smith");
    assert_eq!(v["user_group_memberships"], json!([{"id": 1}]));
    assert!(v["updated_at"].as_str().unwrap() > before["updated_at"].as_str().unwrap());
    assert_eq!(
        collection_name(&t, w.alice_id).await.as_deref(),
        Some("Alice Smith's Personal Collection")
    );
    // She logs in with the new email.
    t.login("ALICE2@example.com", crate::support::PASSWORD)
        .await;
});

both!(s47_null_names_clear_them, |t| async move {
    let w = world(&t).await;
    let r = t
        .put(
            &format!("/api/user/{}", w.alice_id),
            &w.admin,
            json!({"first_name": null, "last_name": null}),
        )
        .await;
    r.assert(200);
    let v = r.json();
    assert_eq!(
        (v["first_name"].clone(), v["last_name"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(v["common_name"], "alice@example.com");
    assert_eq!(
        collection_name(&t, w.alice_id).await.as_deref(),
        Some("alice@example.com's Personal Collection")
    );
    // Absent names are left alone.
    let r = t
        .put(
            &format!("/api/user/{}", w.bob_id),
            &w.admin,
            json!({"locale": "fr"}),
        )
        .await;
    assert_eq!(r.json()["first_name"], "Bob");
});

both!(s48_email_of_another_user_even_inactive, |t| async move {
    let w = world(&t).await;
    t.delete(&format!("/api/user/{}", w.bob_id), &w.admin)
        .await
        .assert(200);
    let r = t
        .put(
            &format!("/api/user/{}", w.alice_id),
            &w.admin,
            json!({"email": "BOB@EXAMPLE.COM"}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"email": "Email address already associated to another user."}})
    );
    // Her own email in another case is fine.
    let r = t
        .put(
            &format!("/api/user/{}", w.alice_id),
            &w.admin,
            json!({"email": "ALICE@example.com"}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["email"], "alice@example.com");
});

both!(
    s49_non_admin_self_update_ignores_admin_fields,
    |t| async move {
        let w = world(&t).await;
        let r = t
        .put(&format!("/api/user/{}", w.alice_id), &w.alice,
             json!({"is_superuser": true, "login_attributes": {"a": "b"}, "first_name": "Alicia"}))
        .await;
        r.assert(200);
        let v = r.json();
        assert_eq!(v["is_superuser"], false);
        assert_eq!(v["login_attributes"], Value::Null);
        assert_eq!(v["first_name"], "Alicia");
        assert_eq!(membership_ids(&v), vec![1]);
        let v = user(&t, &w.admin, w.alice_id).await;
        assert_eq!(
            (v["is_superuser"].clone(), v["login_attributes"].clone()),
            (json!(false), Value::Null)
        );
        // An admin can set them.
        let r = t
            .put(
                &format!("/api/user/{}", w.alice_id),
                &w.admin,
                json!({"login_attributes": {"a": "b"}}),
            )
            .await;
        assert_eq!(r.json()["login_attributes"], json!({"a": "b"}));
    }
);

both!(s50_who_may_be_updated, |t| async move {
    let w = world(&t).await;
    t.put(
        &format!("/api/user/{}", w.bob_id),
        &w.alice,
        json!({"first_name": "X"}),
    )
    .await
    .assert_text(403, FORBIDDEN);
    t.put("/api/user/999999", &w.alice, json!({}))
        .await
        .assert_text(403, FORBIDDEN);
    t.put("/api/user/999999", &w.admin, json!({}))
        .await
        .assert_text(404, "Not found.");
    t.delete(&format!("/api/user/{}", w.bob_id), &w.admin)
        .await
        .assert(200);
    t.put(
        &format!("/api/user/{}", w.bob_id),
        &w.admin,
        json!({"first_name": "X"}),
    )
    .await
    .assert_text(404, "Not found.");
    // Validation comes first, even for a caller who may not edit the target.
    let r = t
        .put(
            &format!("/api/user/{}", w.bob_id),
            &w.alice,
            json!({"email": "bad"}),
        )
        .await;
    r.assert(400);
});

both!(s50_key_user_cannot_be_updated, |t| async move {
    let w = world(&t).await;
    let key = create_key(&t, &w.admin, "robot", 1).await;
    let kid = key_user_id(&t, &key).await;
    t.put(
        &format!("/api/user/{kid}"),
        &w.admin,
        json!({"first_name": "X"}),
    )
    .await
    .assert_text(404, "Not found.");
});

both!(
    s51_non_admin_cannot_change_own_memberships,
    |t| async move {
        let w = world(&t).await;
        let g1 = t.group(&w.admin, "G1").await;
        t.put(
            &format!("/api/user/{}", w.alice_id),
            &w.alice,
            json!({"first_name": "Z", "user_group_memberships": [{"id": 1}, {"id": g1}]}),
        )
        .await
        .assert_text(403, FORBIDDEN);
        let v = user(&t, &w.admin, w.alice_id).await;
        assert_eq!(v["first_name"], "Alice");
        assert_eq!(membership_ids(&v), vec![1]);
        let r = t
            .put(
                &format!("/api/user/{}", w.alice_id),
                &w.alice,
                json!({"first_name": "Z", "user_group_memberships": [{"id": 1}]}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.json()["first_name"], "Z");
        // Legacy group_ids follow the same rule.
        t.put(
            &format!("/api/user/{}", w.alice_id),
            &w.alice,
            json!({"group_ids": [1, 2]}),
        )
        .await
        .assert_text(403, FORBIDDEN);
        assert_eq!(user(&t, &w.admin, w.alice_id).await["is_superuser"], false);
    }
);

both!(s54_locale_forms, |t| async move {
    let w = world(&t).await;
    let path = format!("/api/user/{}", w.alice_id);
    let r = t.put(&path, &w.admin, json!({"locale": "es-MX"})).await;
    r.assert(200);
    assert_eq!(r.json()["locale"], "es_MX");
    for (sent, stored) in [
        (json!("es_MX"), json!("es_MX")),
        (json!("es"), json!("es")),
        (Value::Null, Value::Null),
    ] {
        let r = t.put(&path, &w.alice, json!({"locale": sent})).await;
        r.assert(200);
        assert_eq!(r.json()["locale"], stored, "{sent}");
    }
    for bad in [json!("eng"), json!("xx"), json!(""), json!(5)] {
        let r = t.put(&path, &w.admin, json!({"locale": bad})).await;
        r.assert(400);
        let v = r.json();
        assert!(
            v["errors"]["locale"].as_str().unwrap().starts_with(
                "String must be a valid two-letter ISO language or language-country code"
            ),
            "{v}"
        );
        assert_eq!(v["errors"]["locale"], LOCALE_MSG);
        assert!(!v["specific-errors"]["locale"]
            .as_array()
            .unwrap()
            .is_empty());
    }
});
