//! Timeouts and cancellation (queries.md §4.7): scenarios 39–41.
use std::time::{Duration, Instant};

use serde_json::json;

use crate::both;
use crate::queries_pg::{add_pg, Scratch};
use crate::queries_run::native_on;
use crate::support::{Auth, TestApp};

/// Sends `sql` and abandons the request after one second (closing the connection).
async fn abandon(t: &TestApp, admin: &Auth, database: i64, sql: &str) {
    let Auth::Session(session) = admin else {
        panic!("a session")
    };
    let client = reqwest::Client::new();
    let r = client
        .post(format!("{}/api/dataset", t.base))
        .header("X-Metabase-Session", session)
        .json(&native_on(database, sql))
        .timeout(Duration::from_secs(1))
        .send()
        .await;
    assert!(r.is_err(), "the query should still be running");
    drop(client);
}

both!(
    queries_39_timeout,
    config = |c: &mut ferrobase::config::Config| c.query_timeout_secs = 2,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        let admin = t.setup().await;
        let w = add_pg(&t, &admin, "W", &s.details).await;
        let started = Instant::now();
        let r = t
            .post("/api/dataset", &admin, native_on(w, "SELECT pg_sleep(10)"))
            .await;
        let took = started.elapsed();
        r.assert(504);
        let v = r.json();
        assert_eq!(v["error_type"], "timed-out");
        assert_eq!(v["error"], "Query timed out after 2 seconds.");
        assert!(
            took >= Duration::from_millis(1900) && took < Duration::from_secs(5),
            "{took:?}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(s.active("pg_sleep(10)").await, 0);
        // The pool still works.
        t.post("/api/dataset", &admin, native_on(w, "SELECT 1"))
            .await
            .assert(202);
        // SQLite: interrupted the same way.
        let started = Instant::now();
        let sql =
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT count(*) FROM n";
        let r = t.post("/api/dataset", &admin, native_on(1, sql)).await;
        r.assert(504);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
);

both!(
    queries_40_client_disconnect_cancels_postgres,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        let admin = t.setup().await;
        let w = add_pg(&t, &admin, "W", &s.details).await;
        abandon(&t, &admin, w, "SELECT pg_sleep(60)").await;
        let gone = Instant::now();
        loop {
            if s.active("pg_sleep(60)").await == 0 {
                break;
            }
            assert!(gone.elapsed() < Duration::from_secs(2), "still running");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        t.post("/api/dataset", &admin, native_on(w, "SELECT 1"))
            .await
            .assert(202);
    }
);

both!(
    queries_41_client_disconnect_interrupts_sqlite,
    config = |c: &mut ferrobase::config::Config| c.warehouse_pool_size = 1,
    |t| async move {
        let admin = t.setup().await;
        let sql =
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT count(*) FROM n";
        abandon(&t, &admin, 1, sql).await;
        // The only pooled connection is free again within a second.
        let started = Instant::now();
        let r = t
            .post("/api/dataset", &admin, native_on(1, "SELECT 1"))
            .await;
        r.assert(202);
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "{:?}",
            started.elapsed()
        );
    }
);

// Issue #16, hung warehouse: 20 queries that sleep past the timeout on one PostgreSQL warehouse
// are cancelled there (nothing left in `pg_stat_activity`), answer the timeout error, give back
// their pool connections (a pool of 2 serves again), and API requests that do not query that
// warehouse are served while they hang.
both!(
    hung_warehouse_queries_are_cancelled_and_hold_nothing,
    config = |c: &mut ferrobase::config::Config| {
        c.query_timeout_secs = 3;
        c.warehouse_pool_size = 2;
    },
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        let admin = t.setup().await;
        let w = add_pg(&t, &admin, "W", &s.details).await;
        let hung: Vec<_> = (0..20)
            .map(|_| {
                let (client, base) = (t.client.clone(), t.base.clone());
                let Auth::Session(session) = admin.clone() else {
                    panic!("a session")
                };
                tokio::spawn(async move {
                    let r = client
                        .post(format!("{base}/api/dataset"))
                        .header("X-Metabase-Session", session)
                        .json(&native_on(w, "SELECT pg_sleep(30)"))
                        .send()
                        .await
                        .expect("an answer");
                    let status = r.status().as_u16();
                    (status, r.json::<serde_json::Value>().await.expect("json"))
                })
            })
            .collect();
        // While they hang: requests that do not query W are served.
        tokio::time::sleep(Duration::from_millis(500)).await;
        for _ in 0..10 {
            t.get("/api/user/current", &admin).await.assert(200);
            t.get("/api/database", &admin).await.assert(200);
            t.get("/api/collection/root/items", &admin)
                .await
                .assert(200);
        }
        for h in hung {
            let (status, body) = h.await.expect("task");
            assert_eq!(
                (status, &body["error_type"]),
                (504, &json!("timed-out")),
                "{body}"
            );
        }
        // Cancelled on the warehouse, and the two pooled connections are free again.
        let gone = Instant::now();
        while s.active("pg_sleep(30)").await > 0 {
            assert!(gone.elapsed() < Duration::from_secs(2), "still running");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for _ in 0..3 {
            t.post("/api/dataset", &admin, native_on(w, "SELECT 1"))
                .await
                .assert(202);
        }
    }
);
