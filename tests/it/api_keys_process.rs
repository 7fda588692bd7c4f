//! api-keys.md §11 scenarios that need real `ferrobase serve` processes — 77 (SIGTERM flushes
//! `last_used_at`), 78 (two instances on one PostgreSQL database), 86 (no secret in the logs) —
//! and the secret-handling checks of 4.8: the database never holds a plain-text key, and no
//! response other than create and regenerate contains a key or its SHA-256.
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use futures::FutureExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::api_keys::{micros, never_issued_key, now_micros, G1};
use crate::both;
use crate::support::{Auth, PgDb, Resp, TestApp, PASSWORD};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A `ferrobase serve` child process, killed when dropped.
struct Server {
    child: Child,
    base: String,
    client: reqwest::Client,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(database: &str, data_dir: &Path, log: PathBuf, envs: &[(&str, &str)]) -> Server {
        let port = free_port();
        let stderr = std::fs::File::create(&log).expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ferrobase"));
        cmd.arg("serve")
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--database")
            .arg(database)
            .arg("--data-dir")
            .arg(data_dir);
        for var in [
            "RUST_LOG",
            "FERROBASE_LOG",
            "FERROBASE_LOG_FORMAT",
            "FERROBASE_BIND",
            "FERROBASE_DATABASE_URL",
            "FERROBASE_DISABLE_API_KEY_THROTTLE",
            "MB_DB_CONNECTION_URI",
            "MB_JETTY_PORT",
            "MB_JETTY_HOST",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(stderr);
        let child = cmd.spawn().expect("spawn ferrobase");
        let mut server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            client: reqwest::Client::new(),
            log,
        };
        server.wait_ready().await;
        server
    }

    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("ferrobase exited early ({status}): {}", self.log_text());
            }
            if let Ok(r) = self
                .client
                .get(format!("{}/api/health", self.base))
                .send()
                .await
            {
                if r.status() == 200 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "ferrobase not ready: {}",
                self.log_text()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then waits (up to 35 s) for the exit status.
    fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(35);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "ferrobase did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    async fn request(&self, method: &str, path: &str, auth: &Auth, body: Option<Value>) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        req = match auth {
            Auth::None => req,
            Auth::Session(s) => req.header("X-Metabase-Session", s),
            Auth::Cookie(s) => req.header("Cookie", format!("metabase.SESSION={s}")),
            Auth::Key(k) => req.header("X-Api-Key", k),
            Auth::Headers(hs) => hs
                .iter()
                .fold(req, |r, (k, v)| r.header(k.as_str(), v.as_str())),
        };
        if let Some(b) = body {
            req = req
                .header("Content-Type", "application/json")
                .body(b.to_string());
        }
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        Resp {
            status,
            headers,
            text,
        }
    }

    async fn get(&self, path: &str, auth: &Auth) -> Resp {
        self.request("GET", path, auth, None).await
    }

    async fn setup(&self) -> Auth {
        let props = self
            .get("/api/session/properties", &Auth::None)
            .await
            .json();
        let token = props["setup-token"]
            .as_str()
            .expect("setup token")
            .to_string();
        let r = self
            .request(
                "POST",
                "/api/setup",
                &Auth::None,
                Some(json!({"token": token, "prefs": {"site_name": "Acme"},
                            "user": {"email": "ada@example.com", "password": PASSWORD,
                                     "first_name": "Ada", "last_name": "Lovelace"}})),
            )
            .await;
        r.assert(200);
        Auth::Session(r.json()["id"].as_str().expect("id").to_string())
    }

    async fn create_key(&self, admin: &Auth, name: &str, group_id: i64) -> (i64, String) {
        let r = self
            .request(
                "POST",
                "/api/api-key",
                admin,
                Some(json!({"name": name, "group_id": group_id})),
            )
            .await;
        r.assert(200);
        let v = r.json();
        (
            v["id"].as_i64().expect("id"),
            v["unmasked_key"].as_str().expect("key").to_string(),
        )
    }
}

