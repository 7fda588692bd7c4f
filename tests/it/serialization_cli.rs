//! serialization.md §6 and §10: `ferrobase export` / `ferrobase import` (scenarios 35, 36, 45,
//! on SQLite files and PostgreSQL application databases),
//! the SQLite → PostgreSQL round trip, and hostile uploads (bomb, symlink, busy).
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use ferrobase::serialization::archive::pack;

use crate::serialization::{export, server_a};
use crate::support::{Backend, TestApp};

const BIN: &str = env!("CARGO_BIN_EXE_ferrobase");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env_remove("FERROBASE_DATABASE_URL")
        .env_remove("MB_DB_CONNECTION_URI")
        .output()
        .expect("run ferrobase")
}

/// Asserts the exit code of a `ferrobase` run, showing its output when it differs.
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Every file under `dir`: relative path → content.
fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let e = e.expect("entry");
            let name = format!("{prefix}{}", e.file_name().to_string_lossy());
            if e.file_type().expect("type").is_dir() {
                stack.push((e.path(), format!("{name}/")));
            } else {
                out.insert(name, std::fs::read(e.path()).expect("read"));
            }
        }
    }
    out
}

/// Builds server A in a SQLite file, stops it, and returns its HTTP export (`dirname=x`).
async fn file_server_a(db: &str) -> Vec<u8> {
    let url = format!("sqlite://{db}");
    let (mut t, _) = TestApp::start(Backend::Sqlite, |c| {
        c.database = ferrobase::store::DatabaseUrl::parse(&url).expect("url");
    })
    .await
    .expect("server");
    let a = server_a(&t).await;
    let body = export(&t, &a.key, "?dirname=x").await.body;
    t.stop().await;
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s35_s36_s45_cli_export_import_round_trip() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db_a = tmp.path().join("a.db");
    let http = file_server_a(&db_a.display().to_string()).await;
    let db_arg = |p: &Path| format!("--database=sqlite://{}", p.display());
    // 36: a stale directory and .git in out/.
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join(".git")).expect("mkdir");
    std::fs::write(out.join(".git/HEAD"), "ref").expect("write");
    std::fs::create_dir_all(out.join("collections/xyz")).expect("mkdir");
    let o = run(&["export", out.to_str().expect("utf-8"), &db_arg(&db_a)]);
    assert_exit(&o, 0);
    assert!(String::from_utf8_lossy(&o.stdout).contains("summary: "));
    assert!(out.join(".git/HEAD").is_file());
    assert!(!out.join("collections/xyz").exists());
    let mut exported = read_tree(&out);
    exported.retain(|k, _| !k.starts_with(".git/"));
    // 35: equal to the HTTP export's x/ directory.
    let mut http_files = BTreeMap::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(http.as_slice()));
    for e in archive.entries().expect("entries") {
        let mut e = e.expect("entry");
        if e.header().entry_type().is_file() {
            let p = e.path().expect("path").to_string_lossy().into_owned();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut e, &mut data).expect("read");
            http_files.insert(p.trim_start_matches("x/").to_string(), data);
        }
    }
    assert_eq!(exported, http_files);
    // Import into a fresh database, export again: identical.
    let db_b = tmp.path().join("b.db");
    let o = run(&["import", out.to_str().expect("utf-8"), &db_arg(&db_b)]);
    assert_exit(&o, 0);
    let out2 = tmp.path().join("out2");
    let o = run(&["export", out2.to_str().expect("utf-8"), &db_arg(&db_b)]);
    assert_exit(&o, 0);
    let exported2 = read_tree(&out2);
    for (k, v) in &exported {
        assert_eq!(
            String::from_utf8_lossy(v),
            String::from_utf8_lossy(exported2.get(k).expect(k)),
            "{k}"
        );
    }
    assert_eq!(
        exported.keys().collect::<Vec<_>>(),
        exported2.keys().collect::<Vec<_>>()
    );
    // 45: a failing card: exit 3 with --continue-on-error, then 1 without.
    let mut files = exported.clone();
    files.insert(
        "collections/cards/ZZZZZZZZZZZZZZZZZZZZZ_bad.yaml".into(),
        b"name: Bad\nentity_id: ZZZZZZZZZZZZZZZZZZZZZ\ncollection_id: DoesNotExist\n\
dataset_query:\n  database: Sample Database\n  type: native\n  native:\n    query: select 1\n\
serdes/meta:\n  - id: ZZZZZZZZZZZZZZZZZZZZZ\n    label: bad\n    model: Card\n"
            .to_vec(),
    );
    let tgz = tmp.path().join("bad.tar.gz");
    std::fs::write(&tgz, pack("x", &files).expect("pack")).expect("write");
    let db_c = tmp.path().join("c.db");
    let o = run(&["import", tgz.to_str().expect("utf-8"), "-e", &db_arg(&db_c)]);
    assert_exit(&o, 3);
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("failed Card ZZZZZZZZZZZZZZZZZZZZZ: Collection 'DoesNotExist' was not found"));
    let o = run(&["import", tgz.to_str().expect("utf-8"), &db_arg(&db_c)]);
    assert_exit(&o, 1);

    // 35 and 45 with PostgreSQL application databases: the SQLite export imports into a fresh
    // PostgreSQL database and exports back byte for byte; the failing archive gives 3, then 1.
    let Some(pg) = crate::support::PgDb::create().await else {
        return;
    };
    let pg_arg = format!("--database={}", pg.url);
    let o = run(&["import", out.to_str().expect("utf-8"), &pg_arg]);
    assert_exit(&o, 0);
    let out3 = tmp.path().join("out3");
    let o = run(&["export", out3.to_str().expect("utf-8"), &pg_arg]);
    assert_exit(&o, 0);
    assert_eq!(read_tree(&out3), exported2);
    pg.drop_db().await;
    let pg = crate::support::PgDb::create().await.expect("postgres");
    let pg_arg = format!("--database={}", pg.url);
    let o = run(&["import", tgz.to_str().expect("utf-8"), "-e", &pg_arg]);
    assert_exit(&o, 3);
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("failed Card ZZZZZZZZZZZZZZZZZZZZZ: Collection 'DoesNotExist' was not found"));
    let o = run(&["import", tgz.to_str().expect("utf-8"), &pg_arg]);
    assert_exit(&o, 1);
    pg.drop_db().await;
}

