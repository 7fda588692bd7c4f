//! queries.md §1 and §7: databases, the Sample Database's life cycle, settings — scenarios 1,
//! 5, 8–10, 14–18, 54–57 (the Postgres-backed database scenarios are in `queries_pg`).
use std::path::PathBuf;

use serde_json::{json, Value};

use crate::both;
use crate::collections_graph::FORBIDDEN;
use crate::queries_perms::group_with_alice;
use crate::queries_run::{native_on, scalar};
use crate::support::{Auth, TestApp};

/// A copy of the Sample Database outside the data directory: (its directory, its path).
pub fn sqlite_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.sqlite");
    std::fs::copy(ferrobase::databases::sample::cache_path(), &file).unwrap();
    (dir, file)
}

/// `POST /api/database` for a SQLite file, which must succeed: the new id.
pub async fn add_sqlite(t: &TestApp, admin: &Auth, name: &str, file: &std::path::Path) -> i64 {
    let r = t
        .post(
            "/api/database",
            admin,
            json!({"name": name, "engine": "sqlite", "details": {"db": file}}),
        )
        .await;
    r.assert(200);
    r.json()["id"].as_i64().unwrap()
}

both!(queries_1_fresh_server_lists_the_sample, |t| async move {
    let admin = t.setup().await;
    let r = t.get("/api/database", &admin).await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["total"], 1);
    let d = &v["data"][0];
    assert_eq!(d["id"], 1);
    assert_eq!(d["name"], "Sample Database");
    assert_eq!(d["engine"], "sqlite");
    assert_eq!(d["is_sample"], true);
    assert_eq!(d["native_permissions"], "write");
    assert_eq!(d["features"], json!(["native-parameters"]));
    assert_eq!(d["initial_sync_status"], "complete");
    assert!(d["details"]["db"]
        .as_str()
        .unwrap()
        .ends_with("sample-database.sqlite"));
    // include=tables lists the synced tables (queries.md §1.3), ordered by display name.
    let v = t.get("/api/database?include=tables", &admin).await.json();
    let tables = v["data"][0]["tables"].as_array().expect("tables").clone();
    let names: Vec<&str> = tables.iter().filter_map(|x| x["name"].as_str()).collect();
    assert_eq!(names, vec!["ORDERS", "PEOPLE", "PRODUCTS", "REVIEWS"]);
    assert!(tables.iter().all(|x| x.get("fields").is_none()));
    assert!(t.get("/api/database", &admin).await.json()["data"][0]
        .get("tables")
        .is_none());
    t.get("/api/database?include=tables.fields", &admin)
        .await
        .assert(400);
    // include=tables.fields on one database gives the fields, without sensitive ones.
    t.put(
        "/api/field/12",
        &admin,
        json!({"visibility_type": "sensitive"}),
    )
    .await
    .assert(200);
    let one = t
        .get("/api/database/1?include=tables.fields", &admin)
        .await
        .json();
    let people = &one["tables"][1];
    assert_eq!(people["name"], "PEOPLE");
    let ids: Vec<i64> = people["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["id"].as_i64())
        .collect();
    assert_eq!(ids.len(), 11);
    assert!(!ids.contains(&12));
    t.get("/api/database?include=nope", &admin)
        .await
        .assert(400);
    let v = t.get("/api/database/1", &admin).await.json();
    assert_eq!(v["can-manage"], true);
    assert_eq!(v["schedules"], json!({}));
});

both!(queries_8_unknown_database, |t| async move {
    let admin = t.setup().await;
    t.get("/api/database/999", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/database/0", &admin).await.assert(400);
});

both!(queries_9_add_a_sqlite_file, |t| async move {
    let admin = t.setup().await;
    let (_dir, file) = sqlite_copy();
    let r = t
        .post(
            "/api/database",
            &admin,
            json!({"name": "W", "engine": "sqlite", "details": {"db": file}}),
        )
        .await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["engine"], "sqlite");
    assert_eq!(v["is_sample"], false);
    assert_eq!(v["creator_id"], 1);
    let id = v["id"].as_i64().unwrap();
    let r = t
        .post(
            "/api/dataset",
            &admin,
            native_on(id, "SELECT COUNT(*) FROM PEOPLE"),
        )
        .await;
    r.assert(202);
    assert_eq!(r.json()["data"]["rows"], json!([[2500]]));
    // Writes never run: the sandbox's authorizer refuses them when the statement is compiled
    // (SQLITE_AUTH), before the read-only file would (docs/security.md).
    let r = t
        .post("/api/dataset", &admin, native_on(id, "DELETE FROM PEOPLE"))
        .await;
    r.assert(400);
    assert_eq!(r.json()["state"], "SQLITE_AUTH");
    assert_eq!(r.json()["error"], "not authorized");
    let r = t
        .post(
            "/api/dataset",
            &admin,
            native_on(id, "SELECT COUNT(*) FROM PEOPLE"),
        )
        .await;
    assert_eq!(r.json()["data"]["rows"], json!([[2500]]));
});

