//! content.md §1, §4.3–4.4 and §5, scenarios 12, 24, 64–66, 70, 87, 89, 90, 98, 99: collection
//! listing, the tree, archiving and restoring subtrees, and requests that must change nothing.
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::both;
use crate::cards::card;
use crate::collections_graph::{create, set, FORBIDDEN};
use crate::support::{Auth, TestApp};

const OFFICIAL: &str = "Official Collections is a paid feature not currently available to your instance. Please upgrade to use it. Learn more at metabase.com/upgrade/";

async fn get(t: &TestApp, by: &Auth, id: i64) -> Value {
    let r = t.get(&format!("/api/collection/{id}"), by).await;
    r.assert(200);
    r.json()
}

async fn card_get(t: &TestApp, by: &Auth, id: &Value) -> Value {
    let r = t.get(&format!("/api/card/{id}"), by).await;
    r.assert(200);
    r.json()
}

async fn archive(t: &TestApp, by: &Auth, path: &str, archived: bool) {
    t.put(path, by, json!({ "archived": archived }))
        .await
        .assert(200);
}

fn ids(v: &Value) -> Vec<Value> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|c| c["id"].clone())
        .collect()
}

/// Admin creates group `name` with alice (user 2) in it: the group id.
async fn group_with(t: &TestApp, admin: &Auth, name: &str, user_id: i64) -> i64 {
    let g = t.group(admin, name).await;
    t.post(
        "/api/permissions/membership",
        admin,
        json!({"group_id": g, "user_id": user_id}),
    )
    .await
    .assert(200);
    g
}

both!(s12_key_has_no_personal_collection, |t| async move {
    let admin = t.setup().await;
    t.person(&admin, "Alice", "alice@example.com").await;
    let g = t.group(&admin, "G").await;
    let k = create_key(&t, &admin, "K", g).await.auth();
    for q in ["personal-only=true", "personal_only=true"] {
        let r = t.get(&format!("/api/collection?{q}"), &k).await;
        r.assert(200);
        assert_eq!(r.json(), json!([]), "{q}");
    }
    // The admin, by contrast, sees every personal collection.
    let r = t.get("/api/collection?personal-only=true", &admin).await;
    assert_eq!(r.json().as_array().map(Vec::len), Some(2));
});

