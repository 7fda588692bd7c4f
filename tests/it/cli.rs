//! The `ferrobase` binary: version, help, exit statuses for bad configuration (2) and runtime
//! failures at start (1), graceful shutdown, and durability of acknowledged writes on SIGKILL.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{free_port, PgDb, PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_ferrobase");

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.args(args)
        .env_remove("FERROBASE_DATABASE_URL")
        .env_remove("MB_DB_CONNECTION_URI");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run ferrobase")
}

fn stderr_line(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

#[test]
fn version_names_the_metabase_api() {
    let o = run(&["--version"], &[]);
    assert!(o.status.success());
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out.trim(),
        format!(
            "ferrobase {} (Metabase API v0.58.0)",
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn help_lists_serve_and_its_options() {
    let o = run(&["--help"], &[]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stdout).contains("serve"));
    let o = run(&["serve", "--help"], &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    for opt in [
        "--bind",
        "--database",
        "--data-dir",
        "--max-upload-bytes",
        "--source-address-header",
    ] {
        assert!(out.contains(opt), "{opt} missing from:\n{out}");
    }
}

#[test]
fn configuration_errors_exit_2_with_one_line() {
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (&["serve", "--database", "mysql://x/y"], &[], "--database"),
        (&["serve", "--bind", "not-an-address"], &[], "--bind"),
        (
            &["serve", "--database", "sqlite::memory:"],
            &[("MB_SESSION_COOKIES", "maybe")],
            "MB_SESSION_COOKIES",
        ),
        (
            &["serve", "--database", "sqlite::memory:"],
            &[("MB_JETTY_PORT", "http")],
            "MB_JETTY_PORT",
        ),
        (
            &["serve", "--database", "sqlite::memory:"],
            &[("MAX_SESSION_AGE", "-5")],
            "MAX_SESSION_AGE",
        ),
        (&["serve", "--no-such-option"], &[], "--no-such-option"),
    ];
    for (args, env, needle) in cases {
        let o = run(args, env);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr_line(&o));
        let err = stderr_line(&o);
        assert!(err.contains(needle), "{args:?}: {err}");
        if !needle.starts_with("--no-such") {
            assert_eq!(err.lines().count(), 1, "{err}");
        }
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{err}"
        );
    }
}

#[test]
fn runtime_failures_at_start_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    // An unwritable SQLite path: a file where a directory is needed.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let url = format!("sqlite://{}/sub/ferrobase.db", blocker.display());
    let o = run(&["serve", "--database", &url, "--bind", "127.0.0.1:0"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr_line(&o));
    assert!(stderr_line(&o).contains("SQLite"), "{}", stderr_line(&o));

    // An unreachable PostgreSQL (nothing listens on port 1).
    let o = run(
        &[
            "serve",
            "--database",
            "postgres://u:secret@127.0.0.1:1/db",
            "--bind",
            "127.0.0.1:0",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr_line(&o));
    let err = stderr_line(&o);
    assert!(
        err.contains("PostgreSQL") && !err.contains("secret"),
        "{err}"
    );

    // A port in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let bind = format!("127.0.0.1:{port}");
    let o = run(
        &["serve", "--database", "sqlite::memory:", "--bind", &bind],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr_line(&o));
    assert!(stderr_line(&o).contains(&bind), "{}", stderr_line(&o));
    assert!(!stderr_line(&o).contains("panicked"));
}

/// A `ferrobase serve` child process on a free port.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn spawn(database: &str, env: &[(&str, &str)]) -> Server {
        let port = free_port();
        let mut cmd = Command::new(BIN);
        cmd.args([
            "serve",
            "--database",
            database,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn");
        // Drain stderr so the child never blocks on a full pipe.
        if let Some(err) = child.stderr.take() {
            std::thread::spawn(move || for _ in BufReader::new(err).lines() {});
        }
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if healthy(&base) {
                break;
            }
            assert!(Instant::now() < deadline, "server did not become healthy");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, base }
    }

    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.child.id().to_string()])
            .status();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A blocking health probe over a plain TCP connection (usable inside or outside a runtime).
