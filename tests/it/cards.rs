//! content.md §2 and §4.2, scenarios 3, 4, 8, 35–37, 40–43, 45, 59–62, 69, 71, 76, 78: cards,
//! and queries.md §1.3/§1.4 (the database registry).
use serde_json::{json, Value};

use crate::both;
use crate::collections_graph::{create as collection, set};
use crate::support::{Auth, TestApp};

pub const CURATE: &str = "You do not have curate permissions for this Collection.";

pub fn native(sql: &str) -> Value {
    json!({"database": 1, "type": "native", "native": {"query": sql}})
}

/// `POST /api/card` with a native query, which must succeed: the card.
pub async fn card(t: &TestApp, by: &Auth, name: &str, collection_id: Option<i64>) -> Value {
    let r = t
        .post(
            "/api/card",
            by,
            json!({"name": name, "dataset_query": native("select 1"), "display": "table",
                   "visualization_settings": {}, "collection_id": collection_id}),
        )
        .await;
    r.assert(200);
    r.json()
}

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|c| c["name"].as_str().expect("name").to_string())
        .collect()
}

both!(
    s35_create_native_card_echoes_query_and_fields,
    |t| async move {
        let admin = t.setup().await;
        let q = json!({"database": 1, "type": "native",
                   "native": {"query": "select 1", "template-tags": {}}, "extra": [3, 1, 2]});
        let r = t
            .post(
                "/api/card",
                &admin,
                json!({"name": "Q", "dataset_query": q, "display": "table",
                   "visualization_settings": {}, "metadata_checksum": "x"}),
            )
            .await;
        r.assert(200);
        let c = r.json();
        assert_eq!(c["dataset_query"], q);
        assert_eq!(c["type"], "question");
        assert_eq!(c["display"], "table");
        assert_eq!(c["description"], Value::Null);
        assert_eq!(c["archived"], false);
        assert_eq!(c["query_type"], "native");
        assert_eq!(c["database_id"], 1);
        assert_eq!(c["table_id"], Value::Null);
        assert_eq!(c["collection_id"], Value::Null);
        assert_eq!(c["creator_id"], 1);
        assert_eq!(c["view_count"], 0);
        assert_eq!(c["parameters"], json!([]));
        assert_eq!(c["moderation_reviews"], json!([]));
        assert_eq!(c["creator"]["email"], "ada@example.com");
        assert_eq!(c["last-edit-info"]["id"], 1);
        assert_eq!(c["can_write"], true);
        let eid = c["entity_id"].as_str().expect("entity_id");
        assert_eq!(eid.len(), 21);
        for key in [
            "collection",
            "dashboard_id",
            "result_metadata",
            "cache_ttl",
            "public_uuid",
            "embedding_params",
            "last_used_at",
            "average_query_time",
        ] {
            assert!(c.get(key).is_some_and(Value::is_null), "{key}");
        }
        // By entity id too.
        let r = t.get(&format!("/api/card/{eid}"), &admin).await;
        r.assert(200);
        assert_eq!(r.json()["id"], c["id"]);
        t.get("/api/card/abc", &admin)
            .await
            .assert_text(404, "Not found.");
    }
);

both!(s36_pmbql_native_verbatim_and_legacy_view, |t| async move {
    let admin = t.setup().await;
    let tags = json!({"x": {"type": "text", "name": "x", "display-name": "X", "id": "abc"}});
    let q = json!({"lib/type": "mbql/query", "database": 1,
                   "stages": [{"lib/type": "mbql.stage/native", "native": "select {{x}}",
                               "template-tags": tags}]});
    let r = t
        .post(
            "/api/card",
            &admin,
            json!({"name": "P", "dataset_query": q, "display": "table", "visualization_settings": {}}),
        )
        .await;
    r.assert(200);
    let c = r.json();
    assert_eq!(c["dataset_query"], q);
    assert_eq!(c["query_type"], "native");
    let id = c["id"].as_i64().expect("id");
    let r = t
        .get(&format!("/api/card/{id}?legacy-mbql=true"), &admin)
        .await;
    r.assert(200);
    assert_eq!(
        r.json()["dataset_query"],
        json!({"database": 1, "type": "native",
               "native": {"query": "select {{x}}", "template-tags": tags}})
    );
    let r = t.get(&format!("/api/card/{id}"), &admin).await;
    assert_eq!(r.json()["dataset_query"], q);
});

both!(s37_s78_create_validation, |t| async move {
    let admin = t.setup().await;
    let base = json!({"name": "Q", "dataset_query": native("select 1"), "display": "table",
                      "visualization_settings": {}});
    for (drop, field) in [
        ("display", "display"),
        ("visualization_settings", "visualization_settings"),
    ] {
        let mut b = base.clone();
        b.as_object_mut().expect("obj").remove(drop);
        let r = t.post("/api/card", &admin, b).await;
        r.assert(400);
        assert!(r.json()["errors"][field].is_string(), "{field}");
    }
    let mut b = base.clone();
    b["dataset_query"] = json!({"type": "native", "native": {"query": "select 1"}});
    let r = t.post("/api/card", &admin, b).await;
    r.assert(400);
    assert!(r.json()["errors"]["dataset_query"].is_string());
    let mut b = base.clone();
    b["dataset_query"]["database"] = json!(999);
    let r = t.post("/api/card", &admin, b).await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"dataset_query": "Database 999 does not exist."}})
    );
    // 78: a user without permissions gets 404 / 400 before any 403.
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    set(&t, &admin, json!({"1": {"root": "none"}})).await;
    t.get("/api/card/999999", &alice)
        .await
        .assert_text(404, "Not found.");
    let r = t.post("/api/card", &alice, json!({"name": ""})).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"]["name"],
        "value must be a non-blank string."
    );
});

