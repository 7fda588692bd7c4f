//! data-model.md §6 and its scenarios 67–72: tables and fields in exports and imports, on both
//! application databases; plus hostile table and field files (nothing answers 500, a failing
//! entity writes nothing) and hostile warehouse names (escaped, never a path outside the tree).
use std::collections::BTreeMap;

use ferrobase::data_model::store::FieldRow;
use ferrobase::serialization::archive::pack;
use ferrobase::serialization::entities::metabase_version;
use ferrobase::serialization::yaml::parse;
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::both;
use crate::queries_databases::add_sqlite;
use crate::serialization::{export, tree};
use crate::serialization_import::{files_of, import, log_lines, setup_b, with_b};
use crate::support::{Auth, TestApp};

const SAMPLE: &str = "databases/Sample Database";

fn yaml(text: &str) -> Value {
    parse(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

async fn admin_and_key(t: &TestApp) -> (Auth, Auth) {
    let admin = t.setup().await;
    let key = create_key(t, &admin, "Admin key", 2).await.auth();
    (admin, key)
}

/// The stored row of field `id` (for its edited set).
async fn field_row(t: &TestApp, id: i64) -> FieldRow {
    let mut tx = t.app.store.read().await.expect("tx");
    tx.dm_field(id).await.expect("read").expect("field")
}

/// An archive `x/` holding `files`.
fn archive(files: &[(&str, String)]) -> Vec<u8> {
    let map: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(p, d)| (p.to_string(), d.clone().into_bytes()))
        .collect();
    pack("x", &map).expect("pack")
}

fn table_meta(db: &str, table: &str) -> String {
    format!("serdes/meta:\n  - id: {db}\n    model: Database\n  - id: {table}\n    model: Table\n")
}

fn field_meta(db: &str, table: &str, field: &str) -> String {
    format!(
        "serdes/meta:\n  - id: {db}\n    model: Database\n  - id: {table}\n    model: Table\n  \
         - id: {field}\n    model: Field\n"
    )
}

both!(data_model_67_export_layout_keys_and_log, |t| async move {
    let (_, key) = admin_and_key(&t).await;
    let f = tree(&t, &key, "?data_model=true&dirname=x").await;
    let v = metabase_version();
    assert_eq!(
        f[&format!("{SAMPLE}/tables/PRODUCTS/PRODUCTS.yaml")],
        format!(
            "name: PRODUCTS\ndescription: null\nentity_type: entity/ProductTable\n\
             display_name: Products\nvisibility_type: null\nschema: null\n\
             points_of_interest: null\ncaveats: null\nshow_in_getting_started: false\n\
             field_order: database\ndb_id: Sample Database\nserdes/meta:\n\
             \x20 - id: Sample Database\n    model: Database\n  - id: PRODUCTS\n    model: Table\n\
             metabase_version: {v}\n"
        )
    );
    let category = &f[&format!("{SAMPLE}/tables/PRODUCTS/fields/CATEGORY.yaml")];
    assert_eq!(
        category,
        &format!(
            "name: CATEGORY\ndescription: null\ndisplay_name: Category\nbase_type: type/Text\n\
             effective_type: type/Text\ndatabase_type: TEXT\nsemantic_type: type/Category\n\
             coercion_strategy: null\nfk_target_field_id: null\nvisibility_type: normal\n\
             has_field_values: auto-list\nsettings: null\ncaveats: null\npoints_of_interest: null\n\
             position: 3\ncustom_position: 0\ndatabase_position: 3\njson_unfolding: false\n\
             table_id:\n  - Sample Database\n  - null\n  - PRODUCTS\nserdes/meta:\n\
             \x20 - id: Sample Database\n    model: Database\n  - id: PRODUCTS\n    model: Table\n\
             \x20 - id: CATEGORY\n    model: Field\nmetabase_version: {v}\n"
        )
    );
    let c = yaml(category);
    assert_eq!(c["table_id"], json!(["Sample Database", null, "PRODUCTS"]));
    // Scenario 67 says "four elements"; §6 (and Metabase's `generate-path`) leave the Schema
    // element out for a table without a schema, so a SQLite field's path has three.
    let meta = c["serdes/meta"].as_array().expect("serdes/meta");
    assert_eq!(meta.len(), 3);
    assert_eq!(
        meta.last(),
        Some(&json!({"id": "CATEGORY", "model": "Field"}))
    );
    // Never written: ids, timestamps, sync state, fingerprints, database_is_* flags.
    for (path, text) in f.iter().filter(|(p, _)| p.contains("/tables/")) {
        for key in [
            "id:",
            "created_at",
            "updated_at",
            "active",
            "initial_sync_status",
            "deactivated_at",
            "fingerprint",
            "last_analyzed",
            "database_is_",
            "database_required",
            "database_default",
            "preview_display",
            "values",
        ] {
            assert!(
                !text.lines().any(|l| l.starts_with(key)),
                "{path} has {key}"
            );
        }
    }
    let user_id = yaml(&f[&format!("{SAMPLE}/tables/ORDERS/fields/USER_ID.yaml")]);
    assert_eq!(
        user_id["fk_target_field_id"],
        json!(["Sample Database", null, "PEOPLE", "ID"])
    );
    assert_eq!(user_id["semantic_type"], "type/FK");
    // Every table and field of the Sample Database, and the log lines naming them by path.
    let tables = f
        .keys()
        .filter(|k| k.starts_with(&format!("{SAMPLE}/tables/")) && !k.contains("/fields/"))
        .count();
    let fields = f.keys().filter(|k| k.contains("/fields/")).count();
    assert_eq!((tables, fields), (4, 35));
    let log = &f["export.log"];
    assert!(
        log.contains(&format!(
            "exported Field [\"Sample Database\",null,\"ORDERS\",\"ID\"] \
             {SAMPLE}/tables/ORDERS/fields/ID.yaml\n"
        )),
        "{log}"
    );
    assert!(log.contains(&format!(
        "exported Table [\"Sample Database\",null,\"ORDERS\"] {SAMPLE}/tables/ORDERS/ORDERS.yaml\n"
    )));
    let yaml_files = f.keys().filter(|k| k.ends_with(".yaml")).count();
    assert!(log.ends_with(&format!(
        "summary: {yaml_files} exported, 0 skipped, 0 failed\n"
    )));
    // Deterministic.
    let again = export(&t, &key, "?data_model=true&dirname=x").await;
    let first = export(&t, &key, "?data_model=true&dirname=x").await;
    assert_eq!(again.body, first.body);
});

both!(data_model_72_no_data_model_no_databases, |t| async move {
    let (_, key) = admin_and_key(&t).await;
    let f = tree(&t, &key, "?data_model=false&dirname=x").await;
    assert!(!f.keys().any(|k| k.starts_with("databases")), "{f:?}");
    assert!(!f["export.log"].contains("databases/"));
});

both!(
    data_model_69_71_round_trip_and_import_as_edit,
    |t| async move {
        let (admin, key) = admin_and_key(&t).await;
        // Edits of scenarios 32 and 38 on A.
        t.put(
            "/api/table/3",
            &admin,
            json!({"display_name": "Catalogue", "description": "All products",
               "visibility_type": null, "entity_type": "entity/GenericTable"}),
        )
        .await
        .assert(200);
        t.put(
            "/api/field/27",
            &admin,
            json!({"semantic_type": "type/Price", "description": "List price",
               "settings": {"currency": "EUR"}}),
        )
        .await
        .assert(200);
        let a = export(&t, &key, "?data_model=true&dirname=x").await;
        assert_eq!(a.status, 200);
        let backend = t.backend;
        with_b(backend, |b| async move {
            let (badmin, bkey) = setup_b(&b).await;
            let r = import(&b, &bkey, "", Some(("file", &a.body))).await;
            assert_eq!(r.status, 200, "{}", r.text());
            let lines = log_lines(&r);
            for l in [
                "updated Table [\"Sample Database\",null,\"PRODUCTS\"]",
                "updated Field [\"Sample Database\",null,\"PRODUCTS\",\"PRICE\"]",
                "unchanged Table [\"Sample Database\",null,\"ORDERS\"]",
                "unchanged Field [\"Sample Database\",null,\"ORDERS\",\"USER_ID\"]",
            ] {
                assert!(lines.contains(&l.to_string()), "{l} missing: {lines:?}");
            }
            // Tables and fields after the database and before any content.
            let pos = |prefix: &str| lines.iter().position(|l| l.contains(prefix));
            assert!(pos("Database Sample Database") < pos(" Table ["));
            let last_table = lines.iter().rposition(|l| l.contains(" Table ["));
            assert!(last_table < pos(" Field ["));
            assert!(r.text().ends_with(" 0 skipped, 0 failed\n"), "{}", r.text());
            let table = b.get("/api/table/3", &badmin).await.json();
            assert_eq!(table["display_name"], "Catalogue");
            assert_eq!(table["description"], "All products");
            assert_eq!(table["entity_type"], "entity/GenericTable");
            let field = b.get("/api/field/27", &badmin).await.json();
            assert_eq!(field["semantic_type"], "type/Price");
            assert_eq!(field["description"], "List price");
            assert_eq!(field["settings"], json!({"currency": "EUR"}));
            // The round trip: byte-identical exports.
            let again = export(&b, &bkey, "?data_model=true&dirname=x").await;
            let (fa, fb) = (files_of(&a.body), files_of(&again.body));
            assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
            for (k, v) in &fa {
                assert_eq!(
                    String::from_utf8_lossy(v),
                    String::from_utf8_lossy(&fb[k]),
                    "{k}"
                );
            }
            assert_eq!(a.body, again.body);
            // Idempotent: a second import writes nothing.
            let before = b.get("/api/database/1/metadata", &badmin).await.json();
            let r = import(&b, &bkey, "", Some(("file", &a.body))).await;
            assert_eq!(r.status, 200, "{}", r.text());
            assert!(
                !log_lines(&r)
                    .iter()
                    .any(|l| (l.contains(" Table [") || l.contains(" Field ["))
                        && !l.starts_with("unchanged ")),
                "{}",
                r.text()
            );
            let after = b.get("/api/database/1/metadata", &badmin).await.json();
            assert_eq!(before, after);
            // 71: import counts as an edit: sync keeps every imported attribute.
            let row = field_row(&b, 27).await;
            for attr in ["description", "semantic_type", "settings", "display_name"] {
                assert!(row.edited.split(',').any(|a| a == attr), "{}", row.edited);
            }
            b.post("/api/database/1/sync_schema?wait=true", &badmin, json!({}))
                .await
                .assert(200);
            let table = b.get("/api/table/3", &badmin).await.json();
            assert_eq!(
                (&table["display_name"], &table["description"]),
                (&json!("Catalogue"), &json!("All products"))
            );
            let field = b.get("/api/field/27", &badmin).await.json();
            assert_eq!(
                (&field["semantic_type"], &field["description"]),
                (&json!("type/Price"), &json!("List price"))
            );
            // Display names written by the import, even unchanged ones, are edits too: a new
            // humanization strategy leaves them alone (data-model.md §1.4).
            b.put(
                "/api/setting/humanization-strategy",
                &badmin,
                json!({"value": "none"}),
            )
            .await
            .assert(204);
            let user_id = b.get("/api/field/2", &badmin).await.json();
            assert_eq!(user_id["display_name"], "User ID");
        })
        .await;
    }
);

both!(
    data_model_70_unknown_tables_and_fields_are_skipped,
    |t| async move {
        let (admin, key) = admin_and_key(&t).await;
        let files = [
            (
                "databases/Sample Database/tables/GHOSTS/GHOSTS.yaml",
                format!(
                    "name: GHOSTS\ndisplay_name: Ghosts\n{}",
                    table_meta("Sample Database", "GHOSTS")
                ),
            ),
            (
                "databases/Sample Database/tables/GHOSTS/fields/ID.yaml",
                format!(
                    "name: ID\ndescription: boo\n{}",
                    field_meta("Sample Database", "GHOSTS", "ID")
                ),
            ),
            (
                "databases/Sample Database/tables/PRODUCTS/fields/NOPE.yaml",
                format!(
                    "name: NOPE\ndescription: nope\n{}",
                    field_meta("Sample Database", "PRODUCTS", "NOPE")
                ),
            ),
            (
                "databases/Elsewhere/tables/T/T.yaml",
                format!("name: T\n{}", table_meta("Elsewhere", "T")),
            ),
        ];
        let r = import(&t, &key, "", Some(("file", &archive(&files)))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let lines = log_lines(&r);
        for l in [
        "skipped Table [\"Sample Database\",null,\"GHOSTS\"]: not found in synced metadata",
        "skipped Field [\"Sample Database\",null,\"GHOSTS\",\"ID\"]: not found in synced metadata",
        "skipped Field [\"Sample Database\",null,\"PRODUCTS\",\"NOPE\"]: not found in synced metadata",
        "skipped Table [\"Elsewhere\",null,\"T\"]: not found in synced metadata",
    ] {
        assert!(lines.contains(&l.to_string()), "{l} missing: {lines:?}");
    }
        assert_eq!(
            lines.last().map(String::as_str),
            Some("summary: 0 created, 0 updated, 0 unchanged, 4 skipped, 0 failed")
        );
        let tables = t.get("/api/table", &admin).await.json();
        assert_eq!(tables.as_array().map(Vec::len), Some(4));
        let products = t.get("/api/table/3/query_metadata", &admin).await.json();
        assert_eq!(products["fields"].as_array().map(Vec::len), Some(8));
    }
);

/// Imports `files` with `continue_on_error` and returns the log lines.
async fn import_lines(t: &TestApp, key: &Auth, files: &[(&str, String)]) -> Vec<String> {
    let r = import(
        t,
        key,
        "?continue_on_error=true",
        Some(("file", &archive(files))),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    log_lines(&r)
}

fn has(lines: &[String], line: &str) {
    assert!(lines.iter().any(|l| l == line), "{line} missing: {lines:?}");
}

both!(
    data_model_import_applies_exactly_the_listed_attributes,
    |t| async move {
        let (admin, key) = admin_and_key(&t).await;
        let before = t.get("/api/field/27", &admin).await.json();
        let price = |extra: &str| {
            format!(
                "name: PRICE\n{extra}base_type: type/Boolean\ndatabase_type: BOOLEAN\n\
             effective_type: type/Boolean\nposition: 7\ndatabase_position: 0\n\
             json_unfolding: true\ntable_id:\n  - Sample Database\n  - null\n  - PRODUCTS\n{}",
                field_meta("Sample Database", "PRODUCTS", "PRICE")
            )
        };
        let lines = import_lines(
            &t,
            &key,
            &[(
                "databases/Sample Database/tables/PRODUCTS/fields/PRICE.yaml",
                price(
                    "description: Net\ndisplay_name: Net Price\nsemantic_type: type/Currency\n\
                 coercion_strategy: Coercion/String->Float\nvisibility_type: details-only\n\
                 has_field_values: auto-list\nsettings:\n  currency: USD\ncaveats: careful\n\
                 points_of_interest: many\ncustom_position: 5\n",
                ),
            )],
        )
        .await;
        has(
            &lines,
            "updated Field [\"Sample Database\",null,\"PRODUCTS\",\"PRICE\"]",
        );
        let f = t.get("/api/field/27", &admin).await.json();
        assert_eq!(f["description"], "Net");
        assert_eq!(f["display_name"], "Net Price");
        assert_eq!(f["semantic_type"], "type/Currency");
        assert_eq!(f["visibility_type"], "details-only");
        assert_eq!(f["has_field_values"], "list", "auto-list is shown as list");
        assert_eq!(f["settings"], json!({"currency": "USD"}));
        assert_eq!(f["caveats"], "careful");
        assert_eq!(f["points_of_interest"], "many");
        // A coercion that does not apply to the base type is dropped, as by PUT.
        assert_eq!(f["coercion_strategy"], Value::Null);
        // Sync-owned keys are ignored; custom_position only counts for a custom order.
        for k in [
            "base_type",
            "effective_type",
            "database_type",
            "position",
            "database_position",
            "custom_position",
            "json_unfolding",
        ] {
            assert_eq!(f[k], before[k], "{k}");
        }
        let stored = field_row(&t, 27).await;
        assert_eq!(stored.has_field_values.as_deref(), Some("auto-list"));
        // Absent keys are left alone; null clears what may be null.
        let lines = import_lines(
            &t,
            &key,
            &[(
                "databases/Sample Database/tables/PRODUCTS/fields/PRICE.yaml",
                price("description: null\nsettings: null\n"),
            )],
        )
        .await;
        has(
            &lines,
            "updated Field [\"Sample Database\",null,\"PRODUCTS\",\"PRICE\"]",
        );
        let f = t.get("/api/field/27", &admin).await.json();
        assert_eq!(
            (&f["description"], &f["settings"]),
            (&Value::Null, &Value::Null)
        );
        assert_eq!(f["display_name"], "Net Price");
        assert_eq!(f["semantic_type"], "type/Currency");
        // The same again: unchanged, nothing written.
        let lines = import_lines(
            &t,
            &key,
            &[(
                "databases/Sample Database/tables/PRODUCTS/fields/PRICE.yaml",
                price("description: null\nsettings: null\n"),
            )],
        )
        .await;
        has(
            &lines,
            "unchanged Field [\"Sample Database\",null,\"PRODUCTS\",\"PRICE\"]",
        );
        assert_eq!(
            t.get("/api/field/27", &admin).await.json()["updated_at"],
            f["updated_at"]
        );

        // Tables: every listed attribute, a custom order with its positions from the field files.
        let products = |extra: &str| {
            format!(
                "name: PRODUCTS\n{extra}schema: null\ndb_id: Sample Database\n{}",
                table_meta("Sample Database", "PRODUCTS")
            )
        };
        let mut files = vec![(
            "databases/Sample Database/tables/PRODUCTS/PRODUCTS.yaml",
            products(
                "description: Things\nentity_type: entity/EventTable\ndisplay_name: Stuff\n\
             visibility_type: technical\npoints_of_interest: p\ncaveats: c\n\
             show_in_getting_started: true\nfield_order: custom\n",
            ),
        )];
        let order = [
            "CREATED_AT",
            "RATING",
            "PRICE",
            "VENDOR",
            "CATEGORY",
            "TITLE",
            "EAN",
            "ID",
        ];
        let paths: Vec<String> = order
            .iter()
            .map(|n| format!("databases/Sample Database/tables/PRODUCTS/fields/{n}.yaml"))
            .collect();
        for (i, n) in order.iter().enumerate() {
            files.push((
                paths[i].as_str(),
                format!(
                    "name: {n}\ncustom_position: {i}\n{}",
                    field_meta("Sample Database", "PRODUCTS", n)
                ),
            ));
        }
        let lines = import_lines(&t, &key, &files).await;
        has(
            &lines,
            "updated Table [\"Sample Database\",null,\"PRODUCTS\"]",
        );
        let table = t.get("/api/table/3", &admin).await.json();
        assert_eq!(table["description"], "Things");
        assert_eq!(table["entity_type"], "entity/EventTable");
        assert_eq!(table["display_name"], "Stuff");
        assert_eq!(table["visibility_type"], "technical");
        assert_eq!(table["points_of_interest"], "p");
        assert_eq!(table["caveats"], "c");
        assert_eq!(table["show_in_getting_started"], true);
        assert_eq!(table["field_order"], "custom");
        let meta = t
            .get(
                "/api/table/3/query_metadata?include_hidden_fields=true",
                &admin,
            )
            .await
            .json();
        let names: Vec<&str> = meta["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .filter_map(|f| f["name"].as_str())
            .collect();
        assert_eq!(names, order);
        for (i, f) in meta["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .enumerate()
        {
            assert_eq!(
                (f["position"].as_i64(), f["custom_position"].as_i64()),
                (Some(i as i64), Some(i as i64))
            );
        }
    }
);

both!(data_model_import_foreign_keys_by_path, |t| async move {
    let (admin, key) = admin_and_key(&t).await;
    let user_id = |fk: &str| {
        (
            "databases/Sample Database/tables/ORDERS/fields/USER_ID.yaml",
            format!(
                "name: USER_ID\nsemantic_type: type/FK\nfk_target_field_id: {fk}\n{}",
                field_meta("Sample Database", "ORDERS", "USER_ID")
            ),
        )
    };
    // A path that does not resolve fails the field, naming the path.
    let lines = import_lines(
        &t,
        &key,
        &[user_id(
            "\n  - Sample Database\n  - null\n  - PEOPLE\n  - NOPE",
        )],
    )
    .await;
    has(
        &lines,
        "failed Field [\"Sample Database\",null,\"ORDERS\",\"USER_ID\"]: \
         Field '[\"Sample Database\",null,\"PEOPLE\",\"NOPE\"]' was not found",
    );
    // Not a path at all.
    for bad in [
        "10",
        "[Sample Database, null, PEOPLE]",
        "{a: 1}",
        "'PEOPLE.ID'",
    ] {
        let lines = import_lines(&t, &key, &[user_id(bad)]).await;
        assert!(
            lines.iter().any(|l| l.starts_with(
                "failed Field [\"Sample Database\",null,\"ORDERS\",\"USER_ID\"]: \
                 fk_target_field_id: value must be the path"
            )),
            "{bad}: {lines:?}"
        );
    }
    assert_eq!(
        t.get("/api/field/2", &admin).await.json()["fk_target_field_id"],
        10
    );
    // A resolving path is written as the target's local id.
    let lines = import_lines(
        &t,
        &key,
        &[user_id(
            "\n  - Sample Database\n  - null\n  - PRODUCTS\n  - ID",
        )],
    )
    .await;
    has(
        &lines,
        "updated Field [\"Sample Database\",null,\"ORDERS\",\"USER_ID\"]",
    );
    let f = t.get("/api/field/2", &admin).await.json();
    assert_eq!(
        (&f["fk_target_field_id"], &f["target"]["id"]),
        (&json!(22), &json!(22))
    );
    // Moving off type/FK clears the target whatever the file says (rule 2 of PUT).
    let lines = import_lines(
        &t,
        &key,
        &[(
            "databases/Sample Database/tables/ORDERS/fields/USER_ID.yaml",
            format!(
                "name: USER_ID\nsemantic_type: type/Category\n{}",
                field_meta("Sample Database", "ORDERS", "USER_ID")
            ),
        )],
    )
    .await;
    has(
        &lines,
        "updated Field [\"Sample Database\",null,\"ORDERS\",\"USER_ID\"]",
    );
    assert_eq!(
        t.get("/api/field/2", &admin).await.json()["fk_target_field_id"],
        Value::Null
    );
});

both!(data_model_hostile_table_and_field_files, |t| async move {
    let (admin, key) = admin_and_key(&t).await;
    let metadata = t
        .get("/api/database/1/metadata?include_hidden=true", &admin)
        .await
        .json();
    let table_file = |body: &str| {
        (
            "databases/Sample Database/tables/PRODUCTS/PRODUCTS.yaml",
            format!(
                "name: PRODUCTS\n{body}{}",
                table_meta("Sample Database", "PRODUCTS")
            ),
        )
    };
    let field_file = |body: &str| {
        (
            "databases/Sample Database/tables/PRODUCTS/fields/PRICE.yaml",
            format!(
                "name: PRICE\n{body}{}",
                field_meta("Sample Database", "PRODUCTS", "PRICE")
            ),
        )
    };
    let table_id = "[\"Sample Database\",null,\"PRODUCTS\"]";
    let field_id = "[\"Sample Database\",null,\"PRODUCTS\",\"PRICE\"]";
    let cases: Vec<((&str, String), String)> = vec![
        (
            table_file("description: ok\ndisplay_name: 5\n"),
            format!("failed Table {table_id}: display_name: nullable value must be a non-blank string."),
        ),
        (
            table_file("description: ok\ndisplay_name: '  '\n"),
            format!("failed Table {table_id}: display_name: nullable value must be a non-blank string."),
        ),
        (
            table_file("description: ok\nvisibility_type: secret\n"),
            format!("failed Table {table_id}: visibility_type: nullable enum of hidden, technical, cruft"),
        ),
        (
            table_file("description: ok\nfield_order: random\n"),
            format!("failed Table {table_id}: field_order: nullable enum of database, alphabetical, custom, smart"),
        ),
        (
            table_file("description: ok\nentity_type: entity/Bogus\n"),
            format!("failed Table {table_id}: entity_type: nullable value must be a valid entity type (keyword or string)."),
        ),
        (
            table_file("description: ok\nshow_in_getting_started: 'yes'\n"),
            format!("failed Table {table_id}: show_in_getting_started: nullable value must be a boolean."),
        ),
        (
            table_file("description:\n  - 1\n"),
            format!("failed Table {table_id}: description: nullable value must be a string."),
        ),
        (
            table_file("description: ok\ndb_id: Other\n"),
            format!("failed Table {table_id}: db_id \"Other\" does not match serdes/meta {table_id}"),
        ),
        (
            table_file("description: ok\nschema: public\n"),
            format!("failed Table {table_id}: schema \"public\" does not match serdes/meta {table_id}"),
        ),
        (
            field_file("description: ok\nsemantic_type: type/Bogus\n"),
            format!("failed Field {field_id}: semantic_type: nullable value must be a valid field semantic or relation type (keyword or string)."),
        ),
        (
            field_file("description: ok\nsemantic_type: type/Integer\n"),
            format!("failed Field {field_id}: semantic_type: nullable value must be a valid field semantic or relation type (keyword or string)."),
        ),
        (
            field_file("description: ''\n"),
            format!("failed Field {field_id}: description: nullable value must be a non-blank string."),
        ),
        (
            field_file("description: ok\ncoercion_strategy: Coercion/Nope\n"),
            format!("failed Field {field_id}: coercion_strategy: nullable value must be a valid coercion strategy (keyword or string)."),
        ),
        (
            field_file("description: ok\nvisibility_type: invisible\n"),
            format!("failed Field {field_id}: visibility_type: nullable enum of normal, details-only, hidden, sensitive, retired"),
        ),
        (
            field_file("description: ok\nhas_field_values: maybe\n"),
            format!("failed Field {field_id}: has_field_values: nullable enum of list, auto-list, search, none"),
        ),
        (
            field_file("description: ok\nsettings: x\n"),
            format!("failed Field {field_id}: settings: nullable value must be a map."),
        ),
        (
            field_file("description: ok\ntable_id:\n  - Sample Database\n  - null\n  - ORDERS\n"),
            format!("failed Field {field_id}: table_id [\"Sample Database\",null,\"ORDERS\"] does not match serdes/meta {field_id}"),
        ),
        (
            field_file("description: ok\nname_x: 1\nsettings:\n  a:\n    b: 1\n"),
            String::new(),
        ),
    ];
    for ((path, body), want) in cases {
        let r = import(
            &t,
            &key,
            "",
            Some(("file", &archive(&[(path, body.clone())]))),
        )
        .await;
        if want.is_empty() {
            // A valid file with unknown keys loads.
            assert_eq!(r.status, 200, "{body}: {}", r.text());
            continue;
        }
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let lines = log_lines(&r);
        // Enum messages list their values in any order.
        let found = lines.iter().any(|l| {
            let sorted = |s: &str| {
                let mut c: Vec<char> = s.chars().collect();
                c.sort_unstable();
                c
            };
            l == &want || (want.contains("enum of") && sorted(l) == sorted(&want))
        });
        assert!(found, "{want} missing: {lines:?}");
        // Nothing of the failing file was written.
        let now = t
            .get("/api/database/1/metadata?include_hidden=true", &admin)
            .await
            .json();
        assert_eq!(now["tables"], metadata["tables"], "{body}");
    }
    // The valid file of the last case wrote its description and settings.
    let f = t.get("/api/field/27", &admin).await.json();
    assert_eq!(
        (&f["description"], &f["settings"]),
        (&json!("ok"), &json!({"a": {"b": 1}}))
    );
    // A custom position that is not a non-negative integer, on a table in custom order.
    t.put("/api/table/3", &admin, json!({"field_order": "custom"}))
        .await
        .assert(200);
    for bad in ["-1", "'3'", "1.5", "[1]"] {
        let r = import(
            &t,
            &key,
            "",
            Some((
                "file",
                &archive(&[field_file(&format!("custom_position: {bad}\n"))]),
            )),
        )
        .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(
            r.text().contains(&format!(
                "failed Field {field_id}: custom_position: value must be an integer greater than or equal to zero"
            )),
            "{bad}: {}",
            r.text()
        );
    }
});

both!(data_model_hostile_paths_in_files, |t| async move {
    let (admin, key) = admin_and_key(&t).await;
    let meta = |items: &[(&str, &str)]| {
        let mut s = String::from("serdes/meta:\n");
        for (model, id) in items {
            s.push_str(&format!("  - id: {id}\n    model: {model}\n"));
        }
        s
    };
    let files = vec![
        // Names that look like paths are names: nothing local has them.
        (
            "databases/a/tables/t/t.yaml",
            format!(
                "name: ../../../etc/passwd\ndescription: x\n{}",
                meta(&[("Database", "'..'"), ("Table", "../../../etc/passwd")])
            ),
        ),
        (
            "databases/b/tables/t/t.yaml",
            format!(
                "description: x\n{}",
                meta(&[
                    ("Database", "Sample Database"),
                    ("Schema", "'/'"),
                    ("Table", "ORDERS")
                ])
            ),
        ),
        // Not a table path: wrong shapes and types.
        (
            "databases/c/tables/t/t.yaml",
            format!("description: x\n{}", meta(&[("Table", "ORDERS")])),
        ),
        (
            "databases/d/tables/t/t.yaml",
            format!(
                "description: x\n{}",
                meta(&[("Database", "Sample Database"), ("Table", "[1, 2]")])
            ),
        ),
        (
            "databases/e/tables/t/fields/f.yaml",
            format!(
                "description: x\n{}",
                meta(&[("Database", "Sample Database"), ("Field", "ID")])
            ),
        ),
        (
            "databases/f/tables/t/t.yaml",
            format!(
                "description: x\n{}",
                meta(&[("Database", "Sample Database"), ("Table", "''")])
            ),
        ),
        (
            "databases/g/tables/t/t.yaml",
            "description: x\nserdes/meta:\n  - model: Table\n".to_string(),
        ),
        // A nested field (Metabase's path for an unfolded column): ferrobase has none.
        (
            "databases/i/tables/t/fields/f.yaml",
            format!(
                "description: x\n{}",
                meta(&[
                    ("Database", "Sample Database"),
                    ("Table", "ORDERS"),
                    ("Field", "ID"),
                    ("Field", "x")
                ])
            ),
        ),
        (
            "databases/h/tables/t/fields/f.yaml",
            format!(
                "description: x\n{}",
                meta(&[
                    ("Database", "Sample Database"),
                    ("Table", "ORDERS"),
                    ("Table", "ORDERS"),
                    ("Field", "ID")
                ])
            ),
        ),
    ];
    let r = import(
        &t,
        &key,
        "?continue_on_error=true",
        Some(("file", &archive(&files))),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let lines = log_lines(&r);
    has(
        &lines,
        "skipped Table [\"..\",null,\"../../../etc/passwd\"]: not found in synced metadata",
    );
    has(
        &lines,
        "skipped Table [\"Sample Database\",\"/\",\"ORDERS\"]: not found in synced metadata",
    );
    has(
        &lines,
        "skipped Field [\"Sample Database\",null,\"ORDERS\",\"ID\",\"x\"]: not found in synced metadata",
    );
    for f in [
        "c/tables/t/t.yaml",
        "d/tables/t/t.yaml",
        "f/tables/t/t.yaml",
        "g/tables/t/t.yaml",
    ] {
        has(
            &lines,
            &format!(
                "failed File databases/{f}: serdes/meta is not the path of a Table: expected \
                 [Database, Schema (optional), Table] elements, each with a non-empty id"
            ),
        );
    }
    for f in ["e/tables/t/fields/f.yaml", "h/tables/t/fields/f.yaml"] {
        has(
            &lines,
            &format!(
                "failed File databases/{f}: serdes/meta is not the path of a Field: expected \
                 [Database, Schema (optional), Table, Field] elements, each with a non-empty id"
            ),
        );
    }
    assert!(
        lines
            .last()
            .is_some_and(|l| l.ends_with(" 3 skipped, 6 failed")),
        "{lines:?}"
    );
    // Without continue_on_error the bad file stops the import before anything loads.
    let r = import(&t, &key, "", Some(("file", &archive(&files)))).await;
    assert_eq!(r.status, 400, "{}", r.text());
    let orders = t.get("/api/table/1", &admin).await.json();
    assert_eq!(orders["description"], Value::Null);
    // A deeply nested value fails its entity.
    let mut deep = String::from("settings:\n");
    for i in 0..120 {
        deep.push_str(&format!("{}k:\n", "  ".repeat(i + 1)));
    }
    deep.push_str(&format!("{}1\n", "  ".repeat(121)));
    let r = import(
        &t,
        &key,
        "",
        Some((
            "file",
            &archive(&[(
                "databases/Sample Database/tables/PRODUCTS/fields/PRICE.yaml",
                format!(
                    "{deep}{}",
                    field_meta("Sample Database", "PRODUCTS", "PRICE")
                ),
            )]),
        )),
    )
    .await;
    assert!(r.status == 400 || r.status == 200, "{}", r.status);
    assert_ne!(r.status, 500);
    assert!(r.text().contains("failed "), "{}", r.text());
});

/// A SQLite warehouse whose names are hostile: path separators, dot names, a name escaping to
/// the same file name as another.
async fn hostile_warehouse(dir: &std::path::Path) -> std::path::PathBuf {
    let file = dir.join("hostile.sqlite");
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.expect("create");
    for sql in [
        r#"CREATE TABLE "../evil" ("id" INTEGER PRIMARY KEY, ".." TEXT, "a/b" TEXT, "a__SLASH__b" TEXT)"#,
        r#"CREATE TABLE "." ("x\y" INTEGER)"#,
        r#"CREATE TABLE "t/u" ("v" INTEGER)"#,
        r#"CREATE TABLE "t__SLASH__u" ("w" INTEGER)"#,
    ] {
        sqlx::query(sql).execute(&pool).await.expect(sql);
    }
    pool.close().await;
    file
}

both!(
    data_model_hostile_warehouse_names_are_escaped,
    |t| async move {
        let (admin, key) = admin_and_key(&t).await;
        let dir = tempfile::tempdir().expect("dir");
        let file = hostile_warehouse(dir.path()).await;
        let db = add_sqlite(&t, &admin, "H/../x", &file).await;
        t.post(
            &format!("/api/database/{db}/sync_schema?wait=true"),
            &admin,
            json!({}),
        )
        .await
        .assert(200);
        let r = export(&t, &key, "?dirname=x").await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let all = crate::serialization::unpack(&r.body);
        for path in all.keys() {
            assert!(path.starts_with("x/"), "{path}");
            assert!(!path.split('/').any(|p| p == ".." || p == "."), "{path}");
        }
        let f = files_of(&r.body);
        let h = "databases/H__SLASH__..__SLASH__x";
        for p in [
            format!("{h}/H__SLASH__..__SLASH__x.yaml"),
            format!("{h}/tables/..__SLASH__evil/..__SLASH__evil.yaml"),
            format!("{h}/tables/..__SLASH__evil/fields/__DOT____DOT__.yaml"),
            format!("{h}/tables/..__SLASH__evil/fields/a__SLASH__b.yaml"),
            format!("{h}/tables/__DOT__/__DOT__.yaml"),
            format!("{h}/tables/__DOT__/fields/x__BACKSLASH__y.yaml"),
            format!("{h}/tables/t__SLASH__u/t__SLASH__u.yaml"),
        ] {
            assert!(f.contains_key(&p), "{p} missing: {:?}", f.keys());
        }
        let log = String::from_utf8_lossy(&f["export.log"]).into_owned();
        // The names that escape to a file name already taken are skipped, the first (by id) kept.
        assert!(
        log.contains("skipped Field [\"H/../x\",null,\"../evil\",\"a__SLASH__b\"]: its file name is taken by another field\n"),
        "{log}"
    );
        assert!(
        log.contains("skipped Table [\"H/../x\",null,\"t__SLASH__u\"]: its file name is taken by another table\n"),
        "{log}"
    );
        assert!(
            log.contains(
                "skipped Field [\"H/../x\",null,\"t__SLASH__u\",\"w\"]: its table was skipped\n"
            ),
            "{log}"
        );
        let evil = yaml(&String::from_utf8_lossy(
            &f[&format!("{h}/tables/..__SLASH__evil/..__SLASH__evil.yaml")],
        ));
        assert_eq!(evil["name"], "../evil");
        assert_eq!(
            evil["serdes/meta"][1],
            json!({"id": "../evil", "model": "Table"})
        );
        // Importing it back edits the same tables.
        let mut files = f.clone();
        let key_path = format!("{h}/tables/..__SLASH__evil/..__SLASH__evil.yaml");
        let text = String::from_utf8_lossy(&files[&key_path])
            .replace("description: null", "description: Evil");
        files.insert(key_path, text.into_bytes());
        let r = import(
            &t,
            &key,
            "",
            Some(("file", &pack("x", &files).expect("pack"))),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(
            r.text()
                .contains("updated Table [\"H/../x\",null,\"../evil\"]"),
            "{}",
            r.text()
        );
        let tables = t.get("/api/table", &admin).await.json();
        let evil = tables
            .as_array()
            .expect("tables")
            .iter()
            .find(|x| x["name"] == "../evil")
            .cloned()
            .expect("evil");
        assert_eq!(evil["description"], "Evil");
    }
);

both!(
    data_model_68_postgres_schemas_and_import_as_edit,
    |t| async move {
        let Some(s) = crate::queries_pg::Scratch::create().await else {
            return;
        };
        crate::data_model_pg::fixture(&s).await;
        let (admin, key) = admin_and_key(&t).await;
        let w = crate::data_model_pg::registered(&t, &admin, &s).await;
        let r = export(&t, &key, "?dirname=x").await;
        assert_eq!(r.status, 200);
        let f = files_of(&r.body);
        let text = |p: &str| {
            String::from_utf8(f.get(p).unwrap_or_else(|| panic!("{p} missing")).clone())
                .expect("utf-8")
        };
        let orders = yaml(&text("databases/W/schemas/shop/tables/orders/orders.yaml"));
        assert_eq!(orders["schema"], "shop");
        assert_eq!(orders["description"], "All orders");
        assert_eq!(orders["db_id"], "W");
        assert_eq!(
            orders["serdes/meta"],
            json!([{"id": "W", "model": "Database"}, {"id": "shop", "model": "Schema"},
               {"id": "orders", "model": "Table"}])
        );
        let customer_id = yaml(&text(
            "databases/W/schemas/shop/tables/orders/fields/customer_id.yaml",
        ));
        assert_eq!(customer_id["table_id"], json!(["W", "shop", "orders"]));
        assert_eq!(
            customer_id["fk_target_field_id"],
            json!(["W", "shop", "customers", "id"])
        );
        assert_eq!(customer_id["serdes/meta"].as_array().map(Vec::len), Some(4));
        for p in [
            "databases/W/schemas/public/tables/misc/misc.yaml",
            "databases/W/schemas/shop/tables/big_orders/big_orders.yaml",
            "databases/W/schemas/shop/tables/daily/fields/order_count.yaml",
            "databases/W/schemas/shop/tables/customers/fields/full_name.yaml",
        ] {
            assert!(f.contains_key(p), "{p} missing");
        }
        let log = text("export.log");
        assert!(log.contains(
        "exported Table [\"W\",\"shop\",\"orders\"] databases/W/schemas/shop/tables/orders/orders.yaml\n"
    ));
        // Imported onto the same server: unchanged, and the export again the same.
        let r2 = import(&t, &key, "", Some(("file", &r.body))).await;
        assert_eq!(r2.status, 200, "{}", r2.text());
        assert!(r2
            .text()
            .contains("unchanged Field [\"W\",\"shop\",\"orders\",\"customer_id\"]"));
        assert_eq!(export(&t, &key, "?dirname=x").await.body, r.body);
        // Import counts as an edit: a description cleared by an archive is not refilled from the
        // warehouse comment by the next sync, and one set by it is kept (§2.9).
        let mut files = f.clone();
        let o = "databases/W/schemas/shop/tables/orders/orders.yaml";
        files.insert(
            o.into(),
            text(o)
                .replace("description: All orders", "description: null")
                .into_bytes(),
        );
        let n = "databases/W/schemas/shop/tables/customers/fields/full_name.yaml";
        files.insert(
            n.into(),
            text(n)
                .replace("description: Full legal name", "description: Legal name")
                .into_bytes(),
        );
        let r3 = import(
            &t,
            &key,
            "",
            Some(("file", &pack("x", &files).expect("pack"))),
        )
        .await;
        assert_eq!(r3.status, 200, "{}", r3.text());
        assert!(r3
            .text()
            .contains("updated Table [\"W\",\"shop\",\"orders\"]\n"));
        t.post(
            &format!("/api/database/{w}/sync_schema?wait=true"),
            &admin,
            json!({}),
        )
        .await
        .assert(200);
        let after = files_of(&export(&t, &key, "?dirname=x").await.body);
        let orders = yaml(&String::from_utf8_lossy(&after[o]));
        assert_eq!(orders["description"], Value::Null);
        let full_name = yaml(&String::from_utf8_lossy(&after[n]));
        assert_eq!(full_name["description"], "Legal name");
    }
);
