//! serialization.md §10: import rules (scenarios 27, 29–32, 39, 40, 42, 43, 46) on both backends.
use std::collections::BTreeMap;

use ferrobase::serialization::archive::pack;
use ferrobase::serialization::yaml::{emit_document, parse};
use serde_json::json;

use crate::both;
use crate::serialization::{eid, export, server_a};
use crate::serialization_import::{import, with_b};
use crate::support::{Auth, TestApp};

fn files_of(gz: &[u8]) -> BTreeMap<String, Vec<u8>> {
    crate::serialization::unpack(gz)
        .into_iter()
        .filter(|(k, _)| !k.ends_with('/'))
        .map(|(k, v)| (k.split_once('/').map(|x| x.1.to_string()).unwrap_or(k), v))
        .collect()
}

fn text(files: &BTreeMap<String, Vec<u8>>, path: &str) -> String {
    String::from_utf8(files[path].clone()).expect("utf-8")
}

fn card_file(eid: &str, collection: &str, query: &str) -> Vec<u8> {
    format!(
        "name: C{eid}\nentity_id: {eid}\ncreator_id: ada@example.com\ndisplay: table\n\
         collection_id: {collection}\ndataset_query:\n{query}\
         serdes/meta:\n  - id: {eid}\n    label: c\n    model: Card\n"
    )
    .into_bytes()
}

async fn b_admin(b: &TestApp) -> (Auth, Auth) {
    let admin = b.setup().await;
    let key = crate::api_keys::create_key(b, &admin, "Admin key", 2)
        .await
        .auth();
    (admin, key)
}

both!(
    s29_s30_s39_s42_s43_s46_engines_versions_order_cycles,
    |t| async move {
        let a = server_a(&t).await;
        let mut files = files_of(&export(&t, &a.key, "?dirname=x").await.body);
        let s = eid(&a.s);
        let sample = "databases/Sample Database/Sample Database.yaml";
        let sd = text(&files, sample).replace("engine: sqlite", "engine: h2");
        files.insert(sample.into(), sd.into_bytes());
        // 30
        files.insert(
            "databases/Legacy/Legacy.yaml".into(),
            b"name: Legacy\nengine: mysql\nserdes/meta:\n  - id: Legacy\n    model: Database\n"
                .to_vec(),
        );
        files.insert(
            "collections/cards/LLLLLLLLLLLLLLLLLLLLL_l.yaml".into(),
            card_file(
                "LLLLLLLLLLLLLLLLLLLLL",
                &s,
                "  database: Legacy\n  type: native\n  native:\n    query: select 1\n",
            ),
        );
        // 39
        let r_path = files
            .keys()
            .find(|k| k.contains(&eid(&a.r)))
            .cloned()
            .expect("R");
        let rt = text(&files, &r_path).replace(
            "metabase_version: v0.58.0 (ferrobase 0.1.0)",
            "metabase_version: v0.52.3",
        );
        files.insert(r_path, rt.into_bytes());
        // 42: a dashboard before its card in path order.
        files.insert(
            "collections/aa/dashboards/DDDDDDDDDDDDDDDDDDDDD_d.yaml".into(),
            format!(
                "name: Early\nentity_id: DDDDDDDDDDDDDDDDDDDDD\ncollection_id: {s}\n\
                 dashcards:\n  - entity_id: dcdcdcdcdcdcdcdcdcdcd\n    card_id: XXXXXXXXXXXXXXXXXXXXX\n\
                 \x20   row: 0\n    col: 0\n    size_x: 4\n    size_y: 4\n\
                 serdes/meta:\n  - id: DDDDDDDDDDDDDDDDDDDDD\n    label: d\n    model: Dashboard\n"
            )
            .into_bytes(),
        );
        files.insert(
            "collections/zz/cards/XXXXXXXXXXXXXXXXXXXXX_x.yaml".into(),
            card_file(
                "XXXXXXXXXXXXXXXXXXXXX",
                &s,
                "  database: Sample Database\n  type: native\n  native:\n    query: select 2\n",
            ),
        );
        // 43: two cards using each other.
        for (me, other) in [
            ("AAAAAAAAAAAAAAAAAAAA1", "BBBBBBBBBBBBBBBBBBBB2"),
            ("BBBBBBBBBBBBBBBBBBBB2", "AAAAAAAAAAAAAAAAAAAA1"),
        ] {
            files.insert(
                format!("collections/cards/{me}_c.yaml"),
                card_file(
                    me,
                    &s,
                    &format!(
                        "  database: Sample Database\n  type: native\n  native:\n    query: select 3\n\
                         \x20   template-tags:\n      t:\n        card-id: {other}\n        type: card\n"
                    ),
                ),
            );
        }
        let gz = pack("x", &files).expect("pack");
        let backend = t.backend;
        with_b(backend, |b| async move {
            let (badmin, bkey) = b_admin(&b).await;
            let r = import(&b, &bkey, "?continue_on_error=true&full_stacktrace=true", Some(("file", &gz))).await;
            assert_eq!(r.status, 200, "{}", r.text());
            let log = r.text();
            // 29
            assert!(
                log.lines().any(|l| l.starts_with("warning:") && l.contains("'h2'")),
                "{log}"
            );
            let db = b.get("/api/database/1", &badmin).await.json();
            assert_eq!(db["engine"], "sqlite");
            // 30
            assert!(log.contains(
                "failed Database Legacy: Database 'Legacy' uses engine 'mysql', which ferrobase does not support."
            ));
            assert!(log.contains("failed Card LLLLLLLLLLLLLLLLLLLLL: Database 'Legacy' was not found"));
            // 39
            let warnings: Vec<&str> =
                log.lines().filter(|l| l.starts_with("warning: archive was written")).collect();
            assert_eq!(
                warnings,
                ["warning: archive was written by v0.52.3; this server speaks v0.58.0"]
            );
            // 42
            assert!(log.contains("created Card XXXXXXXXXXXXXXXXXXXXX"));
            let dashes = b.get("/api/dashboard", &badmin).await.json();
            let early = dashes
                .as_array()
                .expect("dashboards")
                .iter()
                .find(|d| d["name"] == "Early")
                .cloned()
                .expect("Early");
            let full = b.get(&format!("/api/dashboard/{}", early["id"]), &badmin).await.json();
            let cards = b.get("/api/card", &badmin).await.json();
            let x = cards
                .as_array()
                .expect("cards")
                .iter()
                .find(|c| c["entity_id"] == "XXXXXXXXXXXXXXXXXXXXX")
                .cloned()
                .expect("X");
            assert_eq!(full["dashcards"][0]["card_id"], x["id"]);
            // 43
            for c in ["AAAAAAAAAAAAAAAAAAAA1", "BBBBBBBBBBBBBBBBBBBB2"] {
                assert!(log.contains(&format!("failed Card {c}: dependency cycle: ")), "{log}");
            }
            // 46: cause lines follow failures with full_stacktrace, and only then.
            assert!(log.contains("\n  caused by: "), "{log}");
            let r = import(&b, &bkey, "?continue_on_error=true", Some(("file", &gz))).await;
            assert!(!r.text().contains("caused by"));
        })
        .await;
    }
);

