//! key-restrictions.md §6, scenarios 1–27 and 29–30: keys narrower than their group. The leak
//! scanner's scenarios (31–35) run the CLI elsewhere; scenario 28 is a browser test.
use serde_json::{json, Value};

use crate::api_keys::{create_with, list_keys, listed, Key};
use crate::api_keys_process::{two_instances, with_pg, Pair, Server};
use crate::both;
use crate::queries_cards::card_with;
use crate::queries_databases::{add_sqlite, sqlite_copy};
use crate::queries_perms::restrict;
use crate::queries_run::native_on;
use crate::support::{Auth, PgDb, Resp, TestApp};

const READ_ONLY: &str = "This API key is read-only.";
const FORBIDDEN: &str = "You don't have permissions to do that.";
const RATE: &str = "This API key's rate limit is exceeded. Try again later.";

/// The setup of §6: collections Sales ⊃ EMEA and Ops, native cards in each and in the root,
/// a second SQLite warehouse W with a card in Sales.
struct World {
    admin: Auth,
    s: i64,
    e: i64,
    o: i64,
    c_s: i64,
    c_e: i64,
    c_o: i64,
    c_r: i64,
    w: i64,
    c_w: i64,
    _w_dir: tempfile::TempDir,
}

async fn collection(t: &TestApp, admin: &Auth, name: &str, parent: Option<i64>) -> i64 {
    let r = t
        .post(
            "/api/collection",
            admin,
            json!({"name": name, "parent_id": parent}),
        )
        .await;
    r.assert(200);
    r.json()["id"].as_i64().unwrap()
}

async fn card_in(t: &TestApp, admin: &Auth, name: &str, db: i64, coll: Option<i64>) -> i64 {
    card_with(
        t,
        admin,
        native_on(db, "SELECT 1 AS one"),
        json!({"name": name, "collection_id": coll}),
    )
    .await
}

async fn world(t: &TestApp) -> World {
    let admin = t.setup().await;
    let s = collection(t, &admin, "Sales", None).await;
    let e = collection(t, &admin, "EMEA", Some(s)).await;
    let o = collection(t, &admin, "Ops", None).await;
    let (dir, file) = sqlite_copy();
    let w = add_sqlite(t, &admin, "W", &file).await;
    World {
        c_s: card_in(t, &admin, "c_s", 1, Some(s)).await,
        c_e: card_in(t, &admin, "c_e", 1, Some(e)).await,
        c_o: card_in(t, &admin, "c_o", 1, Some(o)).await,
        c_r: card_in(t, &admin, "c_r", 1, None).await,
        c_w: card_in(t, &admin, "c_w", w, Some(s)).await,
        admin,
        s,
        e,
        o,
        w,
        _w_dir: dir,
    }
}

async fn restricted(t: &TestApp, admin: &Auth, name: &str, group: i64, r: Value) -> Key {
    create_with(
        t,
        admin,
        json!({"name": name, "group_id": group, "restrictions": r}),
    )
    .await
}

/// Names of `GET /api/card` for `auth`, sorted.
async fn card_names(t: &TestApp, auth: &Auth) -> Vec<String> {
    let r = t.get("/api/card", auth).await;
    r.assert(200);
    let mut names: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

fn names_of(items: &Value) -> Vec<String> {
    let list = items.get("data").unwrap_or(items);
    let mut names: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap_or_default().to_string())
        .collect();
    names.sort();
    names
}

async fn group_names(t: &TestApp, admin: &Auth) -> Vec<String> {
    names_of(&t.get("/api/permissions/group", admin).await.json())
}

async fn raw_post(t: &TestApp, path: &str, auth: &Auth, body: &str) -> Resp {
    let mut req = t
        .client
        .post(format!("{}{path}", t.base))
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Auth::Key(k) = auth {
        req = req.header("X-Api-Key", k);
    }
    let r = req.send().await.expect("request");
    Resp {
        status: r.status().as_u16(),
        headers: r.headers().clone(),
        text: r.text().await.unwrap_or_default(),
    }
}

