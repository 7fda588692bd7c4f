//! Issue #11, the query sandbox: each attack that worked on a non-admin key with native-query
//! permission is replayed here and must now fail safely — a 4xx, a 503 or a query error — without
//! changing anything another caller can see (docs/security.md).
use std::str::FromStr;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;

use crate::both;
use crate::queries_databases::{add_sqlite, sqlite_copy};
use crate::queries_perms::group_with_alice;
use crate::queries_pg::{add_pg, Scratch};
use crate::queries_run::{dataset, native_on, scalar};
use crate::support::{run, Auth, Backend, TestApp};

/// Runs `sql` on database `db`; the response.
async fn query(t: &TestApp, auth: &Auth, db: i64, sql: &str) -> crate::support::Resp {
    t.post("/api/dataset", auth, native_on(db, sql)).await
}

/// `POST /api/database` for `engine` with `details`.
async fn register(
    t: &TestApp,
    admin: &Auth,
    name: &str,
    engine: &str,
    details: &Value,
) -> crate::support::Resp {
    t.post(
        "/api/database",
        admin,
        json!({"name": name, "engine": engine, "details": details}),
    )
    .await
}

/// A query that must fail with a query-failure body: that body.
async fn refused(t: &TestApp, auth: &Auth, db: i64, sql: &str) -> Value {
    let r = query(t, auth, db, sql).await;
    let v = r.json();
    assert!(
        (400..600).contains(&r.status) || v["status"] == "failed",
        "{sql}: {} {v}",
        r.status
    );
    assert_eq!(v["status"], "failed", "{sql}: {v}");
    v
}

/// A non-admin key in a group that has native-query rights on every database.
async fn attacker(t: &TestApp, admin: &Auth) -> Auth {
    let (group, _, _) = group_with_alice(t, admin).await;
    let r = t
        .post(
            "/api/api-key",
            admin,
            json!({"name": "attacker", "group_id": group}),
        )
        .await;
    r.assert(200);
    Auth::Key(r.json()["unmasked_key"].as_str().unwrap().to_string())
}

// --- Row 1 and 2: privileged PostgreSQL roles -----------------------------------------------

both!(
    pg_superuser_roles_are_refused_at_registration,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        let admin = t.setup().await;
        let r = register(&t, &admin, "P", "postgres", &s.superuser_details).await;
        r.assert(400);
        let v = r.json();
        let msg = "Connect with a role that is not a superuser and cannot run server programs or read server files.";
        assert_eq!(v["message"], msg, "{v}");
        assert_eq!(v["errors"]["user"], msg, "{v}");
        let list = t.get("/api/database", &admin).await.json();
        assert_eq!(list["total"], 1, "nothing stored: {list}");
        // Membership of a role that runs server programs counts as privileged too.
        for role in [
            "pg_execute_server_program",
            "pg_read_server_files",
            "pg_write_server_files",
        ] {
            s.exec(&format!("GRANT {role} TO {}", s.role)).await;
            let r = register(&t, &admin, "P", "postgres", &s.details).await;
            r.assert(400);
            assert_eq!(r.json()["errors"]["user"], msg, "{role}");
            s.exec(&format!("REVOKE {role} FROM {}", s.role)).await;
        }
        // So does membership of a superuser role, even without inheritance (`SET ROLE`
        // reaches it).
        let boss = format!("{}_boss", s.role);
        s.exec(&format!("CREATE ROLE {boss} SUPERUSER NOLOGIN"))
            .await;
        s.exec(&format!("ALTER ROLE {} NOINHERIT", s.role)).await;
        s.exec(&format!("GRANT {boss} TO {}", s.role)).await;
        let r = register(&t, &admin, "P", "postgres", &s.details).await;
        s.exec(&format!("REVOKE {boss} FROM {}", s.role)).await;
        s.exec(&format!("DROP ROLE {boss}")).await;
        s.exec(&format!("ALTER ROLE {} INHERIT", s.role)).await;
        r.assert(400);
        assert_eq!(r.json()["errors"]["user"], msg);
        // /validate runs the same check.
        let r = t
            .post(
                "/api/database/validate",
                &admin,
                json!({"details": {"engine": "postgres", "details": s.superuser_details}}),
            )
            .await;
        r.assert(400);
    }
);

