//! serialization.md: dashboard questions on tabs (§5.1 step 4), export failures (§2.1),
//! placeholder users (§5.2) and settings (§4.7), on both backends.
use serde_json::json;

use crate::api_keys::create_key;
use crate::both;
use crate::cards::native;
use crate::dashboards::{dashboard, put_ok};
use crate::serialization::{eid, export};
use crate::serialization_import::{files_of, import, log_lines, setup_b, with_b};
use crate::support::TestApp;

both!(
    dashboard_questions_keep_their_tab_through_a_round_trip,
    |t| async move {
        let admin = t.setup().await;
        let key = create_key(&t, &admin, "Admin key", 2).await.auth();
        let d = dashboard(&t, &admin, "Board", None).await;
        let v = put_ok(
            &t,
            &admin,
            &d,
            json!({"tabs": [{"id": -1, "name": "One"}, {"id": -2, "name": "Two"}]}),
        )
        .await;
        let tabs = v["tabs"].clone();
        let r = t
            .post(
                "/api/card",
                &admin,
                json!({"name": "Inside", "dataset_query": native("select 1"), "display": "table",
                       "visualization_settings": {}, "dashboard_id": d["id"],
                       "dashboard_tab_id": tabs[1]["id"]}),
            )
            .await;
        r.assert(200);
        let q = r.json();
        put_ok(
            &t,
            &admin,
            &d,
            json!({"tabs": tabs,
                   "dashcards": [{"id": -1, "card_id": q["id"], "dashboard_tab_id": tabs[1]["id"],
                                  "row": 0, "col": 0, "size_x": 4, "size_y": 4}]}),
        )
        .await;
        let archive = export(&t, &key, "?dirname=x").await;
        assert_eq!(archive.status, 200);
        let files = files_of(&archive.body);
        let card_file = files
            .iter()
            .find(|(k, _)| k.contains(&eid(&q)))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            .expect("card file");
        let two = tabs[1]["entity_id"].as_str().expect("tab eid").to_string();
        assert!(card_file.contains(&two), "{card_file}");

        with_b(t.backend, |b| async move {
            let (badmin, bkey) = setup_b(&b).await;
            let r = import(&b, &bkey, "", Some(("file", &archive.body))).await;
            assert_eq!(r.status, 200, "{}", r.text());
            let bq = b
                .get(&format!("/api/card/{}", eid(&q)), &badmin)
                .await
                .json();
            let bd = b
                .get(&format!("/api/dashboard/{}", bq["dashboard_id"]), &badmin)
                .await
                .json();
            let btwo = bd["tabs"]
                .as_array()
                .expect("tabs")
                .iter()
                .find(|x| x["entity_id"] == two.as_str())
                .cloned()
                .expect("tab Two on B");
            assert_eq!(bq["dashboard_tab_id"], btwo["id"]);
            assert_eq!(bd["dashcards"][0]["card_id"], bq["id"]);
            assert_eq!(bd["dashcards"][0]["dashboard_tab_id"], btwo["id"]);
            // The export from B equals A's, and a second import changes nothing.
            let again = export(&b, &bkey, "?dirname=x").await;
            let fb = files_of(&again.body);
            for (k, v) in &files {
                if k == "settings.yaml" {
                    continue;
                }
                assert_eq!(
                    String::from_utf8_lossy(v),
                    String::from_utf8_lossy(fb.get(k).expect(k)),
                    "{k}"
                );
            }
            let r = import(&b, &bkey, "", Some(("file", &archive.body))).await;
            assert_eq!(r.status, 200);
            let lines = log_lines(&r);
            assert!(
                lines[..lines.len() - 1]
                    .iter()
                    .all(|l| l.starts_with("unchanged ")),
                "{lines:?}"
            );
        })
        .await;
    }
);

// A dashboard question naming a tab that is neither on the server nor in the archive fails.
both!(
    a_dashboard_question_on_an_unknown_tab_fails,
    |t| async move {
        let admin = t.setup().await;
        let key = create_key(&t, &admin, "Admin key", 2).await.auth();
        let d = dashboard(&t, &admin, "Board", None).await;
        let r = t
            .post(
                "/api/card",
                &admin,
                json!({"name": "Inside", "dataset_query": native("select 1"), "display": "table",
                       "visualization_settings": {}, "dashboard_id": d["id"]}),
            )
            .await;
        r.assert(200);
        let q = r.json();
        let archive = export(&t, &key, "?dirname=x").await;
        let mut files = files_of(&archive.body);
        let (path, text) = files
            .iter()
            .find(|(k, _)| k.contains(&eid(&q)))
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
            .expect("card file");
        let bad = text.replace(
            "dashboard_tab_id: null",
            &format!("dashboard_tab_id:\n- {}\n- NoSuchTabNoSuchTab000", eid(&d)),
        );
        assert_ne!(bad, text);
        files.insert(path, bad.into_bytes());
        let tgz = ferrobase::serialization::archive::pack("x", &files).expect("pack");
        let r = import(&t, &key, "", Some(("file", &tgz))).await;
        assert_eq!(r.status, 400, "{}", r.text());
        assert!(r.text().contains(&format!(
            "failed Card {}: DashboardTab 'NoSuchTabNoSuchTab000' was not found",
            eid(&q)
        )));
    }
);