/// The round trip from a SQLite server A to a PostgreSQL server B (skipped without PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s17_sqlite_to_postgres_round_trip() {
    let (mut t, _) = TestApp::start(Backend::Sqlite, |_| {})
        .await
        .expect("server");
    let a = server_a(&t).await;
    let archive = export(&t, &a.key, "?dirname=x").await;
    t.stop().await;
    crate::serialization_import::with_b(Backend::Postgres, |b| async move {
        let admin = b.setup().await;
        let key = crate::api_keys::create_key(&b, &admin, "Admin key", 2)
            .await
            .auth();
        let r =
            crate::serialization_import::import(&b, &key, "", Some(("file", &archive.body))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let again = export(&b, &key, "?dirname=x").await;
        let strip = |gz: &[u8]| -> BTreeMap<String, Vec<u8>> {
            crate::serialization::unpack(gz)
                .into_iter()
                .filter(|(k, _)| !k.ends_with('/'))
                .collect()
        };
        assert_eq!(strip(&archive.body), strip(&again.body));
    })
    .await;
}

/// A gzipped tar holding one 11 MiB file of zeros: small compressed, too large unpacked for an
/// upload limit of 1 MiB (the unpacking cap is ten times the limit).
pub fn decompression_bomb() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let zeros = vec![0u8; 11 << 20];
    let mut h = tar::Header::new_ustar();
    h.set_path("x/collections/big.yaml").expect("path");
    h.set_size(zeros.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append(&h, zeros.as_slice()).expect("append");
    gzip(&b.into_inner().expect("tar"))
}

/// A `.tar.gz` from raw tar bytes.
fn gzip(tar_bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(tar_bytes).expect("gzip");
    gz.finish().expect("gzip")
}

