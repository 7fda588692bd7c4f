//! data-model.md §7 scenarios on the read endpoints and sync requests: 1–8, 31, 47, 56 (sync),
//! 57–59, 64 (sync and the editable read), 73–76 — on both application databases.
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::both;
use crate::queries_databases::add_sqlite;
use crate::queries_perms::{group_with_alice, restrict, set_data};
use crate::support::Auth;

fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The field `name` of a table in a metadata answer.
fn field(table: &Value, name: &str) -> Value {
    table["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["name"] == name))
        .cloned()
        .unwrap_or_else(|| panic!("no field {name} in {}", table["name"]))
}

/// Every key of data-model.md §1.2.
const TABLE_KEYS: &[&str] = &[
    "id",
    "db_id",
    "schema",
    "name",
    "display_name",
    "description",
    "entity_type",
    "visibility_type",
    "active",
    "field_order",
    "initial_sync_status",
    "caveats",
    "points_of_interest",
    "show_in_getting_started",
    "created_at",
    "updated_at",
    "deactivated_at",
    "archived_at",
    "estimated_row_count",
    "view_count",
    "is_upload",
    "is_writable",
    "database_require_filter",
    "data_authority",
];

both!(data_model_1_tables_of_the_sample, |t| async move {
    let admin = t.setup().await;
    t.get("/api/health", &Auth::None).await.assert(200);
    let r = t.get("/api/table", &admin).await;
    r.assert(200);
    let v = r.json();
    assert_eq!(names(&v), ["ORDERS", "PEOPLE", "PRODUCTS", "REVIEWS"]);
    for (i, table) in v.as_array().unwrap().iter().enumerate() {
        assert_eq!(table["id"], i as i64 + 1);
        assert_eq!(table["db_id"], 1);
        assert_eq!(table["schema"], "");
        assert_eq!(table["active"], true);
        assert_eq!(table["initial_sync_status"], "complete");
        assert_eq!(table["db"]["name"], "Sample Database");
        assert!(table["db"]["details"].is_object());
    }
});

both!(data_model_2_one_table, |t| async move {
    let admin = t.setup().await;
    let v = t.get("/api/table/3", &admin).await.json();
    assert_eq!(v["name"], "PRODUCTS");
    assert_eq!(v["display_name"], "Products");
    assert_eq!(v["entity_type"], "entity/ProductTable");
    assert_eq!(v["field_order"], "database");
    assert_eq!(v["visibility_type"], Value::Null);
    assert_eq!(v["pk_field"], 22);
    assert_eq!(v["db"]["id"], 1);
    for k in TABLE_KEYS {
        assert!(v.get(*k).is_some(), "missing {k}");
    }
});

both!(data_model_3_query_metadata, |t| async move {
    let admin = t.setup().await;
    let v = t.get("/api/table/1/query_metadata", &admin).await.json();
    let fields = v["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 9);
    assert_eq!(fields[0]["name"], "ID");
    assert_eq!(fields[1]["name"], "USER_ID");
    assert_eq!(fields[8]["name"], "CREATED_AT");
    for (i, f) in fields.iter().enumerate() {
        assert_eq!(f["position"], i as i64);
    }
    assert!(v["db"].get("details").is_none());
    assert_eq!(v["segments"], json!([]));
});

both!(data_model_4_one_field, |t| async move {
    let admin = t.setup().await;
    let v = t.get("/api/field/2", &admin).await.json();
    assert_eq!(v["display_name"], "User ID");
    assert_eq!(v["database_type"], "INTEGER");
    assert_eq!(v["base_type"], "type/Integer");
    assert_eq!(v["effective_type"], "type/Integer");
    assert_eq!(v["semantic_type"], "type/FK");
    assert_eq!(v["fk_target_field_id"], 10);
    assert_eq!(v["target"]["name"], "ID");
    assert_eq!(v["target"]["table_id"], 2);
    assert_eq!(v["table"]["name"], "ORDERS");
    assert_eq!(v["table"]["db"]["id"], 1);
    assert_eq!(v["has_field_values"], "none");
    assert_eq!(v["dimensions"], json!([]));
});

both!(
    data_model_5_to_7_metadata_types_and_fingerprints,
    |t| async move {
        let admin = t.setup().await;
        let v = t.get("/api/database/1/metadata", &admin).await.json();
        let tables = v["tables"].as_array().unwrap();
        assert_eq!(
            names(&v["tables"]),
            ["Orders", "People", "Products", "Reviews"].map(|n| n.to_uppercase())
        );
        let people = &tables[1];
        assert!(people.get("db").is_none());
        assert_eq!(field(people, "BIRTH_DATE")["base_type"], "type/Date");
        assert_eq!(field(people, "EMAIL")["semantic_type"], "type/Email");
        assert_eq!(field(people, "EMAIL")["has_field_values"], "search");
        assert_eq!(
            field(people, "EMAIL")["fingerprint"]["type"]["type/Text"]["percent-email"],
            1.0
        );
        assert_eq!(
            field(&tables[0], "CREATED_AT")["base_type"],
            "type/DateTime"
        );
        assert_eq!(
            field(&tables[0], "CREATED_AT")["database_type"],
            "TIMESTAMP"
        );
        let category = t.get("/api/field/25", &admin).await.json();
        assert_eq!(
            category["fingerprint"]["global"],
            json!({"distinct-count": 4, "nil%": 0.0})
        );
        assert!(category["fingerprint"]["type"]["type/Text"].is_object());
        assert_eq!(category["fingerprint_version"], 5);
        assert!(category["last_analyzed"].is_string());
    }
);

both!(data_model_8_name_fields, |t| async move {
    let admin = t.setup().await;
    let products = t.get("/api/table/3/query_metadata", &admin).await.json();
    assert_eq!(products["fields"][0]["name"], "ID");
    assert_eq!(products["fields"][0]["name_field"], Value::Null);
    let people = t.get("/api/table/2/query_metadata", &admin).await.json();
    let fields = people["fields"].as_array().unwrap();
    assert_eq!(fields[0]["name_field"]["name"], "NAME");
    assert!(fields[1..].iter().all(|f| f["name_field"].is_null()));
});

both!(data_model_31_sqlite_warehouse, |t| async move {
    let admin = t.setup().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w31.sqlite");
    {
        let c = rusqlite::Connection::open(&file).unwrap();
        c.execute_batch(
            "CREATE TABLE a(id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES b(id), v);
             CREATE TABLE b(id INTEGER PRIMARY KEY, NAME TEXT);
             CREATE VIEW av AS SELECT id, v FROM a;",
        )
        .unwrap();
    }
    let id = add_sqlite(&t, &admin, "W31", &file).await;
    let r = t
        .post(
            &format!("/api/database/{id}/sync_schema?wait=true"),
            &admin,
            json!({}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json(), json!({"status": "ok"}));
    let meta = t
        .get(&format!("/api/database/{id}/metadata"), &admin)
        .await
        .json();
    assert_eq!(names(&meta["tables"]), ["a", "av", "b"]);
    let tables = meta["tables"].as_array().unwrap();
    assert!(tables.iter().all(|t| t["schema"] == ""));
    let b_id = field(&tables[2], "id")["id"].clone();
    assert_eq!(field(&tables[0], "b_id")["semantic_type"], "type/FK");
    assert_eq!(field(&tables[0], "b_id")["fk_target_field_id"], b_id);
    assert_eq!(field(&tables[0], "v")["database_type"], "NULL");
    assert_eq!(field(&tables[0], "v")["base_type"], "type/*");
    assert_eq!(field(&tables[2], "NAME")["semantic_type"], "type/Name");
    assert_eq!(
        t.get(&format!("/api/database/{id}/schemas"), &admin)
            .await
            .json(),
        json!([""])
    );
    let listed = t
        .get(&format!("/api/database/{id}/schema"), &admin)
        .await
        .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(3));
    assert!(listed[0].get("fields").is_none());
    let status = t.get(&format!("/api/database/{id}"), &admin).await.json();
    assert_eq!(status["id"], id);
});

both!(data_model_47_foreign_keys_into_a_table, |t| async move {
    let admin = t.setup().await;
    let v = t.get("/api/table/3/fks", &admin).await.json();
    let entries = v.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["origin_id"], 3);
    assert_eq!(entries[1]["origin_id"], 31);
    for e in entries {
        assert_eq!(e["relationship"], "Mt1");
        assert_eq!(e["destination_id"], 22);
        assert_eq!(e["origin"]["table"]["db"]["id"], 1);
    }
    assert_eq!(t.get("/api/table/4/fks", &admin).await.json(), json!([]));
});

both!(data_model_56_no_metadata_rights_no_sync, |t| async move {
    let admin = t.setup().await;
    let (_, _, alice) = group_with_alice(&t, &admin).await;
    t.post("/api/database/1/sync_schema", &alice, json!({}))
        .await
        .assert_text(403, "You don't have permissions to do that.");
    t.post("/api/database/1/discard_values", &alice, json!({}))
        .await
        .assert(403);
});

both!(data_model_57_to_59_read_rights_of_a_key, |t| async move {
    let admin = t.setup().await;
    let (g, _, _) = group_with_alice(&t, &admin).await;
    let key = create_key(&t, &admin, "K", g).await.auth();
    let v = t.get("/api/table", &key).await.json();
    assert_eq!(names(&v).len(), 4);
    assert!(v[0]["db"].get("details").is_none());
    let one = t.get("/api/table/3", &key).await;
    one.assert(200);
    assert!(one.json()["db"].get("details").is_none());
    restrict(
        &t,
        &admin,
        1,
        g,
        json!({"view-data": "blocked", "create-queries": "no"}),
    )
    .await;
    assert_eq!(t.get("/api/table", &key).await.json(), json!([]));
    t.get("/api/table/3", &key).await.assert(403);
    t.get("/api/database/1/metadata", &key).await.assert(403);
    t.get("/api/table/999", &key)
        .await
        .assert_text(404, "Not found.");
});

both!(data_model_60_table_level_query_rights, |t| async move {
    let admin = t.setup().await;
    let (g, _, _) = group_with_alice(&t, &admin).await;
    let key = create_key(&t, &admin, "K", g).await.auth();
    restrict(
        &t,
        &admin,
        1,
        g,
        json!({"view-data": "blocked", "create-queries": "no"}),
    )
    .await;
    t.get("/api/field/25/values", &key).await.assert(403);
    set_data(
        &t,
        &admin,
        json!({g.to_string(): {"1": {"view-data": "unrestricted",
                                      "create-queries": {"": {"3": "query-builder"}}}}}),
    )
    .await;
    let listed = t.get("/api/table", &key).await.json();
    assert_eq!(names(&listed), vec!["PRODUCTS"]);
    let meta = t.get("/api/database/1/metadata", &key).await;
    meta.assert(200);
    assert_eq!(names(&meta.json()["tables"]), vec!["PRODUCTS"]);
    assert_eq!(
        t.get("/api/database/1/schemas", &key).await.json(),
        json!([""])
    );
    t.get("/api/table/3", &key).await.assert(200);
    t.get("/api/table/1", &key).await.assert(403);
    // include=tables lists what the key may read (queries.md §1.3–§1.4).
    let dbs = t.get("/api/database?include=tables", &key).await.json();
    assert_eq!(names(&dbs["data"][0]["tables"]), vec!["PRODUCTS"]);
    let one = t
        .get("/api/database/1?include=tables.fields", &key)
        .await
        .json();
    assert_eq!(names(&one["tables"]), vec!["PRODUCTS"]);
    assert_eq!(one["tables"][0]["fields"].as_array().map(Vec::len), Some(8));
    t.get("/api/table/1/query_metadata", &key).await.assert(403);
    // The database is viewable (granular view-data), but native SQL needs plain rights.
    t.get("/api/database/1", &key).await.assert(200);
    let r = t
        .post(
            "/api/dataset",
            &key,
            json!({"database": 1, "type": "native", "native": {"query": "SELECT 1"}}),
        )
        .await;
    r.assert(403);
    assert_eq!(r.json()["error_type"], "missing-required-permissions");
});

both!(
    data_model_61_granular_values_read_back_as_stored,
    |t| async move {
        let admin = t.setup().await;
        let (g, _, _) = group_with_alice(&t, &admin).await;
        restrict(
            &t,
            &admin,
            1,
            g,
            json!({"view-data": "unrestricted", "create-queries": {"": {"3": "query-builder"}}}),
        )
        .await;
        let v = t.get("/api/permissions/graph/db/1", &admin).await.json();
        let gk = g.to_string();
        assert_eq!(
            v["groups"][&gk]["1"]["create-queries"],
            json!({"": {"3": "query-builder"}})
        );
        assert_eq!(v["groups"][&gk]["1"]["view-data"], "unrestricted");
        assert_eq!(v["groups"]["1"]["1"]["create-queries"], "no");
        // A graph read from GET goes back unchanged, and a new PUT replaces the granular value.
        let rev = v["revision"].as_i64().unwrap();
        let back = t
            .put(
                "/api/permissions/graph",
                &admin,
                json!({"revision": rev, "groups": v["groups"]}),
            )
            .await;
        back.assert(200);
        assert_eq!(
            back.json()["groups"][&gk]["1"]["create-queries"],
            json!({"": {"3": "query-builder"}})
        );
        let replaced = t
            .put(
                "/api/permissions/graph",
                &admin,
                json!({"revision": rev + 1, "groups": {gk.clone(): {"1": {
                "create-queries": {"": {"1": "query-builder", "2": "no"}}}}}}),
            )
            .await;
        replaced.assert(200);
        assert_eq!(
            replaced.json()["groups"][&gk]["1"]["create-queries"],
            json!({"": {"1": "query-builder", "2": "no"}})
        );
        let key = create_key(&t, &admin, "K", g).await.auth();
        assert_eq!(
            names(&t.get("/api/table", &key).await.json()),
            vec!["ORDERS"]
        );
    }
);

both!(
    data_model_62_invalid_granular_values_change_nothing,
    |t| async move {
        let admin = t.setup().await;
        let (g, _, _) = group_with_alice(&t, &admin).await;
        restrict(
            &t,
            &admin,
            1,
            g,
            json!({"view-data": "blocked", "create-queries": "no"}),
        )
        .await;
        let before = t.get("/api/permissions/graph", &admin).await.json();
        let gk = g.to_string();
        for entry in [
            json!({"create-queries": {"": {"3": "query-builder-and-native"}}}),
            json!({"create-queries": {"": {"99": "query-builder"}}}),
            json!({"view-data": {"": {"3": "blocked"}}, "create-queries": {"": {"3": "query-builder"}}}),
            // A table of another schema, a schema-level inconsistency, granular download.
            json!({"view-data": "unrestricted", "create-queries": {"public": {"3": "query-builder"}}}),
            json!({"view-data": {"": "blocked"}, "create-queries": {"": "query-builder"}}),
            json!({"download": {"schemas": {"": "full"}}}),
            json!({"view-data": {"": {"three": "blocked"}}}),
        ] {
            let r = t
            .put(
                "/api/permissions/graph",
                &admin,
                json!({"revision": before["revision"], "groups": {gk.clone(): {"1": entry.clone()}}}),
            )
            .await;
            assert_eq!(r.status, 400, "{entry}: {}", r.text);
            assert!(
                r.text
                    .starts_with("Cannot parse permissions graph because it is invalid: "),
                "{entry}: {}",
                r.text
            );
        }
        // After merging: view-data blocked on table 3 while create-queries (unchanged, plain) is not no.
        set_data(
        &t,
        &admin,
        json!({gk.clone(): {"1": {"view-data": "unrestricted", "create-queries": "query-builder"}}}),
    )
    .await;
        let mid = t.get("/api/permissions/graph", &admin).await.json();
        let r = t
            .put(
                "/api/permissions/graph",
                &admin,
                json!({"revision": mid["revision"], "groups": {gk.clone(): {"1": {
                "view-data": {"": {"1": "unrestricted", "2": "unrestricted",
                                   "3": "blocked", "4": "unrestricted"}}}}}}),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(t.get("/api/permissions/graph", &admin).await.json(), mid);
    }
);

both!(data_model_64_data_model_right_allows_sync, |t| async move {
    let admin = t.setup().await;
    let (g, _, _) = group_with_alice(&t, &admin).await;
    let key = create_key(&t, &admin, "K", g).await.auth();
    t.get("/api/table/3?include_editable_data_model=true", &key)
        .await
        .assert(403);
    set_data(
        &t,
        &admin,
        json!({g.to_string(): {"1": {"view-data": "unrestricted", "create-queries": "query-builder",
                                      "data-model": {"schemas": "all"}}}}),
    )
    .await;
    t.post("/api/database/1/sync_schema", &key, json!({}))
        .await
        .assert(200);
    t.get("/api/table/3?include_editable_data_model=true", &key)
        .await
        .assert(200);
});

both!(data_model_73_to_76_robustness, |t| async move {
    let admin = t.setup().await;
    let r = t.get("/api/table/0", &admin).await;
    r.assert(400);
    assert!(r.json()["errors"]["id"].is_string());
    t.get("/api/table/abc", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/field/99999999999999999999", &admin)
        .await
        .assert_text(404, "Not found.");
    let r = t
        .get(
            "/api/table/1/query_metadata?include_hidden_fields=yes",
            &admin,
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["include_hidden_fields"].is_string());
    for p in ["metadata", "schemas", "schema/x"] {
        t.get(&format!("/api/database/999/{p}"), &admin)
            .await
            .assert_text(404, "Not found.");
    }
    t.post("/api/database/999/sync_schema", &admin, json!({}))
        .await
        .assert_text(404, "Not found.");
    t.get("/api/database/1/schema/nope", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/table/1/related", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/table/1/data", &admin)
        .await
        .assert_text(404, "Not found.");
});

both!(data_model_65_66_virtual_tables_of_cards, |t| async move {
    use crate::collections_graph::{create as collection, set as set_collections};
    let admin = t.setup().await;
    let (_, _, alice) = group_with_alice(&t, &admin).await;
    let a = collection(&t, &admin, "A", None).await;
    let metadata = json!([
        {"name": "ID", "display_name": "ID", "base_type": "type/Integer", "semantic_type": "type/PK"},
        {"name": "CATEGORY", "display_name": "Category", "base_type": "type/Text"}
    ]);
    let r = t
        .post(
            "/api/card",
            &admin,
            json!({"name": "C", "display": "table", "visualization_settings": {},
            "collection_id": a, "result_metadata": metadata,
            "dataset_query": {"database": 1, "type": "native",
                              "native": {"query": "SELECT ID, CATEGORY FROM PRODUCTS"}}}),
        )
        .await;
    r.assert(200);
    let c = r.json()["id"].as_i64().unwrap();
    let v = t
        .get(&format!("/api/table/card__{c}/query_metadata"), &admin)
        .await;
    v.assert(200);
    let v = v.json();
    assert_eq!(v["id"], format!("card__{c}"));
    assert_eq!(v["schema"], "A");
    assert_eq!(v["db_id"], 1);
    let fields = v["fields"].as_array().unwrap();
    assert_eq!(fields.len(), 2);
    assert!(fields.iter().all(|f| f["table_id"] == format!("card__{c}")));
    assert_eq!(fields[0]["semantic_type"], Value::Null);
    assert_eq!(
        fields[0]["id"],
        json!(["field", "ID", {"base-type": "type/Integer"}])
    );
    set_collections(&t, &admin, json!({"1": {a.to_string(): "none"}})).await;
    t.get(&format!("/api/table/card__{c}/query_metadata"), &alice)
        .await
        .assert(403);
    t.get("/api/table/card__999999/query_metadata", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/table/card__abc/query_metadata", &admin)
        .await
        .assert(404);
    assert_eq!(
        t.get(&format!("/api/table/card__{c}/fks"), &admin)
            .await
            .json(),
        json!([])
    );
    let r = t
        .post("/api/card", &admin, json!({"name": "Broken", "display": "table", "visualization_settings": {},
            "dataset_query": {"database": 1, "type": "native", "native": {"query": "SELECT * FROM nope"}}}))
        .await;
    r.assert(200);
    let broken = r.json()["id"].as_i64().unwrap();
    let v = t
        .get(&format!("/api/table/card__{broken}/query_metadata"), &admin)
        .await
        .json();
    assert_eq!(v["schema"], "Everything else");
    assert_eq!(v["fields"], json!([]));
});