/// Stores `text` as a card's `visualization_settings` without any check, as a damaged database
/// would hold it.
async fn corrupt_card(t: &TestApp, id: i64, text: &str) {
    let mut tx = t.app.store.begin().await.expect("tx");
    let mut row = tx.card_get(id).await.expect("read").expect("card");
    row.visualization_settings = text.into();
    tx.card_update(&row).await.expect("write");
    tx.commit().await.expect("commit");
}

fn cli_export(t: &TestApp, dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ferrobase"))
        .args(["export", dir.to_str().expect("utf-8")])
        .arg(crate::serialization_lock::database_arg(t))
        .args(extra)
        .env_remove("FERROBASE_DATABASE_URL")
        .env_remove("MB_DB_CONNECTION_URI")
        .output()
        .expect("run ferrobase")
}

both!(
    s2_1_unreadable_stored_data_fails_the_export_with_500_and_the_log,
    config = crate::serialization_lock::file_database,
    |t| async move {
        let admin = t.setup().await;
        let key = create_key(&t, &admin, "Admin key", 2).await.auth();
        let good = crate::cards::card(&t, &admin, "Good", None).await;
        let bad = crate::cards::card(&t, &admin, "Bad", None).await;
        corrupt_card(&t, bad["id"].as_i64().expect("id"), "{not json").await;
        let failed = format!(
            "failed Card {}: the stored visualization_settings is not valid JSON",
            eid(&bad)
        );

        let r = export(&t, &key, "?dirname=x").await;
        assert_eq!(r.status, 500, "{}", r.text());
        assert!(r.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain"));
        let log = r.text();
        let lines: Vec<&str> = log.lines().collect();
        assert!(lines.contains(&failed.as_str()), "{log}");
        assert!(!log.contains("caused by:"), "{log}");
        assert!(
            lines
                .last()
                .is_some_and(|l| l.starts_with("summary: ") && l.ends_with(", 0 skipped, 1 failed")),
            "{log}"
        );
        assert!(
            log.contains(&format!("exported Card {}", eid(&good))),
            "{log}"
        );
        // full_stacktrace adds the cause.
        let r = export(&t, &key, "?dirname=x&full_stacktrace=true").await;
        assert_eq!(r.status, 500);
        let log = r.text();
        let at = log.find(&failed).expect("failed line");
        assert!(
            log[at..]
                .lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("  caused by: ")),
            "{log}"
        );
        // continue_on_error: the card is left out and logged; everything else is exported.
        let r = export(&t, &key, "?dirname=x&continue_on_error=true").await;
        assert_eq!(r.status, 200, "{}", r.text());
        let files = files_of(&r.body);
        assert!(files.keys().any(|k| k.contains(&eid(&good))));
        assert!(!files.keys().any(|k| k.contains(&eid(&bad))));
        let log = String::from_utf8_lossy(&files["export.log"]).into_owned();
        assert!(log.lines().any(|l| l == failed), "{log}");
        assert!(log.ends_with(", 0 skipped, 1 failed\n"), "{log}");

        // The command line: exit 1 and nothing written; with -e, exit 3 and the tree.
        let tmp = tempfile::tempdir().expect("tmp");
        let out = tmp.path().join("out");
        let o = cli_export(&t, &out, &[]);
        assert_eq!(o.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&o.stdout).contains(&failed));
        assert!(!out.join("export.log").exists());
        let o = cli_export(&t, &out, &["-e"]);
        assert_eq!(
            o.status.code(),
            Some(3),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(std::fs::read_to_string(out.join("export.log"))
            .expect("export.log")
            .contains(&failed));
    }
);