both!(queries_10_invalid_databases_are_refused, |t| async move {
    let admin = t.setup().await;
    let post = |body: Value| {
        let t = t.clone();
        let admin = admin.clone();
        async move { t.post("/api/database", &admin, body).await }
    };
    let r = post(json!({"name": "M", "engine": "mysql", "details": {}})).await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"engine": "value must be a valid database engine."}})
    );
    let data_file = t.data_dir.path().join("inside.sqlite");
    std::fs::copy(ferrobase::databases::sample::cache_path(), &data_file).unwrap();
    let (_dir, good) = sqlite_copy();
    let not_sqlite = good.with_file_name("plain.txt");
    std::fs::write(&not_sqlite, "not a database").unwrap();
    for path in [
        json!("relative/w.sqlite"),
        json!(data_file),
        json!(good.with_file_name("missing.sqlite")),
        json!(not_sqlite),
        json!(""),
    ] {
        let r = post(json!({"name": "X", "engine": "sqlite", "details": {"db": path}})).await;
        r.assert(400);
        assert!(r.json()["errors"]["db"].is_string(), "{path}: {}", r.text);
    }
    let r = post(json!({"name": "X", "engine": "postgres", "details": {}})).await;
    r.assert(400);
    let v = r.json();
    for key in ["host", "dbname", "user"] {
        assert!(v["errors"][key].is_string(), "{v}");
    }
    let r = post(json!({"engine": "sqlite"})).await;
    r.assert(400);
    assert!(r.json()["specific-errors"]["name"].is_array());
    assert_eq!(t.get("/api/database", &admin).await.json()["total"], 1);
});

both!(
    queries_10_application_database_path_is_refused,
    config = |c: &mut ferrobase::config::Config| {
        if matches!(c.database, ferrobase::store::DatabaseUrl::SqliteMemory) {
            c.database = ferrobase::store::DatabaseUrl::SqliteFile(c.data_dir.join("ferrobase.db"));
        }
    },
    |t| async move {
        let admin = t.setup().await;
        let mut candidates = vec![t.data_dir.path().join("sample-database.sqlite")];
        if t.backend == crate::support::Backend::Sqlite {
            candidates.push(t.data_dir.path().join("ferrobase.db"));
        }
        for path in candidates {
            assert!(path.is_file(), "{}", path.display());
            let r = t
                .post(
                    "/api/database",
                    &admin,
                    json!({"name": "App", "engine": "sqlite", "details": {"db": path}}),
                )
                .await;
            r.assert(400);
            assert!(r.json()["errors"]["db"].is_string());
        }
    }
);

both!(queries_14_duplicate_names, |t| async move {
    let admin = t.setup().await;
    let (_dir, file) = sqlite_copy();
    add_sqlite(&t, &admin, "W", &file).await;
    let r = t
        .post(
            "/api/database",
            &admin,
            json!({"name": "W", "engine": "sqlite", "details": {"db": file}}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"name": "A database with this name already exists."}})
    );
    let r = t.put("/api/database/1", &admin, json!({"name": "W"})).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"]["name"],
        "A database with this name already exists."
    );
});

