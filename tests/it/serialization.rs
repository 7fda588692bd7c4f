//! serialization.md §10: export scenarios over HTTP, on both backends. Server "A" is built by
//! [`server_a`]; archives are unpacked in memory.
use std::collections::BTreeMap;
use std::io::Read;

use ferrobase::databases::store::DatabaseRow;
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::both;
use crate::cards::card;
use crate::collections_graph::create as collection;
use crate::dashboards::{dashboard, put_ok};
use crate::support::{Auth, TestApp};

pub const FORBIDDEN: &str = "You don't have permissions to do that.";

/// Server A of §10 with its objects' JSON.
pub struct A {
    pub admin: Auth,
    pub key: Auth,
    pub alice: Auth,
    pub s: Value,
    pub q: Value,
    pub t: Value,
    pub b: Value,
    pub r: Value,
    pub o: Value,
    pub m: Value,
    pub personal: i64,
}

pub async fn server_a(t: &TestApp) -> A {
    let admin = t.setup().await;
    let key = create_key(t, &admin, "Admin key", 2).await.auth();
    let s_id = collection(t, &admin, "Sales", None).await;
    let q_id = collection(t, &admin, "Q1", Some(s_id)).await;
    let s = t
        .get(&format!("/api/collection/{s_id}"), &admin)
        .await
        .json();
    let q = t
        .get(&format!("/api/collection/{q_id}"), &admin)
        .await
        .json();
    let r = t
        .post(
            "/api/card",
            &admin,
            json!({"name": "Top", "display": "table", "visualization_settings": {},
                   "collection_id": q_id,
                   "dataset_query": {"database": 1, "type": "native",
                                     "native": {"query": "SELECT *\nFROM orders\nLIMIT 10"}}}),
        )
        .await;
    r.assert(200);
    let top = r.json();
    let b = dashboard(t, &admin, "Board", Some(q_id)).await;
    let b = put_ok(
        t,
        &admin,
        &b,
        json!({"tabs": [{"id": -1, "name": "One"}, {"id": -2, "name": "Two"}],
               "dashcards": [
                   {"id": -1, "card_id": top["id"], "dashboard_tab_id": -1, "row": 0, "col": 0,
                    "size_x": 4, "size_y": 4},
                   {"id": -2, "card_id": top["id"], "dashboard_tab_id": -2, "row": 0, "col": 0,
                    "size_x": 6, "size_y": 4},
                   {"id": -3, "card_id": null, "dashboard_tab_id": -1, "row": 4, "col": 0,
                    "size_x": 24, "size_y": 1,
                    "visualization_settings": {"virtual_card": {"display": "text"}, "text": "hi"}}]}),
    )
    .await;
    let root = card(t, &admin, "RootCard", None).await;
    let old = card(t, &admin, "Old", Some(s_id)).await;
    t.put(
        &format!("/api/card/{}", old["id"]),
        &admin,
        json!({"archived": true}),
    )
    .await
    .assert(200);
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let personal = t.get("/api/user/current", &alice).await.json()["personal_collection_id"]
        .as_i64()
        .expect("personal collection");
    let mine = card(t, &alice, "Mine", Some(personal)).await;
    // A Postgres database with a password.
    let mut tx = t.app.store.begin().await.expect("tx");
    tx.database_insert(
        &DatabaseRow {
            id: 0,
            name: "Warehouse".into(),
            description: None,
            engine: "postgres".into(),
            details: r#"{"host":"db","password":"hunter2","user":"wh"}"#.into(),
            is_sample: false,
            auto_run_queries: true,
            cache_ttl: None,
            creator_id: None,
            created_at: 1_700_000_000_000_000,
            updated_at: 1_700_000_000_000_000,
        },
        None,
    )
    .await
    .expect("insert");
    tx.commit().await.expect("commit");
    A {
        admin,
        key,
        alice,
        s,
        q,
        t: top,
        b,
        r: root,
        o: old,
        m: mine,
        personal,
    }
}

pub struct Raw {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

pub async fn export(t: &TestApp, auth: &Auth, query: &str) -> Raw {
    let mut req = t
        .client
        .post(format!("{}/api/ee/serialization/export{query}", t.base));
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

/// Every entry of a `.tar.gz`: path → content (directories end in `/` and are empty).
pub fn unpack(gz: &[u8]) -> BTreeMap<String, Vec<u8>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    let mut out = BTreeMap::new();
    for e in archive.entries().expect("entries") {
        let mut e = e.expect("entry");
        let path = e.path().expect("path").to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).expect("read");
        let key = if e.header().entry_type().is_dir() && !path.ends_with('/') {
            format!("{path}/")
        } else {
            path
        };
        out.insert(key, data);
    }
    out
}