both!(
    pg_allow_privileged_role_is_explicit_and_audited,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        let admin = t.setup().await;
        let mut details = s.superuser_details.clone();
        details["allow-privileged-role"] = json!(true);
        let id = add_pg(&t, &admin, "P", &details).await;
        assert_eq!(
            scalar_on(&t, &admin, id, "SELECT current_setting('is_superuser')").await,
            json!("on")
        );
        let events = t.audit(&admin, "topic=database-create").await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["details"]["allow-privileged-role"], true);
        let text = serde_json::to_string(&events).unwrap();
        assert!(!text.contains("password"), "no secrets in the audit log");
        // A non-boolean flag is a validation error.
        details["allow-privileged-role"] = json!("yes");
        let r = register(&t, &admin, "Q", "postgres", &details).await;
        r.assert(400);
        assert!(r.json()["errors"]["allow-privileged-role"].is_string());
    }
);

async fn scalar_on(t: &TestApp, auth: &Auth, db: i64, sql: &str) -> Value {
    let r = query(t, auth, db, sql).await;
    let v = r.json();
    assert_eq!(r.status, 202, "{sql}: {v}");
    assert_eq!(v["status"], "completed", "{sql}: {v}");
    v["data"]["rows"][0][0].clone()
}

both!(
    pg_role_made_superuser_after_registration_fails_its_queries,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        let admin = t.setup().await;
        let key = attacker(&t, &admin).await;
        let id = add_pg(&t, &admin, "P", &s.details).await;
        assert_eq!(scalar_on(&t, &key, id, "SELECT 1").await, json!(1));
        // The pooled connection was vetted as a plain role; it is vetted again on every run.
        s.exec(&format!("ALTER ROLE {} SUPERUSER", s.role)).await;
        let v = refused(&t, &key, id, "SELECT 1").await;
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .starts_with("Connect with a role"),
            "{v}"
        );
        s.exec(&format!("ALTER ROLE {} NOSUPERUSER", s.role)).await;
        assert_eq!(scalar_on(&t, &key, id, "SELECT 1").await, json!(1));
    }
);

both!(
    pg_server_programs_and_files_are_out_of_reach,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        let admin = t.setup().await;
        let key = attacker(&t, &admin).await;
        let id = add_pg(&t, &admin, "P", &s.details).await;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("owned");
        let t_path = target.display();
        for sql in [
            format!("COPY (SELECT 1) TO PROGRAM 'id > {t_path}'"),
            format!("COPY (SELECT 1) TO '{t_path}'"),
            "SELECT pg_read_file('/etc/passwd')".to_string(),
            "SELECT lo_import('/etc/passwd')".to_string(),
            "SELECT pg_reload_conf()".to_string(),
            "CREATE TABLE owned (i int)".to_string(),
        ] {
            refused(&t, &key, id, &sql).await;
        }
        assert!(!target.exists(), "nothing was written on the host");
        let tables: i64 =
            sqlx::query_scalar("SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'owned'")
                .fetch_one(&s.pool)
                .await
                .unwrap();
        assert_eq!(tables, 0);
        // The session guards hold on every connection.
        assert_eq!(
            scalar_on(&t, &key, id, "SHOW default_transaction_read_only").await,
            json!("on")
        );
    }
);

/// Row 1: dblink from the warehouse into the application database. A read-only role cannot
/// open a dblink connection without a password, and a superuser role is refused, so the
/// escalation of the original report (UPDATE of the application database) cannot happen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_dblink_cannot_reach_the_application_database() {
    run(Backend::Postgres, |_| {}, |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        if sqlx::query("CREATE EXTENSION IF NOT EXISTS dblink")
            .execute(&s.pool)
            .await
            .is_err()
        {
            eprintln!("\n*** SKIPPED: dblink extension not installed ***\n");
            return;
        }
        let admin = t.setup().await;
        let key = attacker(&t, &admin).await;
        let id = add_pg(&t, &admin, "P", &s.details).await;
        let app_url = match &t.app.config.database {
            ferrobase::store::DatabaseUrl::Postgres(u) => u.clone(),
            other => panic!("{other:?}"),
        };
        let o = PgConnectOptions::from_str(&app_url).unwrap();
        let conn = format!(
            "host={} port={} dbname={} user={}",
            o.get_host(),
            o.get_port(),
            o.get_database().unwrap(),
            o.get_username()
        );
        let sql = format!(
            "SELECT dblink_exec('{conn}', 'INSERT INTO permissions_group_membership (user_id, group_id) SELECT id, 2 FROM core_user')"
        );
        refused(&t, &key, id, &sql).await;
        let r = t.get("/api/user/current", &key).await;
        r.assert(200);
        assert_eq!(r.json()["is_superuser"], false, "the key is still not an admin");
    })
    .await;
}

