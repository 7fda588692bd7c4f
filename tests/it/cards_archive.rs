//! content.md §2.7, §2.8, §4.2, §5, scenarios 45, 59–62, 69, 71, 76: moving, archiving,
//! restoring and deleting cards, permission denials through a key; queries.md §1.3–1.4.
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::both;
use crate::cards::{card, native, CURATE};
use crate::collections_graph::{create as collection, set};

const FORBIDDEN: &str = "You don't have permissions to do that.";

both!(
    s59_s60_archive_card_shows_trash_and_is_idempotent,
    |t| async move {
        let admin = t.setup().await;
        let a = collection(&t, &admin, "A", None).await;
        let c = card(&t, &admin, "C", Some(a)).await;
        let trash = t.get("/api/collection/trash", &admin).await.json()["id"].clone();
        let path = format!("/api/card/{}", c["id"]);
        let r = t.put(&path, &admin, json!({"archived": true})).await;
        r.assert(200);
        let v = r.json();
        assert_eq!(v["archived"], true);
        assert_eq!(v["archived_directly"], true);
        assert_eq!(v["collection_id"], trash);
        assert_eq!(v["can_delete"], true);
        assert_eq!(v["can_restore"], true);
        let g = t.get(&path, &admin).await;
        g.assert(200);
        assert_eq!(g.json()["collection_id"], trash);
        assert_eq!(g.json()["archived"], true);
        assert_eq!(t.get("/api/card", &admin).await.json(), json!([]));
        assert_eq!(
            t.get("/api/card?f=archived", &admin).await.json()[0]["id"],
            c["id"]
        );
        // 60: again is a no-op.
        let r = t.put(&path, &admin, json!({"archived": true})).await;
        r.assert(200);
        assert_eq!(r.json()["updated_at"], v["updated_at"]);
    }
);

both!(
    s61_s71_restore_to_stored_collection_and_put_back_get,
    |t| async move {
        let admin = t.setup().await;
        let a = collection(&t, &admin, "A", None).await;
        let c = card(&t, &admin, "C", Some(a)).await;
        let path = format!("/api/card/{}", c["id"]);
        t.put(&path, &admin, json!({"archived": true}))
            .await
            .assert(200);
        // 71: the full object read back (collection_id = Trash id) with a new name.
        let mut got = t.get(&path, &admin).await.json();
        got["name"] = json!("renamed");
        let r = t.put(&path, &admin, got).await;
        r.assert(200);
        assert_eq!(r.json()["name"], "renamed");
        assert_eq!(r.json()["archived"], true);
        // 61: restored into A.
        let r = t.put(&path, &admin, json!({"archived": false})).await;
        r.assert(200);
        assert_eq!(r.json()["collection_id"], a);
        assert_eq!(r.json()["archived"], false);
        assert_eq!(r.json()["archived_directly"], false);
    }
);

both!(s62_restore_into_other_collection, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    let b = collection(&t, &admin, "B", None).await;
    let c = card(&t, &admin, "C", Some(a)).await;
    let path = format!("/api/card/{}", c["id"]);
    t.put(&path, &admin, json!({"archived": true}))
        .await
        .assert(200);
    let r = t
        .put(
            &path,
            &admin,
            json!({"archived": false, "collection_id": b}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["collection_id"], b);
    assert_eq!(r.json()["archived"], false);
    assert_eq!(t.get(&path, &admin).await.json()["collection_id"], b);
});

both!(s69_delete_live_card, |t| async move {
    let admin = t.setup().await;
    let c = card(&t, &admin, "C", None).await;
    let path = format!("/api/card/{}", c["id"]);
    let r = t.delete(&path, &admin).await;
    r.assert(204);
    assert_eq!(r.text, "");
    t.get(&path, &admin).await.assert_text(404, "Not found.");
    t.delete(&path, &admin).await.assert_text(404, "Not found.");
});

