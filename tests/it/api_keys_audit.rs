//! api-keys.md §11, scenarios 80–85: the `api-key-*` audit events and `GET /api/audit-log`.
use serde_json::{json, Value};

use crate::api_keys::*;
use crate::both;
use crate::support::Auth;

fn sorted_keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
    k.sort();
    k
}

both!(s80_create_records_api_key_create, |t| async move {
    let admin = t.setup().await;
    let g1 = t.group(&admin, G1).await;
    let k = create_key(&t, &admin, "My API Key", g1).await;
    let uid = key_user(&t, &k.auth()).await["id"].clone();
    let e = t.audit(&admin, "model=ApiKey").await.remove(0);
    assert_eq!(e["topic"], "api-key-create");
    assert_eq!(e["model"], "ApiKey");
    assert_eq!(e["model_id"], k.id);
    assert_eq!(e["user_id"], 1);
    let d = &e["details"];
    assert_eq!(sorted_keys(d), ["group", "key_prefix", "name", "user_id"]);
    assert_eq!(d["name"], "My API Key");
    assert_eq!(d["group"], json!({"id": g1, "name": G1}));
    assert_eq!(d["key_prefix"], k.secret[..7]);
    assert_eq!(d["user_id"], uid);
    // No group-membership-* events for the key user's memberships.
    assert!(t
        .audit(&admin, "model=PermissionsGroupMembership")
        .await
        .is_empty());

    let expires = "2031-05-06T07:08:09.000000Z";
    let k2 = create_with(
        &t,
        &admin,
        json!({"name": "Expiring", "group_id": 1, "expires_at": expires}),
    )
    .await;
    let e = t
        .audit(&admin, &format!("model=ApiKey&model_id={}", k2.id))
        .await
        .remove(0);
    assert_eq!(
        sorted_keys(&e["details"]),
        ["expires_at", "group", "key_prefix", "name", "user_id"]
    );
    assert_eq!(e["details"]["expires_at"], expires);
});

both!(s81_update_records_only_the_changed_fields, |t| async move {
    let admin = t.setup().await;
    let g1 = t.group(&admin, G1).await;
    let g2 = t.group(&admin, G2).await;
    let k = create_key(&t, &admin, "My API Key", g1).await;
    let path = format!("/api/api-key/{}", k.id);
    t.put(&path, &admin, json!({"group_id": g2, "name": "A New Name"}))
        .await
        .assert(200);
    let e = t.audit(&admin, "model=ApiKey").await.remove(0);
    assert_eq!(e["topic"], "api-key-update");
    assert_eq!(
        (e["model_id"].as_i64(), e["user_id"].as_i64()),
        (Some(k.id), Some(1))
    );
    assert_eq!(
        e["details"],
        json!({"previous": {"name": "My API Key", "group": {"id": g1, "name": G1}},
               "new": {"name": "A New Name", "group": {"id": g2, "name": G2}}})
    );
    t.put(
        &path,
        &admin,
        json!({"name": "Only the name", "group_id": g2}),
    )
    .await
    .assert(200);
    let e = t.audit(&admin, "model=ApiKey").await.remove(0);
    assert_eq!(
        e["details"],
        json!({"previous": {"name": "A New Name"}, "new": {"name": "Only the name"}})
    );
    let expires = "2031-05-06T07:08:09.000000Z";
    t.put(&path, &admin, json!({"expires_at": expires}))
        .await
        .assert(200);
    let e = t.audit(&admin, "model=ApiKey").await.remove(0);
    assert_eq!(
        e["details"],
        json!({"previous": {"expires_at": null}, "new": {"expires_at": expires}})
    );
    assert!(t
        .audit(&admin, "model=PermissionsGroupMembership")
        .await
        .is_empty());
});

both!(
    s82_regenerate_records_only_api_key_regenerate,
    |t| async move {
        let admin = t.setup().await;
        let k = create_key(&t, &admin, "My API Key", 1).await;
        let path = format!("/api/api-key/{}/regenerate", k.id);
        let r = t.request("PUT", &path, &admin, None).await.json();
        let events = t.audit(&admin, "model=ApiKey").await;
        assert_eq!(events.len(), 2);
        assert_eq!(events[0]["topic"], "api-key-regenerate");
        assert_eq!(
            events[0]["details"],
            json!({"previous": {"key_prefix": &k.secret[..7]}, "new": {"key_prefix": r["prefix"]}})
        );
        let r2 = t
            .put(&path, &admin, json!({"grace_period_seconds": 300}))
            .await
            .json();
        let e = t.audit(&admin, "model=ApiKey").await.remove(0);
        assert_eq!(
            e["details"],
            json!({"previous": {"key_prefix": r["prefix"]}, "new": {"key_prefix": r2["prefix"]},
               "grace_period_seconds": 300})
        );
        assert!(t
            .audit(&admin, "model=ApiKey")
            .await
            .iter()
            .all(|e| e["topic"] != "api-key-update"));
    }
);