both!(
    s20_placeholder_users_get_an_unusable_random_password,
    |t| async move {
        let admin = t.setup().await;
        let key = create_key(&t, &admin, "Admin key", 2).await.auth();
        let mut f = std::collections::BTreeMap::new();
        for (eid, email) in [
            ("GGGGGGGGGGGGGGGGGGGGG", "ghost@example.com"),
            ("HHHHHHHHHHHHHHHHHHHHH", "shade@example.com"),
        ] {
            f.insert(
                format!("collections/cards/{eid}_x.yaml"),
                crate::serialization_import::card_yaml(eid, "Ghostly", "null", email).into_bytes(),
            );
        }
        let tgz = ferrobase::serialization::archive::pack("x", &f).expect("pack");
        let r = import(&t, &key, "", Some(("file", &tgz))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let mut hashes = Vec::new();
        for email in ["ghost@example.com", "shade@example.com"] {
            let mut tx = t.app.store.read().await.expect("tx");
            let u = tx
                .user_get_by_email(email)
                .await
                .expect("read")
                .expect("placeholder");
            tx.commit().await.expect("commit");
            assert!(!u.is_active);
            let hash = u.password_hash.clone().expect("a password hash, not null");
            assert!(hash.starts_with("$argon2id$"), "{hash}");
            hashes.push((u.id, hash));
        }
        assert_ne!(
            hashes[0].1, hashes[1].1,
            "each placeholder has its own random hash"
        );
        // Nobody can log in as a placeholder: not while inactive, and not after an admin
        // reactivates it without setting a password.
        let login = |password: &'static str| {
            let t = t.clone();
            async move {
                t.post(
                    "/api/session",
                    &crate::support::Auth::None,
                    json!({"username": "ghost@example.com", "password": password}),
                )
                .await
            }
        };
        assert_eq!(login("anything-at-all").await.status, 401);
        t.put(
            &format!("/api/user/{}/reactivate", hashes[0].0),
            &admin,
            json!({}),
        )
        .await
        .assert(200);
        for password in ["", "password", "ghost@example.com"] {
            let r = login(password).await;
            assert_ne!(r.status, 200, "{password:?} logged in");
        }
        let r = login("blue7-ferret-orbit").await;
        assert_eq!(r.status, 401);
        assert_eq!(
            r.json()["errors"]["password"],
            "did not match stored password"
        );
    }
);

/// A `settings.yaml`-only archive.
fn settings_archive(yaml: &str) -> Vec<u8> {
    let mut f = std::collections::BTreeMap::new();
    f.insert("settings.yaml".to_string(), yaml.as_bytes().to_vec());
    ferrobase::serialization::archive::pack("x", &f).expect("pack")
}

both!(
    s41_imported_settings_are_validated_like_put_api_setting,
    |t| async move {
        let admin = t.setup().await;
        let key = create_key(&t, &admin, "Admin key", 2).await.auth();
        let put = |k: &'static str, v: serde_json::Value| {
            let t = t.clone();
            let admin = admin.clone();
            async move {
                t.put(&format!("/api/setting/{k}"), &admin, json!({ "value": v }))
                    .await
            }
        };
        let get = |k: &'static str| {
            let t = t.clone();
            let admin = admin.clone();
            async move { t.get(&format!("/api/setting/{k}"), &admin).await.json() }
        };
        put("site-locale", json!("fr")).await.assert(204);
        let archive = settings_archive(
            "aggregated-query-row-limit: 0\nbogus-setting: 1\ndownload-row-limit: 5000\n\
             humanization-strategy: fancy\nreport-timezone: not a zone\nsite-locale: null\n\
             site-name: Acme Two\nstart-of-week: monday\nunaggregated-query-row-limit: '2000'\n",
        );
        let r = import(
            &t,
            &key,
            "?continue_on_error=true",
            Some(("file", &archive)),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text());
        let lines = log_lines(&r);
        // Each invalid value fails with the message PUT /api/setting/:key gives for it.
        for (k, v) in [
            ("aggregated-query-row-limit", json!(0)),
            ("humanization-strategy", json!("fancy")),
            ("report-timezone", json!("not a zone")),
            ("unaggregated-query-row-limit", json!("2000")),
        ] {
            let p = put(k, v).await;
            assert_eq!(p.status, 400, "{k}");
            let message = p.json()["errors"]["value"]
                .as_str()
                .expect("message")
                .to_string();
            let line = format!("failed Setting {k}: {message}");
            assert!(lines.contains(&line), "{line} missing from {lines:?}");
        }
        for l in [
            "skipped Setting bogus-setting: unknown setting",
            "updated Setting download-row-limit",
            "updated Setting site-locale",
            "updated Setting site-name",
            "updated Setting start-of-week",
        ] {
            assert!(lines.contains(&l.to_string()), "{l} missing from {lines:?}");
        }
        assert_eq!(
            lines.last().map(String::as_str),
            Some("summary: 0 created, 4 updated, 0 unchanged, 1 skipped, 4 failed")
        );
        assert_eq!(get("download-row-limit").await, json!(5000));
        assert_eq!(get("site-name").await, json!("Acme Two"));
        assert_eq!(get("start-of-week").await, json!("monday"));
        assert_eq!(
            get("site-locale").await,
            json!("en"),
            "null restores the default"
        );
        assert_eq!(get("aggregated-query-row-limit").await, json!(10000));
        assert_eq!(get("humanization-strategy").await, json!("simple"));
        // Again: the valid ones are unchanged now.
        let r = import(
            &t,
            &key,
            "?continue_on_error=true",
            Some(("file", &archive)),
        )
        .await;
        assert!(log_lines(&r).contains(&"unchanged Setting site-name".to_string()));
        // Without continue_on_error the first invalid setting stops the import.
        put("download-row-limit", json!(null)).await.assert(204);
        let r = import(&t, &key, "", Some(("file", &archive))).await;
        assert_eq!(r.status, 400, "{}", r.text());
        let lines = log_lines(&r);
        assert!(lines[0].starts_with("failed Setting aggregated-query-row-limit: "));
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(get("download-row-limit").await, json!(null));
    }
);
