//! Sync of the Sample Database at start (data-model.md §2.11, scenarios 1–7 at the storage
//! level; the HTTP endpoints of §5 come later), on both application databases.
use std::collections::HashMap;

use ferrobase::data_model::store::{FieldRow, TableRow};
use serde_json::Value;

use crate::both;
use crate::support::TestApp;

async fn tables(t: &TestApp, db: i64) -> Vec<TableRow> {
    t.app
        .store
        .read()
        .await
        .unwrap()
        .dm_tables(db)
        .await
        .unwrap()
}

async fn fields(t: &TestApp, db: i64) -> HashMap<String, FieldRow> {
    let names: HashMap<i64, String> = tables(t, db)
        .await
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    t.app
        .store
        .read()
        .await
        .unwrap()
        .dm_db_fields(db)
        .await
        .unwrap()
        .into_iter()
        .map(|f| (format!("{}.{}", names[&f.table_id], f.name), f))
        .collect()
}

both!(sample_database_tables_have_the_spec_ids, |t| async move {
    let tables = tables(&t, 1).await;
    let got: Vec<(i64, &str, &str, Option<&str>)> = tables
        .iter()
        .map(|t| {
            (
                t.id,
                t.name.as_str(),
                t.initial_sync_status.as_str(),
                t.entity_type.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "ORDERS", "complete", Some("entity/TransactionTable")),
            (2, "PEOPLE", "complete", Some("entity/UserTable")),
            (3, "PRODUCTS", "complete", Some("entity/ProductTable")),
            (4, "REVIEWS", "complete", Some("entity/GenericTable")),
        ]
    );
    assert!(tables.iter().all(|t| t.schema.is_empty() && t.active));
    assert_eq!(tables[2].display_name, "Products");
    let status = t
        .app
        .store
        .read()
        .await
        .unwrap()
        .database_sync_status(1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.initial_sync_status, "complete");
    assert!(status.sync_last_succeeded_at.is_some());
    assert_eq!(status.sync_last_error, None);
});

both!(
    sample_database_fields_have_the_spec_ids_and_types,
    |t| async move {
        let f = fields(&t, 1).await;
        let id = |n: &str| f[n].id;
        assert_eq!((id("ORDERS.ID"), id("ORDERS.CREATED_AT")), (1, 9));
        assert_eq!((id("PEOPLE.ID"), id("PEOPLE.CREATED_AT")), (10, 21));
        assert_eq!((id("PRODUCTS.ID"), id("PRODUCTS.CREATED_AT")), (22, 29));
        assert_eq!((id("REVIEWS.ID"), id("REVIEWS.CREATED_AT")), (30, 35));
        let semantic: HashMap<&str, &str> = [
            ("ORDERS.ID", "type/PK"),
            ("PEOPLE.ID", "type/PK"),
            ("PRODUCTS.ID", "type/PK"),
            ("REVIEWS.ID", "type/PK"),
            ("ORDERS.USER_ID", "type/FK"),
            ("ORDERS.PRODUCT_ID", "type/FK"),
            ("REVIEWS.PRODUCT_ID", "type/FK"),
            ("ORDERS.QUANTITY", "type/Quantity"),
            ("ORDERS.DISCOUNT", "type/Discount"),
            ("ORDERS.CREATED_AT", "type/CreationTimestamp"),
            ("PEOPLE.CREATED_AT", "type/CreationTimestamp"),
            ("PRODUCTS.CREATED_AT", "type/CreationTimestamp"),
            ("REVIEWS.CREATED_AT", "type/CreationTimestamp"),
            ("PEOPLE.NAME", "type/Name"),
            ("PEOPLE.EMAIL", "type/Email"),
            ("PEOPLE.CITY", "type/City"),
            ("PEOPLE.STATE", "type/State"),
            ("PEOPLE.LATITUDE", "type/Latitude"),
            ("PEOPLE.LONGITUDE", "type/Longitude"),
            ("PEOPLE.SOURCE", "type/Source"),
            ("PRODUCTS.TITLE", "type/Title"),
            ("PRODUCTS.CATEGORY", "type/Category"),
            ("PRODUCTS.VENDOR", "type/Company"),
            ("PRODUCTS.RATING", "type/Score"),
            ("REVIEWS.RATING", "type/Score"),
        ]
        .into_iter()
        .collect();
        let mut wrong = Vec::new();
        for (name, field) in &f {
            let want = semantic.get(name.as_str()).copied();
            if field.semantic_type.as_deref() != want {
                wrong.push(format!("{name}: {:?} (want {want:?})", field.semantic_type));
            }
        }
        assert!(wrong.is_empty(), "semantic types: {wrong:#?}");
        assert_eq!(f["ORDERS.USER_ID"].fk_target_field_id, Some(10));
        assert_eq!(f["ORDERS.PRODUCT_ID"].fk_target_field_id, Some(22));
        assert_eq!(f["REVIEWS.PRODUCT_ID"].fk_target_field_id, Some(22));
        assert_eq!(f["ORDERS.USER_ID"].display_name, "User ID");
        assert_eq!(f["ORDERS.USER_ID"].database_type, "INTEGER");
        assert_eq!(f["PEOPLE.BIRTH_DATE"].base_type, "type/Date");
        assert_eq!(f["ORDERS.CREATED_AT"].base_type, "type/DateTime");
        assert_eq!(f["ORDERS.CREATED_AT"].database_type, "TIMESTAMP");
        assert!(f["ORDERS.ID"].database_is_pk && f["ORDERS.ID"].database_is_auto_increment);
    }
);

both!(
    sample_database_field_values_and_fingerprints,
    |t| async move {
        use ferrobase::data_model::sync::values::effective_has_field_values;
        let f = fields(&t, 1).await;
        for name in [
            "PRODUCTS.EAN",
            "PRODUCTS.TITLE",
            "PRODUCTS.CATEGORY",
            "PRODUCTS.VENDOR",
            "PEOPLE.SOURCE",
            "PEOPLE.STATE",
            "ORDERS.QUANTITY",
            "REVIEWS.RATING",
        ] {
            assert_eq!(effective_has_field_values(&f[name]), "list", "{name}");
        }
        for name in ["PEOPLE.NAME", "PEOPLE.EMAIL", "PEOPLE.ADDRESS"] {
            assert_eq!(effective_has_field_values(&f[name]), "search", "{name}");
        }
        for name in [
            "ORDERS.ID",
            "ORDERS.USER_ID",
            "ORDERS.TAX",
            "ORDERS.CREATED_AT",
            "PRODUCTS.PRICE",
        ] {
            assert_eq!(effective_has_field_values(&f[name]), "none", "{name}");
        }
        let category = &f["PRODUCTS.CATEGORY"];
        let fp: Value = serde_json::from_str(category.fingerprint.as_deref().unwrap()).unwrap();
        assert_eq!(
            fp["global"],
            serde_json::json!({"distinct-count": 4, "nil%": 0.0})
        );
        assert!(fp["type"]["type/Text"].is_object());
        assert!(category.last_analyzed.is_some());
        let email: Value =
            serde_json::from_str(f["PEOPLE.EMAIL"].fingerprint.as_deref().unwrap()).unwrap();
        assert_eq!(email["type"]["type/Text"]["percent-email"], 1.0);
        let values = t
            .app
            .store
            .read()
            .await
            .unwrap()
            .dm_values(category.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(values.values, r#"["Doohickey","Gadget","Gizmo","Widget"]"#);
        assert!(!values.has_more_values);
    }
);
