//! key-restrictions.md §6, scenarios 31–35: `ferrobase keys scan` run as a real process over
//! file trees, offline and against SQLite-file and PostgreSQL application databases (with a
//! running server to check that `--revoke` takes effect), SARIF checked against the official
//! 2.1.0 schema.
use std::path::Path;
use std::process::Output;

use serde_json::{json, Value};

use crate::api_keys::{create_key, Key};
use crate::both;
use crate::support::{Auth, TestApp};
use ferrobase::config::Config;
use ferrobase::store::DatabaseUrl;

const BIN: &str = env!("CARGO_BIN_EXE_ferrobase");

/// `ferrobase keys scan ARGS…` in `cwd`, with no database configured through the environment.
async fn scan(cwd: &Path, args: &[&str]) -> Output {
    tokio::process::Command::new(BIN)
        .arg("keys")
        .arg("scan")
        .args(args)
        .current_dir(cwd)
        .env_remove("FERROBASE_DATABASE_URL")
        .env_remove("MB_DB_CONNECTION_URI")
        .env_remove("FERROBASE_DATA_DIR")
        .output()
        .await
        .expect("run ferrobase")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(o.status.code(), Some(code), "{}{}", stdout(o), stderr(o));
}

/// The run printed none of `secrets`, anywhere.
#[track_caller]
fn assert_no_secret(o: &Output, secrets: &[&str]) {
    for s in secrets {
        assert!(
            !stdout(o).contains(s) && !stderr(o).contains(s),
            "a plain key was printed"
        );
    }
}

fn masked(secret: &str) -> String {
    ferrobase::api_keys::format::masked(&secret[..7])
}