both!(kr_01_to_08_read_only_keys, |t| async move {
    let w = world(&t).await;
    let admin = &w.admin;
    // 1
    let ro = restricted(&t, admin, "ro", 2, json!({"access": "read-only"})).await;
    assert_eq!(ro.body["restrictions"], json!({"access": "read-only"}));
    assert_eq!(
        listed(&t, admin, ro.id).await["restrictions"],
        json!({"access": "read-only"})
    );
    let k = ro.auth();
    // 2
    for path in [
        "/api/user",
        "/api/permissions/graph",
        "/api/api-key",
        "/api/audit-log",
    ] {
        t.get(path, &k).await.assert(200);
    }
    // 3
    let before = group_names(&t, admin).await;
    t.post("/api/permissions/group", &k, json!({"name": "x"}))
        .await
        .assert_text(403, READ_ONLY);
    assert_eq!(group_names(&t, admin).await, before);
    // 4
    let other = create_with(&t, admin, json!({"name": "other", "group_id": 1})).await;
    t.put(
        &format!("/api/card/{}", w.c_s),
        &k,
        json!({"archived": true}),
    )
    .await
    .assert_text(403, READ_ONLY);
    t.delete(&format!("/api/api-key/{}", other.id), &k)
        .await
        .assert_text(403, READ_ONLY);
    t.post(
        "/api/user",
        &k,
        json!({"first_name": "N", "last_name": "N", "email": "n@example.com"}),
    )
    .await
    .assert_text(403, READ_ONLY);
    t.put("/api/setting/site-name", &k, json!({"value": "Hacked"}))
        .await
        .assert_text(403, READ_ONLY);
    t.post("/api/ee/serialization/import", &k, json!({}))
        .await
        .assert_text(403, READ_ONLY);
    let card = t.get(&format!("/api/card/{}", w.c_s), admin).await.json();
    assert_eq!(card["archived"], false);
    assert_eq!(list_keys(&t, admin).await.len(), 2);
    let users = t.get("/api/user", admin).await.json();
    assert!(!users.to_string().contains("n@example.com"));
    let site = t.get("/api/setting/site-name", admin).await.json();
    assert_ne!(site, json!("Hacked"));
    // 5
    let r = t
        .post("/api/dataset", &k, native_on(1, "SELECT 1 AS one"))
        .await;
    r.assert(202);
    assert_eq!(r.json()["data"]["rows"], json!([[1]]));
    t.post(&format!("/api/card/{}/query", w.c_s), &k, json!({}))
        .await
        .assert(202);
    let form = format!(
        "query={}",
        urlencode(&native_on(1, "SELECT 1 AS one").to_string())
    );
    let r = t
        .client
        .post(format!("{}/api/dataset/csv", t.base))
        .header("X-Api-Key", &ro.secret)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().starts_with("one"));
    // 6
    let r = t
        .client
        .post(format!("{}/api/ee/serialization/export", t.base))
        .header("X-Api-Key", &ro.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // 7: read-only is decided before the body is read or validated.
    raw_post(&t, "/api/permissions/group", &k, "{not json")
        .await
        .assert_text(403, READ_ONLY);
    // 8
    let r = t
        .put(
            &format!("/api/api-key/{}", ro.id),
            admin,
            json!({"restrictions": null}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["restrictions"], Value::Null);
    t.post("/api/permissions/group", &k, json!({"name": "x"}))
        .await
        .assert(200);
});

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

both!(kr_09_to_12_collection_scoped_keys, |t| async move {
    let w = world(&t).await;
    let admin = &w.admin;
    let sales = restricted(&t, admin, "sales", 2, json!({"collections": [w.s]})).await;
    let k = sales.auth();
    // 9
    let colls = t.get("/api/collection", &k).await;
    colls.assert(200);
    let names: Vec<String> = names_of(&colls.json())
        .into_iter()
        .filter(|n| n != "Our analytics")
        .collect();
    assert_eq!(names, ["EMEA", "Sales"], "{}", colls.text);
    assert_eq!(card_names(&t, &k).await, ["c_e", "c_s", "c_w"]);
    // 10
    t.get(&format!("/api/card/{}", w.c_o), &k)
        .await
        .assert_text(403, FORBIDDEN);
    t.get(&format!("/api/collection/{}/items", w.o), &k)
        .await
        .assert(403);
    let root = t.get("/api/collection/root/items", &k).await;
    root.assert(200);
    let root_names = names_of(&root.json());
    assert!(!root_names.contains(&"c_r".to_string()), "{root_names:?}");
    assert!(!root_names.contains(&"Ops".to_string()), "{root_names:?}");
    // Search follows the same rule.
    let found = t.get("/api/search?q=c_", &k).await.json();
    let found = names_of(&found);
    assert!(found.contains(&"c_s".to_string()), "{found:?}");
    assert!(!found.contains(&"c_o".to_string()), "{found:?}");
    assert!(!found.contains(&"c_r".to_string()), "{found:?}");
    // 11
    let body = |coll: i64| {
        json!({"name": "new", "display": "table", "visualization_settings": {},
               "dataset_query": native_on(1, "SELECT 1"), "collection_id": coll})
    };
    t.post("/api/card", &k, body(w.o)).await.assert(403);
    t.post("/api/card", &k, body(w.e)).await.assert(200);
    // 12
    t.put(
        &format!("/api/card/{}", w.c_e),
        &k,
        json!({"collection_id": w.o}),
    )
    .await
    .assert(403);
    let c_e = t.get(&format!("/api/card/{}", w.c_e), admin).await.json();
    assert_eq!(c_e["collection_id"], w.e);
    // The same key unrestricted sees everything: the restriction, not the group, hid them.
    t.put(
        &format!("/api/api-key/{}", sales.id),
        admin,
        json!({"restrictions": null}),
    )
    .await
    .assert(200);
    assert_eq!(
        card_names(&t, &k).await,
        ["c_e", "c_o", "c_r", "c_s", "c_w", "new"]
    );
});

both!(kr_13_14_root_and_unknown_collections, |t| async move {
    let w = world(&t).await;
    let admin = &w.admin;
    // 13
    let root = restricted(&t, admin, "root", 2, json!({"collections": ["root"]})).await;
    assert_eq!(card_names(&t, &root.auth()).await, ["c_r"]);
    t.get(&format!("/api/card/{}", w.c_r), &root.auth())
        .await
        .assert(200);
    t.get(&format!("/api/card/{}", w.c_s), &root.auth())
        .await
        .assert(403);
    // 14
    let none = restricted(&t, admin, "none", 2, json!({"collections": [999999]})).await;
    let k = none.auth();
    assert!(card_names(&t, &k).await.is_empty());
    let colls = t.get("/api/collection", &k).await;
    colls.assert(200);
    let names: Vec<String> = names_of(&colls.json())
        .into_iter()
        .filter(|n| n != "Our analytics")
        .collect();
    assert!(names.is_empty(), "{names:?}");
    let root_items = t.get("/api/collection/root/items", &k).await;
    root_items.assert(200);
    assert!(names_of(&root_items.json()).is_empty());
    t.get("/api/collection/tree", &k).await.assert(200);
    t.get("/api/search?q=c", &k).await.assert(200);
    assert_eq!(
        none.body["restrictions"],
        json!({"collections": [999999]}),
        "unknown ids are kept"
    );
});

both!(kr_15_16_database_scoped_keys, |t| async move {
    let w = world(&t).await;
    let admin = &w.admin;
    let db1 = restricted(&t, admin, "db1", 1, json!({"databases": [1]})).await;
    let k = db1.auth();
    // Control: the group itself reaches W and c_w.
    let control = create_with(&t, admin, json!({"name": "control", "group_id": 1})).await;
    t.post("/api/dataset", &control.auth(), native_on(w.w, "SELECT 1"))
        .await
        .assert(202);
    assert!(card_names(&t, &control.auth())
        .await
        .contains(&"c_w".to_string()));
    // 15
    let r = t.post("/api/dataset", &k, native_on(w.w, "SELECT 1")).await;
    r.assert(403);
    assert_eq!(r.json()["error_type"], "missing-required-permissions");
    t.post("/api/dataset", &k, native_on(1, "SELECT 1"))
        .await
        .assert(202);
    // 16
    let dbs = t.get("/api/database", &k).await;
    dbs.assert(200);
    let ids: Vec<i64> = dbs.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1]);
    t.get(&format!("/api/database/{}", w.w), &k)
        .await
        .assert(403);
    t.get(&format!("/api/database/{}/metadata", w.w), &k)
        .await
        .assert(403);
    assert!(!card_names(&t, &k).await.contains(&"c_w".to_string()));
    t.get(&format!("/api/card/{}", w.c_w), &k)
        .await
        .assert_text(403, FORBIDDEN);
    t.post(&format!("/api/card/{}/query", w.c_w), &k, json!({}))
        .await
        .assert(403);
    // An Administrators key restricted to database 1 is refused on W too.
    let admin_db1 = restricted(&t, admin, "admin-db1", 2, json!({"databases": [1]})).await;
    t.post(
        "/api/dataset",
        &admin_db1.auth(),
        native_on(w.w, "SELECT 1"),
    )
    .await
    .assert(403);
    t.get(&format!("/api/database/{}", w.w), &admin_db1.auth())
        .await
        .assert(403);
    t.get("/api/database/1", &admin_db1.auth())
        .await
        .assert(200);
});

