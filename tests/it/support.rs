//! Test support: the real app on port 0, on SQLite (in memory) or on a PostgreSQL database of its
//! own (created for the test and dropped after it), with a small typed HTTP client.
#![allow(dead_code)]
use std::future::Future;
use std::sync::Arc;

use ferrobase::app::Running;
use ferrobase::clock::ShiftedClock;
use ferrobase::config::Config;
use ferrobase::state::{App, AppState};
use ferrobase::store::DatabaseUrl;
use serde_json::{json, Value};

pub const PASSWORD: &str = "blue7-ferret-orbit";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The admin database URL for creating per-test databases, or `None` to skip (loudly) when
/// PostgreSQL is not reachable and `TEST_POSTGRES_URL` is unset.
pub async fn postgres_admin_url() -> Option<String> {
    let explicit = std::env::var("TEST_POSTGRES_URL")
        .ok()
        .filter(|s| !s.is_empty());
    let url = explicit
        .clone()
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    // Probed once per test process, with a short timeout: a machine without PostgreSQL must
    // not spend the pool's 30 s acquire timeout on each of hundreds of test halves.
    static REACHABLE: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    let probe = match REACHABLE.get() {
        Some(r) => r.clone(),
        None => {
            use sqlx::Connection;
            let attempt = tokio::time::timeout(
                std::time::Duration::from_secs(3),
                sqlx::PgConnection::connect(&url),
            )
            .await;
            let r = match attempt {
                Ok(Ok(c)) => {
                    let _ = c.close().await;
                    Ok(())
                }
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("no answer within 3 s".to_string()),
            };
            REACHABLE.get_or_init(|| r).clone()
        }
    };
    match probe {
        Ok(()) => Some(url),
        Err(e) => {
            if explicit.is_some() {
                panic!("TEST_POSTGRES_URL is set but PostgreSQL is unreachable: {e}");
            }
            eprintln!(
                "\n*** SKIPPED: PostgreSQL half of this test (no server at {url}; set TEST_POSTGRES_URL) ***\n"
            );
            None
        }
    }
}

/// Notes the running test as skipped in the file `FERROBASE_SKIP_LOG` names (scripts/test.sh
/// reports such tests as skipped, not passed; libtest itself can only say "ok").
pub fn record_skip() {
    use std::io::Write;
    let Ok(path) = std::env::var("FERROBASE_SKIP_LOG") else {
        return;
    };
    let name = std::thread::current()
        .name()
        .unwrap_or("unnamed test")
        .to_string();
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(f, "{name}");
    }
}

/// A fresh PostgreSQL database; dropped by [`PgDb::drop_db`].
pub struct PgDb {
    pub admin_url: String,
    pub name: String,
    pub url: String,
}

impl PgDb {
    pub async fn create() -> Option<PgDb> {
        let admin_url = postgres_admin_url().await?;
        let name = format!("ferrobase_test_{}", uuid::Uuid::new_v4().simple());
        let pool = sqlx::PgPool::connect(&admin_url)
            .await
            .expect("admin connect");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&pool)
            .await
            .expect("create database");
        pool.close().await;
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b.to_string())
            .unwrap_or(admin_url.clone());
        let url = format!("{base}/{name}");
        Some(PgDb {
            admin_url,
            name,
            url,
        })
    }

    pub async fn drop_db(&self) {
        if let Ok(pool) = sqlx::PgPool::connect(&self.admin_url).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&pool)
            .await;
            pool.close().await;
        }
    }
}

/// A running test server.
pub struct TestApp {
    pub base: String,
    pub app: AppState,
    pub backend: Backend,
    pub client: reqwest::Client,
    running: Option<Running>,
    /// The data directory (a fresh temporary directory unless the test chose one).
    pub data_dir: std::sync::Arc<tempfile::TempDir>,
    /// The app's clock: real time plus a shift a test moves instead of sleeping.
    pub clock: Arc<ShiftedClock>,
}

/// Credentials for a request.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// `X-Metabase-Session`.
    Session(String),
    /// `metabase.SESSION` cookie.
    Cookie(String),
    /// `X-Api-Key`.
    Key(String),
    /// Arbitrary headers.
    Headers(Vec<(String, String)>),
}

#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?} (status {})", self.text, self.status))
    }
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    pub fn content_type(&self) -> String {
        self.header("content-type").unwrap_or_default()
    }
    #[track_caller]
    pub fn assert(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        self
    }
    #[track_caller]
    pub fn assert_text(&self, status: u16, text: &str) {
        assert_eq!((self.status, self.text.as_str()), (status, text));
        assert!(
            self.content_type().starts_with("text/plain"),
            "{}",
            self.content_type()
        );
    }
}