both!(s83_delete_records_a_snapshot, |t| async move {
    let admin = t.setup().await;
    let g2 = t.group(&admin, G2).await;
    let k = create_key(&t, &admin, "My API Key", g2).await;
    let uid = key_user(&t, &k.auth()).await["id"].clone();
    t.delete(&format!("/api/api-key/{}", k.id), &admin)
        .await
        .assert(204);
    let e = t.audit(&admin, "model=ApiKey").await.remove(0);
    assert_eq!(e["topic"], "api-key-delete");
    assert_eq!(
        (e["model_id"].as_i64(), e["user_id"].as_i64()),
        (Some(k.id), Some(1))
    );
    let d = &e["details"];
    assert_eq!(d["name"], "My API Key");
    assert_eq!(d["group"], json!({"id": g2, "name": G2}));
    assert_eq!(d["key_prefix"], k.secret[..7]);
    assert_eq!(d["user_id"], uid);
});

both!(s84_reading_the_audit_log, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let a = create_key(&t, &admin, "A", 1).await;
    let b = create_key(&t, &admin, "B", 1).await;
    t.put(
        &format!("/api/api-key/{}", a.id),
        &admin,
        json!({"name": "A2"}),
    )
    .await
    .assert(200);
    t.request(
        "PUT",
        &format!("/api/api-key/{}/regenerate", a.id),
        &admin,
        None,
    )
    .await
    .assert(200);

    let r = t
        .get(
            &format!("/api/audit-log?model=ApiKey&model_id={}", a.id),
            &admin,
        )
        .await;
    r.assert(200);
    let v = r.json();
    let topics: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["topic"].as_str().unwrap())
        .collect();
    assert_eq!(
        topics,
        ["api-key-regenerate", "api-key-update", "api-key-create"]
    );
    assert_eq!(
        (
            v["total"].as_i64(),
            v["limit"].as_i64(),
            v["offset"].as_i64()
        ),
        (Some(3), Some(50), Some(0))
    );
    let ids: Vec<i64> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    assert!(v["data"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["model_id"] == a.id));

    let r = t
        .get("/api/audit-log?model=ApiKey&limit=1&offset=1", &admin)
        .await
        .json();
    assert_eq!(r["data"].as_array().unwrap().len(), 1);
    assert_eq!(r["data"][0]["topic"], "api-key-update");
    assert_eq!(
        (
            r["total"].as_i64(),
            r["limit"].as_i64(),
            r["offset"].as_i64()
        ),
        (Some(4), Some(1), Some(1))
    );
    let _ = b;

    for bad in ["0", "1001"] {
        let r = t.get(&format!("/api/audit-log?limit={bad}"), &admin).await;
        r.assert(400);
        assert_eq!(
            r.json()["errors"],
            json!({"limit": "value must be an integer between 1 and 1000."})
        );
    }
    t.get("/api/audit-log", &alice)
        .await
        .assert_text(403, FORBIDDEN);
    t.get("/api/audit-log", &Auth::None)
        .await
        .assert_text(401, "Unauthenticated");
});

both!(
    s85_events_are_readable_in_the_very_next_request,
    |t| async move {
        let admin = t.setup().await;
        let k = create_key(&t, &admin, "K", 1).await;
        assert_eq!(
            t.audit(&admin, "model=ApiKey").await[0]["topic"],
            "api-key-create"
        );
        t.put(
            &format!("/api/api-key/{}", k.id),
            &admin,
            json!({"name": "K2"}),
        )
        .await
        .assert(200);
        assert_eq!(
            t.audit(&admin, "model=ApiKey").await[0]["topic"],
            "api-key-update"
        );
        t.request(
            "PUT",
            &format!("/api/api-key/{}/regenerate", k.id),
            &admin,
            None,
        )
        .await
        .assert(200);
        assert_eq!(
            t.audit(&admin, "model=ApiKey").await[0]["topic"],
            "api-key-regenerate"
        );
        t.delete(&format!("/api/api-key/{}", k.id), &admin)
            .await
            .assert(204);
        assert_eq!(
            t.audit(&admin, "model=ApiKey").await[0]["topic"],
            "api-key-delete"
        );
    }
);