both!(kr_17_restrictions_never_grant, |t| async move {
    let admin = t.setup().await;
    let g = t.group(&admin, "No data").await;
    restrict(
        &t,
        &admin,
        1,
        g,
        json!({"view-data": "blocked", "create-queries": "no"}),
    )
    .await;
    let k = restricted(&t, &admin, "narrow", g, json!({"databases": [1]})).await;
    t.post("/api/dataset", &k.auth(), native_on(1, "SELECT 1"))
        .await
        .assert(403);
});

both!(kr_18_20_21_allowed_addresses, |t| async move {
    let admin = t.setup().await;
    // 18
    let net = restricted(
        &t,
        &admin,
        "net",
        2,
        json!({"allowed_ips": ["10.1.0.0/16"]}),
    )
    .await;
    t.get("/api/user/current", &net.auth())
        .await
        .assert_text(401, "Unauthenticated");
    let denied: Vec<Value> = t
        .audit(&admin, "model=ApiKey")
        .await
        .into_iter()
        .filter(|e| e["topic"] == "api-key-ip-denied")
        .collect();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0]["details"], json!({"ip": "127.0.0.1"}));
    assert_eq!(denied[0]["model_id"], net.id);
    // 20: ten failures in all (one above), then 429 on the 11th and 12th.
    for _ in 0..9 {
        t.get("/api/user/current", &net.auth()).await.assert(401);
    }
    for _ in 0..2 {
        let r = t.get("/api/user/current", &net.auth()).await;
        r.assert(429);
    }
    let denied = t
        .audit(&admin, "model=ApiKey")
        .await
        .into_iter()
        .filter(|e| e["topic"] == "api-key-ip-denied")
        .count();
    assert_eq!(denied, 1);
});

