//! content.md §1.6 and §2, scenarios 29–32, 38, 88, 91, 94, 95, 97: cards in collection items
//! (paging, kinds, pinning, order) and card writes the spec refuses or reshapes.
use serde_json::{json, Value};

use crate::both;
use crate::cards::{card, native, CURATE};
use crate::collections_graph::{create as collection, set};
use crate::support::{Auth, TestApp, PASSWORD};

const TRASH: &str = "You cannot modify the Trash Collection.";

/// `POST /api/card` with `extra` merged into a native card body, which must succeed.
async fn card_with(t: &TestApp, by: &Auth, name: &str, extra: Value) -> Value {
    let mut body = json!({"name": name, "dataset_query": native("select 1"), "display": "table",
                          "visualization_settings": {}});
    for (k, v) in extra.as_object().expect("object") {
        body[k] = v.clone();
    }
    let r = t.post("/api/card", by, body).await;
    r.assert(200);
    r.json()
}

/// `GET /api/collection/<id>/items?<query>`, which must succeed.
async fn items(t: &TestApp, by: &Auth, id: i64, query: &str) -> Value {
    let r = t
        .get(&format!("/api/collection/{id}/items?{query}"), by)
        .await;
    r.assert(200);
    r.json()
}

fn names(v: &Value) -> Vec<String> {
    v["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|i| i["name"].as_str().expect("name").to_string())
        .collect()
}

fn ids(v: &Value) -> Vec<i64> {
    v["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect()
}

both!(s29_items_paging_is_complete_and_stable, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    let mut all = Vec::new();
    for i in 0..120 {
        // Names repeat so that paging has to break ties by id.
        all.push(card(&t, &admin, &format!("c{}", i % 7), Some(a)).await["id"].clone());
    }
    let mut seen = Vec::new();
    for (offset, len) in [(0, 50), (50, 50), (100, 20)] {
        let v = items(&t, &admin, a, &format!("limit=50&offset={offset}")).await;
        assert_eq!(v["total"], 120);
        assert_eq!((&v["limit"], &v["offset"]), (&json!(50), &json!(offset)));
        assert_eq!(ids(&v).len(), len, "offset {offset}");
        seen.extend(ids(&v));
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), 120, "duplicates across pages");
    let mut want: Vec<i64> = all.iter().map(|v| v.as_i64().expect("id")).collect();
    want.sort_unstable();
    assert_eq!(sorted, want);
    // The pages are the unpaged listing cut in three.
    assert_eq!(ids(&items(&t, &admin, a, "").await), seen);
    let v = items(&t, &admin, a, "offset=10").await;
    assert_eq!((&v["limit"], &v["offset"]), (&json!(50), &json!(10)));
    assert_eq!(v["total"], 120);
    assert_eq!(ids(&v), seen[10..60].to_vec());
});

both!(s30_items_models_filter, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    let q = card(&t, &admin, "q", Some(a)).await;
    let m = card_with(
        &t,
        &admin,
        "m",
        json!({"type": "model", "collection_id": a}),
    )
    .await;
    let d = dashboard(&t, &admin, "d", a).await;
    let v = items(&t, &admin, a, "models=card&models=dashboard").await;
    assert_eq!(v["models"], json!(["card", "dashboard"]));
    assert_eq!(v["total"], 2);
    assert_eq!(
        ids(&v),
        vec![d, q["id"].as_i64().expect("id")],
        "d sorts before q by name"
    );
    assert_eq!(v["data"][0]["model"], "dashboard");
    assert_eq!(v["data"][1]["model"], "card");
    let v = items(&t, &admin, a, "models=dashboard&models=card").await;
    assert_eq!(v["models"], json!(["card", "dashboard"]));
    let v = items(&t, &admin, a, "models=dataset").await;
    assert_eq!(v["models"], json!(["dataset"]));
    assert_eq!(v["total"], 1);
    assert_eq!(ids(&v), vec![m["id"].as_i64().expect("id")]);
    assert_eq!(v["data"][0]["model"], "dataset");
    let v = items(&t, &admin, a, "models=no_models").await;
    assert_eq!(
        (&v["total"], &v["models"], &v["data"]),
        (&json!(0), &json!([]), &json!([]))
    );
    let r = t
        .get(&format!("/api/collection/{a}/items?models=bogus"), &admin)
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["models"].is_string(), "{}", r.text);
});