both!(
    s31_s32_s40_replace_layout_keep_local_move_tree,
    |t| async move {
        let a = server_a(&t).await;
        let gz = export(&t, &a.key, "?dirname=x").await.body;
        let (s_eid, q_eid, b_eid) = (eid(&a.s), eid(&a.q), eid(&a.b));
        let backend = t.backend;
        with_b(backend, |b| async move {
        let (badmin, bkey) = b_admin(&b).await;
        assert_eq!(import(&b, &bkey, "", Some(("file", &gz))).await.status, 200);
        let colls = b.get("/api/collection", &badmin).await.json();
        let by_eid = |e: &str| {
            colls
                .as_array()
                .expect("collections")
                .iter()
                .find(|c| c["entity_id"] == e)
                .cloned()
                .expect("collection")
        };
        let (bs, bq) = (by_eid(&s_eid), by_eid(&q_eid));
        // 40: Q moved to the root with a child Q2; 32: a local collection.
        b.put(&format!("/api/collection/{}", bq["id"]), &badmin, json!({"parent_id": null}))
            .await
            .assert(200);
        let q2 = crate::collections_graph::create(&b, &badmin, "Q2", bq["id"].as_i64()).await;
        let local = crate::collections_graph::create(&b, &badmin, "Local", None).await;
        // 31: an extra dashcard.
        let dashes = b.get("/api/dashboard", &badmin).await.json();
        let board = dashes
            .as_array()
            .expect("dashboards")
            .iter()
            .find(|d| d["entity_id"] == b_eid.as_str())
            .cloned()
            .expect("board");
        let path = format!("/api/dashboard/{}", board["id"]);
        let full = b.get(&path, &badmin).await.json();
        let mut dcs = full["dashcards"].as_array().cloned().expect("dashcards");
        assert_eq!(dcs.len(), 3);
        dcs.push(json!({"id": -1, "card_id": null, "row": 20, "col": 0, "size_x": 4, "size_y": 1,
            "dashboard_tab_id": full["tabs"][0]["id"],
                        "visualization_settings": {"virtual_card": {"display": "text"}, "text": "x"}}));
        b.put(&path, &badmin, json!({"dashcards": dcs, "tabs": full["tabs"]}))
            .await
            .assert(200);
        assert_eq!(b.get(&path, &badmin).await.json()["dashcards"].as_array().map(Vec::len), Some(4));
        let r = import(&b, &bkey, "", Some(("file", &gz))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(b.get(&path, &badmin).await.json()["dashcards"].as_array().map(Vec::len), Some(3));
        let got = |id: i64| {
            let b = b.clone();
            let badmin = badmin.clone();
            async move { b.get(&format!("/api/collection/{id}"), &badmin).await.json() }
        };
        let q = got(bq["id"].as_i64().expect("id")).await;
        assert_eq!(q["location"], format!("/{}/", bs["id"]));
        assert_eq!(got(q2).await["location"], format!("/{}/{}/", bs["id"], bq["id"]));
        let l = got(local).await;
        assert_eq!((l["name"].clone(), l["location"].clone()), (json!("Local"), json!("/")));
    })
    .await;
    }
);

/// The newest layout: slug-only names under `collections/main/`, reduced `serdes/meta`,
/// default-valued keys removed.
fn newest_layout(files: &BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    let keep_false = [
        "collection_preview",
        "auto_apply_filters",
        "auto_run_queries",
    ];
    let mut out = BTreeMap::new();
    for (i, (path, data)) in files.iter().enumerate() {
        if path == "export.log" || path == "settings.yaml" {
            out.insert(path.clone(), data.clone());
            continue;
        }
        let mut v = parse(std::str::from_utf8(data).expect("utf-8")).expect("yaml");
        let m = v.as_object_mut().expect("map");
        // Content and databases lose their ids in `serdes/meta`; tables and fields are
        // identified by their path only, which stays.
        if m["serdes/meta"].as_array().map_or(0, Vec::len) == 1 {
            let model = m["serdes/meta"][0]["model"].clone();
            m.insert("serdes/meta".into(), json!([{"model": model}]));
        }
        m.retain(|k, v| {
            !(v.is_null()
                || (*v == json!(false) && !keep_false.contains(&k.as_str()))
                || *v == json!([])
                || *v == json!({})
                || (k == "type" && *v == json!("question")))
        });
        let top = if path.starts_with("databases/") {
            "databases"
        } else {
            "collections/main"
        };
        out.insert(
            format!("{top}/{i}_item.yaml"),
            emit_document(m, &[]).into_bytes(),
        );
    }
    out
}

both!(s27_newest_layout_imports_like_classic, |t| async move {
    let a = server_a(&t).await;
    let classic = export(&t, &a.key, "?dirname=x").await.body;
    let newest = pack("x", &newest_layout(&files_of(&classic))).expect("pack");
    let backend = t.backend;
    with_b(backend, |b| async move {
        let (_, bkey) = b_admin(&b).await;
        let r = import(&b, &bkey, "", Some(("file", &newest))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let again = files_of(&export(&b, &bkey, "?dirname=x").await.body);
        let want = files_of(&classic);
        assert_eq!(
            want.keys().collect::<Vec<_>>(),
            again.keys().collect::<Vec<_>>()
        );
        for (k, v) in &want {
            assert_eq!(
                String::from_utf8_lossy(v),
                String::from_utf8_lossy(&again[k]),
                "{k}"
            );
        }
    })
    .await;
});

both!(s38_s44_no_secrets_and_export_log, |t| async move {
    let a = server_a(&t).await;
    let f = crate::serialization::tree(&t, &a.key, "?dirname=x&database_secrets=true").await;
    let keys = t.get("/api/api-key", &a.admin).await.json();
    let all: String = f.values().cloned().collect();
    for k in keys.as_array().expect("keys") {
        let prefix = k["masked_key"]
            .as_str()
            .unwrap_or("")
            .get(..7)
            .unwrap_or("");
        assert!(!prefix.is_empty() && !all.contains(prefix), "{prefix}");
    }
    if let Auth::Session(s) = &a.admin {
        assert!(!all.contains(s.as_str()));
    }
    for bad in [
        "$2a$",
        "$2b$",
        "$argon2",
        "Administrators",
        "All Users",
        "permission",
    ] {
        assert!(!all.contains(bad), "{bad}");
    }
    // 44
    let log = &f["export.log"];
    let lines: Vec<&str> = log.lines().collect();
    let yaml_files = f.keys().filter(|k| k.ends_with(".yaml")).count();
    assert_eq!(
        lines.last().copied(),
        Some(format!("summary: {yaml_files} exported, 0 skipped, 0 failed").as_str())
    );
    let exported: Vec<&str> = lines[..lines.len() - 1].to_vec();
    assert_eq!(exported.len(), yaml_files);
    let paths: Vec<&str> = exported
        .iter()
        .map(|l| {
            f.keys()
                .filter(|k| l.ends_with(&format!(" {k}")))
                .max_by_key(|k| k.len())
                .map(String::as_str)
                .unwrap_or_else(|| panic!("no file for {l}"))
        })
        .collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    assert!(exported.iter().all(|l| l.starts_with("exported ")));
    assert!(log.contains("exported Setting settings settings.yaml\n"));
});
