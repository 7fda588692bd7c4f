//! data-model.md §7 scenarios on edits and field values: 9, 10, 32–46, 48–52, 54, 55 — on both
//! application databases.
use serde_json::{json, Value};

use crate::both;
use crate::support::{Auth, TestApp};

async fn field(t: &TestApp, admin: &Auth, id: i64) -> Value {
    let r = t.get(&format!("/api/field/{id}"), admin).await;
    r.assert(200);
    r.json()
}

fn names(fields: &Value) -> Vec<String> {
    fields
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

both!(data_model_9_humanization_strategy_renames, |t| async move {
    let admin = t.setup().await;
    t.put(
        "/api/setting/humanization-strategy",
        &admin,
        json!({"value": "none"}),
    )
    .await
    .assert(204);
    assert_eq!(
        t.get("/api/table/1", &admin).await.json()["display_name"],
        "ORDERS"
    );
    assert_eq!(field(&t, &admin, 2).await["display_name"], "USER_ID");
    t.put(
        "/api/setting/humanization-strategy",
        &admin,
        json!({"value": "simple"}),
    )
    .await
    .assert(204);
    assert_eq!(
        t.get("/api/table/1", &admin).await.json()["display_name"],
        "Orders"
    );
    assert_eq!(field(&t, &admin, 2).await["display_name"], "User ID");
});

both!(data_model_10_edited_names_stay, |t| async move {
    let admin = t.setup().await;
    t.put("/api/field/2", &admin, json!({"display_name": "Buyer"}))
        .await
        .assert(200);
    t.put(
        "/api/setting/humanization-strategy",
        &admin,
        json!({"value": "none"}),
    )
    .await
    .assert(204);
    assert_eq!(field(&t, &admin, 2).await["display_name"], "Buyer");
});

both!(data_model_32_33_edit_a_table, |t| async move {
    let admin = t.setup().await;
    let before = t.get("/api/table/3", &admin).await.json();
    t.clock.advance_seconds(5);
    let body = json!({"display_name": "Catalogue", "description": "All products",
                      "visibility_type": null, "entity_type": "entity/GenericTable"});
    let r = t.put("/api/table/3", &admin, body.clone()).await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["display_name"], "Catalogue");
    assert_eq!(v["description"], "All products");
    assert_eq!(v["entity_type"], "entity/GenericTable");
    assert_eq!(v["db"]["id"], 1);
    assert_ne!(v["updated_at"], before["updated_at"]);
    assert_eq!(t.get("/api/table/3", &admin).await.json(), v);
    t.clock.advance_seconds(5);
    let again = t.put("/api/table/3", &admin, body).await;
    again.assert(200);
    assert_eq!(again.json()["updated_at"], v["updated_at"]);
});

both!(data_model_34_35_table_validation, |t| async move {
    let admin = t.setup().await;
    let r = t
        .put("/api/table/3", &admin, json!({"display_name": null}))
        .await;
    r.assert(200);
    assert_eq!(r.json()["display_name"], "Products");
    let r = t
        .put("/api/table/3", &admin, json!({"display_name": ""}))
        .await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"]["display_name"],
        "nullable value must be a non-blank string."
    );
    for (body, key) in [
        (json!({"visibility_type": "secret"}), "visibility_type"),
        (json!({"field_order": "random"}), "field_order"),
        (json!({"entity_type": "entity/Bogus"}), "entity_type"),
    ] {
        let r = t.put("/api/table/3", &admin, body).await;
        r.assert(400);
        assert!(r.json()["errors"][key]
            .as_str()
            .unwrap()
            .starts_with("nullable "));
    }
    let v = t.get("/api/table/3", &admin).await.json();
    assert_eq!(
        (v["visibility_type"].clone(), v["field_order"].clone()),
        (Value::Null, json!("database"))
    );
});

both!(data_model_36_hidden_tables, |t| async move {
    let admin = t.setup().await;
    t.put("/api/table/4", &admin, json!({"visibility_type": "hidden"}))
        .await
        .assert(200);
    let m = t.get("/api/database/1/metadata", &admin).await.json();
    assert_eq!(names(&m["tables"]), ["ORDERS", "PEOPLE", "PRODUCTS"]);
    let m = t
        .get("/api/database/1/metadata?include_hidden=true", &admin)
        .await
        .json();
    assert_eq!(m["tables"][3]["visibility_type"], "hidden");
    let all = t.get("/api/table", &admin).await.json();
    assert_eq!(names(&all).len(), 4);
});