/// Exports with `query` (which must succeed) and returns the files under the top directory.
pub async fn tree(t: &TestApp, auth: &Auth, query: &str) -> BTreeMap<String, String> {
    let r = export(t, auth, query).await;
    assert_eq!(r.status, 200, "{}", r.text());
    unpack(&r.body)
        .into_iter()
        .filter(|(k, _)| !k.ends_with('/'))
        .map(|(k, v)| {
            let rel = k.split_once('/').map(|x| x.1.to_string()).unwrap_or(k);
            (rel, String::from_utf8(v).expect("utf-8"))
        })
        .collect()
}

pub fn eid(v: &Value) -> String {
    v["entity_id"].as_str().expect("entity_id").to_string()
}

fn find<'a>(files: &'a BTreeMap<String, String>, id: &str) -> Option<(&'a String, &'a String)> {
    files.iter().find(|(k, _)| k.contains(id))
}

both!(s01_only_superusers_export_and_never_402, |t| async move {
    let a = server_a(&t).await;
    let (_, bob) = t.person(&a.admin, "Bob", "bob@example.com").await;
    let r = export(&t, &bob, "").await;
    assert_eq!((r.status, r.text().as_str()), (403, FORBIDDEN));
    let r = export(&t, &Auth::None, "").await;
    assert_eq!((r.status, r.text().as_str()), (401, "Unauthenticated"));
    let r = export(&t, &a.alice, "").await;
    assert_eq!(r.status, 403);
    assert_eq!(export(&t, &a.key, "").await.status, 200);
});

both!(
    s02_s03_s16_archive_shape_name_and_determinism,
    |t| async move {
        let a = server_a(&t).await;
        let r = export(&t, &a.key, "?dirname=snap").await;
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.headers["content-type"], "application/gzip");
        assert_eq!(
            r.headers["content-disposition"],
            "attachment; filename=\"snap.tar.gz\""
        );
        let entries = unpack(&r.body);
        assert!(entries.keys().all(|k| k.starts_with("snap/")));
        for p in [
            "snap/",
            "snap/settings.yaml",
            "snap/export.log",
            "snap/collections/",
            "snap/databases/",
        ] {
            assert!(entries.contains_key(p), "{p}: {:?}", entries.keys());
        }
        // 16: byte-identical bodies.
        let again = export(&t, &a.key, "?dirname=snap").await;
        assert_eq!(again.body, r.body);
        // §9: gzip header mtime 0, OS 255.
        assert_eq!(&r.body[4..8], &[0, 0, 0, 0]);
        assert_eq!(r.body[9], 255);
        // 3: the default name is the site slug and the time ("Acme" is the test site name).
        t.put(
            "/api/setting/site-name",
            &a.admin,
            json!({"value": "Acme Analytics"}),
        )
        .await;
        let r = export(&t, &a.key, "").await;
        let cd = r.headers["content-disposition"]
            .to_str()
            .expect("header")
            .to_string();
        let prefix = if cd.contains("acme_analytics-") {
            "acme_analytics-"
        } else {
            "acme-"
        };
        let name = cd
            .split_once(prefix)
            .map(|x| x.1.trim_end_matches(".tar.gz\""))
            .expect("slug prefix");
        assert_eq!(name.len(), "2025-03-04_05-06".len(), "{cd}");
        assert_eq!(&name[4..5], "-");
        assert_eq!(&name[10..11], "_");
    }
);

both!(s04_s06_parameter_validation, |t| async move {
    let a = server_a(&t).await;
    for (q, field) in [
        ("?dirname=../x", "dirname"),
        ("?dirname=a/b", "dirname"),
        ("?settings=yes", "settings"),
    ] {
        let r = export(&t, &a.key, q).await;
        assert_eq!(r.status, 400, "{q}");
        let v: Value = serde_json::from_slice(&r.body).expect("json");
        assert!(v["errors"][field].is_string(), "{q}: {v}");
    }
    let r = export(&t, &a.key, "?collection=999999").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).expect("json"),
        json!({"message": "Could not find Collection with ID 999999"})
    );
    let r = export(&t, &a.key, "?collection=eid:AAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        serde_json::from_slice::<Value>(&r.body).expect("json"),
        json!({"message": "Could not find Collection with entity ID AAAAAAAAAAAAAAAAAAAAA"})
    );
});