both!(s45_move_needs_write_on_target, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let g = t.group(&admin, "G").await;
    let alice_id = 2;
    t.post(
        "/api/permissions/membership",
        &admin,
        json!({"user_id": alice_id, "group_id": g}),
    )
    .await
    .assert(200);
    let a = collection(&t, &admin, "A", None).await;
    let b = collection(&t, &admin, "B", None).await;
    set(
        &t,
        &admin,
        json!({"1": {"root": "none", a.to_string(): "none", b.to_string(): "none"},
               g.to_string(): {a.to_string(): "write", b.to_string(): "read"}}),
    )
    .await;
    let c = card(&t, &admin, "C", Some(a)).await;
    let path = format!("/api/card/{}", c["id"]);
    let r = t.put(&path, &alice, json!({"collection_id": b})).await;
    r.assert(403);
    assert_eq!(r.json(), json!({ "message": CURATE }));
    assert_eq!(t.get(&path, &admin).await.json()["collection_id"], a);
    // Read-only on B: GET works, writes are plain 403.
    let cb = card(&t, &admin, "CB", Some(b)).await;
    let pb = format!("/api/card/{}", cb["id"]);
    t.get(&pb, &alice).await.assert(200);
    t.put(&pb, &alice, json!({"name": "x"}))
        .await
        .assert_text(403, FORBIDDEN);
    t.delete(&pb, &alice).await.assert_text(403, FORBIDDEN);
    t.put(&pb, &alice, json!({"archived": true}))
        .await
        .assert_text(403, FORBIDDEN);
    // Unreadable collection: 403 on read, omitted from the list.
    set(&t, &admin, json!({g.to_string(): {b.to_string(): "none"}})).await;
    t.get(&pb, &alice).await.assert_text(403, FORBIDDEN);
    let list = t.get("/api/card", &alice).await.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["id"], c["id"]);
});

both!(
    s76_key_in_group_curate_denied_after_downgrade,
    |t| async move {
        let admin = t.setup().await;
        let g = t.group(&admin, "G").await;
        let a = collection(&t, &admin, "A", None).await;
        set(
        &t,
        &admin,
        json!({"1": {"root": "none", a.to_string(): "none"}, g.to_string(): {a.to_string(): "write"}}),
    )
    .await;
        let k = create_key(&t, &admin, "K", g).await.auth();
        let body = json!({"name": "Q", "dataset_query": native("select 1"), "display": "table",
                      "visualization_settings": {}, "collection_id": a});
        let r = t.post("/api/card", &k, body.clone()).await;
        r.assert(200);
        assert_eq!(r.json()["collection_id"], a);
        set(&t, &admin, json!({g.to_string(): {a.to_string(): "read"}})).await;
        let r = t.post("/api/card", &k, body.clone()).await;
        r.assert(403);
        assert_eq!(r.json(), json!({ "message": CURATE }));
        // The root is closed to the key too.
        let mut root = body;
        root["collection_id"] = Value::Null;
        let r = t.post("/api/card", &k, root).await;
        r.assert(403);
        assert_eq!(r.json(), json!({ "message": CURATE }));
    }
);

both!(
    create_into_trash_or_archived_collection_refused,
    |t| async move {
        let admin = t.setup().await;
        let trash = t.get("/api/collection/trash", &admin).await.json()["id"].clone();
        let a = collection(&t, &admin, "A", None).await;
        let body = |c: Value| {
            json!({"name": "Q", "dataset_query": native("select 1"), "display": "table",
               "visualization_settings": {}, "collection_id": c})
        };
        t.post("/api/card", &admin, body(trash))
            .await
            .assert_text(400, "You cannot modify the Trash Collection.");
        t.post("/api/card", &admin, body(json!(999999)))
            .await
            .assert_text(404, "Not found.");
        t.put(
            &format!("/api/collection/{a}"),
            &admin,
            json!({"archived": true}),
        )
        .await
        .assert(200);
        let r = t.post("/api/card", &admin, body(json!(a))).await;
        r.assert(400);
        assert_eq!(
            r.json(),
            json!({"errors": {"collection_id": "You cannot add items to an archived collection."}})
        );
    }
);

both!(database_registry_lists_sample_database, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let r = t.get("/api/database", &admin).await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["total"], 1);
    assert_eq!(v["data"][0]["id"], 1);
    assert_eq!(v["data"][0]["name"], "Sample Database");
    assert_eq!(v["data"][0]["engine"], "sqlite");
    assert_eq!(v["data"][0]["is_sample"], true);
    assert!(v["data"][0]["details"].is_object());
    // All Users may query the Sample Database: its four synced tables are listed.
    let r = t.get("/api/database?include=tables", &alice).await.json();
    assert_eq!(r["data"][0]["tables"].as_array().map(Vec::len), Some(4));
    assert!(r["data"][0].get("details").is_none());
    t.get("/api/database?include=nope", &alice)
        .await
        .assert(400);
    let r = t.get("/api/database/1", &alice).await;
    r.assert(200);
    assert_eq!(r.json()["can-manage"], false);
    t.get("/api/database/2", &alice)
        .await
        .assert_text(404, "Not found.");
});