both!(s31_items_pinned_state, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    let pinned = card_with(
        &t,
        &admin,
        "pinned",
        json!({"collection_id": a, "collection_position": 1}),
    )
    .await;
    let loose = card(&t, &admin, "loose", Some(a)).await;
    let v = items(&t, &admin, a, "pinned_state=is_pinned").await;
    assert_eq!(ids(&v), vec![pinned["id"].as_i64().expect("id")]);
    assert_eq!(v["data"][0]["collection_position"], 1);
    assert_eq!(v["total"], 1);
    let v = items(&t, &admin, a, "pinned_state=is_not_pinned").await;
    assert_eq!(ids(&v), vec![loose["id"].as_i64().expect("id")]);
    assert_eq!(v["data"][0]["collection_position"], Value::Null);
    assert_eq!(v["total"], 1);
    assert_eq!(items(&t, &admin, a, "pinned_state=all").await["total"], 2);
    t.get(
        &format!("/api/collection/{a}/items?pinned_state=nope"),
        &admin,
    )
    .await
    .assert(400);
});

both!(s32_items_order_by_name_and_model, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    for n in ["b", "A", "c"] {
        card(&t, &admin, n, Some(a)).await;
    }
    dashboard(&t, &admin, "a2", a).await;
    assert_eq!(
        names(&items(&t, &admin, a, "").await),
        ["A", "a2", "b", "c"]
    );
    assert_eq!(
        names(&items(&t, &admin, a, "sort_column=name&sort_direction=desc").await),
        ["c", "b", "a2", "A"]
    );
    assert_eq!(
        names(&items(&t, &admin, a, "sort_column=model").await),
        ["a2", "A", "b", "c"]
    );
    // The direction reverses the primary key (the kind) only; names stay ascending.
    assert_eq!(
        names(&items(&t, &admin, a, "sort_column=model&sort_direction=desc").await),
        ["A", "b", "c", "a2"]
    );
    t.get(
        &format!("/api/collection/{a}/items?sort_column=size"),
        &admin,
    )
    .await
    .assert(400);
});

both!(s38_read_only_collection_refuses_new_card, |t| async move {
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
    let a = collection(&t, &admin, "A", None).await;
    set(
        &t,
        &admin,
        json!({"1": {a.to_string(): "none"}, g.to_string(): {a.to_string(): "read"}}),
    )
    .await;
    let r = t
        .post(
            "/api/card",
            &alice,
            json!({"name": "Q", "dataset_query": native("select 1"), "display": "table",
                   "visualization_settings": {}, "collection_id": a}),
        )
        .await;
    r.assert(403);
    assert_eq!(r.json(), json!({ "message": CURATE }));
    assert_eq!(items(&t, &admin, a, "").await["total"], 0);
});

both!(s88_embedding_cannot_be_enabled, |t| async move {
    let admin = t.setup().await;
    let c = card(&t, &admin, "C", None).await;
    let path = format!("/api/card/{}", c["id"]);
    let r = t
        .put(&path, &admin, json!({"enable_embedding": true}))
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"enable_embedding": "Embedding is not supported by ferrobase."}})
    );
    // Nothing else in a refused request is applied.
    let r = t
        .put(
            &path,
            &admin,
            json!({"enable_embedding": true, "name": "renamed"}),
        )
        .await;
    r.assert(400);
    assert_eq!(t.get(&path, &admin).await.json()["name"], "C");
    let r = t
        .put(&path, &admin, json!({"enable_embedding": false}))
        .await;
    r.assert(200);
    assert_eq!(r.json()["enable_embedding"], false);
    assert_eq!(r.json()["updated_at"], c["updated_at"]);
});

both!(s91_trash_is_not_a_card_collection, |t| async move {
    let admin = t.setup().await;
    let trash = t.get("/api/collection/trash", &admin).await.json()["id"].clone();
    let a = collection(&t, &admin, "A", None).await;
    let c = card(&t, &admin, "C", Some(a)).await;
    let path = format!("/api/card/{}", c["id"]);
    t.put(&path, &admin, json!({ "collection_id": trash }))
        .await
        .assert_text(400, TRASH);
    let after = t.get(&path, &admin).await.json();
    assert_eq!(after["collection_id"], a);
    assert_eq!(after["archived"], false);
    t.post(
        "/api/card",
        &admin,
        json!({"name": "Q", "dataset_query": native("select 1"), "display": "table",
               "visualization_settings": {}, "collection_id": trash}),
    )
    .await
    .assert_text(400, TRASH);
    assert_eq!(
        t.get("/api/card", &admin)
            .await
            .json()
            .as_array()
            .map(Vec::len),
        Some(1)
    );
});

