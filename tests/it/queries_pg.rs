//! Postgres warehouses (queries.md §1.5, §4): scenarios 11–13, 27 (Postgres half), 42, 51, 53,
//! 58. Each test queries a scratch Postgres database
//! of its own, dropped afterwards.
use std::str::FromStr;
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::postgres::PgConnectOptions;

use crate::both;
use crate::queries_perms::group_with_alice;
use crate::queries_run::native_on;
use crate::support::{Auth, PgDb, TestApp};

/// A scratch Postgres database to query; dropped when this value is dropped. ferrobase reaches
/// it as a role of its own that may only read (a superuser is refused, queries.md §1.5); the
/// test itself writes through `pool` as the cluster's superuser.
pub struct Scratch {
    db: Option<PgDb>,
    pub pool: sqlx::PgPool,
    /// Connection details for ferrobase: the read-only role.
    pub details: Value,
    /// The same database as the cluster's superuser (for tests of the privileged-role rules).
    pub superuser_details: Value,
    pub role: String,
}

impl Scratch {
    pub async fn create() -> Option<Scratch> {
        let db = PgDb::create().await?;
        let opts = PgConnectOptions::from_str(&db.url).expect("url");
        let role = format!("{}_wh", db.name);
        let details = json!({"host": opts.get_host(), "port": opts.get_port(),
                             "dbname": db.name, "user": role});
        let superuser_details = json!({"host": opts.get_host(), "port": opts.get_port(),
                             "dbname": db.name, "user": opts.get_username()});
        let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
        for sql in [
            format!("CREATE ROLE {role} LOGIN"),
            format!("GRANT CONNECT ON DATABASE {} TO {role}", db.name),
            format!("GRANT USAGE ON SCHEMA public TO {role}"),
            format!("ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {role}"),
        ] {
            sqlx::query(&sql).execute(&pool).await.expect(&sql);
        }
        Some(Scratch {
            db: Some(db),
            pool,
            details,
            superuser_details,
            role,
        })
    }

    pub async fn exec(&self, sql: &str) {
        sqlx::raw_sql(sql).execute(&self.pool).await.expect(sql);
    }

