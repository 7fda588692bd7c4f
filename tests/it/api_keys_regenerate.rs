//! api-keys.md §11, scenarios 44–57: expiry, regenerate with grace periods, and delete.

use serde_json::{json, Value};

use crate::api_keys::*;
use crate::both;
use crate::support::Auth;

async fn regenerate(
    t: &crate::support::TestApp,
    admin: &Auth,
    id: i64,
    body: Option<Value>,
) -> Value {
    let r = t
        .request("PUT", &format!("/api/api-key/{id}/regenerate"), admin, body)
        .await;
    r.assert(200);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    r.json()
}

async fn status(t: &crate::support::TestApp, key: &Value) -> u16 {
    t.get("/api/user/current", &key_auth(key)).await.status
}

both!(
    s44_an_expired_key_fails_until_its_expiry_moves,
    |t| async move {
        let admin = t.setup().await;
        let k = create_with(
            &t,
            &admin,
            json!({"name": "short", "group_id": 1, "expires_at": from_now(2)}),
        )
        .await;
        t.get("/api/user/current", &k.auth()).await.assert(200);
        t.clock.advance_seconds(3);
        t.get("/api/user/current", &k.auth())
            .await
            .assert_text(401, "Unauthenticated");
        let path = format!("/api/api-key/{}", k.id);
        t.put(&path, &admin, json!({"expires_at": from_now(3600)}))
            .await
            .assert(200);
        t.get("/api/user/current", &k.auth()).await.assert(200);
        t.put(&path, &admin, json!({"expires_at": null}))
            .await
            .assert(200);
        t.get("/api/user/current", &k.auth()).await.assert(200);
    }
);

fn check_regenerated(old: &Key, r: &Value) {
    let k2 = r["unmasked_key"].as_str().expect("unmasked_key");
    assert_ne!(k2, old.secret);
    assert_eq!(k2.len(), 49);
    assert_eq!(r["prefix"], k2[..7]);
    assert!(r["masked_key"]
        .as_str()
        .unwrap()
        .starts_with(r["prefix"].as_str().unwrap()));
    assert_ne!(r["created_at"], r["updated_at"]);
    assert_eq!(r["created_at"], old.body["created_at"]);
    assert_eq!(r["previous_key_valid_until"], Value::Null);
    let mut fields: Vec<&String> = r.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "created_at",
            "expires_at",
            "group",
            "id",
            "last_used_at",
            "masked_key",
            "name",
            "prefix",
            "previous_key_valid_until",
            "restrictions",
            "unmasked_key",
            "updated_at",
            "updated_by"
        ]
    );
}

both!(
    s45_regenerate_retires_the_old_key_immediately,
    |t| async move {
        let admin = t.setup().await;
        let k1 = create_key(&t, &admin, "Robot", 1).await;
        t.get("/api/user/current", &k1.auth()).await.assert(200); // cached
        let r = regenerate(&t, &admin, k1.id, None).await;
        check_regenerated(&k1, &r);
        t.get("/api/user/current", &k1.auth())
            .await
            .assert_text(401, "Unauthenticated");
        assert_eq!(status(&t, &r["unmasked_key"]).await, 200);
    }
);

both!(
    s46_regenerate_with_an_empty_body_or_zero_grace,
    |t| async move {
        let admin = t.setup().await;
        for (i, body) in [
            json!({}),
            json!({"grace_period_seconds": 0}),
            json!({"grace_period_seconds": null}),
        ]
        .into_iter()
        .enumerate()
        {
            let k1 = create_key(&t, &admin, &format!("Robot {i}"), 1).await;
            t.get("/api/user/current", &k1.auth()).await.assert(200);
            let r = regenerate(&t, &admin, k1.id, Some(body)).await;
            check_regenerated(&k1, &r);
            t.get("/api/user/current", &k1.auth())
                .await
                .assert_text(401, "Unauthenticated");
            assert_eq!(status(&t, &r["unmasked_key"]).await, 200);
        }
    }
);

