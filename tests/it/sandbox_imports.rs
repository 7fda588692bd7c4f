//! Issue #11, "imports must be a sandbox": archives and settings written by an attacker who holds
//! an admin key. Each test attacks over HTTP, as the rows describe (7: YAML bombs,
//! 9: values too deep to read back, 10: unbounded settings, and databases an archive names), and
//! checks the server refuses in the spec's shapes and keeps serving. Row 8 (memory) and the
//! process-level runs under an address-space limit are in `sandbox_imports_process.rs`.
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ferrobase::config::Config;
use ferrobase::serialization::archive::pack;
use ferrobase::store::DatabaseUrl;
use serde_json::{json, Value};

use crate::both;
use crate::serialization::export;
use crate::serialization_import::import;
use crate::support::{Auth, TestApp};

/// `x/<path>` → `data` for each file, packed as a `.tar.gz`.
pub fn archive(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let map: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(p, d)| (p.to_string(), d.clone()))
        .collect();
    pack("x", &map).expect("pack")
}

/// The three YAML bombs of row 7: (name, file content, the reader's refusal).
pub fn yaml_bombs() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let deep = "- ".repeat(2000) + "x\n";
    let mut laughs = "l0: &l0 lol\n".to_string();
    for i in 1..=6 {
        let refs = vec![format!("*l{}", i - 1); 10].join(", ");
        laughs.push_str(&format!("l{i}: &l{i} [{refs}]\n"));
    }
    let anchor = format!(
        "a: &a {}\nb: [{}]\n",
        "x".repeat(1 << 20),
        vec!["*a"; 2000].join(", ")
    );
    vec![
        ("deep", deep.into_bytes(), "nests deeper than 128 levels"),
        (
            "laughs",
            laughs.into_bytes(),
            "anchors and aliases expand beyond",
        ),
        (
            "anchor",
            anchor.into_bytes(),
            "anchors and aliases expand beyond",
        ),
    ]
}

/// A native card in the root collection whose `visualization_settings` nest `depth` maps deep.
pub fn deep_card(eid: &str, depth: usize) -> Vec<u8> {
    let vis = "{a: ".repeat(depth) + "1" + &"}".repeat(depth);
    format!(
        "name: Deep\nentity_id: {eid}\ndisplay: table\ndataset_query:\n  database: Sample Database\n  \
         type: native\n  native:\n    query: select 1\nvisualization_settings: {vis}\n\
         serdes/meta:\n  - id: {eid}\n    label: deep\n    model: Card\n"
    )
    .into_bytes()
}

#[track_caller]
fn assert_status(r: &crate::serialization::Raw, status: u16) -> String {
    let text = r.text();
    assert_eq!(r.status, status, "{text}");
    text
}

async fn healthy(t: &TestApp) {
    t.get("/api/health", &Auth::None).await.assert(200);
}

both!(
    row7_yaml_bombs_are_refused_in_milliseconds,
    |t| async move {
        let admin = t.setup().await;
        for (name, yaml, refusal) in yaml_bombs() {
            let path = format!("collections/{name}.yaml");
            let body = archive(&[(&path, yaml)]);
            // Compressed, each bomb is a few kilobytes at most.
            assert!(body.len() < 8 << 10, "{name}: {}", body.len());
            for query in ["", "?continue_on_error=true"] {
                let start = Instant::now();
                let r = import(&t, &admin, query, Some(("file", &body))).await;
                let took = start.elapsed();
                // An unreadable file fails as an entity of its own (serialization.md §5.1 step 2):
                // `400`, or `200` with the failure logged under continue_on_error (§3.3).
                let text = assert_status(&r, if query.is_empty() { 400 } else { 200 });
                let line = text
                    .lines()
                    .find(|l| l.starts_with(&format!("failed File {path}: ")))
                    .unwrap_or_else(|| panic!("{name}: {text}"));
                assert!(line.contains(refusal), "{name}: {line}");
                assert!(text.ends_with("0 skipped, 1 failed\n"), "{text}");
                // Seconds to minutes (or a dead process) before; unoptimised test builds included.
                assert!(took < Duration::from_secs(3), "{name}: {took:?}");
                healthy(&t).await;
            }
        }
    }
);