both!(s05_collection_selection_three_ways, |t| async move {
    let a = server_a(&t).await;
    let q_eid = eid(&a.q);
    let by_id = tree(&t, &a.key, &format!("?dirname=x&collection={}", a.q["id"])).await;
    let by_eid = tree(&t, &a.key, &format!("?dirname=x&collection={q_eid}")).await;
    let by_pfx = tree(&t, &a.key, &format!("?dirname=x&collection=eid:{q_eid}")).await;
    assert_eq!(by_id, by_eid);
    assert_eq!(by_id, by_pfx);
    for x in [&a.q, &a.t, &a.b, &a.s] {
        assert!(find(&by_id, &eid(x)).is_some(), "{} missing", x["name"]);
    }
    for x in [&a.o, &a.r] {
        assert!(find(&by_id, &eid(x)).is_none(), "{} present", x["name"]);
    }
    assert!(!by_id.keys().any(|k| k.starts_with("collections/cards/")));
    // S is an ascendant collection file only.
    let s = eid(&a.s);
    let s_files: Vec<&String> = by_id
        .keys()
        .filter(|k| k.starts_with(&format!("collections/{s}_sales/")))
        .collect();
    assert!(s_files
        .iter()
        .all(|k| k.contains(&q_eid) || k.ends_with("_sales.yaml")));
});

both!(s07_s08_s09_s10_s11_s12_content_options, |t| async move {
    let a = server_a(&t).await;
    // 7
    let f = tree(&t, &a.key, "?all_collections=false").await;
    assert!(!f.keys().any(|k| k.starts_with("collections/")));
    assert!(f.contains_key("settings.yaml"));
    assert!(f.keys().any(|k| k.starts_with("databases/")));
    // 8
    let f = tree(&t, &a.key, "?settings=false&data_model=false").await;
    assert!(!f.contains_key("settings.yaml"));
    assert!(!f.keys().any(|k| k.starts_with("databases/")));
    let (_, top) = find(&f, &eid(&a.t)).expect("T");
    assert!(top.contains("\ndatabase_id: Sample Database\n"), "{top}");
    // 9
    let f = tree(&t, &a.key, "").await;
    let wh = &f["databases/Warehouse/Warehouse.yaml"];
    assert!(!wh.contains("details"), "{wh}");
    assert!(!f["databases/Sample Database/Sample Database.yaml"].contains("details"));
    let f2 = tree(&t, &a.key, "?database_secrets=true").await;
    let wh = &f2["databases/Warehouse/Warehouse.yaml"];
    assert!(
        wh.contains("details:\n  host: db\n  password: hunter2\n"),
        "{wh}"
    );
    assert!(!f2["databases/Sample Database/Sample Database.yaml"].contains("details"));
    // 10
    assert!(find(&f, &eid(&a.m)).is_none());
    let pf = tree(&t, &a.key, &format!("?collection={}", a.personal)).await;
    let (_, m) = find(&pf, &eid(&a.m)).expect("Mine");
    assert!(m.contains("creator_id: alice@example.com"));
    let personal = pf
        .iter()
        .find(|(k, v)| k.ends_with(".yaml") && v.contains("personal_owner_id: alice@"))
        .expect("personal collection file");
    assert!(personal.0.starts_with("collections/"));
    // 11
    let s = eid(&a.s);
    let (old_path, old) = find(&f, &eid(&a.o)).expect("Old");
    assert!(old_path.starts_with(&format!("collections/{s}_sales/cards/")));
    assert!(
        old.contains("\narchived: true\narchived_directly: true\n"),
        "{old}"
    );
    assert!(!f.keys().any(|k| k.contains("trash")));
    // 12
    let q = eid(&a.q);
    let (tt, b, r) = (eid(&a.t), eid(&a.b), eid(&a.r));
    for p in [
        format!("collections/{s}_sales/{s}_sales.yaml"),
        format!("collections/{s}_sales/{q}_q1/{q}_q1.yaml"),
        format!("collections/{s}_sales/{q}_q1/cards/{tt}_top.yaml"),
        format!("collections/{s}_sales/{q}_q1/dashboards/{b}_board.yaml"),
        format!("collections/cards/{r}_rootcard.yaml"),
        "databases/Sample Database/Sample Database.yaml".to_string(),
    ] {
        assert!(f.contains_key(&p), "{p}: {:?}", f.keys());
    }
});

