//! serialization.md §10: import scenarios and the round trip, on both backends. Server B is a
//! second fresh server on the same backend as A.
use std::collections::BTreeMap;
use std::future::Future;

use ferrobase::serialization::archive::pack;
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::both;
use crate::serialization::{eid, export, server_a, unpack, Raw};
use crate::support::{Auth, Backend, TestApp};

/// Runs `body` with a fresh server B on `backend`, then stops it.
pub async fn with_b<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(std::sync::Arc<TestApp>) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some((b, pg)) = TestApp::start(backend, |_| {}).await else {
        return;
    };
    let b = std::sync::Arc::new(b);
    body(b.clone()).await;
    if let Ok(mut b) = std::sync::Arc::try_unwrap(b) {
        b.stop().await;
    }
    if let Some(db) = pg {
        db.drop_db().await;
    }
}

/// `POST /api/ee/serialization/import` with `data` as the multipart part `part`.
pub async fn import(t: &TestApp, auth: &Auth, query: &str, part: Option<(&str, &[u8])>) -> Raw {
    let boundary = "ferrobaseBoundary7MA4YWxk";
    let mut body: Vec<u8> = Vec::new();
    if let Some((name, data)) = part {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"x.tar.gz\"\r\nContent-Type: application/gzip\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let mut req = t
        .client
        .post(format!("{}/api/ee/serialization/import{query}", t.base))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body);
    req = match auth {
        Auth::Session(s) => req.header("X-Metabase-Session", s),
        Auth::Key(k) => req.header("X-Api-Key", k),
        _ => req,
    };
    let r = req.send().await.expect("request");
    Raw {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        body: r.bytes().await.expect("body").to_vec(),
    }
}

/// B's admin session and an Administrators key.
pub async fn setup_b(b: &TestApp) -> (Auth, Auth) {
    let admin = b.setup().await;
    let key = create_key(b, &admin, "Admin key", 2).await.auth();
    (admin, key)
}

/// The files of an exported archive (relative to its top directory).
pub fn files_of(gz: &[u8]) -> BTreeMap<String, Vec<u8>> {
    unpack(gz)
        .into_iter()
        .filter(|(k, _)| !k.ends_with('/'))
        .map(|(k, v)| (k.split_once('/').map(|x| x.1.to_string()).unwrap_or(k), v))
        .collect()
}

pub fn log_lines(r: &Raw) -> Vec<String> {
    r.text().lines().map(String::from).collect()
}