/// The node with `id` among `nodes` (one level).
fn node(nodes: &Value, id: i64) -> Value {
    nodes
        .as_array()
        .expect("array")
        .iter()
        .find(|n| n["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("node {id} not in {nodes}"))
}

both!(s24_tree_here_below_and_shallow, |t| async move {
    let admin = t.setup().await;
    let a = create(&t, &admin, "A", None).await;
    let b = create(&t, &admin, "B", Some(a)).await;
    card(&t, &admin, "q", Some(b)).await;
    let r = t
        .post(
            "/api/card",
            &admin,
            json!({"name": "m", "type": "model", "dataset_query": crate::cards::native("select 1"),
                   "display": "table", "visualization_settings": {}, "collection_id": a}),
        )
        .await;
    r.assert(200);
    // Archived items count nowhere: a trashed question in A adds no `card` to A's `here`.
    let gone = card(&t, &admin, "gone", Some(a)).await;
    t.put(
        &format!("/api/card/{}", gone["id"]),
        &admin,
        json!({"archived": true}),
    )
    .await
    .assert(200);
    let r = t.get("/api/collection/tree", &admin).await;
    r.assert(200);
    let na = node(&r.json(), a);
    assert_eq!(ids(&na["children"]), vec![json!(b)]);
    assert_eq!(na["here"], json!(["collection", "dataset"]));
    assert_eq!(na["below"], json!(["card"]));
    let nb = node(&na["children"], b);
    assert_eq!(nb["here"], json!(["card"]));
    assert_eq!(nb["below"], json!([]));
    assert_eq!(nb["children"], json!([]));
    let r = t.get("/api/collection/tree?shallow=true", &admin).await;
    r.assert(200);
    let na = node(&r.json(), a);
    assert_eq!(na["children"], true);
    assert_eq!(na["here"], json!(["collection", "dataset"]));
    // B is not a top-level node of the shallow listing; it is one level down.
    assert!(!ids(&r.json()).contains(&json!(b)));
    let r = t
        .get(
            &format!("/api/collection/tree?shallow=true&collection-id={a}"),
            &admin,
        )
        .await;
    r.assert(200);
    assert_eq!(ids(&r.json()), vec![json!(b)]);
    assert_eq!(r.json()[0]["children"], false);
});

both!(s64_archive_needs_write_on_descendants, |t| async move {
    let admin = t.setup().await;
    let (alice_id, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let g = group_with(&t, &admin, "G", alice_id).await;
    let a = create(&t, &admin, "A", None).await;
    let b = create(&t, &admin, "B", Some(a)).await;
    let c = card(&t, &admin, "c", Some(b)).await;
    set(
        &t,
        &admin,
        json!({"1": {a.to_string(): "none", b.to_string(): "none"},
               g.to_string(): {a.to_string(): "write", b.to_string(): "read"}}),
    )
    .await;
    let (before_a, before_b) = (get(&t, &admin, a).await, get(&t, &admin, b).await);
    t.put(
        &format!("/api/collection/{a}"),
        &alice,
        json!({"archived": true}),
    )
    .await
    .assert_text(403, FORBIDDEN);
    assert_eq!(get(&t, &admin, a).await, before_a);
    assert_eq!(get(&t, &admin, b).await, before_b);
    assert_eq!(before_a["archived"], false);
    assert_eq!(before_b["archived"], false);
    assert_eq!(card_get(&t, &admin, &c["id"]).await["archived"], false);
    // With write on B too, the same request succeeds.
    set(&t, &admin, json!({g.to_string(): {b.to_string(): "write"}})).await;
    archive(&t, &alice, &format!("/api/collection/{a}"), true).await;
    assert_eq!(get(&t, &admin, b).await["archived"], true);
});

both!(s65_restore_brings_back_what_went_together, |t| async move {
    let admin = t.setup().await;
    // Scenario 63: A ⊃ B; c1 in B; c2 in A trashed earlier; A archived.
    let a = create(&t, &admin, "A", None).await;
    let b = create(&t, &admin, "B", Some(a)).await;
    let c1 = card(&t, &admin, "c1", Some(b)).await["id"].clone();
    let c2 = card(&t, &admin, "c2", Some(a)).await["id"].clone();
    archive(&t, &admin, &format!("/api/card/{c2}"), true).await;
    archive(&t, &admin, &format!("/api/collection/{a}"), true).await;
    assert_eq!(get(&t, &admin, b).await["archived"], true);
    assert_eq!(card_get(&t, &admin, &c1).await["archived"], true);
    // 65.
    let r = t
        .put(
            &format!("/api/collection/{a}"),
            &admin,
            json!({"archived": false}),
        )
        .await;
    r.assert(200);
    let av = r.json();
    assert_eq!(av["archived"], false);
    assert_eq!(av["archived_directly"], Value::Null);
    assert_eq!(av["archive_operation_id"], Value::Null);
    assert_eq!(av["location"], "/");
    let bv = get(&t, &admin, b).await;
    assert_eq!(
        (
            &bv["archived"],
            &bv["archived_directly"],
            &bv["archive_operation_id"]
        ),
        (&json!(false), &Value::Null, &Value::Null)
    );
    assert_eq!(bv["location"], format!("/{a}/"));
    let v = card_get(&t, &admin, &c1).await;
    assert_eq!(
        (&v["archived"], &v["archived_directly"], &v["collection_id"]),
        (&json!(false), &json!(false), &json!(b))
    );
    let trash = t.get("/api/collection/trash", &admin).await.json()["id"].clone();
    let v = card_get(&t, &admin, &c2).await;
    assert_eq!(
        (&v["archived"], &v["archived_directly"], &v["collection_id"]),
        (&json!(true), &json!(true), &trash)
    );
    // Lists agree: A is live with B; c1 is in B; the Trash holds c2 only.
    assert!(ids(&t.get("/api/collection", &admin).await.json()).contains(&json!(a)));
    let items = t
        .get(&format!("/api/collection/{a}/items"), &admin)
        .await
        .json();
    assert_eq!(ids(&items["data"]), vec![json!(b)]);
    let items = t
        .get(&format!("/api/collection/{b}/items"), &admin)
        .await
        .json();
    assert_eq!(ids(&items["data"]), vec![c1]);
    let items = t
        .get(&format!("/api/collection/{trash}/items"), &admin)
        .await
        .json();
    assert_eq!(ids(&items["data"]), vec![c2]);
});

both!(
    s66_restore_under_archived_parent_needs_a_target,
    |t| async move {
        let admin = t.setup().await;
        let a = create(&t, &admin, "A", None).await;
        let b = create(&t, &admin, "B", Some(a)).await;
        archive(&t, &admin, &format!("/api/collection/{b}"), true).await;
        archive(&t, &admin, &format!("/api/collection/{a}"), true).await;
        let bv = get(&t, &admin, b).await;
        assert_eq!(bv["archived_directly"], true);
        assert_eq!(bv["can_restore"], false);
        t.put(
            &format!("/api/collection/{b}"),
            &admin,
            json!({"archived": false}),
        )
        .await
        .assert_text(400, "Invalid Request.");
        assert_eq!(get(&t, &admin, b).await, bv);
        let r = t
            .put(
                &format!("/api/collection/{b}"),
                &admin,
                json!({"archived": false, "parent_id": null}),
            )
            .await;
        r.assert(200);
        let v = r.json();
        assert_eq!(v["archived"], false);
        assert_eq!(v["location"], "/");
        assert_eq!(v["parent_id"], Value::Null);
        assert_eq!(v["archived_directly"], Value::Null);
        assert_eq!(v["archive_operation_id"], Value::Null);
        assert_eq!(get(&t, &admin, b).await["location"], "/");
        // A stays in the Trash; B is listed at the top level again.
        assert_eq!(get(&t, &admin, a).await["archived"], true);
        let top = t.get("/api/collection/root/items", &admin).await.json();
        assert!(ids(&top["data"]).contains(&json!(b)));
    }
);

both!(s70_collections_cannot_be_deleted, |t| async move {
    let admin = t.setup().await;
    let a = create(&t, &admin, "A", None).await;
    let before = get(&t, &admin, a).await;
    t.delete(&format!("/api/collection/{a}"), &admin)
        .await
        .assert_text(404, "Not found.");
    assert_eq!(get(&t, &admin, a).await, before);
    assert!(ids(&t.get("/api/collection", &admin).await.json()).contains(&json!(a)));
});

both!(
    s87_official_collections_are_a_paid_feature,
    |t| async move {
        let admin = t.setup().await;
        let before = t.get("/api/collection", &admin).await.json();
        t.post(
            "/api/collection",
            &admin,
            json!({"name": "O", "authority_level": "official"}),
        )
        .await
        .assert_text(402, OFFICIAL);
        assert_eq!(t.get("/api/collection", &admin).await.json(), before);
        let tree = t.get("/api/collection/tree", &admin).await.json();
        assert!(tree
            .as_array()
            .expect("array")
            .iter()
            .all(|n| n["name"] != "O"));
    }
);

both!(s89_blank_description_is_refused, |t| async move {
    let admin = t.setup().await;
    let r = t
        .post(
            "/api/collection",
            &admin,
            json!({"name": "A", "description": "d"}),
        )
        .await;
    r.assert(200);
    let a = r.json()["id"].as_i64().expect("id");
    let before = get(&t, &admin, a).await;
    let r = t
        .put(
            &format!("/api/collection/{a}"),
            &admin,
            json!({"description": ""}),
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["description"].is_string(), "{}", r.text);
    let after = get(&t, &admin, a).await;
    assert_eq!(after["description"], "d");
    assert_eq!(after, before);
});

both!(s90_root_closed_but_trash_readable, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    set(&t, &admin, json!({"1": {"root": "none"}})).await;
    t.get("/api/collection/root", &alice)
        .await
        .assert_text(403, FORBIDDEN);
    let r = t.get("/api/collection/trash", &alice).await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["type"], "trash");
    assert_eq!(v["name"], "Trash");
    assert_eq!(v["can_write"], false);
    // The unreadable root is not among its ancestors.
    assert_eq!(v["effective_ancestors"], json!([]));
});

both!(s98_list_order_root_then_lowercased_names, |t| async move {
    let admin = t.setup().await;
    let b = create(&t, &admin, "b", None).await;
    let a = create(&t, &admin, "A", None).await;
    let personal = t.get("/api/user/current", &admin).await.json()["personal_collection_id"]
        .as_i64()
        .expect("personal");
    let r = t.get("/api/collection", &admin).await;
    r.assert(200);
    let list = r.json();
    assert_eq!(
        ids(&list),
        vec![json!("root"), json!(a), json!(personal), json!(b)]
    );
    assert_eq!(list[2]["name"], "Ada Lovelace's Personal Collection");
    assert!(list
        .as_array()
        .expect("array")
        .iter()
        .all(|c| c["type"].is_null()));
});

both!(s99_move_into_itself_and_namespace_ignored, |t| async move {
    let admin = t.setup().await;
    let a = create(&t, &admin, "A", None).await;
    let before = get(&t, &admin, a).await;
    let r = t
        .put(
            &format!("/api/collection/{a}"),
            &admin,
            json!({"parent_id": a}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"]["parent_id"],
        "You cannot move a Collection into itself or into one of its descendants."
    );
    assert_eq!(get(&t, &admin, a).await, before);
    let r = t
        .put(
            &format!("/api/collection/{a}"),
            &admin,
            json!({"namespace": "snippets"}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json(), before);
    assert_eq!(get(&t, &admin, a).await, before);
    assert_eq!(before["namespace"], Value::Null);
});
