//! content.md §3.1–3.4 and §5, scenarios 1, 47, 48, 93: creating, reading, listing and
//! updating dashboards, permission denials through a key in a restricted group, and the order
//! of 400/404/403; plus the helpers the other `dashboards_*` modules share.
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::both;
use crate::cards::{card, CURATE};
use crate::collections_graph::{create as collection, set};
use crate::support::{Auth, TestApp};

pub const FORBIDDEN: &str = "You don't have permissions to do that.";

/// `POST /api/dashboard`, which must succeed: the dashboard.
pub async fn dashboard(t: &TestApp, by: &Auth, name: &str, collection_id: Option<i64>) -> Value {
    let r = t
        .post(
            "/api/dashboard",
            by,
            json!({"name": name, "collection_id": collection_id}),
        )
        .await;
    r.assert(200);
    r.json()
}

pub fn path(d: &Value) -> String {
    format!("/api/dashboard/{}", d["id"])
}

/// A dashcard element for a `PUT`.
pub fn dc(id: i64, card_id: &Value, row: i64) -> Value {
    json!({"id": id, "card_id": card_id, "row": row, "col": 0, "size_x": 4, "size_y": 4})
}

/// `PUT` with `body`, which must succeed: the dashboard.
pub async fn put_ok(t: &TestApp, by: &Auth, d: &Value, body: Value) -> Value {
    let r = t.put(&path(d), by, body).await;
    r.assert(200);
    r.json()
}

pub fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("array")
        .iter()
        .map(|x| x["id"].as_i64().expect("id"))
        .collect()
}

fn is_nanoid(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 21
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    })
}

const DETAIL_KEYS: &[&str] = &[
    "id",
    "entity_id",
    "name",
    "description",
    "collection_id",
    "collection_position",
    "collection",
    "collection_authority_level",
    "creator_id",
    "parameters",
    "width",
    "auto_apply_filters",
    "cache_ttl",
    "position",
    "caveats",
    "points_of_interest",
    "show_in_getting_started",
    "enable_embedding",
    "embedding_params",
    "public_uuid",
    "made_public_by_id",
    "archived",
    "archived_directly",
    "view_count",
    "last_viewed_at",
    "created_at",
    "updated_at",
    "last-edit-info",
    "can_write",
    "can_restore",
    "can_delete",
    "param_fields",
    "tabs",
    "dashcards",
];

both!(s1_every_entity_id_is_a_distinct_nanoid, |t| async move {
    let admin = t.setup().await;
    let a = t
        .post("/api/collection", &admin, json!({"name": "A"}))
        .await
        .json();
    let c = card(&t, &admin, "C", a["id"].as_i64()).await;
    let d = dashboard(&t, &admin, "D", a["id"].as_i64()).await;
    let v = put_ok(
        &t,
        &admin,
        &d,
        json!({"tabs": [{"id": -1, "name": "T"}],
               "dashcards": [{"id": -1, "card_id": c["id"], "dashboard_tab_id": -1,
                              "row": 0, "col": 0, "size_x": 4, "size_y": 4}]}),
    )
    .await;
    let eids = [
        &a["entity_id"],
        &c["entity_id"],
        &d["entity_id"],
        &v["tabs"][0]["entity_id"],
        &v["dashcards"][0]["entity_id"],
    ];
    for e in eids {
        assert!(is_nanoid(e), "{e}");
    }
    let mut set: Vec<&Value> = eids.to_vec();
    set.sort_by_key(|v| v.to_string());
    set.dedup();
    assert_eq!(set.len(), 5);
    // A dashboard by its entity id; a malformed segment matches no route.
    let r = t
        .get(
            &format!("/api/dashboard/{}", d["entity_id"].as_str().expect("eid")),
            &admin,
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["id"], d["id"]);
    t.get("/api/dashboard/abc", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/dashboard/aaaaaaaaaaaaaaaaaaaaa", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/dashboard/0", &admin).await.assert(400);
});