both!(
    s47_a_grace_period_keeps_the_old_key_working_until_it_ends,
    |t| async move {
        let admin = t.setup().await;
        let k1 = create_key(&t, &admin, "Robot", 1).await;
        let before = now_micros();
        let r = regenerate(&t, &admin, k1.id, Some(json!({"grace_period_seconds": 5}))).await;
        let until = micros(&r["previous_key_valid_until"]);
        assert!(
            until >= before + 5_000_000 && until <= now_micros() + 5_000_000,
            "{until}"
        );
        t.get("/api/user/current", &k1.auth()).await.assert(200);
        assert_eq!(status(&t, &r["unmasked_key"]).await, 200);
        assert_eq!(
            listed(&t, &admin, k1.id).await["previous_key_valid_until"],
            r["previous_key_valid_until"]
        );
        t.clock.advance_seconds(6);
        t.get("/api/user/current", &k1.auth())
            .await
            .assert_text(401, "Unauthenticated");
        assert_eq!(status(&t, &r["unmasked_key"]).await, 200);
        assert_eq!(
            listed(&t, &admin, k1.id).await["previous_key_valid_until"],
            Value::Null
        );
    }
);

both!(
    s48_a_second_regenerate_discards_the_first_retired_secret,
    |t| async move {
        let admin = t.setup().await;
        let k1 = create_key(&t, &admin, "Robot", 1).await;
        t.get("/api/user/current", &k1.auth()).await.assert(200);
        let k2 = regenerate(&t, &admin, k1.id, Some(json!({"grace_period_seconds": 60}))).await;
        assert_eq!(status(&t, &k2["unmasked_key"]).await, 200);
        let k3 = regenerate(&t, &admin, k1.id, Some(json!({"grace_period_seconds": 60}))).await;
        t.get("/api/user/current", &k1.auth())
            .await
            .assert_text(401, "Unauthenticated");
        assert_eq!(status(&t, &k2["unmasked_key"]).await, 200);
        assert_eq!(status(&t, &k3["unmasked_key"]).await, 200);
    }
);

both!(
    s49_regenerate_with_zero_grace_ends_every_older_secret,
    |t| async move {
        let admin = t.setup().await;
        let k1 = create_key(&t, &admin, "Robot", 1).await;
        let k2 = regenerate(&t, &admin, k1.id, Some(json!({"grace_period_seconds": 60}))).await;
        assert_eq!(status(&t, &k2["unmasked_key"]).await, 200);
        t.get("/api/user/current", &k1.auth()).await.assert(200);
        let k3 = regenerate(&t, &admin, k1.id, Some(json!({"grace_period_seconds": 0}))).await;
        t.get("/api/user/current", &k1.auth())
            .await
            .assert_text(401, "Unauthenticated");
        assert_eq!(status(&t, &k2["unmasked_key"]).await, 401);
        assert_eq!(status(&t, &k3["unmasked_key"]).await, 200);
        assert_eq!(k3["previous_key_valid_until"], Value::Null);
    }
);

both!(s50_grace_period_values, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 1).await;
    let path = format!("/api/api-key/{}/regenerate", k.id);
    for bad in [json!(-1), json!(86401), json!(1.5), json!("60")] {
        let r = t
            .put(&path, &admin, json!({"grace_period_seconds": bad}))
            .await;
        r.assert(400);
        assert_eq!(
            r.json()["errors"],
            json!({"grace_period_seconds": "value must be an integer between 0 and 86400."})
        );
        assert!(!r.json()["specific-errors"]["grace_period_seconds"]
            .as_array()
            .unwrap()
            .is_empty());
    }
    // Nothing was regenerated by the refused requests.
    t.get("/api/user/current", &k.auth()).await.assert(200);
    let r = regenerate(
        &t,
        &admin,
        k.id,
        Some(json!({"grace_period_seconds": 86400})),
    )
    .await;
    let until = micros(&r["previous_key_valid_until"]);
    assert!((until - now_micros() - 86_400_000_000).abs() < 10_000_000);
});

