//! api-keys.md 4.8 and §11 scenario 86: no plain-text key in the logs (a real process at
//! `FERROBASE_LOG=debug`), none in the database, and none (nor its SHA-256) in any response
//! other than create and regenerate.
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::api_keys::{never_issued_key, G1};
use crate::api_keys_process::Server;
use crate::both;
use crate::support::{Auth, TestApp};

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Fails if `text` contains any of the keys, their hex encoding, or their SHA-256 (hex).
fn assert_no_secret(what: &str, text: &str, keys: &[String]) {
    let lower = text.to_lowercase();
    for k in keys {
        assert!(!text.contains(k.as_str()), "{what} contains a key: {text}");
        assert!(
            !lower.contains(&hex::encode(k.as_bytes())),
            "{what} contains a hex-encoded key"
        );
        assert!(
            !lower.contains(&sha256_hex(k)),
            "{what} contains a key's SHA-256: {text}"
        );
    }
}

/// Every value of every column of every table, rendered as text.
async fn database_text(url: &str) -> Vec<(String, String)> {
    use sqlx::Row;
    let mut out = Vec::new();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(path)
            .read_only(true);
        let pool = sqlx::SqlitePool::connect_with(opts)
            .await
            .expect("open SQLite");
        let tables: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM sqlite_master WHERE type = 'table'")
                .fetch_all(&pool)
                .await
                .expect("tables");
        for (table,) in tables {
            let cols = sqlx::query(&format!("PRAGMA table_info(\"{table}\")"))
                .fetch_all(&pool)
                .await
                .expect("columns");
            for c in cols {
                let col: String = c.get("name");
                // quote() renders text as text and blobs as X'…' hex.
                let rows: Vec<(Option<String>,)> =
                    sqlx::query_as(&format!("SELECT quote(\"{col}\") FROM \"{table}\""))
                        .fetch_all(&pool)
                        .await
                        .expect("values");
                out.extend(
                    rows.into_iter()
                        .filter_map(|r| r.0)
                        .map(|v| (format!("{table}.{col}"), v)),
                );
            }
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("connect");
        let cols: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = 'public'",
        )
        .fetch_all(&pool)
        .await
        .expect("columns");
        for (table, col) in cols {
            // bytea::text is '\x' followed by hex.
            let rows: Vec<(Option<String>,)> =
                sqlx::query_as(&format!("SELECT \"{col}\"::text FROM \"{table}\""))
                    .fetch_all(&pool)
                    .await
                    .expect("values");
            out.extend(
                rows.into_iter()
                    .filter_map(|r| r.0)
                    .map(|v| (format!("{table}.{col}"), v)),
            );
        }
        pool.close().await;
    }
    out
}

fn temp_sqlite_file(c: &mut ferrobase::config::Config) {
    if c.database == ferrobase::store::DatabaseUrl::SqliteMemory {
        let path = std::env::temp_dir().join(format!(
            "ferrobase-secrets-{}.db",
            uuid::Uuid::new_v4().simple()
        ));
        c.database = ferrobase::store::DatabaseUrl::SqliteFile(path);
    }
}

fn database_url(t: &TestApp) -> String {
    match &t.app.config.database {
        ferrobase::store::DatabaseUrl::SqliteFile(p) => format!("sqlite://{}", p.display()),
        ferrobase::store::DatabaseUrl::Postgres(u) => u.clone(),
        other => panic!("unexpected database {other:?}"),
    }
}