fn healthy(base: &str) -> bool {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /api/health HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = String::new();
    let _ = s.read_to_string(&mut buf);
    buf.starts_with("HTTP/1.0 200") || buf.starts_with("HTTP/1.1 200")
}

async fn setup_admin(client: &::reqwest::Client, base: &str) -> String {
    let props: serde_json::Value = client
        .get(format!("{base}/api/session/properties"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = props["setup-token"].as_str().unwrap().to_string();
    let r: serde_json::Value = client
        .post(format!("{base}/api/setup"))
        .json(&json!({"token": token, "prefs": {"site_name": "Acme"},
                      "user": {"email": "ada@example.com", "password": PASSWORD}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["id"].as_str().unwrap().to_string()
}

/// Creates users concurrently until killed; every 200 answer must survive a SIGKILL.
async fn kill_during_burst(database: String) {
    let server = Server::spawn(&database, &[]);
    let client = ::reqwest::Client::new();
    let sid = setup_admin(&client, &server.base).await;
    let acknowledged = std::sync::Arc::new(parking_lot::Mutex::new(Vec::<String>::new()));
    let mut tasks = Vec::new();
    for w in 0..4 {
        let (client, base, sid, acked) = (
            client.clone(),
            server.base.clone(),
            sid.clone(),
            acknowledged.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0..10_000 {
                let email = format!("burst-{w}-{i}@example.com");
                let r = client
                    .post(format!("{base}/api/user"))
                    .header("X-Metabase-Session", &sid)
                    .json(&json!({"email": email}))
                    .send()
                    .await;
                match r {
                    Ok(r) if r.status() == 200 => acked.lock().push(email),
                    _ => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("-KILL");
    for t in tasks {
        let _ = t.await;
    }
    drop(server);
    let acked = acknowledged.lock().clone();
    assert!(
        acked.len() > 10,
        "too few creations acknowledged: {}",
        acked.len()
    );

    let server = Server::spawn(&database, &[]);
    let sid = login_ada(&client, &server.base).await;
    let list = get_json(&client, &server.base, &sid, "/api/user?status=all").await;
    let stored: std::collections::HashSet<String> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect();
    let lost: Vec<&String> = acked.iter().filter(|e| !stored.contains(*e)).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged creations lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
}

/// Runs `scenario` with the URL of a fresh SQLite file.
async fn on_sqlite_file<Fut: std::future::Future<Output = ()>>(
    scenario: impl FnOnce(String) -> Fut,
) {
    let dir = tempfile::tempdir().unwrap();
    scenario(format!("sqlite://{}/ferrobase.db", dir.path().display())).await;
}

/// Runs `scenario` with the URL of a fresh PostgreSQL database, dropped afterwards (skipped, as
/// every PostgreSQL test, without a server).
async fn on_postgres<Fut: std::future::Future<Output = ()>>(scenario: impl FnOnce(String) -> Fut) {
    let Some(db) = PgDb::create().await else {
        return;
    };
    scenario(db.url.clone()).await;
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durability_sigkill_loses_no_acknowledged_user_sqlite() {
    on_sqlite_file(kill_during_burst).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durability_sigkill_loses_no_acknowledged_user_postgres() {
    on_postgres(kill_during_burst).await;
}

/// `GET` `path` on `base` with a session, as JSON.
async fn get_json(
    client: &::reqwest::Client,
    base: &str,
    sid: &str,
    path: &str,
) -> serde_json::Value {
    client
        .get(format!("{base}{path}"))
        .header("X-Metabase-Session", sid)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// The status of `GET /api/user/current` with `key`.
async fn key_status(client: &::reqwest::Client, base: &str, key: &str) -> u16 {
    client
        .get(format!("{base}/api/user/current"))
        .header("X-Api-Key", key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Issue #16: a key regenerated again and again is killed with SIGKILL mid-stream. After the
/// restart the rotation and its audit event are all or nothing: one `api-key-regenerate` event
/// per committed rotation (every acknowledged one, plus at most the one in flight), the current
/// secret is the one the last event names, and every earlier secret is dead.
async fn kill_during_regeneration(database: String) {
    let server = Server::spawn(&database, &[]);
    let client = ::reqwest::Client::new();
    let sid = setup_admin(&client, &server.base).await;
    let key: serde_json::Value = client
        .post(format!("{}/api/api-key", server.base))
        .header("X-Metabase-Session", &sid)
        .json(&json!({"name": "Rotating", "group_id": 2}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = key["id"].as_i64().unwrap();
    let first = key["unmasked_key"].as_str().unwrap().to_string();
    let rotations = tokio::spawn({
        let (client, base, sid) = (client.clone(), server.base.clone(), sid.clone());
        async move {
            let mut acked = vec![first];
            // Bounded so that every event fits in one audit page.
            while acked.len() < 900 {
                let r = client
                    .put(format!("{base}/api/api-key/{id}/regenerate"))
                    .header("X-Metabase-Session", &sid)
                    .json(&json!({}))
                    .send()
                    .await;
                let Some(r) = r.ok().filter(|r| r.status() == 200) else {
                    return acked;
                };
                let Ok(body) = r.json::<serde_json::Value>().await else {
                    return acked;
                };
                acked.push(body["unmasked_key"].as_str().unwrap().to_string());
            }
            acked
        }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.signal("-KILL");
    let acked = rotations.await.unwrap();
    drop(server);
    assert!(acked.len() > 5, "too few rotations: {}", acked.len());

    // Every dead secret is tried below: more failures than the failed-key limit allows.
    let server = Server::spawn(&database, &[("FERROBASE_DISABLE_API_KEY_THROTTLE", "true")]);
    let sid = login_ada(&client, &server.base).await;
    let audit = get_json(
        &client,
        &server.base,
        &sid,
        &format!("/api/audit-log?limit=1000&model=ApiKey&model_id={id}"),
    )
    .await;
    let mut events: Vec<serde_json::Value> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["topic"] == "api-key-regenerate")
        .cloned()
        .collect();
    events.sort_by_key(|e| e["id"].as_i64());
    let acked_rotations = acked.len() - 1;
    assert!(
        events.len() == acked_rotations || events.len() == acked_rotations + 1,
        "{} events for {acked_rotations} acknowledged rotations",
        events.len()
    );
    let last_acked = acked.last().unwrap();
    let last = &events.last().unwrap()["details"];
    if events.len() == acked_rotations {
        assert_eq!(last["new"]["key_prefix"], json!(&last_acked[..7]));
        assert_eq!(key_status(&client, &server.base, last_acked).await, 200);
    } else {
        // The rotation in flight committed: its secret was never shown, the last shown is dead.
        assert_eq!(last["previous"]["key_prefix"], json!(&last_acked[..7]));
        assert_eq!(key_status(&client, &server.base, last_acked).await, 401);
    }
    for old in &acked[..acked.len() - 1] {
        assert_eq!(key_status(&client, &server.base, old).await, 401);
    }
}

async fn login_ada(client: &::reqwest::Client, base: &str) -> String {
    let r: serde_json::Value = client
        .post(format!("{base}/api/session"))
        .json(&json!({"username": "ada@example.com", "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_key_regeneration_is_all_or_nothing_sqlite() {
    on_sqlite_file(kill_during_regeneration).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_during_key_regeneration_is_all_or_nothing_postgres() {
    on_postgres(kill_during_regeneration).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_down_gracefully_with_status_0() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::spawn(&format!("sqlite://{}/f.db", dir.path().display()), &[]);
    server.signal("-TERM");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0));
            break;
        }
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}