both!(s17_s18_s19_round_trip_and_idempotency, |t| async move {
    let a = server_a(&t).await;
    let archive = export(&t, &a.key, "?dirname=x").await;
    assert_eq!(archive.status, 200);
    let backend = t.backend;
    with_b(backend, |b| async move {
        let (badmin, bkey) = setup_b(&b).await;
        let r = import(&b, &bkey, "", Some(("file", &archive.body))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert!(r.headers["content-type"]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain"));
        let again = export(&b, &bkey, "?dirname=x").await;
        let (fa, fb) = (files_of(&archive.body), files_of(&again.body));
        assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
        for (k, v) in &fa {
            assert_eq!(
                String::from_utf8_lossy(v),
                String::from_utf8_lossy(&fb[k]),
                "{k} differs"
            );
        }
        // 18: rename T, delete R, import again.
        let t_eid = eid(&a.t);
        let r_eid = eid(&a.r);
        let bt = b.get("/api/card", &badmin).await.json();
        let find = |e: &str| {
            bt.as_array()
                .expect("cards")
                .iter()
                .find(|c| c["entity_id"] == e)
                .cloned()
                .expect("card on B")
        };
        let (t_b, r_b) = (find(&t_eid), find(&r_eid));
        b.put(
            &format!("/api/card/{}", t_b["id"]),
            &badmin,
            json!({"name": "Renamed"}),
        )
        .await
        .assert(200);
        b.delete(&format!("/api/card/{}", r_b["id"]), &badmin)
            .await
            .assert(204);
        let r = import(&b, &bkey, "", Some(("file", &archive.body))).await;
        assert_eq!(r.status, 200, "{}", r.text());
        let lines = log_lines(&r);
        assert!(
            lines.contains(&format!("updated Card {t_eid}")),
            "{lines:?}"
        );
        assert!(
            lines.contains(&format!("created Card {r_eid}")),
            "{lines:?}"
        );
        for l in &lines[..lines.len() - 1] {
            assert!(
                l.starts_with("unchanged ")
                    || *l == format!("updated Card {t_eid}")
                    || *l == format!("created Card {r_eid}"),
                "{l}"
            );
        }
        let got = b
            .get(&format!("/api/card/{}", t_b["id"]), &badmin)
            .await
            .json();
        assert_eq!(got["name"], "Top");
        // 19: again: all unchanged, no updated_at moves.
        let before = b.get("/api/card", &badmin).await.json();
        let r = import(&b, &bkey, "", Some(("file", &archive.body))).await;
        assert_eq!(r.status, 200);
        let lines = log_lines(&r);
        assert!(
            lines[..lines.len() - 1]
                .iter()
                .all(|l| l.starts_with("unchanged ")),
            "{lines:?}"
        );
        let after = b.get("/api/card", &badmin).await.json();
        let stamps = |v: &Value| {
            let mut s: Vec<(String, String)> = v
                .as_array()
                .expect("cards")
                .iter()
                .map(|c| (c["entity_id"].to_string(), c["updated_at"].to_string()))
                .collect();
            s.sort();
            s
        };
        assert_eq!(stamps(&before), stamps(&after));
    })
    .await;
});

/// A YAML card file referring to `collection` (entity id).
pub fn card_yaml(eid: &str, name: &str, collection: &str, creator: &str) -> String {
    format!(
        "name: {name}\nentity_id: {eid}\ncreated_at: '2025-01-01T00:00:00Z'\ncreator_id: {creator}\n\
         display: table\ncollection_id: {collection}\n\
         dataset_query:\n  database: Sample Database\n  native:\n    query: select 1\n  type: native\n\
         serdes/meta:\n  - id: {eid}\n    label: x\n    model: Card\n"
    )
}

both!(
    s20_s21_s22_s41_s28_placeholders_failures_settings_unsupported,
    |t| async move {
        let a = server_a(&t).await;
        let archive = export(&t, &a.key, "?dirname=x").await;
        let mut files = files_of(&archive.body);
        let s = eid(&a.s);
        // 20: a card created by an unknown user.
        files.insert(
            "collections/cards/GGGGGGGGGGGGGGGGGGGGG_ghost.yaml".into(),
            card_yaml("GGGGGGGGGGGGGGGGGGGGG", "Ghostly", &s, "ghost@example.com").into_bytes(),
        );
        // 21: a card in a missing collection, after the valid ones in path order.
        files.insert(
            "collections/zzz/cards/ZZZZZZZZZZZZZZZZZZZZZ_bad.yaml".into(),
            card_yaml(
                "ZZZZZZZZZZZZZZZZZZZZZ",
                "Bad",
                "DoesNotExist",
                "ada@example.com",
            )
            .into_bytes(),
        );
        // 41
        files.insert(
            "settings.yaml".into(),
            b"bogus-setting: 1\nsite-name: Acme Imported\n".to_vec(),
        );
        // 28
        files.insert(
            "databases/Sample Database/tables/ORDERS/ORDERS.yaml".into(),
            b"name: ORDERS\nserdes/meta:\n  - id: Sample Database\n    model: Database\n  - id: ORDERS\n    model: Table\n".to_vec(),
        );
        files.insert(
            "databases/Sample Database/tables/GHOSTS/GHOSTS.yaml".into(),
            b"name: GHOSTS\nserdes/meta:\n  - id: Sample Database\n    model: Database\n  - id: GHOSTS\n    model: Table\n".to_vec(),
        );
        files.insert(
            "snippets/s.yaml".into(),
            b"name: s\nentity_id: SSSSSSSSSSSSSSSSSSSSS\nserdes/meta:\n  - id: SSSSSSSSSSSSSSSSSSSSS\n    model: NativeQuerySnippet\n".to_vec(),
        );
        let gz = pack("x", &files).expect("pack");
        let backend = t.backend;
        with_b(backend, |b| async move {
            let (badmin, bkey) = setup_b(&b).await;
            let r = import(&b, &bkey, "", Some(("file", &gz))).await;
            assert_eq!(r.status, 400, "{}", r.text());
            assert!(r.text().contains(
                "failed Card ZZZZZZZZZZZZZZZZZZZZZ: Collection 'DoesNotExist' was not found"
            ));
            assert!(r.text().contains("skipped Setting bogus-setting: "));
            // 28: table files are matched against the synced metadata (data-model.md §6).
            assert!(r
                .text()
                .contains("unchanged Table [\"Sample Database\",null,\"ORDERS\"]\n"));
            assert!(r.text().contains(
                "skipped Table [\"Sample Database\",null,\"GHOSTS\"]: not found in synced metadata\n"
            ));
            assert!(r.text().contains(
                "skipped NativeQuerySnippet SSSSSSSSSSSSSSSSSSSSS: not supported by ferrobase"
            ));
            let props = b.get("/api/session/properties", &Auth::None).await.json();
            assert_eq!(props["site-name"], "Acme Imported");
            // 22: with continue_on_error everything else loads.
            let r = import(&b, &bkey, "?continue_on_error=true", Some(("file", &gz))).await;
            assert_eq!(r.status, 200, "{}", r.text());
            assert!(r.text().ends_with("1 failed\n"), "{}", r.text());
            let cards = b.get("/api/card", &badmin).await.json();
            let names: Vec<&str> = cards
                .as_array()
                .expect("cards")
                .iter()
                .filter_map(|c| c["name"].as_str())
                .collect();
            assert!(
                names.contains(&"Ghostly") && names.contains(&"Top"),
                "{names:?}"
            );
            assert!(!names.contains(&"Bad"));
            // 20
            let ghost = cards
                .as_array()
                .expect("cards")
                .iter()
                .find(|c| c["name"] == "Ghostly")
                .cloned()
                .expect("ghost card");
            let users = b
                .get("/api/user?include_deactivated=true", &badmin)
                .await
                .json();
            let g = users["data"]
                .as_array()
                .expect("users")
                .iter()
                .find(|u| u["email"] == "ghost@example.com")
                .cloned()
                .expect("placeholder user");
            assert_eq!(g["is_active"], false);
            assert_eq!(ghost["creator_id"], g["id"]);
        })
        .await;
    }
);

/// A tar with one entry whose raw name is `name` (no path checks).
pub fn raw_tar(name: &str, data: &[u8]) -> Vec<u8> {
    let mut h = tar::Header::new_ustar();
    {
        let bytes = h.as_mut_bytes();
        bytes[..name.len()].copy_from_slice(name.as_bytes());
    }
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    h.set_cksum();
    let mut out = h.as_bytes().to_vec();
    out.extend_from_slice(data);
    out.resize(512 + data.len().div_ceil(512) * 512, 0);
    out.extend_from_slice(&[0u8; 1024]);
    out
}

both!(s23_s24_s25_s26_hostile_and_odd_archives, |t| async move {
    let a = server_a(&t).await;
    // 23
    let r = import(
        &t,
        &a.key,
        "",
        Some(("file", b"just some text, not an archive")),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.text().contains("Cannot unpack archive"), "{}", r.text());
    let r = import(&t, &a.key, "", None).await;
    assert_eq!(r.status, 400);
    let v: Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(v["errors"]["file"], "value must be a file.");
    // 24
    let mut f = BTreeMap::new();
    f.insert("README.txt".to_string(), b"hello".to_vec());
    let r = import(
        &t,
        &a.key,
        "",
        Some(("file", &pack("top", &f).expect("pack"))),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
            r.text(),
            "No source dir detected. Please make sure the serialization files are in the top level dir."
        );
    // 25: only export/ is loaded.
    let mut f = BTreeMap::new();
    f.insert(
        ".hidden/collections/cards/HHHHHHHHHHHHHHHHHHHHH_h.yaml".to_string(),
        card_yaml(
            "HHHHHHHHHHHHHHHHHHHHH",
            "Hidden",
            &eid(&a.s),
            "ada@example.com",
        )
        .into_bytes(),
    );
    f.insert(
        "export/collections/cards/EEEEEEEEEEEEEEEEEEEEE_e.yaml".to_string(),
        card_yaml(
            "EEEEEEEEEEEEEEEEEEEEE",
            "Visible",
            &eid(&a.s),
            "ada@example.com",
        )
        .into_bytes(),
    );
    let r = import(
        &t,
        &a.key,
        "",
        Some(("file", &pack("top", &f).expect("pack"))),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("created Card EEEEEEEEEEEEEEEEEEEEE"));
    assert!(!r.text().contains("HHHHHHHHHHHHHHHHHHHHH"));
    // 26: traversal and absolute paths; nothing loaded.
    for name in ["../../evil.yaml", "/etc/x.yaml", "x/../../evil.yaml"] {
        let tarball = raw_tar(name, b"name: evil\n");
        let r = import(&t, &a.key, "", Some(("file", &tarball))).await;
        assert_eq!(r.status, 422, "{name}: {}", r.text());
    }
    // Not gzip but truncated gzip.
    let good = export(&t, &a.key, "?dirname=x").await.body;
    let r = import(&t, &a.key, "", Some(("file", &good[..good.len() / 2]))).await;
    assert_eq!(r.status, 422, "{}", r.text());
    // A non-admin gets 403.
    let (_, bob) = t.person(&a.admin, "Bob", "bob@example.com").await;
    let r = import(&t, &bob, "", Some(("file", &good))).await;
    assert_eq!(r.status, 403);
});

both!(
    s34_upload_limit,
    config = |c: &mut ferrobase::config::Config| c.max_upload_bytes = 1 << 20,
    |t| async move {
        let a = server_a(&t).await;
        let big = vec![7u8; 2 << 20];
        let r = import(&t, &a.key, "", Some(("file", &big))).await;
        assert_eq!(
            (r.status, r.text().as_str()),
            (413, "Request body too large.")
        );
    }
);
