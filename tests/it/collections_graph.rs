//! people-and-groups.md §8, scenarios 81–90: the collection permission graph.
use serde_json::{json, Value};

use crate::both;
use crate::support::{Auth, TestApp};

pub const FORBIDDEN: &str = "You don't have permissions to do that.";
pub const STALE: &str = "Looks like someone else edited the permissions and your data is out of date. Please fetch new data and try again.";
pub const INVALID: &str = "Cannot parse permissions graph because it is invalid: ";

/// `POST /api/collection`, which must succeed: the new collection's id.
pub async fn create(t: &TestApp, by: &Auth, name: &str, parent: Option<i64>) -> i64 {
    let r = t
        .post(
            "/api/collection",
            by,
            json!({"name": name, "parent_id": parent}),
        )
        .await;
    r.assert(200);
    r.json()["id"].as_i64().expect("id")
}

pub async fn graph(t: &TestApp, admin: &Auth) -> Value {
    let r = t.get("/api/collection/graph", admin).await;
    r.assert(200);
    r.json()
}

/// Sets entries with `force=true`, which must succeed.
pub async fn set(t: &TestApp, admin: &Auth, groups: Value) {
    t.put(
        "/api/collection/graph?force=true",
        admin,
        json!({"revision": 0, "groups": groups}),
    )
    .await
    .assert(200);
}

both!(s81_fresh_graph_lists_root_only, |t| async move {
    let admin = t.setup().await;
    assert_eq!(
        graph(&t, &admin).await,
        json!({"revision":0,"groups":{"1":{"root":"write"},"2":{"root":"write"}}})
    );
});

both!(s82_new_collection_copies_root_entries, |t| async move {
    let admin = t.setup().await;
    let g = t.group(&admin, "G1").await;
    let c = create(&t, &admin, "C", None).await;
    let body = graph(&t, &admin).await;
    let k = c.to_string();
    assert_eq!(body["groups"]["1"][&k], "write");
    assert_eq!(body["groups"]["2"][&k], "write");
    assert_eq!(body["groups"][g.to_string()], json!({}));
});

both!(
    s83_s84_put_changes_and_bumps_revision_once,
    |t| async move {
        let admin = t.setup().await;
        let c = create(&t, &admin, "C", None).await;
        let body = json!({"revision":0,"groups":{"1":{"root":"none", c.to_string():"read"}}});
        let r = t.put("/api/collection/graph", &admin, body.clone()).await;
        r.assert(200);
        let v = r.json();
        assert_eq!(v["revision"], 1);
        assert_eq!(v["groups"]["1"], json!({c.to_string(): "read"}));
        assert_eq!(v["groups"]["2"]["root"], "write");
        let mut again = body;
        again["revision"] = json!(1);
        let r = t.put("/api/collection/graph", &admin, again).await;
        r.assert(200);
        assert_eq!(r.json()["revision"], 1);
        assert_eq!(graph(&t, &admin).await["revision"], 1);
    }
);

both!(s85_stale_revision_conflicts_unless_forced, |t| async move {
    let admin = t.setup().await;
    t.put(
        "/api/collection/graph",
        &admin,
        json!({"revision":0,"groups":{"1":{"root":"read"}}}),
    )
    .await
    .assert(200);
    let stale = json!({"revision":0,"groups":{"1":{"root":"none"}}});
    t.put("/api/collection/graph", &admin, stale.clone())
        .await
        .assert_text(409, STALE);
    assert_eq!(graph(&t, &admin).await["groups"]["1"]["root"], "read");
    let r = t
        .put("/api/collection/graph?force=true", &admin, stale)
        .await;
    r.assert(200);
    assert_eq!(r.json()["revision"], 2);
    assert_eq!(r.json()["groups"]["1"], json!({}));
});