/// `secret` with its last character changed: the same shape, a wrong checksum.
fn look_alike(secret: &str) -> String {
    let last = if secret.ends_with('A') { "B" } else { "A" };
    format!("{}{last}", &secret[..48])
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// Scenario 31's tree: the key in `a/config.env` once and in `b.txt` twice, a look-alike, and
/// the key again in a `.gitignore`d file (the directory is not a git repository).
fn tree_31(root: &Path, secret: &str) {
    write(root, "a/config.env", &format!("FERROBASE_KEY={secret}\n"));
    write(
        root,
        "b.txt",
        &format!("first line\n  key: \"{secret}\"\nétape {secret}\n"),
    );
    write(
        root,
        "c.md",
        &format!("not a key: {}\n", look_alike(secret)),
    );
    write(root, ".gitignore", "ignored.txt\n");
    write(root, "ignored.txt", secret);
}

fn sqlite_file(c: &mut Config) {
    if c.database == DatabaseUrl::SqliteMemory {
        c.database = DatabaseUrl::SqliteFile(c.data_dir.join("app.db"));
    }
}

/// The `--database` argument reaching the test server's application database.
fn database_arg(t: &TestApp) -> String {
    match &t.app.config.database {
        DatabaseUrl::SqliteFile(p) => format!("--database=sqlite://{}", p.display()),
        DatabaseUrl::Postgres(url) => format!("--database={url}"),
        DatabaseUrl::SqliteMemory => panic!("the CLI cannot reach an in-memory database"),
    }
}

/// Polls `GET /api/user/current` with `key` until it answers 401; fails after 1 s.
async fn unauthenticated_within_a_second(t: &TestApp, key: &Auth) {
    crate::api_keys_process::poll_within_one_second(
        || t.get("/api/user/current", key),
        |r| r.status == 401,
    )
    .await;
}

async fn leaked_audit(t: &TestApp, admin: &Auth, key: &Key) -> Vec<Value> {
    t.audit(admin, &format!("model=ApiKey&model_id={}", key.id))
        .await
        .into_iter()
        .filter(|e| e["topic"] == "api-key-delete")
        .collect()
}

both!(
    s31_to_s33_scan_report_and_revoke,
    config = sqlite_file,
    |t| async move {
        let admin = t.setup().await;
        let key = create_key(&t, &admin, "Leaky", 2).await;
        let secret = key.secret.clone();
        let tmp = tempfile::tempdir().expect("tmp");
        let root = tmp.path();
        tree_31(&root.join("repo"), &secret);
        let lookalike = look_alike(&secret);
        let secrets = [secret.as_str(), lookalike.as_str()];

        // 31: offline, text.
        let o = scan(root, &["repo"]).await;
        assert_exit(&o, 1);
        let m = masked(&secret);
        assert_eq!(
            stdout(&o),
            format!(
                "repo/a/config.env:1:15: {m}\nrepo/b.txt:2:9: {m}\nrepo/b.txt:3:7: {m}\n\
             3 keys found in 2 files.\n"
            )
        );
        assert_eq!(stderr(&o), "");
        assert_no_secret(&o, &secrets);

        // 32: JSON with the database: id, name and `active` for each finding.
        let db = database_arg(&t);
        let o = scan(root, &["repo", "--format", "json", &db]).await;
        assert_exit(&o, 1);
        assert_no_secret(&o, &secrets);
        let found: Value = serde_json::from_str(&stdout(&o)).expect("json");
        let expected: Vec<Value> = [
            ("repo/a/config.env", 1, 15),
            ("repo/b.txt", 2, 9),
            ("repo/b.txt", 3, 7),
        ]
        .into_iter()
        .map(|(path, line, column)| {
            json!({"path": path, "line": line, "column": column, "masked_key": m,
                   "key_id": key.id, "key_name": "Leaky", "status": "active"})
        })
        .collect();
        assert_eq!(found, Value::Array(expected));

        // 32: SARIF 2.1.0, valid against the official schema, three results.
        let o = scan(root, &["repo", "--format", "sarif", &db]).await;
        assert_exit(&o, 1);
        assert_no_secret(&o, &secrets);
        let log: Value = serde_json::from_str(&stdout(&o)).expect("json");
        assert_valid_sarif(&log);
        let results = log["runs"][0]["results"].as_array().expect("results");
        assert_eq!(results.len(), 3);
        assert!(results.iter().all(|r| r["ruleId"] == "ferrobase/api-key"));
        assert_eq!(
            results[1]["locations"][0]["physicalLocation"],
            json!({"artifactLocation": {"uri": "repo/b.txt"},
               "region": {"startLine": 2, "startColumn": 9, "endLine": 2, "endColumn": 58}})
        );
        assert_eq!(
            log["runs"][0]["tool"]["driver"]["rules"][0]["id"],
            "ferrobase/api-key"
        );

        // 33: --revoke deletes the key while the server runs; the next request with it is 401.
        // Cached on the server first: the other process's write must evict it (PostgreSQL:
        // NOTIFY; SQLite: the server's watcher sees the key epoch move).
        t.get("/api/user/current", &key.auth()).await.assert(200);
        let o = scan(root, &["repo", "--revoke", &db]).await;
        assert_exit(&o, 1);
        assert_no_secret(&o, &secrets);
        let out = stdout(&o);
        assert!(
            out.contains(&format!("Revoked key {} \"Leaky\".", key.id)),
            "{out}"
        );
        assert!(out.ends_with("3 keys found in 2 files.\n"), "{out}");
        unauthenticated_within_a_second(&t, &key.auth()).await;
        assert!(crate::api_keys::list_keys(&t, &admin).await.is_empty());
        let events = leaked_audit(&t, &admin, &key).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["details"]["reason"], "leaked");
        assert_eq!(events[0]["details"]["name"], "Leaky");
        assert_eq!(events[0]["details"]["key_prefix"], &secret[..7]);
        assert_eq!(events[0]["user_id"], Value::Null);

        // 33: a second scan reports the key as revoked-or-unknown, and still exits 1.
        let o = scan(root, &["repo", "--format", "json", "--revoke", &db]).await;
        assert_exit(&o, 1);
        let found: Value = serde_json::from_str(&stdout(&o)).expect("json");
        for f in found.as_array().expect("array") {
            assert_eq!(f["status"], "revoked-or-unknown");
            assert_eq!((&f["key_id"], &f["key_name"]), (&Value::Null, &Value::Null));
            assert_eq!(f["revoked"], false);
        }
        assert_eq!(leaked_audit(&t, &admin, &key).await.len(), 1);
    }
);