// --- Row 3: the application database as a warehouse -----------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pg_application_database_cannot_be_registered() {
    run(
        Backend::Postgres,
        |_| {},
        |t| async move {
            let Some(s) = Scratch::create().await else {
                return;
            };
            let admin = t.setup().await;
            let app_url = match &t.app.config.database {
                ferrobase::store::DatabaseUrl::Postgres(u) => u.clone(),
                other => panic!("{other:?}"),
            };
            let o = PgConnectOptions::from_str(&app_url).unwrap();
            let mut details = s.details.clone();
            details["dbname"] = json!(o.get_database().unwrap());
            let r = register(&t, &admin, "App", "postgres", &details).await;
            r.assert(400);
            let v = r.json();
            assert_eq!(
                v["message"],
                "This is ferrobase's own application database."
            );
            assert!(v["errors"]["dbname"].is_string(), "{v}");
            // Even with the privileged-role flag and a superuser.
            let mut details = s.superuser_details.clone();
            details["dbname"] = json!(o.get_database().unwrap());
            details["allow-privileged-role"] = json!(true);
            let r = register(&t, &admin, "App", "postgres", &details).await;
            r.assert(400);
            assert_eq!(
                r.json()["message"],
                "This is ferrobase's own application database."
            );
        },
    )
    .await;
}

/// A copy of the application SQLite file, elsewhere, is still recognised by its marker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_application_database_is_recognised_by_its_marker_not_its_path() {
    let configure = |c: &mut ferrobase::config::Config| {
        c.database = ferrobase::store::DatabaseUrl::SqliteFile(c.data_dir.join("ferrobase.db"));
    };
    run(Backend::Sqlite, configure, |t| async move {
        let admin = t.setup().await;
        let elsewhere = tempfile::tempdir().unwrap();
        let copy = elsewhere.path().join("innocent.sqlite");
        let app_file = t.data_dir.path().join("ferrobase.db");
        // A consistent copy of the live file (WAL included).
        let src = rusqlite::Connection::open(&app_file).unwrap();
        src.execute("VACUUM INTO ?1", [copy.to_str().unwrap()])
            .unwrap();
        drop(src);
        let r = register(&t, &admin, "Copy", "sqlite", &json!({"db": copy})).await;
        r.assert(400);
        let v = r.json();
        assert_eq!(
            v["message"],
            "This is ferrobase's own application database."
        );
        assert_eq!(
            v["errors"]["db"],
            "This is ferrobase's own application database."
        );
        // The file itself is refused by the path rules before it is even opened.
        let r = register(&t, &admin, "App", "sqlite", &json!({"db": app_file})).await;
        r.assert(400);
        assert!(r.json()["errors"]["db"].is_string());
    })
    .await;
}