both!(kr_21_loopback_allowed, |t| async move {
    let admin = t.setup().await;
    let k = restricted(
        &t,
        &admin,
        "local",
        2,
        json!({"allowed_ips": ["127.0.0.1", "::1"]}),
    )
    .await;
    assert_eq!(
        k.body["restrictions"],
        json!({"allowed_ips": ["127.0.0.1", "::1"]})
    );
    t.get("/api/user/current", &k.auth()).await.assert(200);
});

both!(
    kr_19_forwarded_address,
    config = |c: &mut ferrobase::config::Config| {
        c.source_address_header = Some(http::HeaderName::from_static("x-forwarded-for"));
    },
    |t| async move {
        let admin = t.setup().await;
        let net = restricted(
            &t,
            &admin,
            "net",
            2,
            json!({"allowed_ips": ["10.1.0.0/16"]}),
        )
        .await;
        let get = |ip: &'static str| {
            t.client
                .get(format!("{}/api/user/current", t.base))
                .header("X-Api-Key", &net.secret)
                .header("X-Forwarded-For", ip)
                .send()
        };
        assert_eq!(get("10.1.2.3").await.unwrap().status(), 200);
        assert_eq!(get("10.2.0.1").await.unwrap().status(), 401);
        assert_eq!(get("::ffff:10.1.9.9").await.unwrap().status(), 200);
    }
);

both!(kr_22_rate_limit, |t| async move {
    let admin = t.setup().await;
    let slow = restricted(
        &t,
        &admin,
        "slow",
        2,
        json!({"rate_limit": {"requests": 5, "per_seconds": 60}}),
    )
    .await;
    let other = create_with(&t, &admin, json!({"name": "other", "group_id": 2})).await;
    for _ in 0..5 {
        t.get("/api/user/current", &slow.auth()).await.assert(200);
    }
    let r = t.get("/api/user/current", &slow.auth()).await;
    r.assert_text(429, RATE);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    t.get("/api/user/current", &other.auth()).await.assert(200);
    t.get("/api/user/current", &admin).await.assert(200);
    // A limited request does nothing else: a write is refused too.
    t.post("/api/permissions/group", &slow.auth(), json!({"name": "y"}))
        .await
        .assert(429);
    assert!(!group_names(&t, &admin).await.contains(&"y".to_string()));
});