both!(
    row9_values_too_deep_to_read_back_are_refused,
    |t| async move {
        let admin = t.setup().await;
        let before = t.get("/api/card", &admin).await.json();
        // 110 levels: the YAML is readable, the stored value would not be (limit 100).
        let eid = "DEEPdeepDEEPdeepDEEP1";
        let body = archive(&[("collections/cards/deep.yaml", deep_card(eid, 110))]);
        let r = import(&t, &admin, "", Some(("file", &body))).await;
        let text = assert_status(&r, 400);
        assert!(
            text.contains(&format!(
                "failed Card {eid}: visualization_settings is nested deeper than 100 levels"
            )),
            "{text}"
        );
        // 200 levels, the example: refused by the reader, as a file.
        let body = archive(&[("collections/cards/deep.yaml", deep_card(eid, 200))]);
        let r = import(&t, &admin, "?continue_on_error=true", Some(("file", &body))).await;
        let text = assert_status(&r, 200);
        assert!(
            text.contains(
                "failed File collections/cards/deep.yaml: the YAML nests deeper than 128"
            ),
            "{text}"
        );
        // Never stored: the cards are as before, and every read still works.
        let cards = t.get("/api/card", &admin).await;
        cards.assert(200);
        assert_eq!(cards.json(), before);
        let r = export(&t, &admin, "?dirname=x").await;
        assert_eq!(r.status, 200, "{}", r.text());
        // At the limit the card loads, reads back whole, and exports and imports again.
        let body = archive(&[("collections/cards/deep.yaml", deep_card(eid, 100))]);
        let text = assert_status(&import(&t, &admin, "", Some(("file", &body))).await, 200);
        assert!(text.contains(&format!("created Card {eid}")), "{text}");
        let cards = t.get("/api/card", &admin).await.json();
        let card = cards
            .as_array()
            .expect("cards")
            .iter()
            .find(|c| c["entity_id"] == eid)
            .expect("the card")
            .clone();
        let mut v = &card["visualization_settings"];
        let mut depth = 0;
        while let Some(inner) = v.get("a") {
            depth += 1;
            v = inner;
        }
        assert_eq!((depth, v), (100, &json!(1)));
        let r = export(&t, &admin, "?dirname=x").await;
        assert_eq!(r.status, 200, "{}", r.text());
        let r = import(&t, &admin, "", Some(("file", &r.body))).await;
        assert_status(&r, 200);
    }
);

const TOO_LONG: &str = "value must be a string of at most 10000 characters.";
const NO_NUL: &str = "value must not contain NUL characters.";

both!(row10_string_settings_are_bounded, |t| async move {
    let admin = t.setup().await;
    let site_name = || async {
        t.get("/api/session/properties", &Auth::None).await.json()["site-name"].clone()
    };
    assert_eq!(site_name().await, json!("Acme"));
    let refused = |msg: &str| json!({"errors": {"value": msg}});
    // The 900 KB name, one character over the cap, and a NUL.
    for (value, msg) in [
        ("n".repeat(900_000), TOO_LONG),
        ("n".repeat(10_001), TOO_LONG),
        ("Acme\u{0}Labs".to_string(), NO_NUL),
    ] {
        let r = t
            .put("/api/setting/site-name", &admin, json!({ "value": value }))
            .await;
        r.assert(400);
        assert_eq!(r.json(), refused(msg));
        let r = t
            .put("/api/setting", &admin, json!({ "site-name": value }))
            .await;
        r.assert(400);
        assert_eq!(r.json(), refused(msg));
        assert_eq!(site_name().await, json!("Acme"));
    }
    // Every string setting, not only the site name.
    let r = t
        .put(
            "/api/setting/report-timezone",
            &admin,
            json!({"value": "UTC\u{0}"}),
        )
        .await;
    r.assert(400);
    assert_eq!(r.json(), refused(NO_NUL));
    // The cap counts characters: 10,000 two-byte characters are fine.
    let longest = "é".repeat(10_000);
    t.put(
        "/api/setting/site-name",
        &admin,
        json!({ "value": longest }),
    )
    .await
    .assert(204);
    assert_eq!(site_name().await, json!(longest));
    // settings.yaml in an import goes through the same check (§4.7).
    for (yaml, msg) in [
        (format!("site-name: {}\n", "n".repeat(10_001)), TOO_LONG),
        ("site-name: \"Acme\\0Labs\"\n".to_string(), NO_NUL),
    ] {
        let body = archive(&[("settings.yaml", yaml.into_bytes())]);
        let r = import(&t, &admin, "", Some(("file", &body))).await;
        let text = assert_status(&r, 400);
        assert!(
            text.contains(&format!("failed Setting site-name: {msg}")),
            "{text}"
        );
        assert_eq!(site_name().await, json!(longest));
    }
});