crate::both!(
    s26_s33_bomb_symlink_and_busy,
    config = |c: &mut ferrobase::config::Config| c.max_upload_bytes = 1 << 20,
    |t| async move {
        use crate::serialization_import::import;
        let a = server_a(&t).await;
        // A decompression bomb: 11 MiB of zeros (the cap is ten times the 1 MiB upload limit).
        let bomb = decompression_bomb();
        assert!(bomb.len() < 1 << 20);
        let r = import(&t, &a.key, "", Some(("file", &bomb))).await;
        assert_eq!(r.status, 422, "{}", r.text());
        // A symbolic link is ignored and logged; the rest loads.
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_path("x/collections/link.yaml").expect("path");
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_link_name("/etc/passwd").expect("link");
        h.set_size(0);
        h.set_mode(0o777);
        h.set_cksum();
        b.append(&h, std::io::empty()).expect("append");
        let mut h = tar::Header::new_ustar();
        h.set_path("x/settings.yaml").expect("path");
        let settings = b"site-name: Linked\n";
        h.set_size(settings.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append(&h, settings.as_slice()).expect("append");
        let r = import(
            &t,
            &a.key,
            "",
            Some(("file", &b.into_inner().expect("tar"))),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r
            .text()
            .contains("warning: ignored x/collections/link.yaml"));
        // 33: another import running on this database.
        let guard = t
            .app
            .store
            .try_import_lock()
            .await
            .expect("lock")
            .expect("free");
        let good = export(&t, &a.key, "?dirname=x").await.body;
        let r = import(&t, &a.key, "", Some(("file", &good))).await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (409, "Another import is already running.")
        );
        guard.release().await;
        assert_eq!(
            import(&t, &a.key, "", Some(("file", &good))).await.status,
            200
        );
    }
);

/// 37: `ferrobase import` refuses a SQLite database held by a running server; export works.
#[test]
fn s37_import_refuses_a_database_held_by_a_server() {
    let tmp = tempfile::tempdir().expect("tmp");
    let db = tmp.path().join("held.db");
    let url = format!("sqlite://{}", db.display());
    let server = crate::cli::Server::spawn(&url, &[]);
    let dir = tmp.path().join("in");
    std::fs::create_dir_all(dir.join("collections")).expect("mkdir");
    std::fs::write(dir.join("settings.yaml"), "site-name: Held\n").expect("write");
    let o = run(&[
        "import",
        dir.to_str().expect("utf-8"),
        &format!("--database={url}"),
    ]);
    assert_exit(&o, 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains(
        "The application database is in use by a running ferrobase server; stop it or use POST /api/ee/serialization/import."
    ));
    let out = tmp.path().join("dir2");
    let o = run(&[
        "export",
        out.to_str().expect("utf-8"),
        &format!("--database={url}"),
    ]);
    assert_exit(&o, 0);
    drop(server);
}

/// Benchmark (run by hand, `--ignored --nocapture`): export and import of 10,000 cards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn bench_10000_cards() {
    let (mut t, _) = TestApp::start(Backend::Sqlite, |_| {})
        .await
        .expect("server");
    let admin = t.setup().await;
    let key = crate::api_keys::create_key(&t, &admin, "k", 2).await.auth();
    let coll = crate::collections_graph::create(&t, &admin, "Big", None).await;
    let mut tx = t.app.store.begin().await.expect("tx");
    for i in 0..10_000 {
        let row = ferrobase::cards::store::CardRow {
            id: 0,
            entity_id: ferrobase::entity_id::new_entity_id(),
            name: format!("Card {i}"),
            description: None,
            card_type: "question".into(),
            display: "table".into(),
            dataset_query: r#"{"database":1,"type":"native","native":{"query":"select 1"}}"#.into(),
            query_type: Some("native".into()),
            database_id: Some(1),
            table_id: None,
            visualization_settings: "{}".into(),
            parameters: "[]".into(),
            parameter_mappings: "[]".into(),
            result_metadata: None,
            collection_id: Some(coll),
            collection_position: None,
            collection_preview: true,
            dashboard_id: None,
            dashboard_tab_id: None,
            cache_ttl: None,
            archived: false,
            archived_directly: false,
            creator_id: 1,
            last_editor_id: 1,
            last_used_at: None,
            created_at: 1_700_000_000_000_000,
            updated_at: 1_700_000_000_000_000,
        };
        tx.card_insert(&row).await.expect("insert");
    }
    tx.commit().await.expect("commit");
    let started = std::time::Instant::now();
    let r = export(&t, &key, "?dirname=x").await;
    println!(
        "export of 10,000 cards: {:?}, {} bytes",
        started.elapsed(),
        r.body.len()
    );
    let (mut b, _) = TestApp::start(Backend::Sqlite, |_| {})
        .await
        .expect("server");
    let badmin = b.setup().await;
    let bkey = crate::api_keys::create_key(&b, &badmin, "k", 2)
        .await
        .auth();
    let started = std::time::Instant::now();
    let i = crate::serialization_import::import(&b, &bkey, "", Some(("file", &r.body))).await;
    assert_eq!(i.status, 200);
    println!(
        "import of 10,000 cards into a fresh server: {:?}",
        started.elapsed()
    );
    let started = std::time::Instant::now();
    let i = crate::serialization_import::import(&b, &bkey, "", Some(("file", &r.body))).await;
    assert_eq!(i.status, 200);
    println!("re-import (all unchanged): {:?}", started.elapsed());
    b.stop().await;
    t.stop().await;
}