both!(data_model_37_bulk_edit, |t| async move {
    let admin = t.setup().await;
    let r = t
        .put(
            "/api/table",
            &admin,
            json!({"ids": [1, 2], "description": "core"}),
        )
        .await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["description"] == "core"));
    t.put(
        "/api/table",
        &admin,
        json!({"ids": [1, 999], "description": "x"}),
    )
    .await
    .assert_text(404, "Not found.");
    assert_eq!(
        t.get("/api/table/1", &admin).await.json()["description"],
        "core"
    );
    let r = t
        .put("/api/table", &admin, json!({"description": "x"}))
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["ids"].is_string());
});

both!(data_model_38_to_41_edit_a_field, |t| async move {
    let admin = t.setup().await;
    let r = t
        .put(
            "/api/field/27",
            &admin,
            json!({"semantic_type": "type/Price", "description": "List price",
                                             "settings": {"currency": "EUR"}}),
        )
        .await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["semantic_type"], "type/Price");
    assert_eq!(v["description"], "List price");
    assert_eq!(v["settings"], json!({"currency": "EUR"}));
    assert_eq!(v["has_field_values"], "none");
    assert_eq!(
        field(&t, &admin, 27).await["settings"],
        json!({"currency": "EUR"})
    );
    for bad in ["type/Bogus", "type/Integer"] {
        let r = t
            .put("/api/field/27", &admin, json!({"semantic_type": bad}))
            .await;
        r.assert(400);
        let e = r.json();
        assert_eq!(
            e["errors"]["semantic_type"],
            "nullable value must be a valid field semantic or relation type (keyword or string)."
        );
        assert!(e["specific-errors"]["semantic_type"][0]
            .as_str()
            .unwrap()
            .contains(bad));
    }
    for (body, key, msg) in [
        (
            json!({"description": ""}),
            "description",
            "nullable value must be a non-blank string.",
        ),
        (
            json!({"fk_target_field_id": 0}),
            "fk_target_field_id",
            "nullable value must be an integer greater than zero.",
        ),
    ] {
        let r = t.put("/api/field/27", &admin, body).await;
        r.assert(400);
        assert_eq!(r.json()["errors"][key], msg);
    }
    for (body, key) in [
        (json!({"visibility_type": "invisible"}), "visibility_type"),
        (json!({"has_field_values": "maybe"}), "has_field_values"),
    ] {
        let r = t.put("/api/field/27", &admin, body).await;
        r.assert(400);
        assert!(r.json()["errors"][key]
            .as_str()
            .unwrap()
            .starts_with("nullable enum of "));
    }
    let r = t
        .put(
            "/api/field/27",
            &admin,
            json!({"fk_target_field_id": 999999}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"fk_target_field_id": "Invalid target field"}})
    );
});

both!(data_model_42_fk_cleared_and_restored, |t| async move {
    let admin = t.setup().await;
    let v = t
        .put(
            "/api/field/2",
            &admin,
            json!({"semantic_type": "type/Category"}),
        )
        .await
        .json();
    assert_eq!(v["fk_target_field_id"], Value::Null);
    assert_eq!(v["target"], Value::Null);
    let v = t
        .put(
            "/api/field/2",
            &admin,
            json!({"semantic_type": "type/FK", "fk_target_field_id": 10}),
        )
        .await
        .json();
    assert_eq!(v["target"]["id"], 10);
});

both!(data_model_43_coercions, |t| async move {
    let admin = t.setup().await;
    let v = t
        .put(
            "/api/field/23",
            &admin,
            json!({"coercion_strategy": "Coercion/ISO8601->Date"}),
        )
        .await
        .json();
    assert_eq!(v["effective_type"], "type/Date");
    let v = t
        .put(
            "/api/field/23",
            &admin,
            json!({"coercion_strategy": "Coercion/UNIXSeconds->DateTime"}),
        )
        .await
        .json();
    assert_eq!(v["coercion_strategy"], Value::Null);
    assert_eq!(v["effective_type"], "type/Text");
    let r = t
        .put(
            "/api/field/23",
            &admin,
            json!({"coercion_strategy": "Coercion/Nope"}),
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["coercion_strategy"].is_string());
});