/// A SQLite database file with one table.
pub fn sqlite_file(path: &Path) {
    let c = rusqlite::Connection::open(path).expect("open");
    c.execute_batch("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
        .expect("create");
}

fn database_yaml(name: &str, details: Option<Value>) -> Vec<u8> {
    let details = match details {
        Some(d) => format!("details: {d}\n"),
        None => String::new(),
    };
    format!(
        "name: {name}\nengine: sqlite\n{details}created_at: '2025-03-04T05:06:07Z'\n\
         serdes/meta:\n  - id: {name}\n    model: Database\n"
    )
    .into_bytes()
}

/// The directory `--sqlite-allowed-dir` names in [`databases_in_an_archive`]: next to the
/// data directory, so both the configuration and the test body can find it.
fn allowed_dir(data_dir: &Path) -> PathBuf {
    data_dir.with_extension("allowed")
}

/// On SQLite the application database is a file outside the data directory, so only the
/// "application database" rule can refuse it.
fn app_db_file(data_dir: &Path) -> PathBuf {
    data_dir.with_extension("app.db")
}

fn configure_databases(c: &mut Config) {
    c.sqlite_allowed_dirs = vec![allowed_dir(&c.data_dir)];
    if matches!(c.database, DatabaseUrl::SqliteMemory) {
        c.database = DatabaseUrl::SqliteFile(app_db_file(&c.data_dir));
    }
}

async fn database_names(t: &TestApp, admin: &Auth) -> Vec<String> {
    let r = t.get("/api/database", admin).await;
    r.assert(200);
    r.json()["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|d| d["name"].as_str().expect("name").to_string())
        .collect()
}

both!(
    databases_in_an_archive_pass_the_checks_of_post_database,
    config = configure_databases,
    |t| async move {
        let admin = t.setup().await;
        let data_dir = t.data_dir.path().to_path_buf();
        let allowed = allowed_dir(&data_dir);
        let outside = data_dir.with_extension("outside");
        std::fs::create_dir_all(&allowed).expect("mkdir");
        std::fs::create_dir_all(&outside).expect("mkdir");
        let good = allowed.join("good.sqlite");
        sqlite_file(&good);
        sqlite_file(&outside.join("other.sqlite"));
        std::fs::write(allowed.join("notes.sqlite"), "not a database").expect("write");
        // On PostgreSQL there is no application SQLite file: a SQLite file in the data
        // directory stands for it (the same rule refuses both).
        let app_file = match t.backend {
            crate::support::Backend::Sqlite => app_db_file(&data_dir),
            crate::support::Backend::Postgres => {
                let f = data_dir.join("inside.sqlite");
                sqlite_file(&f);
                f
            }
        };
        let path = |p: &Path| json!({"db": p.to_string_lossy()});
        let hostile = [
            ("AppDb", path(&app_file), "ferrobase's application database"),
            (
                "Relative",
                json!({"db": "good.sqlite"}),
                "db: The SQLite file path must be absolute.",
            ),
            (
                "Outside",
                path(&outside.join("other.sqlite")),
                "db: The file must lie in a directory allowed by --sqlite-allowed-dir.",
            ),
            ("NotSqlite", path(&allowed.join("notes.sqlite")), ""),
        ];
        let before = database_names(&t, &admin).await;
        for (name, details, msg) in &hostile {
            let file = format!("databases/{name}/{name}.yaml");
            let body = archive(&[(&file, database_yaml(name, Some(details.clone())))]);
            let r = import(&t, &admin, "", Some(("file", &body))).await;
            let text = assert_status(&r, 400);
            let prefix = format!("failed Database {name}: ");
            let line = text
                .lines()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_else(|| panic!("{text}"));
            assert!(line.contains(msg), "{line}");
        }
        assert_eq!(database_names(&t, &admin).await, before);
        // All at once under continue_on_error, next to a good one: only the good one is created.
        let mut files: Vec<(String, Vec<u8>)> = hostile
            .iter()
            .map(|(n, d, _)| {
                (
                    format!("databases/{n}/{n}.yaml"),
                    database_yaml(n, Some(d.clone())),
                )
            })
            .collect();
        files.push((
            "databases/Good/Good.yaml".into(),
            database_yaml("Good", Some(path(&good))),
        ));
        let refs: Vec<(&str, Vec<u8>)> =
            files.iter().map(|(p, d)| (p.as_str(), d.clone())).collect();
        let body = archive(&refs);
        let text = assert_status(
            &import(&t, &admin, "?continue_on_error=true", Some(("file", &body))).await,
            200,
        );
        assert!(text.contains("created Database Good"), "{text}");
        assert!(
            text.ends_with("1 created, 0 updated, 0 unchanged, 0 skipped, 4 failed\n"),
            "{text}"
        );
        let mut expected = before.clone();
        expected.push("Good".into());
        expected.sort_by_key(|n| n.to_lowercase());
        assert_eq!(database_names(&t, &admin).await, expected);
        // Unchanged details need no connection test: the file may even be gone meanwhile.
        std::fs::remove_file(&good).expect("rm");
        let body = archive(&[(
            "databases/Good/Good.yaml",
            database_yaml("Good", Some(path(&good))),
        )]);
        let text = assert_status(&import(&t, &admin, "", Some(("file", &body))).await, 200);
        assert!(text.contains("unchanged Database Good"), "{text}");
        // Changing an existing database's connection is checked too, and changes nothing.
        let body = archive(&[(
            "databases/Good/Good.yaml",
            database_yaml("Good", Some(path(&app_file))),
        )]);
        let text = assert_status(&import(&t, &admin, "", Some(("file", &body))).await, 400);
        assert!(text.contains("failed Database Good: "), "{text}");
        let dbs = t.get("/api/database", &admin).await.json();
        let good_db = dbs["data"]
            .as_array()
            .expect("data")
            .iter()
            .find(|d| d["name"] == "Good")
            .expect("Good")
            .clone();
        assert_eq!(good_db["details"]["db"], json!(good.to_string_lossy()));
        // The Sample Database is never re-targeted by an archive.
        sqlite_file(&good);
        let sample_before = t.get("/api/database/1", &admin).await.json()["details"].clone();
        let body = archive(&[(
            "databases/Sample Database/Sample Database.yaml",
            "name: Sample Database\nengine: sqlite\nis_sample: true\ndetails:\n  db: "
                .bytes()
                .chain(good.to_string_lossy().bytes())
                .chain("\nserdes/meta:\n  - id: Sample Database\n    model: Database\n".bytes())
                .collect(),
        )]);
        let text = assert_status(&import(&t, &admin, "", Some(("file", &body))).await, 200);
        assert!(
            text.contains("warning: database Sample Database keeps its local connection"),
            "{text}"
        );
        let sample = t.get("/api/database/1", &admin).await.json();
        assert_eq!(sample["details"], sample_before);
        assert_eq!(sample["is_sample"], json!(true));
        for dir in [&allowed, &outside] {
            let _ = std::fs::remove_dir_all(dir);
        }
        if t.backend == crate::support::Backend::Sqlite {
            for suffix in ["", "-wal", "-shm"] {
                let mut p = app_file.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(p);
            }
        }
    }
);