/// Records what a command would draw in its progress bar.
#[derive(Default)]
struct Recorded {
    phases: std::sync::Mutex<Vec<(&'static str, u64)>>,
    steps: std::sync::Mutex<Vec<String>>,
    finished: std::sync::atomic::AtomicUsize,
}

impl ferrobase::serialization::progress::Progress for Recorded {
    fn start(&self, phase: &'static str, total: u64) {
        self.phases.lock().unwrap().push((phase, total));
    }
    fn advance(&self, label: &str) {
        self.steps.lock().unwrap().push(label.to_string());
    }
    fn finish(&self) {
        self.finished
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

// §6: the command line reports progress per entity (a bar on a terminal): import counts every
// loaded entity against the announced total, and writing an export counts every file.
crate::both!(cli_progress_counts_every_entity_and_file, |t| async move {
    use ferrobase::serialization::{cli::write_tree, import, source::Source, unpack};
    let a = server_a(&t).await;
    let archive = export(&t, &a.key, "?dirname=x").await.body;
    let files = crate::serialization::unpack(&archive);
    let work = tempfile::tempdir().expect("tmp");
    let gz = work.path().join("x.tar.gz");
    std::fs::write(&gz, &archive).expect("write");
    let tree_dir = work.path().join("tree");
    std::fs::create_dir(&tree_dir).expect("mkdir");
    unpack::unpack_to_dir(&gz, &tree_dir, 1 << 30, &mut Vec::new()).expect("unpack");
    let source = Source::find(&tree_dir, 1 << 30)
        .expect("list")
        .expect("source dir");
    let opts = import::ImportOptions {
        continue_on_error: false,
        full_stacktrace: false,
        default_creator: None,
    };
    let rec = Recorded::default();
    let r = import::run(
        &t.app.store,
        &t.app.config,
        source,
        &opts,
        Vec::new(),
        0,
        &rec,
    )
    .await;
    assert!(matches!(r.status, import::Status::Ok), "{}", r.log);
    let phases = rec.phases.lock().unwrap().clone();
    let steps = rec.steps.lock().unwrap().clone();
    assert_eq!(phases.len(), 1);
    assert_eq!(phases[0].0, "importing");
    assert_eq!(phases[0].1 as usize, steps.len());
    let cards = files
        .keys()
        .filter(|k| k.contains("/cards/") && k.ends_with(".yaml"))
        .count();
    assert!(cards > 0);
    assert_eq!(
        steps.iter().filter(|s| s.starts_with("Card ")).count(),
        cards
    );
    assert_eq!(rec.finished.load(std::sync::atomic::Ordering::SeqCst), 1);

    let rec = Recorded::default();
    let dir = tempfile::tempdir().expect("tmp");
    let tree: BTreeMap<String, Vec<u8>> = files
        .into_iter()
        .filter(|(k, _)| !k.ends_with('/'))
        .map(|(k, v)| (k.trim_start_matches("x/").to_string(), v))
        .collect();
    write_tree(dir.path(), &tree, &rec).expect("write");
    assert_eq!(
        rec.phases.lock().unwrap().clone(),
        vec![("writing", tree.len() as u64)]
    );
    assert_eq!(rec.steps.lock().unwrap().len(), tree.len());
});