both!(kr_23_validation, |t| async move {
    let admin = t.setup().await;
    let cases = [
        (json!([]), "value must be an object or null."),
        (
            json!({"access": "write"}),
            "access must be \"read-write\" or \"read-only\".",
        ),
        (
            json!({"collections": [0]}),
            "collections must be an array of collection ids.",
        ),
        (
            json!({"databases": ["1"]}),
            "databases must be an array of database ids.",
        ),
        (
            json!({"allowed_ips": ["10.0.0.300"]}),
            "allowed_ips must be an array of IP addresses or CIDR blocks.",
        ),
        (
            json!({"allowed_ips": ["10.0.0.0/33"]}),
            "allowed_ips must be an array of IP addresses or CIDR blocks.",
        ),
        (
            json!({"rate_limit": {"requests": 0, "per_seconds": 1}}),
            "rate_limit must be {\"requests\": 1-1000000, \"per_seconds\": 1-86400}.",
        ),
        (json!({"colour": "red"}), "unknown restriction: colour."),
    ];
    for (i, (r, message)) in cases.into_iter().enumerate() {
        let resp = t
            .post(
                "/api/api-key",
                &admin,
                json!({"name": format!("k{i}"), "group_id": 1, "restrictions": r}),
            )
            .await;
        resp.assert(400);
        assert_eq!(resp.json()["errors"]["restrictions"], message, "{r}");
    }
    // Reported together with other fields' errors.
    let resp = t
        .post(
            "/api/api-key",
            &admin,
            json!({"group_id": 1, "restrictions": {"access": 1}}),
        )
        .await;
    resp.assert(400);
    assert!(resp.json()["errors"]["name"].is_string());
    assert!(resp.json()["errors"]["restrictions"].is_string());
    assert!(list_keys(&t, &admin).await.is_empty());
    // On PUT too.
    let k = create_with(&t, &admin, json!({"name": "k", "group_id": 1})).await;
    let resp = t
        .put(
            &format!("/api/api-key/{}", k.id),
            &admin,
            json!({"restrictions": {"databases": [-1]}}),
        )
        .await;
    resp.assert(400);
    assert_eq!(listed(&t, &admin, k.id).await["restrictions"], Value::Null);
});

