//! content.md §1 and §4.3–4.5: collections (scenarios of content.md §7 that concern them).
use serde_json::{json, Value};

use crate::both;
use crate::collections_graph::{create, set, FORBIDDEN};
use crate::support::{Auth, TestApp};

const TRASH: &str = "You cannot modify the Trash Collection.";
const ARCHIVED_PARENT: &str = "You cannot add items to an archived collection.";

async fn get(t: &TestApp, by: &Auth, id: i64) -> Value {
    let r = t.get(&format!("/api/collection/{id}"), by).await;
    r.assert(200);
    r.json()
}

async fn trash_id(t: &TestApp, by: &Auth) -> i64 {
    let r = t.get("/api/collection/trash", by).await;
    r.assert(200);
    assert_eq!(r.json()["type"], "trash");
    assert_eq!(r.json()["can_write"], false);
    r.json()["id"].as_i64().expect("id")
}

async fn card(t: &TestApp, by: &Auth, id: &Value) -> Value {
    let r = t.get(&format!("/api/card/{id}"), by).await;
    r.assert(200);
    r.json()
}

fn ids(v: &Value) -> Vec<Value> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|c| c["id"].clone())
        .collect()
}

both!(s02_entity_id_addresses_the_collection, |t| async move {
    let admin = t.setup().await;
    let a = create(&t, &admin, "A", None).await;
    let body = get(&t, &admin, a).await;
    let e = body["entity_id"].as_str().expect("entity_id").to_string();
    assert_eq!(e.len(), 21);
    let r = t.get(&format!("/api/collection/{e}"), &admin).await;
    r.assert(200);
    assert_eq!(r.json(), body);
    t.get("/api/collection/abc", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/collection/AAAAAAAAAAAAAAAAAAAAA", &admin)
        .await
        .assert_text(404, "Not found.");
    t.delete(&format!("/api/collection/{a}"), &admin)
        .await
        .assert_text(404, "Not found.");
});

both!(
    s05_s09_list_starts_with_root_and_hides_trash,
    |t| async move {
        let admin = t.setup().await;
        let a = t.get("/api/collection", &admin).await;
        a.assert(200);
        let b = t.get("/api/collection/", &admin).await;
        assert_eq!(a.text, b.text);
        let list = a.json();
        let arr = list.as_array().expect("array");
        assert_eq!(arr.len(), 2, "{list}");
        assert_eq!(arr[0]["id"], "root");
        assert_eq!(arr[0]["name"], "Our analytics");
        assert_eq!(arr[0]["can_write"], true);
        assert_eq!(arr[1]["personal_owner_id"], 1);
        assert_eq!(arr[1]["is_personal"], true);
    }
);

both!(s06_s11_personal_collections_visibility, |t| async move {
    let admin = t.setup().await;
    let (alice_id, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    t.person(&admin, "Bob", "bob@example.com").await;
    let personal = |v: &Value| -> Vec<i64> {
        v.as_array()
            .expect("array")
            .iter()
            .filter_map(|c| c["personal_owner_id"].as_i64())
            .collect()
    };
    let r = t.get("/api/collection", &alice).await.json();
    assert_eq!(personal(&r), vec![alice_id]);
    let r = t.get("/api/collection", &admin).await.json();
    assert_eq!(personal(&r).len(), 3);
    let kebab = t
        .get(
            "/api/collection?exclude-other-user-collections=true",
            &admin,
        )
        .await;
    let snake = t
        .get(
            "/api/collection?exclude_other_user_collections=true",
            &admin,
        )
        .await;
    assert_eq!(kebab.text, snake.text);
    assert_eq!(personal(&kebab.json()), vec![1]);
});

both!(s07_s13_create_sets_location_and_slug, |t| async move {
    let admin = t.setup().await;
    let r = t
        .post(
            "/api/collection",
            &admin,
            json!({"name":"A","color":"#509EE3","parent_id":null}),
        )
        .await;
    r.assert(200);
    let a = r.json();
    assert_eq!(a["location"], "/");
    assert_eq!(a["parent_id"], Value::Null);
    assert_eq!(a["slug"], "a");
    assert_eq!(a["archived"], false);
    assert_eq!(a["type"], Value::Null);
    assert_eq!(a["is_personal"], false);
    let a = a["id"].as_i64().expect("id");
    let b = create(&t, &admin, "B", Some(a)).await;
    let c = create(&t, &admin, "C", Some(b)).await;
    assert_eq!(get(&t, &admin, b).await["location"], format!("/{a}/"));
    let cv = get(&t, &admin, c).await;
    assert_eq!(cv["location"], format!("/{a}/{b}/"));
    assert_eq!(cv["parent_id"], b);
    let anc: Vec<Value> = ids(&cv["effective_ancestors"]);
    assert_eq!(anc, vec![json!("root"), json!(a), json!(b)]);
});

both!(s14_s16_create_validation_and_targets, |t| async move {
    let admin = t.setup().await;
    let r = t
        .post("/api/collection", &admin, json!({"name":"  "}))
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"]["name"],
        "value must be a non-blank string."
    );
    let r = t
        .post(
            "/api/collection",
            &admin,
            json!({"name":"x","description":""}),
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["description"].is_string());
    let r = t
        .post("/api/collection", &admin, json!({"name":"n".repeat(255)}))
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"]["name"],
        "value must be a string of at most 254 characters."
    );
    let trash = trash_id(&t, &admin).await;
    t.post(
        "/api/collection",
        &admin,
        json!({"name":"x","parent_id":trash}),
    )
    .await
    .assert_text(400, TRASH);
    t.post(
        "/api/collection",
        &admin,
        json!({"name":"x","parent_id":999999}),
    )
    .await
    .assert_text(404, "Not found.");
    t.post(
        "/api/collection",
        &admin,
        json!({"name":"x","authority_level":"official"}),
    )
    .await
    .assert(402);
});