    /// Active statements (other than ours) whose text contains `needle`.
    pub async fn active(&self, needle: &str) -> i64 {
        sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE pid <> pg_backend_pid() \
             AND datname = current_database() AND state <> 'idle' AND query LIKE '%' || $1 || '%' AND query NOT LIKE '%pg_stat_activity%'",
        )
        .bind(needle)
        .fetch_one(&self.pool)
        .await
        .expect("pg_stat_activity")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Some(db) = self.db.take() {
            let self_role = self.role.clone();
            // A thread with its own runtime and connection, joined, so the database is gone
            // when the test ends (`WITH (FORCE)` closes the connections still open to it).
            let _ = std::thread::spawn(move || {
                if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    let role = self_role;
                    rt.block_on(async move {
                        db.drop_db().await;
                        if let Ok(pool) = sqlx::PgPool::connect(&db.admin_url).await {
                            let _ = sqlx::query(&format!("DROP ROLE IF EXISTS {role}"))
                                .execute(&pool)
                                .await;
                            pool.close().await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// Registers the scratch database as `name`: its id.
pub async fn add_pg(t: &TestApp, admin: &Auth, name: &str, details: &Value) -> i64 {
    let r = t
        .post(
            "/api/database",
            admin,
            json!({"name": name, "engine": "postgres", "details": details}),
        )
        .await;
    r.assert(200);
    r.json()["id"].as_i64().unwrap()
}

both!(queries_11_connection_failures, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    let admin = t.setup().await;
    let with = |patch: Value| {
        let mut d = s.details.clone();
        for (k, v) in patch.as_object().unwrap() {
            d[k] = v.clone();
        }
        json!({"name": "P", "engine": "postgres", "details": d})
    };
    let cases = [
        (
            json!({"user": "no_such_role_ferrobase"}),
            vec!["password", "user"],
        ),
        (
            json!({"host": "no-such-host.invalid"}),
            vec!["host", "port"],
        ),
        (
            json!({"port": crate::support::free_port()}),
            vec!["host", "port"],
        ),
        (
            json!({"dbname": "no_such_database_ferrobase"}),
            vec!["dbname"],
        ),
        (json!({"ssl": true}), vec!["ssl"]),
    ];
    for (patch, keys) in cases {
        let r = t.post("/api/database", &admin, with(patch.clone())).await;
        r.assert(400);
        let v = r.json();
        assert!(v["message"].is_string(), "{v}");
        let mut got: Vec<&str> = v["errors"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        got.sort();
        assert_eq!(got, keys, "{patch}: {v}");
    }
    assert_eq!(t.get("/api/database", &admin).await.json()["total"], 1);
});

both!(queries_12_13_secrets_are_masked_and_kept, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    let admin = t.setup().await;
    let (_, _, alice) = group_with_alice(&t, &admin).await;
    let mut details = s.details.clone();
    details["password"] = json!("s3cret-pw");
    let w = add_pg(&t, &admin, "W", &details).await;
    let v = t.get(&format!("/api/database/{w}"), &admin).await.json();
    assert_eq!(v["details"]["password"], "**MetabasePass**");
    assert_eq!(v["engine"], "postgres");
    let v = t.get(&format!("/api/database/{w}"), &alice).await.json();
    assert!(v.get("details").is_none());
    assert!(!t
        .get("/api/database", &admin)
        .await
        .text
        .contains("s3cret-pw"));
    // Scenario 13: sending the mask back keeps the stored password.
    let mut sent = details.clone();
    sent["password"] = json!("**MetabasePass**");
    let r = t
        .put(
            &format!("/api/database/{w}"),
            &admin,
            json!({"details": sent}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["details"]["password"], "**MetabasePass**");
    let mut tx = t.app.store.read().await.unwrap();
    let row = tx.database_get(w).await.unwrap().unwrap();
    let stored: Value = serde_json::from_str(&row.details).unwrap();
    assert_eq!(stored["password"], "s3cret-pw");
    drop(tx);
    let r = t
        .post(
            "/api/dataset",
            &admin,
            native_on(w, "SELECT current_database()"),
        )
        .await;
    r.assert(202);
    // A change that fails the connection test changes nothing.
    let mut bad = details.clone();
    bad["dbname"] = json!("no_such_database_ferrobase");
    t.put(
        &format!("/api/database/{w}"),
        &admin,
        json!({"details": bad}),
    )
    .await
    .assert(400);
    t.post("/api/dataset", &admin, native_on(w, "SELECT 1"))
        .await
        .assert(202);
});

both!(queries_27_postgres_is_read_only, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    let admin = t.setup().await;
    let w = add_pg(&t, &admin, "W", &s.details).await;
    let r = t
        .post(
            "/api/dataset",
            &admin,
            native_on(w, "CREATE TABLE t(x int)"),
        )
        .await;
    r.assert(400);
    let v = r.json();
    assert_eq!(v["error_type"], "invalid-query");
    assert_eq!(v["class"], "postgres");
    assert_eq!(v["state"], "25006");
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_tables WHERE tablename = 't'")
        .fetch_one(&s.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    let r = t.post("/api/dataset", &admin, native_on(w, "foobar")).await;
    r.assert(400);
    let v = r.json();
    assert_eq!(v["error"], "syntax error at or near \"foobar\"");
    assert_eq!(v["state"], "42601");
    let r = t
        .post("/api/dataset", &admin, native_on(w, "SELECT 1; SELECT 2"))
        .await;
    assert_eq!(
        r.json()["error"],
        "ferrobase runs exactly one SQL statement per query."
    );
    // Bound parameters.
    let body = json!({"database": w, "type": "native",
        "native": {"query": "SELECT {{n}} * 2 AS v, {{s}} AS s", "template-tags": {
            "n": {"type": "number"}, "s": {"type": "text"}}},
        "parameters": [{"target": ["variable", ["template-tag", "n"]], "value": 21},
                       {"target": ["variable", ["template-tag", "s"]], "value": "x"}]});
    let v = t.post("/api/dataset", &admin, body).await.json();
    assert_eq!(v["data"]["rows"], json!([[42, "x"]]));
    assert_eq!(
        v["data"]["native_form"]["query"],
        "SELECT $1 * 2 AS v, $2 AS s"
    );
});

both!(queries_42_postgres_types, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    s.exec(
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE TABLE t (a int8, b numeric, c timestamptz, d jsonb, e bytea, f uuid, g int2,
            h int4, i float8, j bool, k text, l varchar(5), m date, n time, o timestamp,
            p interval, q inet, r int4[], s mood, u json, v numeric, w timetz, x float4);
         INSERT INTO t VALUES (9007199254740993, 12.50, '2024-01-02T03:04:05.5Z',
            '{\"k\": [1, 2]}', '\\xdeadbeef', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 7, 8,
            1.25, true, 'hi', 'v', '2024-02-29', '13:14:15', '2024-01-02 03:04:05',
            '1 day 02:00:00', '192.168.0.1/24', '{1,NULL,3}', 'happy', '[1]', 'NaN', '10:00:00+02', 0.5);",
    )
    .await;
    let admin = t.setup().await;
    let w = add_pg(&t, &admin, "W", &s.details).await;
    let r = t
        .post("/api/dataset", &admin, native_on(w, "SELECT * FROM t"))
        .await;
    r.assert(202);
    assert!(r.text.contains(",12.50,"), "{}", r.text);
    let v = r.json();
    let types: Vec<&str> = v["data"]["cols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["base_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec![
            "type/BigInteger",
            "type/Decimal",
            "type/DateTimeWithLocalTZ",
            "type/JSON",
            "type/*",
            "type/UUID",
            "type/Integer",
            "type/Integer",
            "type/Float",
            "type/Boolean",
            "type/Text",
            "type/Text",
            "type/Date",
            "type/Time",
            "type/DateTime",
            "type/*",
            "type/IPAddress",
            "type/Array",
            "type/PostgresEnum",
            "type/JSON",
            "type/Decimal",
            "type/TimeWithLocalTZ",
            "type/Float",
        ]
    );
    assert_eq!(v["data"]["cols"][0]["database_type"], "int8");
    assert_eq!(v["data"]["cols"][2]["database_type"], "timestamptz");
    assert_eq!(v["data"]["cols"][17]["database_type"], "_int4");
    assert_eq!(v["data"]["cols"][18]["database_type"], "mood");
    assert_eq!(
        v["data"]["rows"][0],
        json!([
            "9007199254740993",
            12.5,
            "2024-01-02T03:04:05.500000Z",
            "{\"k\": [1, 2]}",
            "3q2+7w==",
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            7,
            8,
            1.25,
            true,
            "hi",
            "v",
            "2024-02-29",
            "13:14:15",
            "2024-01-02T03:04:05",
            "1 day 02:00:00",
            "192.168.0.1/24",
            [1, null, 3],
            "happy",
            "[1]",
            "NaN",
            "10:00:00+02:00",
            0.5
        ])
    );
    assert_eq!(v["data"]["results_timezone"], "UTC");
    // The same values in a CSV export.
    let q = native_on(w, "SELECT a, b, j, r FROM t").to_string();
    let r = crate::queries_cards::post_form(&t, &admin, "/api/dataset/csv", &[("query", &q)]).await;
    assert_eq!(
        r.text,
        "a,b,j,r\n9007199254740993,12.50,true,\"[1,null,3]\"\n"
    );
});

// Values decoded from Postgres' binary format agree with Postgres' own text output, over
// thousands of random numerics (all weights and scales), intervals (mixed signs, fractions,
// hours past a day), dates and timestamps (§4.5).
both!(
    queries_42_decoding_agrees_with_postgres_text,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        let admin = t.setup().await;
        let w = add_pg(&t, &admin, "W", &s.details).await;
        let sql = "SELECT n, n::text AS n_text, i, i::text AS i_text, d, d::text AS d_text,
                      ts, ts::text AS ts_text
               FROM (SELECT g,
                   CASE g % 3
                     WHEN 0 THEN round(((random() - 0.5) * 10 ^ (g % 28))::numeric, g % 15)
                     WHEN 1 THEN ((random() - 0.5) / 10 ^ (g % 20))::numeric
                     ELSE floor(random() * 1e15)::numeric * 10 ^ (g % 12)::numeric
                   END AS n,
                   make_interval(years => (g % 7) - 3, months => (g % 13) - 6,
                                 days => (g % 41) - 20, hours => (g % 300) - 150,
                                 secs => round(((random() - 0.5) * 7200)::numeric, g % 7)::float8)
                     * (g % 5 - 2) AS i,
                   date '0001-01-01' + (random() * 3600000)::int AS d,
                   timestamp '1900-01-01' + random() * interval '300 years' AS ts
                 FROM generate_series(1, 3000) g) x";
        let q = native_on(w, sql).to_string();
        let r =
            crate::queries_cards::post_form(&t, &admin, "/api/dataset/csv", &[("query", &q)]).await;
        r.assert(200);
        let mut lines = r.text.lines();
        assert_eq!(lines.next(), Some("n,n_text,i,i_text,d,d_text,ts,ts_text"));
        let trim_fraction = |v: &str| -> String {
            match v.split_once('.') {
                Some((whole, f)) => {
                    let f = f.trim_end_matches('0');
                    if f.is_empty() {
                        whole.to_string()
                    } else {
                        format!("{whole}.{f}")
                    }
                }
                None => v.to_string(),
            }
        };
        let mut rows = 0;
        for line in lines {
            let c: Vec<&str> = line.split(',').collect();
            assert_eq!(c.len(), 8, "{line}");
            assert_eq!(c[0], c[1], "numeric");
            assert_eq!(c[2], c[3], "interval");
            assert_eq!(c[4], c[5], "date");
            assert_eq!(trim_fraction(&c[6].replace('T', " ")), c[7], "timestamp");
            rows += 1;
        }
        assert_eq!(rows, 3000);
    }
);

both!(queries_51_failure_after_streaming_began, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    let admin = t.setup().await;
    let w = add_pg(&t, &admin, "W", &s.details).await;
    let body = json!({"database": w, "type": "native",
        "native": {"query": "SELECT i, 1 / (5001 - i) AS x FROM generate_series(1, 6000) i"},
        "constraints": {"max-results-bare-rows": 6000}});
    let r = t.post("/api/dataset", &admin, body).await;
    r.assert(202);
    let v = r.json();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["error_type"], "invalid-query");
    assert_eq!(v["error"], "division by zero");
    let rows = v["data"]["rows"].as_array().unwrap().len();
    assert!(rows > 0);
    assert_eq!(v["row_count"], rows);
    assert_eq!(v["data"]["cols"].as_array().unwrap().len(), 2);
});

/// A TCP relay to Postgres that can be stopped, standing in for a server that goes away.
struct Relay {
    port: u16,
    tasks: std::sync::Arc<parking_lot::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Relay {
    async fn start(target: String) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let tasks = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
        let inner = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                let h = tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                inner.lock().push(h);
            }
        });
        tasks.lock().push(accept);
        Relay { port, tasks }
    }