/// A symlink registered while it pointed at an innocent file, then swapped to the application
/// database (or a file of the data directory): the rules run again at every open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_swapped_symlink_is_refused_at_use_time() {
    let configure = |c: &mut ferrobase::config::Config| {
        c.database = ferrobase::store::DatabaseUrl::SqliteFile(c.data_dir.join("ferrobase.db"));
        c.warehouse_pool_size = 1;
    };
    run(Backend::Sqlite, configure, |t| async move {
        let admin = t.setup().await;
        let key = attacker(&t, &admin).await;
        let (_dir, file) = sqlite_copy();
        let links = tempfile::tempdir().unwrap();
        let link = links.path().join("w.sqlite");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let id = add_sqlite(&t, &admin, "W", &link).await;
        assert_eq!(
            scalar_on(&t, &key, id, "SELECT count(*) FROM PRODUCTS").await,
            json!(200)
        );
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(t.data_dir.path().join("ferrobase.db"), &link).unwrap();
        // Forget pooled connections (as a restart or a details change would).
        t.app.warehouses.forget(id);
        let v = refused(&t, &key, id, "SELECT count(*) FROM core_user").await;
        assert_eq!(v["error_type"], "db", "{v}");
        let text = v.to_string();
        assert!(!text.contains("argon2"), "{text}");
        // Pointed back at the innocent file, the database works again.
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&file, &link).unwrap();
        assert_eq!(
            scalar_on(&t, &key, id, "SELECT count(*) FROM PRODUCTS").await,
            json!(200)
        );
    })
    .await;
}

// --- Rows 4 and 5: state left on pooled connections -----------------------------------------

both!(
    sqlite_temp_objects_cannot_poison_other_users,
    |t| async move {
        let admin = t.setup().await;
        let key = attacker(&t, &admin).await;
        for sql in [
            "CREATE TEMP TABLE PRODUCTS AS SELECT 1 AS ID, 'POISONED' AS TITLE",
            "CREATE TEMP VIEW PRODUCTS AS SELECT 1 AS ID, 'POISONED' AS TITLE",
            "CREATE TEMP TABLE x (i INTEGER)",
            "INSERT INTO PRODUCTS (ID) VALUES (999)",
            "ATTACH DATABASE ':memory:' AS other",
            "PRAGMA temp_store = MEMORY",
            "PRAGMA database_list",
            "SELECT load_extension('/tmp/x')",
        ] {
            for _ in 0..3 {
                let v = refused(&t, &key, 1, sql).await;
                assert_eq!(v["class"], "sqlite", "{sql}: {v}");
            }
        }
        let v = dataset(&t, &admin, "SELECT TITLE FROM PRODUCTS WHERE ID = 1").await;
        v.assert(202);
        assert_ne!(v.json()["data"]["rows"][0][0], "POISONED");
        // Reading stays possible, including schema pragmas and recursive CTEs.
        assert_eq!(
            scalar(
                &t,
                &key,
                "SELECT count(*) FROM pragma_table_info('PRODUCTS')"
            )
            .await,
            json!(8)
        );
        assert_eq!(
        scalar(
            &t,
            &key,
            "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 10) SELECT sum(i) FROM r"
        )
        .await,
        json!(55)
    );
    }
);

both!(
    sqlite_transaction_control_is_refused_and_the_file_stays_writable,
    |t| async move {
        let admin = t.setup().await;
        let key = attacker(&t, &admin).await;
        let (_dir, file) = sqlite_copy();
        let id = add_sqlite(&t, &admin, "W", &file).await;
        for sql in [
            "BEGIN",
            "BEGIN IMMEDIATE",
            "SAVEPOINT s",
            "COMMIT",
            "ROLLBACK",
            "RELEASE s",
        ] {
            for _ in 0..3 {
                refused(&t, &key, id, sql).await;
            }
        }
        // Another process writes to the file: no lock is left behind.
        let w = rusqlite::Connection::open(&file).unwrap();
        w.busy_timeout(Duration::from_millis(200)).unwrap();
        w.execute("UPDATE PRODUCTS SET TITLE = 'changed' WHERE ID = 1", [])
            .unwrap();
        drop(w);
        // And every reader sees the change (no frozen snapshot).
        assert_eq!(
            scalar_on(&t, &key, id, "SELECT TITLE FROM PRODUCTS WHERE ID = 1").await,
            json!("changed")
        );
    }
);

