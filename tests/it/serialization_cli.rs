//! serialization.md §6, scenarios 35, 36 and 45: `ferrobase export` and `ferrobase import`
//! against SQLite application databases in a temporary directory.
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
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
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
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let out2 = tmp.path().join("out2");
    let o = run(&["export", out2.to_str().expect("utf-8"), &db_arg(&db_b)]);
    assert_eq!(o.status.code(), Some(0));
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
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stdout)
        .contains("failed Card ZZZZZZZZZZZZZZZZZZZZZ: Collection 'DoesNotExist' was not found"));
    let o = run(&["import", tgz.to_str().expect("utf-8"), &db_arg(&db_c)]);
    assert_eq!(o.status.code(), Some(1));
}
