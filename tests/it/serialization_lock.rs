//! serialization.md §5.6 and scenario 33: one import at a time per application database, across
//! processes. The server runs on a SQLite *file* here (the lock then is a `flock` beside it) or
//! on PostgreSQL (an advisory lock), so that `ferrobase import` and a second store instance see
//! the same lock a running server takes.
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use ferrobase::config::Config;
use ferrobase::serialization::archive::pack;
use ferrobase::store::DatabaseUrl;

use crate::both;
use crate::serialization::{export, server_a, unpack};
use crate::serialization_cli::assert_exit;
use crate::serialization_import::import;
use crate::support::TestApp;

const BIN: &str = env!("CARGO_BIN_EXE_ferrobase");
const BUSY: &str = "Another import is already running.";

/// SQLite tests use a file in the data directory instead of `sqlite::memory:`.
pub fn file_database(c: &mut Config) {
    if c.database == DatabaseUrl::SqliteMemory {
        c.database = DatabaseUrl::SqliteFile(c.data_dir.join("app.db"));
    }
}

pub fn database_arg(t: &TestApp) -> String {
    match &t.app.config.database {
        DatabaseUrl::SqliteFile(p) => format!("--database=sqlite://{}", p.display()),
        DatabaseUrl::Postgres(u) => format!("--database={u}"),
        DatabaseUrl::SqliteMemory => panic!("no other process can open an in-memory database"),
    }
}

/// `ferrobase import <dir>` on the test server's application database.
fn cli_import(t: &TestApp, dir: &std::path::Path) -> Output {
    Command::new(BIN)
        .args([
            "import",
            dir.to_str().expect("utf-8"),
            &database_arg(t),
            &format!("--data-dir={}", t.data_dir.path().display()),
        ])
        .env_remove("FERROBASE_DATABASE_URL")
        .env_remove("MB_DB_CONNECTION_URI")
        .output()
        .expect("run ferrobase")
}

/// The files of an export, relative to its top directory.
fn tree(gz: &[u8]) -> BTreeMap<String, Vec<u8>> {
    unpack(gz)
        .into_iter()
        .filter(|(k, _)| !k.ends_with('/'))
        .map(|(k, v)| (k.split_once('/').map(|x| x.1.to_string()).unwrap_or(k), v))
        .collect()
}

fn write_tree(dir: &std::path::Path, files: &BTreeMap<String, Vec<u8>>) {
    for (rel, data) in files {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, data).expect("write");
    }
}

/// Entity id of the `i`-th bulk card (21 characters; they load in this order).
fn bulk_eid(i: usize) -> String {
    format!("Z{i:020}")
}

/// `files` plus `n` native cards in the root collection: an import that takes seconds.
fn with_bulk_cards(files: &BTreeMap<String, Vec<u8>>, n: usize) -> BTreeMap<String, Vec<u8>> {
    let mut out = files.clone();
    for i in 0..n {
        let e = bulk_eid(i);
        out.insert(
            format!("collections/cards/{e}_bulk_{i}.yaml"),
            format!(
                "name: Bulk {i}\nentity_id: {e}\ndataset_query:\n  database: Sample Database\n  \
                 type: native\n  native:\n    query: select {i}\nserdes/meta:\n- id: {e}\n  \
                 label: bulk_{i}\n  model: Card\n"
            )
            .into_bytes(),
        );
    }
    out
}

both!(
    s33_a_second_import_while_one_runs_gets_409_and_the_cli_exit_2,
    config = file_database,
    |t| async move {
        let a = server_a(&t).await;
        let small = export(&t, &a.key, "?dirname=x").await.body;
        let files = tree(&small);
        let big = pack("x", &with_bulk_cards(&files, 3000)).expect("pack");
        let cli_dir = tempfile::tempdir().expect("tmp");
        write_tree(cli_dir.path(), &files);

        let first = {
            let t = t.clone();
            let key = a.key.clone();
            tokio::spawn(async move { import(&t, &key, "", Some(("file", &big))).await })
        };
        // The import is under way once its first bulk card is committed; the 2,999 others
        // keep it running for seconds.
        let started = Instant::now();
        loop {
            let mut tx = t.app.store.read().await.expect("tx");
            let seen = tx
                .card_get_by_entity_id(&bulk_eid(0))
                .await
                .expect("read")
                .is_some();
            tx.commit().await.expect("commit");
            if seen {
                break;
            }
            assert!(
                !first.is_finished(),
                "the first import ended before it was seen"
            );
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the import never started"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        let r = import(&t, &a.key, "", Some(("file", &small))).await;
        assert_eq!((r.status, r.text().as_str()), (409, BUSY));
        assert!(r.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain"));
        let o = cli_import(&t, cli_dir.path());
        assert_exit(&o, 2);
        assert!(String::from_utf8_lossy(&o.stderr).contains(BUSY));
        assert!(
            !first.is_finished(),
            "the first import ended during the checks; make the archive larger"
        );

        let r = first.await.expect("first import");
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r
            .text()
            .contains(&format!("created Card {}", bulk_eid(2999))));
        // The lock is free again, for the server and for the command line.
        let r = import(&t, &a.key, "", Some(("file", &small))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let o = cli_import(&t, cli_dir.path());
        assert_exit(&o, 0);
    }
);

both!(
    s33_the_import_lock_is_shared_by_every_instance_on_the_database,
    config = file_database,
    |t| async move {
        let a = server_a(&t).await;
        let small = export(&t, &a.key, "?dirname=x").await.body;
        let cli_dir = tempfile::tempdir().expect("tmp");
        write_tree(cli_dir.path(), &tree(&small));
        // A second instance on the same database (another server, as far as the lock goes).
        let other = ferrobase::store::open(&t.app.config.database)
            .await
            .expect("second instance");
        let held = other.try_import_lock().await.expect("lock").expect("free");
        assert!(t.app.store.try_import_lock().await.expect("lock").is_none());
        let r = import(&t, &a.key, "", Some(("file", &small))).await;
        assert_eq!((r.status, r.text().as_str()), (409, BUSY));
        let o = cli_import(&t, cli_dir.path());
        assert_exit(&o, 2);
        assert!(String::from_utf8_lossy(&o.stderr).contains(BUSY));
        held.release().await;
        other.close().await;
        let o = cli_import(&t, cli_dir.path());
        assert_exit(&o, 0);
        let r = import(&t, &a.key, "", Some(("file", &small))).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
);