both!(pg_session_state_does_not_survive_a_query, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    let admin = t.setup().await;
    let key = attacker(&t, &admin).await;
    let id = add_pg(&t, &admin, "P", &s.details).await;
    // An advisory lock taken at session level outlives a ROLLBACK; the reset releases it.
    scalar_on(&t, &key, id, "SELECT pg_advisory_lock(424242)").await;
    scalar_on(
        &t,
        &key,
        id,
        "SELECT set_config('search_path', 'evil', false)",
    )
    .await;
    scalar_on(
        &t,
        &key,
        id,
        "SELECT set_config('default_transaction_read_only', 'off', false)",
    )
    .await;
    let held: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 424242",
    )
    .fetch_one(&s.pool)
    .await
    .unwrap();
    assert_eq!(held, 0, "the advisory lock was released");
    let path = scalar_on(&t, &key, id, "SHOW search_path").await;
    assert_ne!(path, json!("evil"));
    assert_eq!(
        scalar_on(&t, &key, id, "SHOW default_transaction_read_only").await,
        json!("on")
    );
    // Temp tables cannot be created in a read-only transaction either.
    refused(&t, &key, id, "CREATE TEMP TABLE x AS SELECT 1").await;
});

// --- Row 6 and the limits -------------------------------------------------------------------

both!(
    sqlite_huge_values_fail_with_the_cell_limit,
    |t| async move {
        let admin = t.setup().await;
        let key = attacker(&t, &admin).await;
        let mut runs = Vec::new();
        for _ in 0..3 {
            let (t, key) = (t.clone(), key.clone());
            runs.push(tokio::spawn(async move {
                refused(&t, &key, 1, "SELECT hex(randomblob(450000000))").await
            }));
        }
        for r in runs {
            let v = r.await.unwrap();
            let msg = v["error"].as_str().unwrap();
            assert!(msg.contains("--query-max-cell-bytes"), "{v}");
            assert_eq!(v["error_type"], "invalid-query");
        }
        let r = t.get("/api/health", &Auth::None).await;
        r.assert(200);
    }
);

both!(
    results_over_the_byte_cap_fail_naming_the_limit,
    config = |c: &mut ferrobase::config::Config| {
        c.query_limits.max_cell_bytes = 10_000;
        c.query_limits.max_result_bytes = 100_000;
    },
    |t| async move {
        let admin = t.setup().await;
        // A value over the cell cap.
        let v = refused(&t, &admin, 1, "SELECT hex(zeroblob(6000))").await;
        assert!(v["error"].as_str().unwrap().contains("10000"), "{v}");
        // Many values under the cell cap, over the result cap: the streamed result fails.
        let sql = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 500) \
                   SELECT i, hex(zeroblob(2000)) FROM r";
        let v = refused(&t, &admin, 1, sql).await;
        let msg = v["error"].as_str().unwrap();
        assert!(
            msg.contains("--query-max-result-bytes") && msg.contains("100000"),
            "{v}"
        );
        // A download streams past the interactive cap.
        let r = t
            .post(
                "/api/dataset/csv",
                &admin,
                json!({"query": native_on(1, sql)}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.text.lines().count(), 501);
        // Within the caps all is well.
        assert_eq!(
            scalar(&t, &admin, "SELECT length(hex(zeroblob(100)))").await,
            json!(200)
        );
    }
);