both!(data_model_44_to_46_field_orders, |t| async move {
    let admin = t.setup().await;
    let r = t
        .put(
            "/api/table/3/fields/order",
            &admin,
            json!([29, 28, 27, 26, 25, 24, 23, 22]),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json(), json!({"success": true}));
    assert_eq!(
        t.get("/api/table/3", &admin).await.json()["field_order"],
        "custom"
    );
    let qm = t.get("/api/table/3/query_metadata", &admin).await.json();
    assert_eq!(qm["fields"][0]["name"], "CREATED_AT");
    assert_eq!(
        (
            qm["fields"][0]["position"].clone(),
            qm["fields"][0]["custom_position"].clone()
        ),
        (json!(0), json!(0))
    );
    for bad in [
        json!([22, 23]),
        json!([22, 22, 23, 24, 25, 26, 27, 28]),
        json!([1, 23, 24, 25, 26, 27, 28, 29]),
    ] {
        t.put("/api/table/3/fields/order", &admin, bad)
            .await
            .assert_text(
                400,
                "Invalid field order: the ids must be exactly the table's active fields.",
            );
    }
    let r = t
        .put("/api/table/3/fields/order", &admin, json!({"ids": [22]}))
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["body"].is_string());
    t.put(
        "/api/table/3",
        &admin,
        json!({"field_order": "alphabetical"}),
    )
    .await
    .assert(200);
    let qm = t.get("/api/table/3/query_metadata", &admin).await.json();
    assert_eq!(
        names(&qm["fields"]),
        [
            "CATEGORY",
            "CREATED_AT",
            "EAN",
            "ID",
            "PRICE",
            "RATING",
            "TITLE",
            "VENDOR"
        ]
    );
    t.put("/api/table/3", &admin, json!({"field_order": "smart"}))
        .await
        .assert(200);
    let qm = t.get("/api/table/3/query_metadata", &admin).await.json();
    assert_eq!(
        names(&qm["fields"]),
        [
            "ID",
            "CREATED_AT",
            "CATEGORY",
            "EAN",
            "PRICE",
            "RATING",
            "TITLE",
            "VENDOR"
        ]
    );
});

both!(data_model_48_to_52_field_values, |t| async move {
    let admin = t.setup().await;
    let v = t.get("/api/field/25/values", &admin).await.json();
    assert_eq!(
        v,
        json!({"values": [["Doohickey"], ["Gadget"], ["Gizmo"], ["Widget"]],
                         "field_id": 25, "has_more_values": false})
    );
    assert_eq!(
        t.get("/api/field/11/values", &admin).await.json(),
        json!({"values": [], "field_id": 11, "has_more_values": false})
    );
    assert_eq!(
        t.get("/api/field/1/values", &admin).await.json(),
        json!({"values": [], "field_id": 1, "has_more_values": false})
    );
    let labelled =
        json!({"values": [["Doohickey", "D"], ["Gadget", "G"], ["Gizmo", "Z"], ["Widget", "W"]]});
    let r = t
        .post("/api/field/25/values", &admin, labelled.clone())
        .await;
    r.assert(200);
    assert_eq!(r.json(), json!({"status": "success"}));
    assert_eq!(
        t.get("/api/field/25/values", &admin).await.json()["values"],
        labelled["values"]
    );
    t.post(
        "/api/field/25/values",
        &admin,
        json!({"values": [["Doohickey", "D"], ["Gadget"]]}),
    )
    .await
    .assert_text(
        400,
        "If remapped values are specified, they must be specified for all field values",
    );
    let r = t
        .post("/api/field/27/values", &admin, json!({"values": [[1]]}))
        .await;
    r.assert(400);
    assert!(r.text.contains("has_field_values"));
    let r = t
        .post("/api/field/25/discard_values", &admin, json!({}))
        .await;
    assert_eq!(r.json(), json!({"status": "success"}));
    assert_eq!(
        t.get("/api/field/25/values", &admin).await.json()["values"],
        json!([["Doohickey"], ["Gadget"], ["Gizmo"], ["Widget"]])
    );
});

both!(
    data_model_54_55_search_field_as_list_and_summary,
    |t| async move {
        let admin = t.setup().await;
        t.put("/api/field/11", &admin, json!({"has_field_values": "list"}))
            .await
            .assert(200);
        let v = t.get("/api/field/11/values", &admin).await.json();
        let values = v["values"].as_array().unwrap();
        assert_eq!(values.len(), 1000);
        assert_eq!(v["has_more_values"], true);
        let texts: Vec<&str> = values.iter().map(|x| x[0].as_str().unwrap()).collect();
        let mut sorted = texts.clone();
        sorted.sort();
        assert_eq!(texts, sorted);
        assert_eq!(
            t.get("/api/field/25/summary", &admin).await.json(),
            json!([["count", 200], ["distincts", 4]])
        );
    }
);