both!(
    queries_15_only_superusers_change_databases,
    |t| async move {
        let admin = t.setup().await;
        let (_, _, alice) = group_with_alice(&t, &admin).await;
        let (_dir, file) = sqlite_copy();
        let body = json!({"name": "W", "engine": "sqlite", "details": {"db": file}});
        t.post("/api/database", &alice, body)
            .await
            .assert_text(403, FORBIDDEN);
        t.put("/api/database/1", &alice, json!({"name": "Mine"}))
            .await
            .assert_text(403, FORBIDDEN);
        t.delete("/api/database/1", &alice)
            .await
            .assert_text(403, FORBIDDEN);
        t.post("/api/database/1/sync_schema", &alice, json!({}))
            .await
            .assert_text(403, FORBIDDEN);
        // Renaming the Sample Database is allowed; changing its details is not.
        let r = t
            .put(
                "/api/database/1",
                &admin,
                json!({"name": "Samples", "description": "d"}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.json()["name"], "Samples");
        let r = t
            .put("/api/database/1", &admin, json!({"details": {"db": file}}))
            .await;
        r.assert(400);
        assert!(r.json()["errors"]["details"].is_string());
        // Sending back what GET showed changes nothing.
        let shown = t.get("/api/database/1", &admin).await.json();
        let body = json!({"details": shown["details"], "engine": "sqlite"});
        t.put("/api/database/1", &admin, body).await.assert(200);
    }
);

both!(
    queries_16_deleting_a_database_deletes_its_cards,
    |t| async move {
        let admin = t.setup().await;
        let (_dir, file) = sqlite_copy();
        let w = add_sqlite(&t, &admin, "W", &file).await;
        let r = t
            .post(
                "/api/card",
                &admin,
                json!({"name": "C", "dataset_query": native_on(w, "SELECT 1"), "display": "table",
                   "visualization_settings": {}}),
            )
            .await;
        r.assert(200);
        let c = r.json()["id"].as_i64().unwrap();
        let r = t.delete(&format!("/api/database/{w}"), &admin).await;
        r.assert(204);
        assert!(r.text.is_empty());
        t.get(&format!("/api/card/{c}"), &admin)
            .await
            .assert_text(404, "Not found.");
        t.get(&format!("/api/database/{w}"), &admin)
            .await
            .assert(404);
        t.delete(&format!("/api/database/{w}"), &admin)
            .await
            .assert(404);
        let g = t.get("/api/permissions/graph", &admin).await.json();
        assert!(g["groups"]["1"].get(w.to_string()).is_none());
        // The file itself is left alone.
        assert!(file.is_file());
    }
);

both!(queries_17_sample_database_restored, |t| async move {
    let admin = t.setup().await;
    t.delete("/api/database/1", &admin).await.assert(204);
    assert_eq!(t.get("/api/database", &admin).await.json()["total"], 0);
    let a = t
        .post("/api/database/sample_database", &admin, json!({}))
        .await;
    a.assert(200);
    let b = t
        .post("/api/database/sample_database", &admin, json!({}))
        .await;
    b.assert(200);
    assert_eq!(a.json()["id"], b.json()["id"]);
    assert_eq!(a.json()["is_sample"], true);
    let v = t.get("/api/database", &admin).await.json();
    assert_eq!(v["total"], 1);
    let id = a.json()["id"].as_i64().unwrap();
    let r = t
        .post(
            "/api/dataset",
            &admin,
            native_on(id, "SELECT COUNT(*) FROM ORDERS"),
        )
        .await;
    assert_eq!(r.json()["data"]["rows"], json!([[5000]]));
});

both!(queries_18_stub_endpoints, |t| async move {
    // queries.md scenario 18 as data-model.md §9 changed it: the sample tables are listed.
    let admin = t.setup().await;
    let r = t
        .post("/api/database/1/sync_schema", &admin, json!({}))
        .await;
    r.assert(200);
    assert_eq!(r.json(), json!({"status": "ok"}));
    for p in ["rescan_values", "discard_values"] {
        t.post(&format!("/api/database/1/{p}"), &admin, json!({}))
            .await
            .assert(200);
    }
    let v = t.get("/api/database/1/metadata", &admin).await.json();
    assert_eq!(v["id"], 1);
    assert_eq!(v["tables"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        t.get("/api/database/1/schemas", &admin).await.json(),
        json!([""])
    );
    let names: Vec<Value> = t
        .get("/api/table", &admin)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(
        names,
        vec![
            json!("ORDERS"),
            json!("PEOPLE"),
            json!("PRODUCTS"),
            json!("REVIEWS")
        ]
    );
    t.get("/api/table/999", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/field/99999", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/database/1/schema/PUBLIC", &admin)
        .await
        .assert_text(404, "Not found.");
    let v = t.get("/api/database/1/healthcheck", &admin).await.json();
    assert_eq!(v, json!({"status": "ok"}));
    let r = t
        .post(
            "/api/database/validate",
            &admin,
            json!({"details": {"engine": "sqlite", "details": {"db": "/nope.sqlite"}}}),
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["db"].is_string());
    let (_dir, file) = sqlite_copy();
    let r = t
        .post(
            "/api/database/validate",
            &admin,
            json!({"details": {"engine": "sqlite", "details": {"db": file}}}),
        )
        .await;
    assert_eq!(r.json(), json!({"valid": true}));
    t.post("/api/database/999/sync_schema", &admin, json!({}))
        .await
        .assert(404);
});

both!(
    queries_54_no_sample_database,
    config = |c: &mut ferrobase::config::Config| c.sample_database = false,
    |t| async move {
        let admin = t.setup().await;
        assert_eq!(
            t.get("/api/database", &admin).await.json(),
            json!({"data": [], "total": 0})
        );
        assert!(!t.data_dir.path().join("sample-database.sqlite").exists());
    }
);

both!(
    queries_55_sqlite_allowed_dirs,
    config = |c: &mut ferrobase::config::Config| {
        c.sqlite_allowed_dirs = vec![PathBuf::from("/srv/data-that-does-not-exist")]
    },
    |t| async move {
        let admin = t.setup().await;
        let (_dir, file) = sqlite_copy();
        let r = t
            .post(
                "/api/database",
                &admin,
                json!({"name": "X", "engine": "sqlite", "details": {"db": file}}),
            )
            .await;
        r.assert(400);
        assert!(r.json()["errors"]["db"].is_string());
    }
);

both!(queries_56_57_settings, |t| async move {
    let admin = t.setup().await;
    let (_, _, alice) = group_with_alice(&t, &admin).await;
    let key = "/api/setting/unaggregated-query-row-limit";
    t.put(key, &alice, json!({"value": 100}))
        .await
        .assert_text(403, FORBIDDEN);
    t.put(key, &admin, json!({"value": 100})).await.assert(204);
    assert_eq!(t.get(key, &admin).await.json(), json!(100));
    let r = t.put(key, &admin, json!({"value": 0})).await;
    r.assert(400);
    assert!(r.json()["errors"]["value"].is_string());
    t.put(key, &admin, json!({"value": null})).await.assert(204);
    assert_eq!(t.get(key, &admin).await.json(), json!(2000));
    t.get("/api/setting/bogus", &admin)
        .await
        .assert_text(404, "Not found.");
    let r = t
        .put(
            "/api/setting",
            &admin,
            json!({"site-name": "A", "download-row-limit": -1}),
        )
        .await;
    r.assert(400);
    assert_eq!(
        t.get("/api/setting/site-name", &admin).await.json(),
        json!("Acme")
    );
    t.put(
        "/api/setting",
        &admin,
        json!({"site-name": "B", "download-row-limit": 3000}),
    )
    .await
    .assert(204);
    let list = t.get("/api/setting", &admin).await.json();
    let keys: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    let dl = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "download-row-limit")
        .unwrap();
    assert_eq!(dl["value"], 3000);
    assert_eq!(dl["env_name"], "MB_DOWNLOAD_ROW_LIMIT");
    assert_eq!(dl["is_env_setting"], false);
    t.get("/api/setting", &alice)
        .await
        .assert_text(403, FORBIDDEN);
    let r = t
        .put(
            "/api/setting/report-timezone",
            &admin,
            json!({"value": "Nowhere/Special"}),
        )
        .await;
    r.assert(400);
    t.put(
        "/api/setting/report-timezone",
        &admin,
        json!({"value": "Europe/Paris"}),
    )
    .await
    .assert(204);
    // The Sample Database still reports UTC.
    assert_eq!(scalar(&t, &admin, "SELECT 1").await, json!(1));
});

/// Scenario 5: a file app database whose sample file vanished while stopped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_5_missing_sample_file_is_regenerated() {
    let dir = tempfile::tempdir().unwrap();
    let configure = |c: &mut ferrobase::config::Config| {
        c.data_dir = dir.path().to_path_buf();
        c.database = ferrobase::store::DatabaseUrl::SqliteFile(dir.path().join("ferrobase.db"));
    };
    let file = dir.path().join("sample-database.sqlite");
    let (mut t, _) = TestApp::start(crate::support::Backend::Sqlite, configure)
        .await
        .unwrap();
    let admin = t.setup().await;
    let before = t
        .post("/api/dataset", &admin, json!({"database": 1, "type": "native",
              "native": {"query": "SELECT * FROM REVIEWS ORDER BY ID"}, "constraints": {"max-results-bare-rows": 1000}}))
        .await
        .json();
    t.stop().await;
    std::fs::remove_file(&file).unwrap();
    let (mut t, _) = TestApp::start(crate::support::Backend::Sqlite, configure)
        .await
        .unwrap();
    assert!(file.is_file());
    let admin = t.login("ada@example.com", crate::support::PASSWORD).await;
    let after = t
        .post("/api/dataset", &admin, json!({"database": 1, "type": "native",
              "native": {"query": "SELECT * FROM REVIEWS ORDER BY ID"}, "constraints": {"max-results-bare-rows": 1000}}))
        .await
        .json();
    assert_eq!(before["data"]["rows"], after["data"]["rows"]);
    t.stop().await;
}