both!(s10_s17_s25_archived_collections, |t| async move {
    let admin = t.setup().await;
    let a = create(&t, &admin, "A", None).await;
    let r = t
        .put(
            &format!("/api/collection/{a}"),
            &admin,
            json!({"archived": true}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["archived"], true);
    assert_eq!(r.json()["archived_directly"], true);
    let trash = trash_id(&t, &admin).await;
    let r = t.get("/api/collection?archived=true", &admin).await.json();
    let mut got = ids(&r);
    got.sort_by_key(|v| v.as_i64());
    let mut want = vec![json!(a), json!(trash)];
    want.sort_by_key(|v| v.as_i64());
    assert_eq!(got, want);
    assert!(!ids(&t.get("/api/collection", &admin).await.json()).contains(&json!(a)));
    let r = t
        .post("/api/collection", &admin, json!({"name":"x","parent_id":a}))
        .await;
    r.assert(400);
    assert_eq!(r.json()["errors"]["parent_id"], ARCHIVED_PARENT);
    let tree = t.get("/api/collection/tree", &admin).await.json();
    let top = ids(&tree);
    assert!(
        top.contains(&json!(a)) && top.contains(&json!(trash)),
        "{tree}"
    );
    let tree = t
        .get("/api/collection/tree?exclude-archived=true", &admin)
        .await
        .json();
    let top = ids(&tree);
    assert!(!top.contains(&json!(a)) && !top.contains(&json!(trash)));
    // The Trash lists A; A's restore puts it back at the root.
    let items = t
        .get(&format!("/api/collection/{trash}/items"), &admin)
        .await
        .json();
    assert_eq!(ids(&items["data"]), vec![json!(a)]);
    let r = t
        .put(
            &format!("/api/collection/{a}"),
            &admin,
            json!({"archived": false}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["archived_directly"], Value::Null);
    assert!(ids(&t.get("/api/collection", &admin).await.json()).contains(&json!(a)));
});

both!(s18_rename_recomputes_slug, |t| async move {
    let admin = t.setup().await;
    let r = t
        .post(
            "/api/collection",
            &admin,
            json!({"name":"Sales Data","description":"d"}),
        )
        .await;
    let id = r.json()["id"].as_i64().expect("id");
    let r = t
        .put(
            &format!("/api/collection/{id}"),
            &admin,
            json!({"name":"Q1 Sales & Returns"}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["slug"], "q1_sales_returns");
    assert_eq!(r.json()["description"], "d");
});

both!(s19_s20_s21_move_rewrites_the_subtree, |t| async move {
    let admin = t.setup().await;
    let a = create(&t, &admin, "A", None).await;
    let b = create(&t, &admin, "B", Some(a)).await;
    let c = create(&t, &admin, "C", Some(b)).await;
    let d = create(&t, &admin, "D", None).await;
    let r = t
        .put(
            &format!("/api/collection/{b}"),
            &admin,
            json!({"parent_id": d}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["location"], format!("/{d}/"));
    assert_eq!(get(&t, &admin, c).await["location"], format!("/{d}/{b}/"));
    let r = t
        .put(
            &format!("/api/collection/{d}"),
            &admin,
            json!({"parent_id": b}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"]["parent_id"],
        "You cannot move a Collection into itself or into one of its descendants."
    );
    assert_eq!(get(&t, &admin, d).await["location"], "/");
    let trash = trash_id(&t, &admin).await;
    t.put(
        &format!("/api/collection/{a}"),
        &admin,
        json!({"parent_id": trash}),
    )
    .await
    .assert_text(400, TRASH);
});

both!(s22_s23_personal_and_trash_are_fixed, |t| async move {
    let admin = t.setup().await;
    let a = create(&t, &admin, "A", None).await;
    let p = t.get("/api/user/current", &admin).await.json()["personal_collection_id"]
        .as_i64()
        .expect("personal");
    let r = t
        .put(
            &format!("/api/collection/{p}"),
            &admin,
            json!({"archived": true}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"message":"You cannot archive a Personal Collection.",
               "errors":{"archived":"You cannot archive a Personal Collection."}})
    );
    let r = t
        .put(
            &format!("/api/collection/{p}"),
            &admin,
            json!({"parent_id": a}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"]["location"],
        "You are not allowed to move a Personal Collection."
    );
    let trash = trash_id(&t, &admin).await;
    t.put(
        &format!("/api/collection/{trash}"),
        &admin,
        json!({"name":"Bin"}),
    )
    .await
    .assert_text(400, TRASH);
});

both!(s26_effective_location_skips_unreadable, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let a = create(&t, &admin, "A", None).await;
    let b = create(&t, &admin, "B", Some(a)).await;
    let c = create(&t, &admin, "C", Some(b)).await;
    set(
        &t,
        &admin,
        json!({"1":{"root":"none", a.to_string():"read", b.to_string():"none", c.to_string():"read"}}),
    )
    .await;
    let tree = t.get("/api/collection/tree", &alice).await.json();
    let node = tree
        .as_array()
        .expect("array")
        .iter()
        .find(|n| n["id"] == a)
        .cloned()
        .expect("A at the top");
    assert_eq!(ids(&node["children"]), vec![json!(c)]);
    assert_eq!(
        get(&t, &alice, c).await["effective_location"],
        format!("/{a}/")
    );
});

both!(s27_unreadable_is_403_missing_is_404, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let a = create(&t, &admin, "A", None).await;
    set(&t, &admin, json!({"1":{a.to_string():"none"}})).await;
    t.get(&format!("/api/collection/{a}"), &alice)
        .await
        .assert_text(403, FORBIDDEN);
    t.get(&format!("/api/collection/{a}/items"), &alice)
        .await
        .assert_text(403, FORBIDDEN);
    t.get("/api/collection/999999", &alice)
        .await
        .assert_text(404, "Not found.");
});

both!(s28_items_envelope, |t| async move {
    let admin = t.setup().await;
    let a = create(&t, &admin, "A", None).await;
    let b = create(&t, &admin, "b", Some(a)).await;
    let c = create(&t, &admin, "C", Some(a)).await;
    let r = t.get(&format!("/api/collection/{a}/items"), &admin).await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["total"], 2);
    assert_eq!(
        v["models"],
        json!([
            "card",
            "collection",
            "dashboard",
            "dataset",
            "metric",
            "pulse",
            "timeline"
        ])
    );
    assert_eq!(v["limit"], Value::Null);
    assert_eq!(v["offset"], Value::Null);
    assert_eq!(ids(&v["data"]), vec![json!(b), json!(c)]);
    assert!(v["data"]
        .as_array()
        .expect("data")
        .iter()
        .all(|i| i["collection_id"] == a && i["model"] == "collection"));
    let v = t
        .get(&format!("/api/collection/{a}/items?offset=1"), &admin)
        .await
        .json();
    assert_eq!(
        (v["limit"].clone(), v["offset"].clone()),
        (json!(50), json!(1))
    );
    assert_eq!(ids(&v["data"]), vec![json!(c)]);
    let v = t
        .get(
            &format!("/api/collection/{a}/items?models=no_models"),
            &admin,
        )
        .await
        .json();
    assert_eq!(
        (v["total"].clone(), v["models"].clone()),
        (json!(0), json!([]))
    );
    t.get(&format!("/api/collection/{a}/items?models=nope"), &admin)
        .await
        .assert(400);
});

both!(s33_root_items_without_root_read, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let top = create(&t, &admin, "T", None).await;
    let hidden = create(&t, &admin, "H", None).await;
    set(
        &t,
        &admin,
        json!({"1":{"root":"none", top.to_string():"read", hidden.to_string():"none"}}),
    )
    .await;
    let v = t.get("/api/collection/root/items", &alice).await.json();
    assert_eq!(ids(&v["data"]), vec![json!(top)]);
    t.get("/api/collection/root", &alice)
        .await
        .assert_text(403, FORBIDDEN);
});

both!(
    s63_archive_cascades_and_restore_follows_operation,
    |t| async move {
        let admin = t.setup().await;
        let a = create(&t, &admin, "A", None).await;
        let b = create(&t, &admin, "B", Some(a)).await;
        let early = create(&t, &admin, "E", Some(a)).await;
        t.put(
            &format!("/api/collection/{early}"),
            &admin,
            json!({"archived": true}),
        )
        .await
        .assert(200);
        let c1 = crate::cards::card(&t, &admin, "c1", Some(b)).await["id"].clone();
        let c2 = crate::cards::card(&t, &admin, "c2", Some(a)).await["id"].clone();
        t.put(
            &format!("/api/card/{c2}"),
            &admin,
            json!({"archived": true}),
        )
        .await
        .assert(200);
        t.put(
            &format!("/api/collection/{a}"),
            &admin,
            json!({"archived": true}),
        )
        .await
        .assert(200);
        let av = get(&t, &admin, a).await;
        let bv = get(&t, &admin, b).await;
        assert_eq!(bv["archived"], true);
        assert_eq!(bv["archived_directly"], false);
        assert_eq!(bv["archive_operation_id"], av["archive_operation_id"]);
        assert_eq!(get(&t, &admin, early).await["archived_directly"], true);
        let v = card(&t, &admin, &c1).await;
        assert_eq!(
            (&v["archived"], &v["archived_directly"]),
            (&json!(true), &json!(false))
        );
        let v = card(&t, &admin, &c2).await;
        assert_eq!(
            (&v["archived"], &v["archived_directly"]),
            (&json!(true), &json!(true))
        );
        t.put(
            &format!("/api/collection/{a}"),
            &admin,
            json!({"archived": false}),
        )
        .await
        .assert(200);
        assert_eq!(get(&t, &admin, b).await["archived"], false);
        assert_eq!(get(&t, &admin, early).await["archived"], true);
        assert_eq!(card(&t, &admin, &c1).await["archived"], false);
        assert_eq!(card(&t, &admin, &c2).await["archived"], true);
    }
);

both!(
    s74_new_collections_copy_without_propagation,
    |t| async move {
        let admin = t.setup().await;
        let (alice_id, alice) = t.person(&admin, "Alice", "alice@example.com").await;
        let g = t.group(&admin, "G").await;
        t.post(
            "/api/permissions/membership",
            &admin,
            json!({"group_id": g, "user_id": alice_id}),
        )
        .await
        .assert(200);
        set(
            &t,
            &admin,
            json!({"1":{"root":"none"}, g.to_string():{"root":"read"}}),
        )
        .await;
        let a = create(&t, &admin, "A", None).await;
        get(&t, &alice, a).await;
        set(&t, &admin, json!({g.to_string():{"root":"none"}})).await;
        let a2 = create(&t, &admin, "A2", None).await;
        get(&t, &alice, a).await;
        t.get(&format!("/api/collection/{a2}"), &alice)
            .await
            .assert_text(403, FORBIDDEN);
    }
);

both!(s75_read_only_cannot_write, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let a = create(&t, &admin, "A", None).await;
    set(&t, &admin, json!({"1":{a.to_string():"read"}})).await;
    get(&t, &alice, a).await;
    t.put(&format!("/api/collection/{a}"), &alice, json!({"name":"x"}))
        .await
        .assert_text(403, FORBIDDEN);
    t.post("/api/collection", &alice, json!({"name":"c","parent_id":a}))
        .await
        .assert_text(403, FORBIDDEN);
    t.put(
        &format!("/api/collection/{a}"),
        &alice,
        json!({"archived":true}),
    )
    .await
    .assert_text(403, FORBIDDEN);
});

both!(s77_personal_collections_are_private, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let (_, bob) = t.person(&admin, "Bob", "bob@example.com").await;
    let p = t.get("/api/user/current", &alice).await.json()["personal_collection_id"]
        .as_i64()
        .expect("personal");
    let inner = create(&t, &alice, "Mine", Some(p)).await;
    assert_eq!(get(&t, &alice, inner).await["can_write"], true);
    assert_eq!(get(&t, &alice, inner).await["is_personal"], true);
    t.get(&format!("/api/collection/{p}"), &bob)
        .await
        .assert_text(403, FORBIDDEN);
    get(&t, &admin, p).await;
    // A collection moved out of the personal tree receives the new parent's entries.
    let r = t
        .put(
            &format!("/api/collection/{inner}"),
            &admin,
            json!({"parent_id": null}),
        )
        .await;
    r.assert(200);
    get(&t, &bob, inner).await;
});