both!(
    s86_no_plain_text_key_in_the_database_or_other_responses,
    config = temp_sqlite_file,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let mut keys = Vec::new();
        let r = t
            .post(
                "/api/api-key",
                &admin,
                json!({"name": "My Key", "group_id": g1, "expires_at": "2040-01-01T00:00:00Z"}),
            )
            .await;
        r.assert(200);
        let id = r.json()["id"].as_i64().unwrap();
        keys.push(r.json()["unmasked_key"].as_str().unwrap().to_string());
        let r = t
            .put(
                &format!("/api/api-key/{id}/regenerate"),
                &admin,
                json!({"grace_period_seconds": 600}),
            )
            .await;
        r.assert(200);
        keys.push(r.json()["unmasked_key"].as_str().unwrap().to_string());
        let r = t
            .post(
                "/api/api-key",
                &admin,
                json!({"name": "Admin", "group_id": 2}),
            )
            .await;
        keys.push(r.json()["unmasked_key"].as_str().unwrap().to_string());
        let admin_key = Auth::Key(keys[2].clone());
        for k in &keys {
            t.get("/api/user/current", &Auth::Key(k.clone()))
                .await
                .assert(200);
        }
        let mut responses = Vec::new();
        for (path, auth) in [
            ("/api/api-key", &admin),
            ("/api/api-key/count", &admin),
            ("/api/audit-log?limit=1000", &admin),
            ("/api/user?status=all", &admin),
            ("/api/user/current", &admin_key),
            ("/api/permissions/membership", &admin),
            (&format!("/api/permissions/group/{g1}") as &str, &admin),
            ("/api/session/properties", &admin_key),
        ] {
            let r = t.get(path, auth).await;
            r.assert(200);
            responses.push((path.to_string(), r.text));
        }
        let r = t
            .put(
                &format!("/api/api-key/{id}"),
                &admin,
                json!({"name": "Renamed"}),
            )
            .await;
        responses.push(("PUT /api/api-key/:id".into(), r.text));
        let r = t.delete(&format!("/api/api-key/{id}"), &admin_key).await;
        r.assert(204);
        for (what, text) in &responses {
            assert_no_secret(what, text, &keys);
        }
        let url = database_url(&t);
        let values = database_text(&url).await;
        assert!(
            values.iter().any(|(c, _)| c == "api_key.key_hash"),
            "the scan saw no key rows"
        );
        for (column, value) in &values {
            for k in &keys {
                assert!(
                    !value.contains(k.as_str()),
                    "{column} holds a plain-text key"
                );
                assert!(
                    !value.to_lowercase().contains(&hex::encode(k.as_bytes())),
                    "{column} holds a key's bytes"
                );
            }
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{path}{suffix}"));
            }
        }
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s86_no_key_or_bad_key_appears_in_debug_logs() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db_path = dir.path().join("ferrobase.db");
    let db = format!("sqlite://{}", db_path.display());
    let mut s = Server::start(
        &db,
        dir.path(),
        dir.path().join("server.log"),
        &[("FERROBASE_LOG", "debug")],
    )
    .await;
    let admin = s.setup().await;
    let mut secrets: Vec<String> = Vec::new();

    // Scenario 16: create.
    let g1 = s
        .request(
            "POST",
            "/api/permissions/group",
            &admin,
            Some(json!({"name": G1})),
        )
        .await
        .json()["id"]
        .clone();
    let r = s
        .request(
            "POST",
            "/api/api-key",
            &admin,
            Some(json!({"name": "My Key", "group_id": g1})),
        )
        .await;
    r.assert(200);
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let id = r.json()["id"].as_i64().unwrap();
    let k1 = r.json()["unmasked_key"].as_str().unwrap().to_string();
    secrets.push(k1.clone());

    // Scenario 45: regenerate; K1 fails, K2 works.
    s.get("/api/user/current", &Auth::Key(k1.clone()))
        .await
        .assert(200);
    let r = s
        .request(
            "PUT",
            &format!("/api/api-key/{id}/regenerate"),
            &admin,
            None,
        )
        .await;
    r.assert(200);
    let k2 = r.json()["unmasked_key"].as_str().unwrap().to_string();
    secrets.push(k2.clone());
    s.get("/api/user/current", &Auth::Key(k1.clone()))
        .await
        .assert(401);
    s.get("/api/user/current", &Auth::Key(k2.clone()))
        .await
        .assert(200);

    // Scenario 67: ten bad keys, then the limit.
    let mut bad: Vec<String> = (0..4).map(|_| never_issued_key()).collect();
    bad.push(format!(
        "mb_not_an_api_key_{}",
        uuid::Uuid::new_v4().simple()
    ));
    bad.push(format!("Bearer {k2}"));
    // K2 with its last checksum character changed (to a character it does not already have).
    let other = if k2.ends_with('X') { 'Y' } else { 'X' };
    bad.push(format!("{}{other}", &k2[..48]));
    bad.push(format!("secret-{}", uuid::Uuid::new_v4()));
    bad.push(k1.clone()); // retired
    bad.push(format!("MB_{}", &k2[3..]));
    bad.push(never_issued_key());
    // K1 after the regenerate was failure number 1 of this window.
    for (i, b) in bad.iter().enumerate() {
        let r = s.get("/api/user/current", &Auth::Key(b.clone())).await;
        r.assert(if i + 1 < 10 { 401 } else { 429 });
    }
    secrets.extend(bad);

    let status = s.terminate();
    assert!(status.success(), "{status}");
    let log = s.log_text();
    assert!(log.contains("DEBUG"), "debug logging was not on: {log}");
    assert!(
        log.contains("mb_"),
        "the log shows no key prefix at all; is anything logged? {log}"
    );
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "the log contains {secret:?}"
        );
    }
    for k in [&k1, &k2] {
        assert!(
            !log.to_lowercase().contains(&sha256_hex(k)),
            "the log contains a key's SHA-256"
        );
    }
    let values = database_text(&db).await;
    for (column, value) in &values {
        for k in [&k1, &k2] {
            assert!(
                !value.contains(k.as_str()),
                "{column} holds a plain-text key"
            );
        }
    }
}