both!(s94_using_model_finds_card_template_tags, |t| async move {
    let admin = t.setup().await;
    let b = card(&t, &admin, "B", None).await;
    let bid = b["id"].as_i64().expect("id");
    let tag = format!("#{bid}-b");
    let query = json!({"database": 1, "type": "native", "native": {
        "query": format!("select * from {{{{{tag}}}}}"),
        "template-tags": {tag.clone(): {"id": "0f1e2d3c", "name": tag, "display-name": "B",
                                        "type": "card", "card-id": bid}}}});
    let a = card_with(&t, &admin, "A", json!({ "dataset_query": query })).await;
    card(&t, &admin, "Other", None).await;
    // A legacy MBQL query on `card__<B>` uses B as well.
    let mbql =
        json!({"database": 1, "type": "query", "query": {"source-table": format!("card__{bid}")}});
    let m = card_with(&t, &admin, "M", json!({ "dataset_query": mbql })).await;
    assert_eq!(m["table_id"], Value::Null);
    assert_eq!(m["query_type"], "query");
    let r = t
        .get(&format!("/api/card?f=using_model&model_id={bid}"), &admin)
        .await;
    r.assert(200);
    let list = r.json();
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    assert_eq!(list[0]["id"], a["id"]);
    assert_eq!(list[0]["dataset_query"], query);
    assert_eq!(list[1]["id"], m["id"]);
    let r = t
        .get(
            &format!("/api/card?f=using_model&model_id={}", a["id"]),
            &admin,
        )
        .await;
    assert_eq!(r.json(), json!([]));
});

both!(s95_question_becomes_model, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    let c = card_with(
        &t,
        &admin,
        "C",
        json!({"display": "bar", "collection_id": a}),
    )
    .await;
    assert_eq!(c["display"], "bar");
    let path = format!("/api/card/{}", c["id"]);
    let r = t.put(&path, &admin, json!({"type": "model"})).await;
    r.assert(200);
    assert_eq!(r.json()["type"], "model");
    assert_eq!(r.json()["display"], "table");
    assert_eq!(t.get(&path, &admin).await.json(), r.json());
    let v = items(&t, &admin, a, "").await;
    assert_eq!(v["data"][0]["id"], c["id"]);
    assert_eq!(v["data"][0]["model"], "dataset");
    assert_eq!(v["data"][0]["display"], "table");
    assert_eq!(items(&t, &admin, a, "models=card").await["total"], 0);
    assert_eq!(items(&t, &admin, a, "models=dataset").await["total"], 1);
    // A `list` display survives the change, stored or sent.
    let l = card_with(&t, &admin, "L", json!({"display": "list"})).await;
    let r = t
        .put(
            &format!("/api/card/{}", l["id"]),
            &admin,
            json!({"type": "model"}),
        )
        .await;
    r.assert(200);
    assert_eq!(
        (&r.json()["type"], &r.json()["display"]),
        (&json!("model"), &json!("list"))
    );
    let p = card_with(&t, &admin, "P", json!({"display": "pie"})).await;
    let r = t
        .put(
            &format!("/api/card/{}", p["id"]),
            &admin,
            json!({"type": "model", "display": "list"}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["display"], "list");
});

/// Admin creates a user with a last name and logs them in: (user id, session).
async fn named_person(t: &TestApp, admin: &Auth, first: &str, last: &str) -> (i64, Auth) {
    let email = format!("{}@example.com", first.to_lowercase());
    let r = t
        .post(
            "/api/user",
            admin,
            json!({"email": email, "first_name": first, "last_name": last, "password": PASSWORD}),
        )
        .await;
    r.assert(200);
    (
        r.json()["id"].as_i64().expect("id"),
        t.login(&email, PASSWORD).await,
    )
}