both!(s86_skip_graph_answers_revision_only, |t| async move {
    let admin = t.setup().await;
    let r = t
        .put(
            "/api/collection/graph?skip-graph=true",
            &admin,
            json!({"revision":0,"groups":{"1":{"root":"read"}}}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json(), json!({"revision": 1}));
    let r = t
        .put(
            "/api/collection/graph?skip_graph=true",
            &admin,
            json!({"revision":1,"groups":{}}),
        )
        .await;
    assert_eq!(r.json(), json!({"revision": 1}));
});

both!(s87_personal_and_admin_entries_are_ignored, |t| async move {
    let admin = t.setup().await;
    let (alice_id, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let me = t.get("/api/user/current", &alice).await.json();
    let p = me["personal_collection_id"].as_i64().expect("personal");
    let inner = create(&t, &alice, "Inner", Some(p)).await;
    let _ = alice_id;
    let before = graph(&t, &admin).await;
    let r = t
        .put(
            "/api/collection/graph",
            &admin,
            json!({"revision":0,"groups":{
                "1":{p.to_string():"write", inner.to_string():"read"},
                "2":{"root":"none"}}}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json(), before);
    assert_eq!(r.json()["revision"], 0);
    // Bob still cannot read Alice's collections.
    let (_, bob) = t.person(&admin, "Bob", "bob@example.com").await;
    t.get(&format!("/api/collection/{p}"), &bob)
        .await
        .assert_text(403, FORBIDDEN);
    t.get(&format!("/api/collection/{inner}"), &bob)
        .await
        .assert_text(403, FORBIDDEN);
});

both!(s88_invalid_content_is_a_plain_400, |t| async move {
    let admin = t.setup().await;
    let c = create(&t, &admin, "C", None).await;
    for groups in [
        json!({"1":{c.to_string():"admin"}}),
        json!({"1":{"999999":"read"}}),
        json!({"999999":{"root":"read"}}),
        json!({"1":{"nope":"read"}}),
    ] {
        let r = t
            .put(
                "/api/collection/graph",
                &admin,
                json!({"revision":0,"groups":groups}),
            )
            .await;
        assert_eq!(r.status, 400, "{groups}: {}", r.text);
        assert!(r.text.starts_with(INVALID), "{}", r.text);
        assert!(r.content_type().starts_with("text/plain"));
    }
    assert_eq!(graph(&t, &admin).await["revision"], 0);
    // A malformed top-level shape is a validation error.
    let r = t
        .put("/api/collection/graph", &admin, json!({"groups":{}}))
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["revision"].is_string());
});

both!(s89_non_admins_get_403, |t| async move {
    let admin = t.setup().await;
    let (_, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    t.get("/api/collection/graph", &alice)
        .await
        .assert_text(403, FORBIDDEN);
    t.put(
        "/api/collection/graph",
        &alice,
        json!({"revision":0,"groups":{}}),
    )
    .await
    .assert_text(403, FORBIDDEN);
    t.get("/api/collection/graph", &Auth::None)
        .await
        .assert(401);
});

both!(s90_most_permissive_group_wins, |t| async move {
    let admin = t.setup().await;
    let (alice_id, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let (_, bob) = t.person(&admin, "Bob", "bob@example.com").await;
    let g1 = t.group(&admin, "G1").await;
    t.post(
        "/api/permissions/membership",
        &admin,
        json!({"group_id": g1, "user_id": alice_id}),
    )
    .await
    .assert(200);
    let c = create(&t, &admin, "C", None).await;
    set(
        &t,
        &admin,
        json!({"1":{c.to_string():"none"}, g1.to_string():{c.to_string():"read"}}),
    )
    .await;
    let path = format!("/api/collection/{c}");
    let r = t.get(&path, &alice).await;
    r.assert(200);
    assert_eq!(r.json()["can_write"], false);
    t.put(&path, &alice, json!({"name":"x"}))
        .await
        .assert_text(403, FORBIDDEN);
    t.get(&path, &bob).await.assert_text(403, FORBIDDEN);
    // Deleting the group removes its entries.
    t.delete(&format!("/api/permissions/group/{g1}"), &admin)
        .await
        .assert(204);
    t.get(&path, &alice).await.assert_text(403, FORBIDDEN);
    assert!(graph(&t, &admin).await["groups"][g1.to_string()].is_null());
});

both!(key_in_restricted_group_is_denied, |t| async move {
    let admin = t.setup().await;
    let g = t.group(&admin, "Readers").await;
    let key = crate::api_keys::create_key(&t, &admin, "K", g).await.auth();
    let a = create(&t, &admin, "A", None).await;
    set(
        &t,
        &admin,
        json!({"1":{"root":"none", a.to_string():"none"}, g.to_string():{a.to_string():"read"}}),
    )
    .await;
    t.get(&format!("/api/collection/{a}"), &key)
        .await
        .assert(200);
    t.put(&format!("/api/collection/{a}"), &key, json!({"name":"x"}))
        .await
        .assert_text(403, FORBIDDEN);
    t.post("/api/collection", &key, json!({"name":"c","parent_id":a}))
        .await
        .assert_text(403, FORBIDDEN);
    t.post("/api/collection", &key, json!({"name":"top"}))
        .await
        .assert_text(403, FORBIDDEN);
    t.get("/api/collection/root", &key)
        .await
        .assert_text(403, FORBIDDEN);
    t.get("/api/collection/graph", &key)
        .await
        .assert_text(403, FORBIDDEN);
    // s12: a key has no personal collection.
    let r = t.get("/api/collection?personal-only=true", &key).await;
    r.assert(200);
    assert_eq!(r.json(), json!([]));
});

both!(
    racing_puts_on_one_revision_let_exactly_one_win,
    |t| async move {
        let admin = t.setup().await;
        for round in 0..5 {
            let g = graph(&t, &admin).await;
            let rev = g["revision"].clone();
            // Two changes (a PUT that changes nothing keeps the revision and cannot conflict).
            let current = g["groups"]["1"]["root"]
                .as_str()
                .unwrap_or("none")
                .to_string();
            let levels: Vec<&str> = ["write", "read", "none"]
                .into_iter()
                .filter(|l| *l != current)
                .collect();
            let body = |i: usize| json!({"revision": rev, "groups": {"1": {"root": levels[i]}}});
            let (a, b) = tokio::join!(
                t.put("/api/collection/graph", &admin, body(0)),
                t.put("/api/collection/graph", &admin, body(1))
            );
            let mut statuses = [a.status, b.status];
            statuses.sort();
            assert_eq!(statuses, [200, 409], "round {round}");
        }
    }
);

/// The keys of one group's entries, as the body sends them.
fn entry_keys(body: &Value, group: i64) -> Vec<String> {
    body["groups"][group.to_string()]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

both!(
    graph_entries_are_listed_root_first_then_by_ascending_id,
    |t| async move {
        let admin = t.setup().await;
        let g = t.group(&admin, "G1").await;
        let mut ids = Vec::new();
        for i in 0..9 {
            ids.push(create(&t, &admin, &format!("C{i}"), None).await);
        }
        // Granted newest first, and the oldest renamed (PostgreSQL then stores it last).
        let mut entries = serde_json::Map::new();
        for id in ids.iter().rev() {
            entries.insert(id.to_string(), json!("read"));
        }
        entries.insert("root".into(), json!("write"));
        set(&t, &admin, json!({ g.to_string(): entries })).await;
        t.put(
            &format!("/api/collection/{}", ids[0]),
            &admin,
            json!({"name": "renamed"}),
        )
        .await
        .assert(200);
        let mut want = vec!["root".to_string()];
        want.extend(ids.iter().map(i64::to_string));
        let body = graph(&t, &admin).await;
        // A group's stored entries, All Users' (copied from the root) and the Administrators'.
        assert_eq!(entry_keys(&body, g), want);
        assert_eq!(entry_keys(&body, 1), want);
        assert_eq!(entry_keys(&body, 2), want);
    }
);