both!(s47_create_then_get_is_identical, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    let r = t
        .post(
            "/api/dashboard",
            &admin,
            json!({"name": "D", "collection_id": a, "dashcards": [{"id": -1}], "color": "x"}),
        )
        .await;
    r.assert(200);
    let created = r.json();
    let got = t.get(&path(&created), &admin).await;
    got.assert(200);
    assert_eq!(got.json(), created);
    for k in DETAIL_KEYS {
        assert!(created.get(k).is_some(), "{k}");
    }
    assert_eq!(created["dashcards"], json!([]));
    assert_eq!(created["tabs"], json!([]));
    assert_eq!(created["width"], "fixed");
    assert_eq!(created["auto_apply_filters"], true);
    assert_eq!(created["enable_embedding"], false);
    assert_eq!(created["public_uuid"], Value::Null);
    assert_eq!(created["creator_id"], 1);
    assert_eq!(created["collection_id"], a);
    assert_eq!(created["collection"]["id"], a);
    assert_eq!(created["parameters"], json!([]));
    assert_eq!(created["can_write"], true);
    assert_eq!(created["last-edit-info"]["email"], "ada@example.com");
    assert!(is_nanoid(&created["entity_id"]));
});

both!(s48_width_and_parameters_validated, |t| async move {
    let admin = t.setup().await;
    let d = dashboard(&t, &admin, "D", None).await;
    let r = t.put(&path(&d), &admin, json!({"width": "wide"})).await;
    r.assert(400);
    assert!(r.json()["errors"]["width"].is_string());
    assert!(r.json()["specific-errors"]["width"].is_array());
    let r = t
        .post(
            "/api/dashboard",
            &admin,
            json!({"name": "P", "parameters": [{"type": "category", "name": "x"}]}),
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["parameters"].is_string());
    // Valid values are stored and echoed.
    let params = json!([{"id": "abc", "type": "category", "name": "Cat", "slug": "cat"}]);
    let v = put_ok(
        &t,
        &admin,
        &d,
        json!({"width": "full", "parameters": params, "description": "", "cache_ttl": null,
               "auto_apply_filters": false, "position": 3, "caveats": "c",
               "points_of_interest": null, "creator_id": 99, "entity_id": "x"}),
    )
    .await;
    assert_eq!(v["width"], "full");
    assert_eq!(v["parameters"], params);
    assert_eq!(v["description"], "");
    assert_eq!(v["auto_apply_filters"], false);
    assert_eq!(v["position"], 3);
    assert_eq!(v["caveats"], "c");
    assert_eq!(v["creator_id"], 1);
    assert_eq!(v["entity_id"], d["entity_id"]);
    assert_eq!(t.get(&path(&d), &admin).await.json(), v);
    for (body, field) in [
        (json!({"name": " "}), "name"),
        (json!({"enable_embedding": true}), "enable_embedding"),
        (json!({"archived": "yes"}), "archived"),
    ] {
        let r = t.put(&path(&d), &admin, body).await;
        r.assert(400);
        assert!(r.json()["errors"][field].is_string(), "{field}");
    }
    t.put(&path(&d), &admin, json!({"enable_embedding": false}))
        .await
        .assert(200);
    let r = t.post("/api/dashboard", &admin, json!({"name": ""})).await;
    r.assert(400);
    assert!(r.json()["errors"]["name"].is_string());
});

both!(put_back_what_get_returned_changes_nothing, |t| async move {
    let admin = t.setup().await;
    let c = card(&t, &admin, "C", None).await;
    let d = dashboard(&t, &admin, "D", None).await;
    let v = put_ok(
        &t,
        &admin,
        &d,
        json!({"tabs": [{"id": -1, "name": "T"}],
               "dashcards": [{"id": -1, "card_id": c["id"], "dashboard_tab_id": -1, "row": 0,
                              "col": 0, "size_x": 4, "size_y": 4, "series": [c["id"]],
                              "parameter_mappings": [{"parameter_id": "p", "card_id": c["id"],
                                                      "target": ["variable", ["template-tag", "x"]]}],
                              "visualization_settings": {"a": 1}}]}),
    )
    .await;
    assert_eq!(v["dashcards"][0]["series"][0]["id"], c["id"]);
    let again = put_ok(&t, &admin, &d, v.clone()).await;
    assert_eq!(again, v);
    assert_eq!(again["updated_at"], v["updated_at"]);
});