both!(s13_s14_card_and_dashboard_files, |t| async move {
    let a = server_a(&t).await;
    let f = tree(&t, &a.key, "").await;
    let (tt, q, b) = (eid(&a.t), eid(&a.q), eid(&a.b));
    let (_, top) = find(&f, &tt).expect("T");
    let keys: Vec<&str> = top
        .lines()
        .filter(|l| !l.starts_with(' ') && l.contains(':'))
        .map(|l| l.split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        keys,
        [
            "name",
            "description",
            "entity_id",
            "created_at",
            "creator_id",
            "display",
            "type",
            "archived",
            "archived_directly",
            "collection_id",
            "collection_position",
            "collection_preview",
            "dashboard_id",
            "dashboard_tab_id",
            "database_id",
            "table_id",
            "query_type",
            "dataset_query",
            "parameters",
            "parameter_mappings",
            "result_metadata",
            "visualization_settings",
            "cache_ttl",
            "enable_embedding",
            "embedding_params",
            "serdes/meta",
            "metabase_version"
        ]
    );
    assert!(top.contains(&format!("\ncollection_id: {q}\n")));
    assert!(top.contains("\ncreator_id: ada@example.com\n"));
    assert!(top.contains("\ndatabase_id: Sample Database\n"));
    assert!(top.contains("\n  database: Sample Database\n"));
    assert!(top.contains(&format!(
        "serdes/meta:\n  - id: {tt}\n    label: top\n    model: Card\n"
    )));
    // The SQL of the query's native stage (§4.6: written as MBQL 5) as a literal block scalar.
    assert!(top.contains(
        "\n  lib/type: mbql/query\n  stages:\n    - lib/type: mbql.stage/native\n      \
         native: |-\n        SELECT *\n        FROM orders\n        LIMIT 10\n"
    ));
    assert!(!top.contains("\nid:") && !top.contains("updated_at"));
    // 14
    let (_, board) = find(&f, &format!("{b}_board")).expect("B");
    let v = yaml_rust2::YamlLoader::load_from_str(board).expect("yaml");
    let d = &v[0];
    let tabs = d["tabs"].as_vec().expect("tabs");
    assert_eq!(tabs.len(), 2);
    assert_eq!(tabs[0]["name"].as_str(), Some("One"));
    let dcs = d["dashcards"].as_vec().expect("dashcards");
    assert_eq!(dcs.len(), 3);
    let tab0 = tabs[0]["entity_id"].as_str().expect("tab eid");
    assert_eq!(dcs[0]["card_id"].as_str(), Some(tt.as_str()));
    assert_eq!(dcs[0]["dashboard_tab_id"][0].as_str(), Some(b.as_str()));
    assert_eq!(dcs[0]["dashboard_tab_id"][1].as_str(), Some(tab0));
    assert!(
        dcs[1]["card_id"].is_null(),
        "text card second (tab One, row 4)"
    );
    for dc in dcs {
        assert_eq!(dc["serdes/meta"].as_vec().map(Vec::len), Some(2));
    }
    for line in board.lines() {
        let value = line.split_once(": ").map(|x| x.1).unwrap_or("");
        let is_id_key = line.trim_start().starts_with("id:") || line.contains("_id: ");
        assert!(
            !(is_id_key && value.parse::<i64>().is_ok()),
            "numeric id: {line}"
        );
    }
});

both!(s15_personal_boundary, |t| async move {
    let a = server_a(&t).await;
    let d = dashboard(&t, &a.admin, "Peek", Some(a.s["id"].as_i64().expect("id"))).await;
    put_ok(
        &t,
        &a.admin,
        &d,
        json!({"dashcards": [{"id": -1, "card_id": a.m["id"], "row": 0, "col": 0,
                              "size_x": 4, "size_y": 4}]}),
    )
    .await;
    let m = eid(&a.m);
    let r = export(&t, &a.key, "").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        format!("Card {m} is in a personal collection that is not part of the export.")
    );
    let f = tree(&t, &a.key, "?continue_on_error=true").await;
    assert!(f["export.log"].contains(&format!("skipped Card {m}: ")));
    assert!(find(&f, &m).is_none());
});
