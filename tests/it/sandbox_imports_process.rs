//! Issue #11 rows 7–9 against the real binary under `prlimit --as=1073741824` (1 GiB of address
//! space): every hostile archive, over HTTP to `ferrobase serve` and through `ferrobase import`,
//! is refused or processed without the process dying (before, each of them aborted it). Row 8:
//! an archive that unpacks to more than the whole address space is imported from disk, one file
//! at a time, and the server's peak resident memory stays small.
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use crate::api_keys_process::Server;
use crate::sandbox_imports::{archive, deep_card, yaml_bombs};
use crate::support::Auth;

const BIN: &str = env!("CARGO_BIN_EXE_ferrobase");
const PRLIMIT: &str = "/usr/bin/prlimit";
const ADDRESS_SPACE: &str = "--as=1073741824";

/// `ferrobase <args>` under the address-space limit, with configuration from the environment
/// removed so only `args` count.
fn limited(args: &[&str]) -> Command {
    let mut cmd = Command::new(PRLIMIT);
    cmd.arg(ADDRESS_SPACE).arg("--").arg(BIN).args(args);
    for var in [
        "RUST_LOG",
        "FERROBASE_LOG",
        "FERROBASE_DATABASE_URL",
        "FERROBASE_BIND",
        "MB_DB_CONNECTION_URI",
        "MB_JETTY_PORT",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// An archive of about 1.2 GB unpacked (6 MB compressed): 60 entity files of 20 MB, over the
/// per-file cap, 4 files of 12 MB that are read and parsed, and a settings file. Before, every
/// `.yaml` file was read into memory at once. Built once per test run.
fn large_archive() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sandbox-large.tar.gz");
        let tmp = path.with_extension("partial");
        let file = std::fs::File::create(&tmp).expect("create");
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut b = tar::Builder::new(gz);
        let mut add = |name: &str, data: &mut dyn std::io::Read, size: u64| {
            let mut h = tar::Header::new_ustar();
            h.set_path(name).expect("path");
            h.set_size(size);
            h.set_mode(0o644);
            h.set_cksum();
            b.append(&h, data).expect("append");
        };
        let settings = b"site-name: Big\n";
        add("x/settings.yaml", &mut &settings[..], settings.len() as u64);
        for i in 0..4 {
            let size = 12u64 << 20;
            let head = b"name: big\nnotes: \"";
            let mut data = head
                .as_slice()
                .chain(std::io::repeat(b'x').take(size - head.len() as u64 - 2))
                .chain(&b"\"\n"[..]);
            add(&format!("x/collections/read-{i}.yaml"), &mut data, size);
        }
        for i in 0..60 {
            let size = 20u64 << 20;
            let mut data = std::io::repeat(b' ').take(size);
            add(&format!("x/collections/big-{i:02}.yaml"), &mut data, size);
        }
        let gz = b.into_inner().expect("tar");
        gz.finish().expect("gzip").flush().expect("flush");
        std::fs::rename(&tmp, &path).expect("rename");
        path
    })
}

/// Checks the log of the large archive under continue_on_error.
#[track_caller]
fn assert_large_log(text: &str) {
    assert!(text.contains("updated Setting site-name"), "{text}");
    for i in 0..4 {
        assert!(
            text.contains(&format!(
                "skipped File collections/read-{i}.yaml: no serdes/meta"
            )),
            "{text}"
        );
    }
    assert!(
        text.contains(
            "failed File collections/big-00.yaml: the file is larger than 16777216 bytes"
        ),
        "{text}"
    );
    assert!(text.ends_with("4 skipped, 60 failed\n"), "{text}");
}

/// A `ferrobase serve` under the address-space limit.
async fn start_limited(dir: &Path) -> Server {
    let db = format!("sqlite://{}", dir.join("app.db").display());
    Server::start_under(
        &[PRLIMIT, ADDRESS_SPACE, "--"],
        &db,
        dir,
        dir.join("server.log"),
        &[],
    )
    .await
}