both!(
    s34_a_retired_secret_is_reported_and_revoked,
    config = sqlite_file,
    |t| async move {
        let admin = t.setup().await;
        let key = create_key(&t, &admin, "Rotated", 2).await;
        let other = create_key(&t, &admin, "Bystander", 1).await;
        let r = t
            .put(
                &format!("/api/api-key/{}/regenerate", key.id),
                &admin,
                json!({"grace_period_seconds": 3600}),
            )
            .await;
        r.assert(200);
        let fresh = Auth::Key(r.json()["unmasked_key"].as_str().expect("key").to_string());
        let tmp = tempfile::tempdir().expect("tmp");
        write(
            tmp.path(),
            "deploy.yaml",
            &format!("api_key: {}\n", key.secret),
        );
        let db = database_arg(&t);
        let o = scan(tmp.path(), &["--format", "json", &db]).await;
        assert_exit(&o, 1);
        let found: Value = serde_json::from_str(&stdout(&o)).expect("json");
        assert_eq!(found[0]["path"], "deploy.yaml");
        assert_eq!(found[0]["status"], "retired");
        assert_eq!(found[0]["key_id"], key.id);
        assert_eq!(found[0]["key_name"], "Rotated");
        let o = scan(tmp.path(), &["--revoke", &db]).await;
        assert_exit(&o, 1);
        assert_no_secret(&o, &[key.secret.as_str()]);
        assert!(
            stdout(&o).contains(&format!(
                "deploy.yaml:1:10: {} (retired, key {} \"Rotated\")",
                masked(&key.secret),
                key.id
            )),
            "{}",
            stdout(&o)
        );
        assert!(stdout(&o).contains(&format!("Revoked key {} \"Rotated\".", key.id)));
        // The whole key is gone: its new secret too; the other key is untouched.
        t.get("/api/user/current", &fresh).await.assert(401);
        t.get("/api/user/current", &key.auth()).await.assert(401);
        t.get("/api/user/current", &other.auth()).await.assert(200);
        let left: Vec<i64> = crate::api_keys::list_keys(&t, &admin)
            .await
            .iter()
            .map(|k| k["id"].as_i64().expect("id"))
            .collect();
        assert_eq!(left, vec![other.id]);
    }
);

fn assert_valid_sarif(log: &Value) {
    let schema: Value =
        serde_json::from_str(include_str!("../fixtures/sarif-schema-2.1.0.json")).expect("schema");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator.iter_errors(log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "invalid SARIF: {errors:?}");
}

#[test]
fn the_sarif_check_catches_invalid_logs() {
    let schema_rejects = |v: Value| {
        let schema: Value =
            serde_json::from_str(include_str!("../fixtures/sarif-schema-2.1.0.json"))
                .expect("schema");
        !jsonschema::validator_for(&schema)
            .expect("schema")
            .is_valid(&v)
    };
    assert!(schema_rejects(json!({"version": "2.0.0", "runs": []})));
    assert!(schema_rejects(
        json!({"version": "2.1.0", "runs": [{"results": []}]})
    ));
    assert!(!schema_rejects(json!({"version": "2.1.0", "runs": []})));
}