both!(
    s51_regenerate_needs_a_known_key_and_a_superuser,
    |t| async move {
        let admin = t.setup().await;
        let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
        let k = create_key(&t, &admin, "Robot", 1).await;
        t.request("PUT", "/api/api-key/999999/regenerate", &admin, None)
            .await
            .assert_text(404, "Not found.");
        t.request(
            "PUT",
            &format!("/api/api-key/{}/regenerate", k.id),
            &alice,
            None,
        )
        .await
        .assert_text(403, FORBIDDEN);
        // Validation before permission.
        t.put(
            &format!("/api/api-key/{}/regenerate", k.id),
            &alice,
            json!({"grace_period_seconds": -1}),
        )
        .await
        .assert(400);
        t.request(
            "PUT",
            &format!("/api/api-key/{}/regenerate", k.id),
            &Auth::None,
            None,
        )
        .await
        .assert_text(401, "Unauthenticated");
        t.get("/api/user/current", &k.auth()).await.assert(200);
    }
);

both!(
    s52_an_expired_key_stays_expired_after_regenerate,
    |t| async move {
        let admin = t.setup().await;
        let k = create_with(
            &t,
            &admin,
            json!({"name": "short", "group_id": 1, "expires_at": from_now(1)}),
        )
        .await;
        t.clock.advance_seconds(2);
        let r = regenerate(&t, &admin, k.id, None).await;
        assert_eq!(r["expires_at"], k.body["expires_at"]);
        assert_eq!(status(&t, &r["unmasked_key"]).await, 401);
        t.put(
            &format!("/api/api-key/{}", k.id),
            &admin,
            json!({"expires_at": from_now(3600)}),
        )
        .await
        .assert(200);
        assert_eq!(status(&t, &r["unmasked_key"]).await, 200);
    }
);

both!(s53_delete_removes_the_key_at_once, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 1).await;
    t.get("/api/user/current", &k.auth()).await.assert(200);
    let r = t.delete(&format!("/api/api-key/{}", k.id), &admin).await;
    r.assert(204);
    assert_eq!(r.text, "");
    t.get("/api/user/current", &k.auth())
        .await
        .assert_text(401, "Unauthenticated");
    assert_eq!(list_keys(&t, &admin).await, Vec::<Value>::new());
    assert_eq!(count_keys(&t, &admin).await, 0);
    t.delete(&format!("/api/api-key/{}", k.id), &admin)
        .await
        .assert_text(404, "Not found.");
});

both!(
    s54_the_deleted_keys_user_is_deactivated_and_keeps_its_memberships,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let k = create_key(&t, &admin, "Robot", g1).await;
        let uid = key_user(&t, &k.auth()).await["id"].as_i64().unwrap();
        t.delete(&format!("/api/api-key/{}", k.id), &admin)
            .await
            .assert(204);
        let u = t.get(&format!("/api/user/{uid}"), &admin).await;
        u.assert(200);
        assert_eq!(u.json()["is_active"], false);
        assert_eq!(memberships_of(&t, &admin, uid).await, vec![1, g1]);
    }
);

both!(
    s55_delete_during_a_grace_period_ends_both_secrets,
    |t| async move {
        let admin = t.setup().await;
        let k1 = create_key(&t, &admin, "Robot", 1).await;
        let k2 = regenerate(
            &t,
            &admin,
            k1.id,
            Some(json!({"grace_period_seconds": 600})),
        )
        .await;
        t.get("/api/user/current", &k1.auth()).await.assert(200);
        assert_eq!(status(&t, &k2["unmasked_key"]).await, 200);
        t.delete(&format!("/api/api-key/{}", k1.id), &admin)
            .await
            .assert(204);
        t.get("/api/user/current", &k1.auth())
            .await
            .assert_text(401, "Unauthenticated");
        assert_eq!(status(&t, &k2["unmasked_key"]).await, 401);
    }
);

both!(s56_a_deleted_keys_name_can_be_reused, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "My Key", 1).await;
    t.delete(&format!("/api/api-key/{}", k.id), &admin)
        .await
        .assert(204);
    let again = create_key(&t, &admin, "My Key", 1).await;
    assert_ne!(again.id, k.id);
});

both!(s57_an_admin_key_can_delete_itself, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 2).await;
    t.delete(&format!("/api/api-key/{}", k.id), &k.auth())
        .await
        .assert(204);
    t.get("/api/user/current", &k.auth())
        .await
        .assert_text(401, "Unauthenticated");
});