both!(s40_s41_nulls_default_and_types, |t| async move {
    let admin = t.setup().await;
    let r = t
        .post(
            "/api/card",
            &admin,
            json!({"name": "N", "dataset_query": native("select 1"), "display": "table",
                   "visualization_settings": {}, "description": null, "collection_id": null,
                   "collection_position": null, "result_metadata": null,
                   "metadata_checksum": null, "cache_ttl": null}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["collection_id"], Value::Null);
    assert_eq!(r.json()["collection_position"], Value::Null);
    let r = t
        .post(
            "/api/card",
            &admin,
            json!({"name": "M", "dataset_query": native("select 1"), "display": "table",
                   "visualization_settings": {}, "dataset": true}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["type"], "model");
    assert_eq!(
        t.get("/api/user/current", &admin).await.json()["has_model"],
        true
    );
    let r = t
        .post(
            "/api/card",
            &admin,
            json!({"name": "X", "dataset_query": native("select 1"), "display": "table",
                   "visualization_settings": {}, "type": "metric"}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"type": "A metric must be built with the query builder, not native SQL."}})
    );
});

both!(s3_s4_entity_id_given_kept_and_unique, |t| async move {
    let admin = t.setup().await;
    let x = "abcdefghijABCDEFGHIJ_";
    let r = t
        .post(
            "/api/card",
            &admin,
            json!({"name": "C1", "dataset_query": native("select 1"), "display": "table",
                   "visualization_settings": {}, "entity_id": x}),
        )
        .await;
    r.assert(200);
    let c = r.json();
    assert_eq!(c["entity_id"], x);
    let r = t
        .post(
            "/api/card",
            &admin,
            json!({"name": "C2", "dataset_query": native("select 1"), "display": "table",
                   "visualization_settings": {}, "entity_id": x}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"entity_id": "An item with this entity_id already exists."}})
    );
    let r = t
        .put(
            &format!("/api/card/{}", c["id"]),
            &admin,
            json!({"entity_id": "zzzzzzzzzzzzzzzzzzzzz", "name": "x"}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["name"], "x");
    assert_eq!(r.json()["entity_id"], x);
});

both!(s8_identical_put_keeps_updated_at, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    let c = card(&t, &admin, "C", Some(a)).await;
    let path = format!("/api/card/{}", c["id"]);
    let r = t.put(&path, &admin, c.clone()).await;
    r.assert(200);
    assert_eq!(r.json()["updated_at"], c["updated_at"]);
    let g = t.get(&path, &admin).await.json();
    assert_eq!(g["updated_at"], c["updated_at"]);
    assert_eq!(g["view_count"], 0);
});

both!(s42_pin_position_shifts_others, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    let mut ids = Vec::new();
    for (n, p) in [("one", 1), ("two", 2), ("new", 1)] {
        let r = t
            .post(
                "/api/card",
                &admin,
                json!({"name": n, "dataset_query": native("select 1"), "display": "table",
                       "visualization_settings": {}, "collection_id": a, "collection_position": p}),
            )
            .await;
        r.assert(200);
        ids.push(r.json()["id"].as_i64().expect("id"));
    }
    let mut got = Vec::new();
    for id in &ids {
        got.push(
            t.get(&format!("/api/card/{id}"), &admin).await.json()["collection_position"].clone(),
        );
    }
    assert_eq!(got, vec![json!(2), json!(3), json!(1)]);
});

both!(s43_list_filters, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    card(&t, &admin, "X", None).await;
    let y = card(&t, &admin, "Y", None).await;
    t.put(
        &format!("/api/card/{}", y["id"]),
        &admin,
        json!({"archived": true}),
    )
    .await
    .assert(200);
    card(&t, &alice, "Z", None).await;
    assert_eq!(names(&t.get("/api/card", &admin).await.json()), ["X", "Z"]);
    assert_eq!(
        names(&t.get("/api/card?f=archived", &admin).await.json()),
        ["Y"]
    );
    assert_eq!(
        names(&t.get("/api/card?f=mine", &alice).await.json()),
        ["Z"]
    );
    let r = t.get("/api/card?f=database", &admin).await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"model_id": "model_id is a required parameter when filter mode is 'database'"}})
    );
    let r = t.get("/api/card?f=nope", &admin).await;
    r.assert(400);
    assert!(r.json()["errors"]["f"].is_string());
    assert_eq!(
        names(
            &t.get("/api/card?f=database&model_id=1", &admin)
                .await
                .json()
        ),
        ["X", "Z"]
    );
});

both!(
    s35_dataset_query_echoes_key_order_byte_for_byte,
    |t| async move {
        let admin = t.setup().await;
        // Keys deliberately out of alphabetical order, nested too.
        let query = r#"{"type":"native","native":{"template-tags":{"z":{"type":"text","name":"z","id":"1"}},"query":"select {{z}}"},"database":1,"zeta":[3,1,2],"alpha":{"b":1,"a":2.5}}"#;
        let body = format!(
            r#"{{"name":"Q","display":"table","visualization_settings":{{}},"dataset_query":{query}}}"#
        );
        // serde_json keeps key order (preserve_order), so the request body is sent as written.
        let body: Value = serde_json::from_str(&body).expect("json");
        assert!(body.to_string().contains(query));
        let r = t.post("/api/card", &admin, body).await;
        r.assert(200);
        let needle = format!(r#""dataset_query":{query}"#);
        assert!(r.text.contains(&needle), "{}", r.text);
        let id = r.json()["id"].clone();
        let r = t.get(&format!("/api/card/{id}"), &admin).await;
        assert!(r.text.contains(&needle), "{}", r.text);
        let list = t.get("/api/card", &admin).await;
        assert!(list.text.contains(&needle), "{}", list.text);
    }
);