#[tokio::test]
async fn s35_no_key_and_missing_paths() {
    let tmp = tempfile::tempdir().expect("tmp");
    write(
        tmp.path(),
        "src/main.rs",
        "fn main() { println!(\"mb_ is a prefix\"); }\n",
    );
    let o = scan(tmp.path(), &[]).await;
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "0 keys found in 0 files.\n");
    // Offline: nothing was created in the working directory.
    assert!(!tmp.path().join("ferrobase.db").exists());
    let o = scan(tmp.path(), &["src", "no/such/dir"]).await;
    assert_exit(&o, 2);
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no/such/dir"), "{err}");
    let o = scan(tmp.path(), &["--format", "sarif"]).await;
    assert_exit(&o, 0);
    let log: Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_valid_sarif(&log);
    assert_eq!(log["runs"][0]["results"], json!([]));
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let tmp = tempfile::tempdir().expect("tmp");
    for args in [
        &["--revoke"][..],
        &["--format", "xml"],
        &["--database", "sqlite://missing.db"],
        &["--database", "mysql://x/y"],
    ] {
        let o = scan(tmp.path(), args).await;
        assert_exit(&o, 2);
        assert!(!stderr(&o).is_empty(), "{args:?}");
    }
    assert!(!tmp.path().join("missing.db").exists());
}

/// Hidden files are scanned, `.git` and binary files are not, an explicit file is scanned
/// even when ignored, and `.ignore` files count too.
#[tokio::test]
async fn what_is_walked() {
    let secret = ferrobase::api_keys::format::generate_os();
    let s = secret.expose();
    let tmp = tempfile::tempdir().expect("tmp");
    let root = tmp.path();
    write(root, ".env", &format!("KEY={s}\n"));
    write(root, ".git/config", &format!("token = {s}\n"));
    write(root, "blob.bin", &format!("\0\0{s}"));
    write(root, "logs/.ignore", "*.log\n");
    write(root, "logs/today.log", s);
    write(root, "nested/.gitignore", "/secret.txt\n");
    write(root, "nested/secret.txt", s);
    write(root, "nested/deeper/secret.txt", &format!("x{s}y"));
    let o = scan(root, &["."]).await;
    assert_exit(&o, 1);
    assert_no_secret(&o, &[s]);
    let m = masked(s);
    assert_eq!(
        stdout(&o),
        format!(".env:1:5: {m}\nnested/deeper/secret.txt:1:2: {m}\n2 keys found in 2 files.\n")
    );
    let o = scan(root, &["logs/today.log"]).await;
    assert_exit(&o, 1);
    assert_eq!(
        stdout(&o),
        format!("logs/today.log:1:1: {m}\n1 key found in 1 file.\n")
    );
}

/// A file that cannot be read is reported on standard error and the scan goes on: exit 3
/// without keys, 1 with keys.
#[tokio::test]
async fn unreadable_files_exit_3() {
    let tmp = tempfile::tempdir().expect("tmp");
    write(tmp.path(), "tree/ok.txt", "nothing here\n");
    let locked = tmp.path().join("locked.txt");
    write(tmp.path(), "locked.txt", "secret-free");
    std::fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000))
        .expect("chmod");
    // root reads anything; a /proc file without a read operation fails for root too.
    let unreadable = if std::fs::read(&locked).is_err() {
        locked.display().to_string()
    } else if std::fs::read("/proc/self/clear_refs").is_err() {
        "/proc/self/clear_refs".to_string()
    } else {
        eprintln!("skipped: no unreadable file available");
        return;
    };
    let o = scan(tmp.path(), &["tree", &unreadable]).await;
    assert_exit(&o, 3);
    assert_eq!(stdout(&o), "0 keys found in 0 files.\n");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains(&unreadable), "{err}");
    let secret = ferrobase::api_keys::format::generate_os();
    write(tmp.path(), "tree/leak.txt", secret.expose());
    let o = scan(tmp.path(), &["tree", &unreadable]).await;
    assert_exit(&o, 1);
    assert!(stderr(&o).contains(&unreadable));
    assert!(stdout(&o).ends_with("1 key found in 1 file.\n"));
}