both!(s97_last_edit_info_follows_the_editor, |t| async move {
    let admin = t.setup().await;
    let (alice_id, alice) = named_person(&t, &admin, "Alice", "Zeta").await;
    let a = collection(&t, &admin, "A", None).await;
    let c = card(&t, &alice, "zz", Some(a)).await;
    let d = card(&t, &alice, "aa", Some(a)).await;
    // Bob has no last name: his items sort after every named editor, in both directions.
    let (_, bob) = t.person(&admin, "Bob", "bob@example.com").await;
    card(&t, &bob, "mm", Some(a)).await;
    assert_eq!(c["last-edit-info"]["id"], alice_id);
    let path = format!("/api/card/{}", c["id"]);
    t.put(&path, &admin, json!({"name": "renamed zz"}))
        .await
        .assert(200);
    let v = t.get(&path, &admin).await.json();
    assert_eq!(v["creator_id"], alice_id);
    assert_eq!(v["creator"]["email"], "alice@example.com");
    let info = &v["last-edit-info"];
    assert_eq!(info["id"], 1);
    assert_eq!(info["email"], "ada@example.com");
    assert_eq!(info["first_name"], "Ada");
    assert_eq!(info["last_name"], "Lovelace");
    assert_eq!(info["timestamp"], v["updated_at"]);
    // Lovelace (admin edited "renamed zz") sorts before Zeta (alice's untouched "aa").
    let listed = items(&t, &admin, a, "sort_column=last_edited_by").await;
    assert_eq!(names(&listed), ["renamed zz", "aa", "mm"]);
    assert_eq!(listed["data"][0]["last-edit-info"]["id"], 1);
    assert_eq!(listed["data"][1]["last-edit-info"]["id"], alice_id);
    assert_eq!(listed["data"][1]["id"], d["id"]);
    let listed = items(
        &t,
        &admin,
        a,
        "sort_column=last_edited_by&sort_direction=desc",
    )
    .await;
    assert_eq!(names(&listed), ["aa", "renamed zz", "mm"]);
});

/// `POST /api/dashboard` into a collection, which must succeed: the new dashboard's id.
async fn dashboard(t: &TestApp, by: &Auth, name: &str, collection_id: i64) -> i64 {
    let r = t
        .post(
            "/api/dashboard",
            by,
            json!({"name": name, "collection_id": collection_id}),
        )
        .await;
    r.assert(200);
    r.json()["id"].as_i64().expect("id")
}

both!(s34_dashboard_questions_only_with_the_flag, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    let d = dashboard(&t, &admin, "D", a).await;
    let q = card_with(&t, &admin, "Q", json!({"dashboard_id": d})).await;
    assert_eq!(q["collection_id"], a);
    assert_eq!(names(&items(&t, &admin, a, "").await), ["D"]);
    let v = items(&t, &admin, a, "show_dashboard_questions=true").await;
    assert_eq!(names(&v), ["D", "Q"]);
    assert_eq!(v["data"][1]["dashboard_id"], d);
});

// Scenarios 72 and 73 at test scale (their speed is measured by scripts/bench-archive.sh):
// a loop of single archives answers 200 every time, also when re-run, and archiving the top
// collection of a nested subtree archives every item below it in one request.
both!(s72_s73_archiving_loops_and_subtrees, |t| async move {
    let admin = t.setup().await;
    let top = collection(&t, &admin, "top", None).await;
    let mid = collection(&t, &admin, "mid", Some(top)).await;
    let leaf = collection(&t, &admin, "leaf", Some(mid)).await;
    let mut loose = Vec::new();
    for i in 0..20 {
        loose.push(card(&t, &admin, &format!("loose {i}"), None).await["id"].clone());
    }
    for round in 0..2 {
        for id in &loose {
            let r = t
                .put(
                    &format!("/api/card/{id}"),
                    &admin,
                    json!({"archived": true}),
                )
                .await;
            r.assert(200);
            assert_eq!(r.json()["archived"], true, "round {round}");
        }
    }
    let mut deep = Vec::new();
    for (i, c) in [top, mid, leaf].into_iter().cycle().take(15).enumerate() {
        deep.push(card(&t, &admin, &format!("deep {i}"), Some(c)).await["id"].clone());
    }
    let d = dashboard(&t, &admin, "board", leaf).await;
    t.put(
        &format!("/api/collection/{top}"),
        &admin,
        json!({"archived": true}),
    )
    .await
    .assert(200);
    for id in &deep {
        let c = t.get(&format!("/api/card/{id}"), &admin).await.json();
        assert_eq!(
            (&c["archived"], &c["archived_directly"]),
            (&json!(true), &json!(false))
        );
    }
    let b = t.get(&format!("/api/dashboard/{d}"), &admin).await.json();
    assert_eq!(b["archived"], true);
    assert_eq!(t.get("/api/card", &admin).await.json(), json!([]));
});