both!(entity_ids_of_new_rows_kept_or_refused, |t| async move {
    let admin = t.setup().await;
    let d = dashboard(&t, &admin, "D", None).await;
    let (e1, e2) = ("abcdefghijklmnopqrstu", "ABCDEFGHIJKLMNOPQRSTU");
    let v = put_ok(
        &t,
        &admin,
        &d,
        json!({"tabs": [{"id": -1, "name": "T", "entity_id": e1}],
               "dashcards": [{"id": -1, "card_id": null, "dashboard_tab_id": -1, "row": 0,
                              "col": 0, "size_x": 4, "size_y": 4, "entity_id": e2}]}),
    )
    .await;
    assert_eq!(v["tabs"][0]["entity_id"], e1);
    assert_eq!(v["dashcards"][0]["entity_id"], e2);
    let other = dashboard(&t, &admin, "O", None).await;
    let r = t
        .put(
            &path(&other),
            &admin,
            json!({"tabs": [{"id": -1, "name": "T", "entity_id": e1}]}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"entity_id": "An item with this entity_id already exists."}})
    );
    let r = t
        .put(
            &path(&other),
            &admin,
            json!({"dashcards": [{"id": -1, "card_id": null, "row": 0, "col": 0,
                                  "size_x": 4, "size_y": 4, "entity_id": "bad"}]}),
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["entity_id"].is_string());
    let r = t
        .post(
            "/api/dashboard",
            &admin,
            json!({"name": "X", "entity_id": d["entity_id"]}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"]["entity_id"],
        "An item with this entity_id already exists."
    );
    let r = t
        .post(
            "/api/dashboard",
            &admin,
            json!({"name": "X", "entity_id": e1}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["entity_id"], e1);
});

both!(s93_list_filters_and_shape, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let x = dashboard(&t, &admin, "X", None).await;
    let y = dashboard(&t, &admin, "Y", None).await;
    put_ok(&t, &admin, &y, json!({"archived": true})).await;
    let z = dashboard(&t, &alice, "z", None).await;
    let all = t.get("/api/dashboard", &admin).await.json();
    assert_eq!(
        ids(&all),
        vec![x["id"].as_i64().expect("x"), z["id"].as_i64().expect("z")]
    );
    for d in all.as_array().expect("array") {
        assert!(d.get("dashcards").is_none() && d.get("tabs").is_none());
        assert!(d.get("param_fields").is_none());
        assert!(d.get("entity_id").is_some() && d.get("archived").is_some());
    }
    assert_eq!(
        ids(&t.get("/api/dashboard?f=archived", &admin).await.json()),
        vec![y["id"].as_i64().expect("y")]
    );
    assert_eq!(
        ids(&t.get("/api/dashboard?f=mine", &alice).await.json()),
        vec![z["id"].as_i64().expect("z")]
    );
    assert_eq!(
        t.get("/api/dashboard/", &admin).await.json(),
        t.get("/api/dashboard?f=all", &admin).await.json()
    );
    let r = t.get("/api/dashboard?f=nope", &admin).await;
    r.assert(400);
    assert!(r.json()["errors"]["f"].is_string());
});

