//! content.md §6 and §6.1, scenarios 79–84: stub endpoints and minimal search.
use serde_json::{json, Value};

use crate::both;
use crate::cards::card;
use crate::collections_graph::{create as collection, set};
use crate::support::Auth;

fn names(v: &Value) -> Vec<&str> {
    v["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|c| c["name"].as_str().expect("name"))
        .collect()
}

both!(s79_stub_lists_are_empty, |t| async move {
    let admin = t.setup().await;
    for path in [
        "/api/pulse",
        "/api/alert",
        "/api/alert/question/1",
        "/api/notification",
        "/api/segment",
        "/api/legacy-metric",
        "/api/native-query-snippet",
        "/api/timeline",
        "/api/collection/root/timelines",
        "/api/pulse/?archived=true",
    ] {
        let r = t.get(path, &admin).await;
        r.assert(200);
        assert_eq!(r.json(), json!([]), "{path}");
    }
    let a = collection(&t, &admin, "A", None).await;
    let r = t
        .get(&format!("/api/collection/{a}/timelines"), &admin)
        .await;
    assert_eq!(r.json(), json!([]));
    // Stubs require authentication like every other endpoint.
    t.get("/api/pulse", &Auth::None).await.assert(401);
    t.get("/api/segment/1", &Auth::None).await.assert(401);
});

both!(s80_stub_members_and_writes_are_not_found, |t| async move {
    let admin = t.setup().await;
    t.get("/api/pulse/1", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/segment/1", &admin)
        .await
        .assert_text(404, "Not found.");
    t.post("/api/pulse", &admin, json!({}))
        .await
        .assert_text(404, "Not found.");
    t.put("/api/native-query-snippet/1", &admin, json!({}))
        .await
        .assert_text(404, "Not found.");
    t.delete("/api/timeline/3", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/alert/7", &admin)
        .await
        .assert_text(404, "Not found.");
});

both!(s81_stub_kinds_in_items_are_empty, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    card(&t, &admin, "c", Some(a)).await;
    let r = t
        .get(
            &format!("/api/collection/{a}/items?models=pulse&models=timeline"),
            &admin,
        )
        .await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["total"], 0);
    assert_eq!(v["models"], json!(["pulse", "timeline"]));
});

both!(s82_search_by_name_with_permissions, |t| async move {
    let admin = t.setup().await;
    let (alice_id, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let g = t.group(&admin, "G").await;
    t.post(
        "/api/permissions/membership",
        &admin,
        json!({"user_id": alice_id, "group_id": g}),
    )
    .await
    .assert(200);
    let hidden = collection(&t, &admin, "Hidden", None).await;
    set(
        &t,
        &admin,
        json!({"1": {hidden.to_string(): "none"}, g.to_string(): {hidden.to_string(): "none"}}),
    )
    .await;
    card(&t, &admin, "Monthly revenue", Some(hidden)).await;
    card(&t, &admin, "Revenue", None).await;
    let old = card(&t, &admin, "Revenue old", None).await;
    t.put(
        &format!("/api/card/{}", old["id"]),
        &admin,
        json!({"archived": true}),
    )
    .await
    .assert(200);
    card(&t, &admin, "Orders", None).await;

    let r = t.get("/api/search?q=REVENUE", &admin).await;
    r.assert(200);
    let v = r.json();
    assert_eq!(names(&v), ["Revenue", "Monthly revenue"]);
    assert_eq!(v["total"], 2);
    for hit in v["data"].as_array().expect("data") {
        assert_eq!(hit["model"], "card");
        assert!(hit["collection"].is_object());
        assert_eq!(hit["display"], "table");
        assert_eq!(hit["database_id"], 1);
        assert!(hit.get("dashboard_id").is_some());
    }
    assert_eq!(v["data"][1]["collection"]["id"], hidden);
    assert_eq!(v["data"][1]["collection"]["name"], "Hidden");
    assert_eq!(v["engine"], "in-place");
    assert_eq!(v["models"], Value::Null);
    assert_eq!(v["limit"], Value::Null);
    assert_eq!(v["table_db_id"], Value::Null);

    let v = t.get("/api/search?q=revenue", &alice).await.json();
    assert_eq!(names(&v), ["Revenue"]);
    assert_eq!(v["total"], 1);

    let v = t
        .get("/api/search?q=revenue&archived=true", &admin)
        .await
        .json();
    assert_eq!(names(&v), ["Revenue old"]);

    // Paging as for collection items.
    let v = t.get("/api/search?offset=1", &admin).await.json();
    assert_eq!(v["limit"], 50);
    assert_eq!(v["offset"], 1);
    // Three live cards, "Hidden" and admin's own personal collection (not alice's).
    assert_eq!(v["total"], 5);
    assert_eq!(v["data"].as_array().expect("data").len(), 4);
});

both!(
    s83_search_models_filter_and_available_models,
    |t| async move {
        let admin = t.setup().await;
        let a = collection(&t, &admin, "Sales", None).await;
        t.post(
            "/api/dashboard",
            &admin,
            json!({"name": "Sales board", "collection_id": a}),
        )
        .await
        .assert(200);
        card(&t, &admin, "Sales card", Some(a)).await;
        let v = t.get("/api/search?models=dashboard", &admin).await.json();
        let data = v["data"].as_array().expect("data");
        assert_eq!(data.len(), 1, "{v}");
        assert!(data.iter().all(|d| d["model"] == "dashboard"), "{v}");
        assert_eq!(v["models"], json!(["dashboard"]));
        let available = v["available_models"].as_array().expect("available");
        assert!(available.contains(&json!("collection")));
        assert!(available.contains(&json!("card")));
        assert!(available.contains(&json!("dashboard")));
        // Unknown kinds are accepted and yield nothing.
        let v = t.get("/api/search?models=table", &admin).await.json();
        assert_eq!(v["total"], 0);
    }
);

both!(
    s84_search_root_items_have_a_null_collection,
    |t| async move {
        let admin = t.setup().await;
        collection(&t, &admin, "Zebra finance", None).await;
        let v = t.get("/api/search?q=zebra", &admin).await.json();
        assert_eq!(v["total"], 1);
        assert_eq!(v["data"][0]["model"], "collection");
        assert_eq!(
            v["data"][0]["collection"],
            json!({"id": null, "name": null, "authority_level": null, "type": null})
        );
        // Other users' personal collections are never returned, even to admins.
        t.person(&admin, "Bob", "bob@example.com").await;
        let v = t.get("/api/search?q=personal", &admin).await.json();
        assert_eq!(v["total"], 1, "{v}");
    }
);