impl TestApp {
    pub async fn start(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
    ) -> Option<(TestApp, Option<PgDb>)> {
        let mut config = Config::for_tests();
        let data_dir = std::sync::Arc::new(tempfile::tempdir().expect("temp dir"));
        config.data_dir = data_dir.path().to_path_buf();
        let pg = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let db = PgDb::create().await?;
                config.database = DatabaseUrl::Postgres(db.url.clone());
                Some(db)
            }
        };
        configure(&mut config);
        let store = ferrobase::store::open(&config.database)
            .await
            .expect("open store");
        let clock = ShiftedClock::new();
        let app = App::new(store, config, clock.clone());
        let running = ferrobase::app::start(app.clone()).await.expect("start");
        let base = format!("http://{}", running.addr);
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Some((
            TestApp {
                base,
                app,
                backend,
                client,
                running: Some(running),
                data_dir,
                clock,
            },
            pg,
        ))
    }

    pub async fn stop(&mut self) {
        if let Some(r) = self.running.take() {
            self.app.shutdown.cancel();
            let _ = r.handle.await;
            self.app.store.close().await;
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
    pub async fn post(&self, path: &str, auth: &Auth, body: Value) -> Resp {
        self.request("POST", path, auth, Some(body)).await
    }
    pub async fn put(&self, path: &str, auth: &Auth, body: Value) -> Resp {
        self.request("PUT", path, auth, Some(body)).await
    }
    pub async fn delete(&self, path: &str, auth: &Auth) -> Resp {
        self.request("DELETE", path, auth, None).await
    }

    pub async fn setup_token(&self) -> String {
        self.get("/api/session/properties", &Auth::None)
            .await
            .json()["setup-token"]
            .as_str()
            .expect("setup token")
            .to_string()
    }

    /// Runs setup for `ada@example.com` and returns admin's session.
    pub async fn setup(&self) -> Auth {
        let token = self.setup_token().await;
        let r = self
            .post(
                "/api/setup",
                &Auth::None,
                json!({"token": token, "prefs": {"site_name": "Acme"},
                       "user": {"email": "ada@example.com", "password": PASSWORD,
                                "first_name": "Ada", "last_name": "Lovelace"}}),
            )
            .await;
        r.assert(200);
        Auth::Session(r.json()["id"].as_str().expect("id").to_string())
    }

    pub async fn login(&self, email: &str, password: &str) -> Auth {
        let r = self
            .post(
                "/api/session",
                &Auth::None,
                json!({"username": email, "password": password}),
            )
            .await;
        r.assert(200);
        Auth::Session(r.json()["id"].as_str().expect("id").to_string())
    }

    /// Admin creates a person with [`PASSWORD`] and logs them in: (user id, session).
    pub async fn person(&self, admin: &Auth, first: &str, email: &str) -> (i64, Auth) {
        let r = self
            .post(
                "/api/user",
                admin,
                json!({"email": email, "first_name": first, "last_name": null, "password": PASSWORD}),
            )
            .await;
        r.assert(200);
        let id = r.json()["id"].as_i64().expect("id");
        (id, self.login(email, PASSWORD).await)
    }

    pub async fn group(&self, admin: &Auth, name: &str) -> i64 {
        let r = self
            .post("/api/permissions/group", admin, json!({"name": name}))
            .await;
        r.assert(200);
        r.json()["id"].as_i64().expect("id")
    }

    /// Audit entries, newest first.
    pub async fn audit(&self, admin: &Auth, query: &str) -> Vec<Value> {
        let r = self
            .get(&format!("/api/audit-log?limit=1000&{query}"), admin)
            .await;
        r.assert(200);
        r.json()["data"].as_array().cloned().unwrap_or_default()
    }
}

/// Runs `body` against a fresh app on `backend`, then stops it and drops its database, even if
/// the body panics.
pub async fn run<F, Fut>(backend: Backend, configure: impl FnOnce(&mut Config), body: F)
where
    F: FnOnce(Arc<TestApp>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some((app, pg)) = TestApp::start(backend, configure).await else {
        record_skip();
        return;
    };
    let app = Arc::new(app);
    let result = tokio::spawn(body(app.clone())).await;
    if let Ok(mut app) = Arc::try_unwrap(app) {
        app.stop().await;
    }
    if let Some(db) = pg {
        db.drop_db().await;
    }
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// Declares one test per backend: `both!(name, |t| async move { … })`, optionally with a config
/// tweak: `both!(name, config = |c| …, |t| async move { … })`.
#[macro_export]
macro_rules! both {
    ($name:ident, config = $cfg:expr, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run($crate::support::Backend::Sqlite, $cfg, $body).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::support::run($crate::support::Backend::Postgres, $cfg, $body).await
            }
        }
    };
    ($name:ident, $body:expr) => {
        $crate::both!(
            $name,
            config = |_c: &mut ferrobase::config::Config| {},
            $body
        );
    };
}

/// One request against a server at `base` (an in-process [`TestApp`] or a `ferrobase serve`
/// child process).
pub async fn send(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    auth: &Auth,
    body: Option<Value>,
) -> Resp {
    let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
    let mut req = client.request(method, format!("{base}{path}"));
    req = match auth {
        Auth::None => req,
        Auth::Session(s) => req.header("X-Metabase-Session", s),
        Auth::Cookie(s) => req.header("Cookie", format!("metabase.SESSION={s}")),
        Auth::Key(k) => req.header("X-Api-Key", k),
        Auth::Headers(hs) => {
            let mut r = req;
            for (k, v) in hs {
                r = r.header(k.as_str(), v.as_str());
            }
            r
        }
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

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
