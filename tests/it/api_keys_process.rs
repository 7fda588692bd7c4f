//! api-keys.md §11 scenarios that need real `ferrobase serve` processes: 77 (SIGTERM flushes
//! `last_used_at`) and 78 (two instances on one PostgreSQL database). [`Server`] is shared with
//! `api_keys_secrets.rs` (scenario 86).
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use futures::FutureExt;
use serde_json::{json, Value};

use crate::api_keys::{micros, now_micros, G1};
use crate::support::{free_port, send, Auth, PgDb, Resp, PASSWORD};

/// A `ferrobase serve` child process, killed when dropped.
pub struct Server {
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
    pub async fn start(
        database: &str,
        data_dir: &Path,
        log: PathBuf,
        envs: &[(&str, &str)],
    ) -> Server {
        Server::start_under(&[], database, data_dir, log, envs).await
    }

    /// As [`Server::start`], run through `wrapper` (e.g. `["prlimit", "--as=…", "--"]`).
    pub async fn start_under(
        wrapper: &[&str],
        database: &str,
        data_dir: &Path,
        log: PathBuf,
        envs: &[(&str, &str)],
    ) -> Server {
        let port = free_port();
        let stderr = std::fs::File::create(&log).expect("log file");
        let bin = env!("CARGO_BIN_EXE_ferrobase");
        let mut cmd = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(bin);
                c
            }
            None => Command::new(bin),
        };
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

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Alive and answering `/api/health` with `200` (panics with the log if the process died).
    pub async fn healthy(&mut self) -> bool {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("ferrobase died ({status}): {}", self.log_text());
        }
        let url = format!("{}/api/health", self.base);
        matches!(self.client.get(url).send().await, Ok(r) if r.status() == 200)
    }

    /// The peak resident set size of the process, in bytes.
    pub fn peak_rss(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmHWM");
        kb * 1024
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then waits (up to 35 s) for the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
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

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        auth: &Auth,
        body: Option<Value>,
    ) -> Resp {
        send(&self.client, &self.base, method, path, auth, body).await
    }

    pub async fn get(&self, path: &str, auth: &Auth) -> Resp {
        self.request("GET", path, auth, None).await
    }

    pub async fn setup(&self) -> Auth {
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

    pub async fn create_key(&self, admin: &Auth, name: &str, group_id: i64) -> (i64, String) {
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
    poll_within_one_second(|| server.get(path, auth), |r| r.status == expected).await;
}

/// Sends `request` every 20 ms until its answer satisfies `done`; fails after 1 s with the last
/// answer. Cross-instance tests use it to bound how long another process may lag.
pub async fn poll_within_one_second<F, Fut>(mut request: F, done: impl Fn(&Resp) -> bool)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Resp>,
{
    let start = Instant::now();
    loop {
        let r = request().await;
        if done(&r) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "not seen after 1 s: {} {}",
            r.status,
            r.text
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Runs `body`, then drops the database whatever happened.
pub async fn with_pg<F: std::future::Future<Output = ()>>(db: &PgDb, body: F) {
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
pub async fn wait_for_listeners(db: &PgDb, n: i64) {
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

/// Two instances on one PostgreSQL database, both listening, the instance set up through A.
pub struct Pair {
    pub a: Server,
    pub b: Server,
    pub admin: Auth,
    _dir: tempfile::TempDir,
}

/// Starts [`Pair`] on `db` (logs in a fresh temporary directory).
pub async fn two_instances(db: &PgDb) -> Pair {
    let dir = tempfile::tempdir().expect("temp dir");
    let a = Server::start(&db.url, dir.path(), dir.path().join("a.log"), &[]).await;
    let b = Server::start(&db.url, dir.path(), dir.path().join("b.log"), &[]).await;
    wait_for_listeners(db, 2).await;
    let admin = a.setup().await;
    Pair {
        a,
        b,
        admin,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s78_writes_on_one_instance_reach_the_other_within_a_second() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    with_pg(&db, async {
        let Pair { a, b, admin, .. } = two_instances(&db).await;
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

/// Creates users and reads the current user with `key` on `server` until `stop`; the statuses
/// seen and the emails whose creation was acknowledged.
async fn steady_load(
    server: &Server,
    key: &Auth,
    tag: &str,
    stop: &std::sync::atomic::AtomicBool,
) -> (Vec<u16>, Vec<String>) {
    let (mut statuses, mut acked) = (Vec::new(), Vec::new());
    let mut i = 0;
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        i += 1;
        let email = format!("load-{tag}-{i}@example.com");
        let r = server
            .request("POST", "/api/user", key, Some(json!({"email": email})))
            .await;
        if r.status == 200 {
            acked.push(email);
        }
        statuses.push(r.status);
        statuses.push(server.get("/api/user/current", key).await.status);
    }
    (statuses, acked)
}

/// Issue #16, PostgreSQL connections lost under load: two instances serve a steady mix of
/// key-authenticated reads and writes while every backend connection of their database is
/// terminated (`pg_terminate_backend`, the `LISTEN` connections included). Requests caught by it
/// answer `503` in plain text, never `500`; both instances serve again within 5 s without a
/// restart; their listeners come back (a key deleted on A is refused by B within a second); and
/// no acknowledged write is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_terminated_under_load() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    with_pg(&db, async {
        let Pair { a, b, admin, .. } = two_instances(&db).await;
        let key = Auth::Key(a.create_key(&admin, "Load", 2).await.1);
        let stop = std::sync::atomic::AtomicBool::new(false);
        let terminate = async {
            tokio::time::sleep(Duration::from_millis(700)).await;
            let pool = sqlx::PgPool::connect(&db.admin_url).await.expect("admin");
            let (killed,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE datname = $1 AND pid <> pg_backend_pid()) t",
            )
            .bind(&db.name)
            .fetch_one(&pool)
            .await
            .expect("terminate");
            pool.close().await;
            tokio::time::sleep(Duration::from_secs(2)).await;
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
            killed
        };
        let ((sa, acked_a), (sb, acked_b), killed) = tokio::join!(
            steady_load(&a, &key, "a", &stop),
            steady_load(&b, &key, "b", &stop),
            terminate
        );
        assert!(killed >= 2, "only {killed} connections terminated");
        for s in sa.iter().chain(&sb) {
            assert!(*s == 200 || *s == 503, "status {s} during the outage");
        }
        assert!(!acked_a.is_empty() && !acked_b.is_empty());
        // Both serve again (the load above already shows it; this bounds it).
        for s in [&a, &b] {
            let start = Instant::now();
            while s.get("/api/user/current", &key).await.status != 200 {
                assert!(
                    start.elapsed() < Duration::from_secs(5),
                    "not serving again"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // The listeners are back: a key deleted on A is refused by B within a second.
        wait_for_listeners(&db, 2).await;
        let (id, k) = a.create_key(&admin, "Deleted after", 2).await;
        let k = Auth::Key(k);
        b.get("/api/user/current", &k).await.assert(200);
        a.request("DELETE", &format!("/api/api-key/{id}"), &admin, None)
            .await
            .assert(204);
        within_one_second(&b, "/api/user/current", &k, 401).await;
        // No acknowledged write lost.
        let list = a
            .get("/api/user?status=all&limit=100000", &admin)
            .await
            .json();
        let stored: std::collections::HashSet<&str> = list["data"]
            .as_array()
            .expect("users")
            .iter()
            .filter_map(|u| u["email"].as_str())
            .collect();
        for email in acked_a.iter().chain(&acked_b) {
            assert!(stored.contains(email.as_str()), "{email} lost");
        }
    })
    .await;
}