    fn stop(&self) {
        for t in self.tasks.lock().drain(..) {
            t.abort();
        }
    }
}

both!(queries_53_unreachable_warehouse, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    let admin = t.setup().await;
    let target = format!(
        "{}:{}",
        s.details["host"].as_str().unwrap(),
        s.details["port"]
    );
    let relay = Relay::start(target).await;
    let mut details = s.details.clone();
    details["port"] = json!(relay.port);
    let w = add_pg(&t, &admin, "W", &details).await;
    t.post("/api/dataset", &admin, native_on(w, "SELECT 1"))
        .await
        .assert(202);
    relay.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..2 {
        let r = t
            .post("/api/dataset", &admin, native_on(w, "SELECT 1"))
            .await;
        r.assert(502);
        let v = r.json();
        assert_eq!(v["status"], "failed");
        assert_eq!(v["error_type"], "db");
    }
    let v = t
        .get(&format!("/api/database/{w}/healthcheck"), &admin)
        .await
        .json();
    assert_eq!(v["status"], "error");
});

both!(
    queries_53_dead_pooled_connections_are_replaced,
    |t| async move {
        let Some(s) = Scratch::create().await else {
            return;
        };
        let admin = t.setup().await;
        let w = add_pg(&t, &admin, "W", &s.details).await;
        t.post("/api/dataset", &admin, native_on(w, "SELECT 1"))
            .await
            .assert(202);
        // As after a server restart: every pooled connection is dead.
        s.exec(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let r = t
            .post("/api/dataset", &admin, native_on(w, "SELECT 2"))
            .await;
        r.assert(202);
        assert_eq!(r.json()["data"]["rows"], json!([[2]]));
    }
);

both!(queries_58_report_timezone, |t| async move {
    let Some(s) = Scratch::create().await else {
        return;
    };
    let admin = t.setup().await;
    let w = add_pg(&t, &admin, "W", &s.details).await;
    t.put(
        "/api/setting/report-timezone",
        &admin,
        json!({"value": "Europe/Paris"}),
    )
    .await
    .assert(204);
    let sql = "SELECT now()::timestamptz AS t, current_setting('TimeZone') AS z, \
               '2024-01-15T12:00:00Z'::timestamptz AS winter, '2024-07-15T12:00:00Z'::timestamptz AS summer";
    let v = t
        .post("/api/dataset", &admin, native_on(w, sql))
        .await
        .json();
    assert_eq!(v["data"]["results_timezone"], "Europe/Paris");
    let row = &v["data"]["rows"][0];
    let now = row[0].as_str().unwrap();
    assert!(now.ends_with("+01:00") || now.ends_with("+02:00"), "{now}");
    assert_eq!(row[1], "Europe/Paris");
    if std::path::Path::new("/usr/share/zoneinfo/Europe/Paris").is_file() {
        assert_eq!(row[2], "2024-01-15T13:00:00+01:00");
        assert_eq!(row[3], "2024-07-15T14:00:00+02:00");
    }
    // The Sample Database (SQLite) reports UTC.
    let v = t
        .post("/api/dataset", &admin, native_on(1, "SELECT 1"))
        .await
        .json();
    assert_eq!(v["data"]["results_timezone"], "UTC");
});