/// Polls `path` on `server` with `auth` until it answers `expected`; fails after 1 s.
async fn within_one_second(server: &Server, path: &str, auth: &Auth, expected: u16) {
    let start = Instant::now();
    loop {
        let r = server.get(path, auth).await;
        if r.status == expected {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "still {} after 1 s: {}",
            r.status,
            r.text
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `body`, then drops the database whatever happened.
async fn with_pg<F: std::future::Future<Output = ()>>(db: &PgDb, body: F) {
    let result = std::panic::AssertUnwindSafe(body).catch_unwind().await;
    db.drop_db().await;
    if let Err(p) = result {
        std::panic::resume_unwind(p);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s77_sigterm_flushes_last_used_at() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}", dir.path().join("ferrobase.db").display());
    let mut a = Server::start(&db, dir.path(), dir.path().join("a.log"), &[]).await;
    let admin = a.setup().await;
    let (id, key) = a.create_key(&admin, "Robot", 1).await;
    let used_at = now_micros();
    a.get("/api/user/current", &Auth::Key(key))
        .await
        .assert(200);
    let status = a.terminate();
    assert!(status.success(), "{status}: {}", a.log_text());
    drop(a);

    let b = Server::start(&db, dir.path(), dir.path().join("b.log"), &[]).await;
    let r = b.get("/api/api-key", &admin).await;
    r.assert(200);
    let k = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == id)
        .cloned()
        .expect("the key");
    assert!(k["last_used_at"].is_string(), "{k}");
    assert!(micros(&k["last_used_at"]) / 1_000_000 >= used_at / 1_000_000);
}

/// Waits until both instances hold their `LISTEN` connection, so the test exercises the
/// notifications rather than an untrusted (bypassed) cache.
async fn wait_for_listeners(db: &PgDb, n: i64) {
    let pool = sqlx::PgPool::connect(&db.admin_url)
        .await
        .expect("admin connect");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (count,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND query ILIKE 'LISTEN%'",
        )
        .bind(&db.name)
        .fetch_one(&pool)
        .await
        .expect("pg_stat_activity");
        if count >= n {
            break;
        }
        assert!(Instant::now() < deadline, "only {count} listeners");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pool.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s78_writes_on_one_instance_reach_the_other_within_a_second() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    with_pg(&db, async {
        let a = Server::start(&db.url, dir.path(), dir.path().join("a.log"), &[]).await;
        let b = Server::start(&db.url, dir.path(), dir.path().join("b.log"), &[]).await;
        wait_for_listeners(&db, 2).await;
        let admin = a.setup().await;
        let g1 = a
            .request(
                "POST",
                "/api/permissions/group",
                &admin,
                Some(json!({"name": G1})),
            )
            .await
            .json()["id"]
            .as_i64()
            .unwrap();

        // DELETE on A → K refused on B.
        let (id, k) = a.create_key(&admin, "Deleted", 2).await;
        let k = Auth::Key(k);
        b.get("/api/user/current", &k).await.assert(200);
        b.get("/api/user/current", &k).await.assert(200); // served from B's cache
        a.request("DELETE", &format!("/api/api-key/{id}"), &admin, None)
            .await
            .assert(204);
        within_one_second(&b, "/api/user/current", &k, 401).await;

        // Regenerate with grace 0 on A → the old secret refused on B.
        let (id, old) = a.create_key(&admin, "Regenerated", 1).await;
        let old = Auth::Key(old);
        b.get("/api/user/current", &old).await.assert(200);
        let r = a
            .request(
                "PUT",
                &format!("/api/api-key/{id}/regenerate"),
                &admin,
                None,
            )
            .await;
        r.assert(200);
        within_one_second(&b, "/api/user/current", &old, 401).await;
        let new = Auth::Key(r.json()["unmasked_key"].as_str().unwrap().to_string());
        b.get("/api/user/current", &new).await.assert(200);

        // Moving a key out of Administrators on A → 403 on B.
        let (id, moved) = a.create_key(&admin, "Moved", 2).await;
        let moved = Auth::Key(moved);
        b.get("/api/user", &moved).await.assert(200);
        a.request(
            "PUT",
            &format!("/api/api-key/{id}"),
            &admin,
            Some(json!({"group_id": g1})),
        )
        .await
        .assert(200);
        within_one_second(&b, "/api/user", &moved, 403).await;

        // A grace-period secret works on both instances until its deadline, then on neither.
        let (id, k1) = a.create_key(&admin, "Graceful", 1).await;
        let k1 = Auth::Key(k1);
        a.get("/api/user/current", &k1).await.assert(200);
        b.get("/api/user/current", &k1).await.assert(200);
        let r = a
            .request(
                "PUT",
                &format!("/api/api-key/{id}/regenerate"),
                &admin,
                Some(json!({"grace_period_seconds": 2})),
            )
            .await;
        r.assert(200);
        let until = micros(&r.json()["previous_key_valid_until"]);
        let k2 = Auth::Key(r.json()["unmasked_key"].as_str().unwrap().to_string());
        for s in [&a, &b] {
            s.get("/api/user/current", &k1).await.assert(200);
            s.get("/api/user/current", &k2).await.assert(200);
        }
        assert!(
            now_micros() < until,
            "the checks above took longer than the grace period"
        );
        let wait = (until - now_micros()).max(0) as u64 + 200_000;
        tokio::time::sleep(Duration::from_micros(wait)).await;
        for s in [&a, &b] {
            s.get("/api/user/current", &k1)
                .await
                .assert_text(401, "Unauthenticated");
            s.get("/api/user/current", &k2).await.assert(200);
        }
    })
    .await;
}

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
    bad.push(format!("{}X", &k2[..48]));
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