/// `POST /api/ee/serialization/import` with `archive` as the part `file`.
async fn import(server: &Server, auth: &Auth, query: &str, archive: Vec<u8>) -> (u16, String) {
    let Auth::Session(session) = auth else {
        panic!("a session")
    };
    let boundary = "sandboxBoundary7MA4YWxk";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
         filename=\"x.tar.gz\"\r\nContent-Type: application/gzip\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&archive);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = server
        .client()
        .post(format!(
            "{}/api/ee/serialization/import{query}",
            server.base()
        ))
        .header("X-Metabase-Session", session)
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .expect("request");
    (r.status().as_u16(), r.text().await.expect("body"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_under_1gib_survives_every_hostile_archive() {
    let tmp = tempfile::tempdir().expect("tmp");
    let mut server = start_limited(tmp.path()).await;
    let admin = server.setup().await;
    let mut hostile: Vec<(String, Vec<u8>, String)> = yaml_bombs()
        .into_iter()
        .map(|(name, yaml, refusal)| {
            let path = format!("collections/{name}.yaml");
            (path.clone(), archive(&[(&path, yaml)]), refusal.to_string())
        })
        .collect();
    let deep = "collections/cards/deep.yaml".to_string();
    hostile.push((
        deep.clone(),
        archive(&[(&deep, deep_card("DEEPdeepDEEPdeepDEEP1", 200))]),
        "nests deeper than 128 levels".into(),
    ));
    for (path, body, refusal) in hostile {
        let (status, text) = import(&server, &admin, "", body).await;
        assert_eq!(status, 400, "{text}");
        assert!(
            text.contains(&format!("failed File {path}: ")) && text.contains(&refusal),
            "{text}"
        );
        assert!(server.healthy().await);
    }
    let started_at = server.peak_rss();
    let body = std::fs::read(large_archive()).expect("archive");
    // A hundredth of what it unpacks to.
    assert!(body.len() < 12 << 20, "{}", body.len());
    let (status, text) = import(&server, &admin, "?continue_on_error=true", body).await;
    assert_eq!(status, 200, "{text}");
    assert_large_log(&text);
    assert!(server.healthy().await);
    // Files are read one at a time and at most 16 MiB each: the peak grows by a few times one
    // file, not by the archive's 1.2 GB.
    let grown = server.peak_rss().saturating_sub(started_at);
    assert!(grown < 256 << 20, "peak grew by {grown} bytes");
    // The unpacked tree is gone when the request ends.
    let left: Vec<_> = std::fs::read_dir(tmp.path().join("tmp"))
        .expect("tmp")
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

fn cli_import(dir: &Path, archive: &Path, extra: &[&str]) -> Output {
    let db = format!("sqlite://{}", dir.join("cli.db").display());
    let tmpdir = dir.join("system-tmp");
    std::fs::create_dir_all(&tmpdir).expect("mkdir");
    let mut args = vec![
        "import",
        archive.to_str().expect("utf-8"),
        "--database",
        &db,
        "--data-dir",
        dir.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    limited(&args)
        .env("TMPDIR", &tmpdir)
        .current_dir(dir)
        .output()
        .expect("run ferrobase import")
}

#[test]
fn cli_import_under_1gib_survives_every_hostile_archive() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path();
    for (name, yaml, refusal) in yaml_bombs() {
        let path = format!("collections/{name}.yaml");
        let file = dir.join(format!("{name}.tar.gz"));
        std::fs::write(&file, archive(&[(&path, yaml)])).expect("write");
        let o = cli_import(dir, &file, &[]);
        // Exit code 1: stopped at a failing entity (serialization.md §6), not a signal.
        crate::serialization_cli::assert_exit(&o, 1);
        let out = String::from_utf8_lossy(&o.stdout);
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("failed File {path}: ")))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(line.contains(refusal), "{line}");
    }
    let o = cli_import(dir, large_archive(), &["--continue-on-error"]);
    crate::serialization_cli::assert_exit(&o, 3);
    assert_large_log(&String::from_utf8_lossy(&o.stdout));
    // The private unpack directories are removed, and nothing is created in the working
    // directory. (The per-machine Sample Database cache, `ferrobase-sample-*`, which the import
    // of a fresh application database creates like a server's start does, stays by design.)
    let left: Vec<String> = std::fs::read_dir(dir.join("system-tmp"))
        .expect("tmp")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with("ferrobase-sample-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(!dir.join("tmp").exists());
}