both!(key_in_restricted_group_is_denied, |t| async move {
    let admin = t.setup().await;
    let g = t.group(&admin, "G").await;
    let a = collection(&t, &admin, "A", None).await;
    let b = collection(&t, &admin, "B", None).await;
    set(
        &t,
        &admin,
        json!({"1": {"root": "none", a.to_string(): "none", b.to_string(): "none"},
               g.to_string(): {a.to_string(): "read", b.to_string(): "write"}}),
    )
    .await;
    let k = create_key(&t, &admin, "K", g).await.auth();
    let d = dashboard(&t, &admin, "D", Some(a)).await;
    let p = path(&d);
    // Read on A: GET works, every write is a plain 403.
    let r = t.get(&p, &k).await;
    r.assert(200);
    assert_eq!(r.json()["can_write"], false);
    t.put(&p, &k, json!({"name": "x"}))
        .await
        .assert_text(403, FORBIDDEN);
    t.put(&p, &k, json!({"archived": true}))
        .await
        .assert_text(403, FORBIDDEN);
    t.put(&p, &k, json!({"dashcards": []}))
        .await
        .assert_text(403, FORBIDDEN);
    t.delete(&p, &k).await.assert_text(403, FORBIDDEN);
    let r = t
        .post(
            "/api/dashboard",
            &k,
            json!({"name": "N", "collection_id": a}),
        )
        .await;
    r.assert(403);
    assert_eq!(r.json(), json!({ "message": CURATE }));
    let r = t.post("/api/dashboard", &k, json!({"name": "N"})).await;
    r.assert(403);
    assert_eq!(r.json(), json!({ "message": CURATE }));
    // Write on B: creating there works; moving D's copy out of B into A is a curate 403.
    let r = t
        .post(
            "/api/dashboard",
            &k,
            json!({"name": "N", "collection_id": b}),
        )
        .await;
    r.assert(200);
    let n = r.json();
    let r = t.put(&path(&n), &k, json!({"collection_id": a})).await;
    r.assert(403);
    assert_eq!(r.json(), json!({ "message": CURATE }));
    // Order of checks: missing → 404, bad body → 400, before any 403.
    t.get("/api/dashboard/999999", &k)
        .await
        .assert_text(404, "Not found.");
    t.put("/api/dashboard/999999", &k, json!({"width": "x"}))
        .await
        .assert(400);
    t.put(&p, &k, json!({"dashcards": [dc(-1, &json!(999999), 0)]}))
        .await
        .assert_text(404, "Not found.");
    t.put(&p, &k, json!({"collection_id": 999999}))
        .await
        .assert_text(404, "Not found.");
    // No permission on A: GET is a plain 403 and the list omits D.
    set(&t, &admin, json!({g.to_string(): {a.to_string(): "none"}})).await;
    t.get(&p, &k).await.assert_text(403, FORBIDDEN);
    assert_eq!(
        ids(&t.get("/api/dashboard", &k).await.json()),
        vec![n["id"].as_i64().expect("n")]
    );
});

both!(
    create_into_trash_or_archived_collection_refused,
    |t| async move {
        let admin = t.setup().await;
        let trash = t.get("/api/collection/trash", &admin).await.json()["id"].clone();
        let a = collection(&t, &admin, "A", None).await;
        t.post(
            "/api/dashboard",
            &admin,
            json!({"name": "D", "collection_id": trash}),
        )
        .await
        .assert_text(400, "You cannot modify the Trash Collection.");
        t.post(
            "/api/dashboard",
            &admin,
            json!({"name": "D", "collection_id": 999999}),
        )
        .await
        .assert_text(404, "Not found.");
        t.put(
            &format!("/api/collection/{a}"),
            &admin,
            json!({"archived": true}),
        )
        .await
        .assert(200);
        let r = t
            .post(
                "/api/dashboard",
                &admin,
                json!({"name": "D", "collection_id": a}),
            )
            .await;
        r.assert(400);
        assert_eq!(
            r.json(),
            json!({"errors": {"collection_id": "You cannot add items to an archived collection."}})
        );
        let d = dashboard(&t, &admin, "D", None).await;
        t.put(&path(&d), &admin, json!({"collection_id": trash}))
            .await
            .assert_text(400, "You cannot modify the Trash Collection.");
    }
);