both!(
    queries_beyond_the_queue_get_503_with_retry_after,
    config = |c: &mut ferrobase::config::Config| {
        c.query_limits.concurrency = 1;
        c.query_limits.queue = 0;
        c.query_timeout_secs = 3;
    },
    |t| async move {
        let admin = t.setup().await;
        let slow = {
            let (t, admin) = (t.clone(), admin.clone());
            tokio::spawn(async move {
                dataset(
                    &t,
                    &admin,
                    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r",
                )
                .await
            })
        };
        // Wait until the slow query holds the only slot.
        while t.app.queries.running() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let mut busy = None;
        for _ in 0..100 {
            let r = dataset(&t, &admin, "SELECT 1").await;
            if r.status == 503 {
                busy = Some(r);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let busy = busy.expect("a 503 while the slot is taken");
        assert_eq!(busy.header("retry-after").as_deref(), Some("1"));
        assert_eq!(busy.text, "Server busy, please retry.");
        let r = slow.await.unwrap();
        assert_eq!(r.status, 504, "{}", r.text);
        // The slot is free again.
        assert_eq!(scalar(&t, &admin, "SELECT 1").await, json!(1));
    }
);

/// Row 6 under a 1 GiB address-space cap: the real binary, limited by `prlimit --as`, answers
/// hostile queries (huge values, three at once, a result far over the cap, a wide download)
/// with query errors and is still healthy afterwards — a process that allocated past the cap
/// would have aborted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_results_under_a_one_gib_address_space_cap() {
    use crate::api_keys_process::Server;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("app.db").display());
    let server = Server::start_under(
        &["prlimit", "--as=1073741824", "--"],
        &db,
        dir.path(),
        dir.path().join("server.log"),
        &[],
    )
    .await;
    let admin = server.setup().await;
    let post = |sql: String, path: &'static str| {
        let admin = admin.clone();
        let server = &server;
        async move {
            let body = if path == "/api/dataset" {
                native_on(1, &sql)
            } else {
                json!({"query": native_on(1, &sql)})
            };
            server.request("POST", path, &admin, Some(body)).await
        }
    };
    let huge = "SELECT hex(randomblob(450000000))".to_string();
    let (a, b, c) = tokio::join!(
        post(huge.clone(), "/api/dataset"),
        post(huge.clone(), "/api/dataset"),
        post(huge, "/api/dataset"),
    );
    for r in [a, b, c] {
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(r.text.contains("--query-max-cell-bytes"), "{}", r.text);
    }
    // 2,000 rows of 3.9 MB each: far over the 64 MiB interactive cap, and over 1 GiB in all.
    let wide = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 2000) \
                SELECT i, hex(zeroblob(1950000)) FROM r"
        .to_string();
    let r = post(wide, "/api/dataset").await;
    assert!(r.text.contains("--query-max-result-bytes"), "{}", r.text);
    // As a download, 300 such rows (1.17 GB, more than the whole address space) stream to
    // the end; the test counts the bytes without keeping them.
    let tall = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 300) \
                SELECT i, hex(zeroblob(1950000)) FROM r";
    let Auth::Session(session) = &admin else {
        panic!("session expected")
    };
    let mut resp = reqwest::Client::new()
        .post(format!("{}/api/dataset/csv", server.base()))
        .header("X-Metabase-Session", session)
        .json(&json!({"query": native_on(1, tall)}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let (mut bytes, mut lines) = (0usize, 0usize);
    while let Some(chunk) = resp.chunk().await.unwrap() {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    assert_eq!(lines, 301);
    assert!(bytes > 1_170_000_000, "{bytes}");
    let h = server.get("/api/health", &Auth::None).await;
    assert_eq!(h.status, 200, "{}", server.log_text());
}

// --- Databases created by an archive -------------------------------------------------------

fn pg_database_yaml(name: &str, details: &Value) -> Vec<u8> {
    format!(
        "name: {name}\nengine: postgres\ndetails: {details}\ncreated_at: '2025-03-04T05:06:07Z'\n\
         serdes/meta:\n  - id: {name}\n    model: Database\n"
    )
    .into_bytes()
}

// An archive cannot bring a privileged PostgreSQL role in unnoticed: without the flag it is
// refused as `POST /api/database` refuses it; with the flag the database is created and the
// audit log records the flag.
both!(
    archives_get_the_privileged_role_rule_and_its_audit,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        let admin = t.setup().await;
        let body = crate::sandbox_imports::archive(&[(
            "databases/P/P.yaml",
            pg_database_yaml("P", &s.superuser_details),
        )]);
        let r = crate::serialization_import::import(&t, &admin, "", Some(("file", &body))).await;
        let text = String::from_utf8_lossy(&r.body).to_string();
        assert_eq!(r.status, 400, "{text}");
        assert!(
            text.contains("failed Database P: Connect with a role that is not a superuser"),
            "{text}"
        );
        assert_eq!(t.get("/api/database", &admin).await.json()["total"], 1);
        let mut details = s.superuser_details.clone();
        details["allow-privileged-role"] = json!(true);
        let body = crate::sandbox_imports::archive(&[(
            "databases/P/P.yaml",
            pg_database_yaml("P", &details),
        )]);
        let r = crate::serialization_import::import(&t, &admin, "", Some(("file", &body))).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let events = t.audit(&admin, "topic=database-create").await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["details"]["name"], "P");
        assert_eq!(events[0]["details"]["allow-privileged-role"], true);
    }
);