both!(kr_24_25_29_update_audit_regenerate, |t| async move {
    let admin = t.setup().await;
    let first = json!({"access": "read-only", "databases": [3, 1]});
    let k = restricted(&t, &admin, "k", 2, first).await;
    let stored = json!({"access": "read-only", "databases": [1, 3]});
    assert_eq!(k.body["restrictions"], stored);
    // 24: absent keeps; an object replaces whole.
    let r = t
        .put(
            &format!("/api/api-key/{}", k.id),
            &admin,
            json!({"name": "k2"}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["restrictions"], stored);
    let replaced = json!({"collections": ["root"]});
    let r = t
        .put(
            &format!("/api/api-key/{}", k.id),
            &admin,
            json!({"restrictions": replaced}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["restrictions"], replaced);
    // The same secret is no longer read-only (the cache was evicted).
    t.post("/api/permissions/group", &k.auth(), json!({"name": "g"}))
        .await
        .assert(200);
    // 25
    let events = t.audit(&admin, "model=ApiKey").await;
    let created = events
        .iter()
        .find(|e| e["topic"] == "api-key-create" && e["model_id"] == k.id)
        .unwrap();
    assert_eq!(created["details"]["restrictions"], stored);
    let update = events
        .iter()
        .find(|e| {
            e["topic"] == "api-key-update" && e["details"]["new"].get("restrictions").is_some()
        })
        .unwrap();
    assert_eq!(update["details"]["previous"]["restrictions"], stored);
    assert_eq!(update["details"]["new"]["restrictions"], replaced);
    let plain = create_with(&t, &admin, json!({"name": "plain", "group_id": 1})).await;
    let plain_created = t
        .audit(&admin, "model=ApiKey")
        .await
        .into_iter()
        .find(|e| e["topic"] == "api-key-create" && e["model_id"] == plain.id)
        .unwrap();
    assert!(plain_created["details"].get("restrictions").is_none());
    // 29
    let ro = restricted(&t, &admin, "ro", 2, json!({"access": "read-only"})).await;
    let r = t
        .put(
            &format!("/api/api-key/{}/regenerate", ro.id),
            &admin,
            json!({}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json()["restrictions"], json!({"access": "read-only"}));
    let new = Auth::Key(r.json()["unmasked_key"].as_str().unwrap().to_string());
    t.post("/api/permissions/group", &new, json!({"name": "z"}))
        .await
        .assert_text(403, READ_ONLY);
});

both!(
    kr_27_read_only_admin_key_cannot_touch_keys,
    |t| async move {
        let admin = t.setup().await;
        let ro = restricted(&t, &admin, "ro", 2, json!({"access": "read-only"})).await;
        let other = create_with(&t, &admin, json!({"name": "other", "group_id": 2})).await;
        for id in [ro.id, other.id] {
            t.put(
                &format!("/api/api-key/{id}/regenerate"),
                &ro.auth(),
                json!({}),
            )
            .await
            .assert_text(403, READ_ONLY);
            t.delete(&format!("/api/api-key/{id}"), &ro.auth())
                .await
                .assert_text(403, READ_ONLY);
            t.put(
                &format!("/api/api-key/{id}"),
                &ro.auth(),
                json!({"restrictions": null}),
            )
            .await
            .assert_text(403, READ_ONLY);
        }
        assert_eq!(list_keys(&t, &admin).await.len(), 2);
        // §3.3: a restricted (not read-only) Administrators key cannot lift its own restrictions.
        let narrow = restricted(&t, &admin, "narrow", 2, json!({"databases": [1]})).await;
        t.put(
            &format!("/api/api-key/{}", narrow.id),
            &narrow.auth(),
            json!({"restrictions": null}),
        )
        .await
        .assert_text(403, FORBIDDEN);
        // …but may rename itself, and an unrestricted Administrators key may change anyone's.
        t.put(
            &format!("/api/api-key/{}", narrow.id),
            &narrow.auth(),
            json!({"name": "narrower"}),
        )
        .await
        .assert(200);
        t.put(
            &format!("/api/api-key/{}", narrow.id),
            &other.auth(),
            json!({"restrictions": null}),
        )
        .await
        .assert(200);
    }
);

/// Every `.route("…", …)` of `src/` with its methods: the router's route table as written.
fn route_table() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut files = vec![std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")];
    while let Some(p) = files.pop() {
        if p.is_dir() {
            files.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let mut rest = text.as_str();
        while let Some(at) = rest.find(".route(") {
            rest = &rest[at + ".route(".len()..];
            let trimmed = rest.trim_start();
            let Some(lit) = trimmed.strip_prefix('"') else {
                continue;
            };
            let path = &lit[..lit.find('"').unwrap()];
            // The method router: up to the parenthesis closing `.route(`.
            let mut depth = 1;
            let mut end = 0;
            for (i, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => {
                        depth -= 1;
                        if depth == 0 {
                            end = i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            let router = &rest[..end];
            for m in ["get", "post", "put", "delete", "patch", "any"] {
                let needle = format!("{m}(");
                let found = router.match_indices(&needle).any(|(i, _)| {
                    i == 0 || !router[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_')
                });
                if found {
                    out.push((m.to_uppercase(), path.to_string()));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{export-format}" => "csv".to_string(),
            s if s.starts_with('{') => "1".to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

const READ_ENDPOINTS: [&str; 7] = [
    "/api/dataset",
    "/api/dataset/{export-format}",
    "/api/dataset/native",
    "/api/card/{id}/query",
    "/api/card/{id}/query/{export-format}",
    "/api/card/pivot/{id}/query",
    "/api/ee/serialization/export",
];

both!(
    kr_30_every_writing_route_refuses_read_only_keys,
    |t| async move {
        let admin = t.setup().await;
        let ro = restricted(&t, &admin, "ro", 2, json!({"access": "read-only"})).await;
        let routes = route_table();
        assert!(
            routes.len() > 100,
            "the route table parser found {routes:?}"
        );
        assert!(routes.contains(&("POST".into(), "/api/api-key".into())));
        assert!(routes.contains(&("DELETE".into(), "/api/user/{id}".into())));
        let mut checked = 0;
        for (method, path) in &routes {
            let one = [method.as_str()];
            let methods: &[&str] = if method == "ANY" {
                &["POST", "PUT", "DELETE", "PATCH"]
            } else if method == "GET" {
                continue;
            } else {
                &one
            };
            for m in methods {
                let url = format!("{}{}", t.base, concrete(path));
                let r = t
                    .client
                    .request(reqwest::Method::from_bytes(m.as_bytes()).unwrap(), &url)
                    .header("X-Api-Key", &ro.secret)
                    .header("Content-Type", "application/json")
                    .body("{}")
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                let reads = *m == "POST" && READ_ENDPOINTS.contains(&path.as_str());
                if reads {
                    assert!(
                        !(status == 403 && text == READ_ONLY),
                        "{m} {path}: a read endpoint refused the read-only key"
                    );
                } else {
                    assert_eq!(
                        (status, text.as_str()),
                        (403, READ_ONLY),
                        "{m} {path} let a read-only key through"
                    );
                }
                checked += 1;
            }
        }
        assert!(checked > 50, "only {checked} writing routes checked");
        // Nothing above changed anything the admin can see.
        assert_eq!(list_keys(&t, &admin).await.len(), 1);
    }
);

/// Scenario 26: a restriction change on one instance reaches the other within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kr_26_restriction_changes_reach_other_instances() {
    let Some(db) = PgDb::create().await else {
        return;
    };
    with_pg(&db, async {
        let Pair { a, b, admin, .. } = two_instances(&db).await;
        let (id, k) = a.create_key(&admin, "k", 2).await;
        let k = Auth::Key(k);
        // A malformed write: 400 while the key may write, 403 once it is read-only (§2.1).
        let probe = "/api/permissions/group";
        let r = b
            .request("POST", probe, &k, Some(json!({"name": ""})))
            .await;
        r.assert(400);
        a.request(
            "PUT",
            &format!("/api/api-key/{id}"),
            &admin,
            Some(json!({"restrictions": {"access": "read-only"}})),
        )
        .await
        .assert(200);
        within_one_second_post(&b, probe, &k, 403).await;
        // And back.
        a.request(
            "PUT",
            &format!("/api/api-key/{id}"),
            &admin,
            Some(json!({"restrictions": null})),
        )
        .await
        .assert(200);
        within_one_second_post(&b, probe, &k, 400).await;
    })
    .await;
}

async fn within_one_second_post(server: &Server, path: &str, auth: &Auth, expected: u16) {
    crate::api_keys_process::poll_within_one_second(
        || server.request("POST", path, auth, Some(json!({"name": ""}))),
        |r| r.status == expected,
    )
    .await;
}

both!(kr_exports_hold_only_what_the_key_reaches, |t| async move {
    let w = world(&t).await;
    let admin = &w.admin;
    // §2.3: a database restriction exports only those databases and content on them; the same
    // for collections (§2.2: the key acts only inside them).
    let k = restricted(
        &t,
        admin,
        "exporter",
        2,
        json!({"access": "read-only", "collections": [w.s], "databases": [1]}),
    )
    .await;
    let files = crate::serialization::tree(&t, &k.auth(), "?data_model=true").await;
    let all = files.values().cloned().collect::<Vec<_>>().join("\n");
    assert!(all.contains("name: c_s"), "{:?}", files.keys());
    assert!(all.contains("name: c_e"));
    for absent in ["name: c_o", "name: c_r", "name: c_w", "name: Ops"] {
        assert!(
            !all.contains(absent),
            "{absent} exported: {:?}",
            files.keys()
        );
    }
    let w_files = |files: &std::collections::BTreeMap<String, String>| {
        files
            .keys()
            .filter(|k| k.starts_with("databases/W/"))
            .count()
    };
    assert_eq!(w_files(&files), 0, "{:?}", files.keys());
    // The unrestricted export has them all.
    let full = crate::serialization::tree(&t, admin, "?data_model=true").await;
    assert!(w_files(&full) > 0, "{:?}", full.keys());
    let full = full.values().cloned().collect::<Vec<_>>().join("\n");
    for present in ["name: c_o", "name: c_r", "name: c_w", "name: Ops"] {
        assert!(full.contains(present), "{present} missing");
    }
});
