//! Data permissions in practice (queries.md §2): scenarios 6, 7, 28–31; content.md scenarios
//! 39 and 44; and the data permission graph (people-and-groups.md §9, scenarios 91–97).
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::both;
use crate::collections_graph::{
    create as collection, set as set_collections, FORBIDDEN, INVALID, STALE,
};
use crate::queries_run::native_on;
use crate::support::{Auth, TestApp};

/// Sets data-permission entries (with `force=true`), which must succeed.
pub async fn set_data(t: &TestApp, admin: &Auth, groups: Value) {
    t.put(
        "/api/permissions/graph?force=true",
        admin,
        json!({"revision": 0, "groups": groups}),
    )
    .await
    .assert(200);
}

/// All Users lowered to `blocked` / `no` on `db`, and `group` given `entry` there.
pub async fn restrict(t: &TestApp, admin: &Auth, db: i64, group: i64, entry: Value) {
    set_data(
        t,
        admin,
        json!({"1": {db.to_string(): {"view-data": "blocked", "create-queries": "no"}},
               group.to_string(): {db.to_string(): entry}}),
    )
    .await;
}

/// Group G holding alice: (G, alice's id, alice's session).
pub async fn group_with_alice(t: &TestApp, admin: &Auth) -> (i64, i64, Auth) {
    let (alice_id, alice) = t.person(admin, "Alice", "alice@example.com").await;
    let g = t.group(admin, "G").await;
    t.post(
        "/api/permissions/membership",
        admin,
        json!({"group_id": g, "user_id": alice_id}),
    )
    .await
    .assert(200);
    (g, alice_id, alice)
}

fn native_card(name: &str, sql: &str, collection_id: Option<i64>) -> Value {
    json!({"name": name, "dataset_query": native_on(1, sql), "display": "table",
           "visualization_settings": {}, "collection_id": collection_id})
}

both!(queries_6_blocked_database_is_invisible, |t| async move {
    let admin = t.setup().await;
    let (g, _, alice) = group_with_alice(&t, &admin).await;
    restrict(
        &t,
        &admin,
        1,
        g,
        json!({"view-data": "blocked", "create-queries": "no"}),
    )
    .await;
    let r = t.get("/api/database", &alice).await;
    r.assert(200);
    assert_eq!(r.json(), json!({"data": [], "total": 0}));
    t.get("/api/database/1", &alice)
        .await
        .assert_text(403, FORBIDDEN);
});

both!(
    queries_7_query_builder_only_lists_without_native,
    |t| async move {
        let admin = t.setup().await;
        let (g, _, alice) = group_with_alice(&t, &admin).await;
        restrict(
            &t,
            &admin,
            1,
            g,
            json!({"view-data": "unrestricted", "create-queries": "query-builder"}),
        )
        .await;
        let v = t.get("/api/database", &alice).await.json();
        assert_eq!(v["total"], 1);
        assert_eq!(v["data"][0]["id"], 1);
        assert_eq!(v["data"][0]["native_permissions"], "none");
        assert!(v["data"][0].get("details").is_none());
        let v = t.get("/api/database", &admin).await.json();
        assert_eq!(v["data"][0]["native_permissions"], "write");
    }
);

both!(
    queries_28_29_native_permission_for_api_keys,
    |t| async move {
        let admin = t.setup().await;
        let g = t.group(&admin, "G").await;
        let key = create_key(&t, &admin, "K", g).await.auth();
        restrict(
            &t,
            &admin,
            1,
            g,
            json!({"view-data": "unrestricted", "create-queries": "query-builder"}),
        )
        .await;
        let r = t.post("/api/dataset", &key, native_on(1, "SELECT 1")).await;
        r.assert(403);
        let v = r.json();
        assert_eq!(v["status"], "failed");
        assert_eq!(v["error_type"], "missing-required-permissions");
        assert_eq!(v["error"], "You do not have permissions to run this query.");
        set_data(
            &t,
            &admin,
            json!({g.to_string(): {"1": {"create-queries": "query-builder-and-native"}}}),
        )
        .await;
        t.post("/api/dataset", &key, native_on(1, "SELECT 1"))
            .await
            .assert(202);
        // Scenario 29: an Administrators key is a superuser, whatever All Users has.
        let admin_key = create_key(&t, &admin, "A", 2).await.auth();
        t.post("/api/dataset", &admin_key, native_on(1, "SELECT 1"))
            .await
            .assert(202);
        // An MBQL query needs query-builder permission before it is refused as unsupported.
        let mbql = json!({"database": 1, "type": "query", "query": {"source-table": 1}});
        set_data(
            &t,
            &admin,
            json!({g.to_string(): {"1": {"view-data": "blocked", "create-queries": "no"}}}),
        )
        .await;
        t.post("/api/dataset", &key, mbql).await.assert(403);
    }
);

both!(
    queries_30_31_saved_card_needs_collection_read_and_view,
    |t| async move {
        let admin = t.setup().await;
        let (g, _, alice) = group_with_alice(&t, &admin).await;
        let a = collection(&t, &admin, "A", None).await;
        let r = t
            .post(
                "/api/card",
                &admin,
                native_card("C", "SELECT ID FROM PRODUCTS ORDER BY ID LIMIT 3", Some(a)),
            )
            .await;
        r.assert(200);
        let c = r.json()["id"].as_i64().unwrap();
        set_collections(
            &t,
            &admin,
            json!({"1": {a.to_string(): "none"}, g.to_string(): {a.to_string(): "read"}}),
        )
        .await;
        restrict(
            &t,
            &admin,
            1,
            g,
            json!({"view-data": "unrestricted", "create-queries": "no"}),
        )
        .await;
        let path = format!("/api/card/{c}/query");
        let r = t.post(&path, &alice, json!({})).await;
        r.assert(202);
        let v = r.json();
        assert_eq!(v["row_count"], 3);
        assert_eq!(v["context"], "question");
        // Ad-hoc SQL is still refused.
        t.post("/api/dataset", &alice, native_on(1, "SELECT 1"))
            .await
            .assert(403);
        restrict(
            &t,
            &admin,
            1,
            g,
            json!({"view-data": "blocked", "create-queries": "no"}),
        )
        .await;
        let r = t.post(&path, &alice, json!({})).await;
        r.assert(403);
        assert_eq!(r.json()["error_type"], "missing-required-permissions");
        // Scenario 31: no permission on A at all → plain 403.
        set_collections(&t, &admin, json!({g.to_string(): {a.to_string(): "none"}})).await;
        t.post(&path, &alice, json!({}))
            .await
            .assert_text(403, FORBIDDEN);
        t.post("/api/card/999999/query", &alice, json!({}))
            .await
            .assert_text(404, "Not found.");
    }
);

const CANNOT_SAVE: &str =
    "You cannot save this Question because you do not have permissions to run its query.";

both!(
    content_39_saving_native_card_needs_native_permission,
    |t| async move {
        let admin = t.setup().await;
        let (g, _, alice) = group_with_alice(&t, &admin).await;
        let a = collection(&t, &admin, "A", None).await;
        set_collections(&t, &admin, json!({g.to_string(): {a.to_string(): "write"}})).await;
        restrict(
            &t,
            &admin,
            1,
            g,
            json!({"view-data": "unrestricted", "create-queries": "query-builder"}),
        )
        .await;
        let r = t
            .post("/api/card", &alice, native_card("Q", "SELECT 1", Some(a)))
            .await;
        r.assert(403);
        assert_eq!(r.json(), json!({"message": CANNOT_SAVE}));
        // Cards alice can read say she cannot run their kind of query ad hoc.
        let r = t
            .post("/api/card", &admin, native_card("Q", "SELECT 1", Some(a)))
            .await;
        assert_eq!(r.json()["can_run_adhoc_query"], true);
        let id = r.json()["id"].as_i64().unwrap();
        let v = t.get(&format!("/api/card/{id}"), &alice).await.json();
        assert_eq!(v["can_run_adhoc_query"], false);
        set_data(
            &t,
            &admin,
            json!({g.to_string(): {"1": {"create-queries": "query-builder-and-native"}}}),
        )
        .await;
        t.post("/api/card", &alice, native_card("Q", "SELECT 1", Some(a)))
            .await
            .assert(200);
    }
);

both!(
    content_44_changing_sql_needs_native_permission,
    |t| async move {
        let admin = t.setup().await;
        let (g, _, alice) = group_with_alice(&t, &admin).await;
        let a = collection(&t, &admin, "A", None).await;
        set_collections(&t, &admin, json!({g.to_string(): {a.to_string(): "write"}})).await;
        let r = t
            .post("/api/card", &admin, native_card("C", "SELECT 1", Some(a)))
            .await;
        r.assert(200);
        let card = r.json();
        let path = format!("/api/card/{}", card["id"]);
        restrict(
            &t,
            &admin,
            1,
            g,
            json!({"view-data": "unrestricted", "create-queries": "no"}),
        )
        .await;
        let r = t
            .put(
                &path,
                &alice,
                json!({"name": "New", "dataset_query": native_on(1, "SELECT 2")}),
            )
            .await;
        r.assert(403);
        assert_eq!(r.json(), json!({"message": CANNOT_SAVE}));
        assert_eq!(t.get(&path, &admin).await.json()["name"], "C");
        let r = t
            .put(
                &path,
                &alice,
                json!({"name": "New", "dataset_query": card["dataset_query"]}),
            )
            .await;
        r.assert(200);
        assert_eq!(r.json()["name"], "New");
    }
);

both!(pg_91_data_graph_defaults, |t| async move {
    let admin = t.setup().await;
    let (_, _, alice) = group_with_alice(&t, &admin).await;
    let r = t.get("/api/permissions/graph", &admin).await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["revision"], 0);
    assert_eq!(
        v["groups"]["2"]["1"],
        json!({"view-data": "unrestricted", "create-queries": "query-builder-and-native",
               "download": {"schemas": "full"}, "data-model": {"schemas": "all"}, "details": "yes"})
    );
    assert_eq!(
        v["groups"]["1"]["1"],
        json!({"view-data": "unrestricted", "create-queries": "query-builder-and-native",
               "download": {"schemas": "full"}, "data-model": {"schemas": "none"}, "details": "no"})
    );
    for g in v["groups"].as_object().unwrap().values() {
        assert_eq!(g["1"].as_object().unwrap().len(), 5);
    }
    t.get("/api/permissions/graph", &alice)
        .await
        .assert_text(403, FORBIDDEN);
    t.put(
        "/api/permissions/graph",
        &alice,
        json!({"revision": 0, "groups": {}}),
    )
    .await
    .assert_text(403, FORBIDDEN);
});

both!(pg_92_93_partial_updates_and_revisions, |t| async move {
    let admin = t.setup().await;
    let r = t
        .put(
            "/api/permissions/graph",
            &admin,
            json!({"revision": 0, "groups": {"1": {"1": {"create-queries": "no"}}}}),
        )
        .await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["revision"], 1);
    assert_eq!(
        v["groups"]["1"]["1"],
        json!({"view-data": "unrestricted", "create-queries": "no",
               "download": {"schemas": "full"}, "data-model": {"schemas": "none"}, "details": "no"})
    );
    let r = t
        .put(
            "/api/permissions/graph?skip-graph=true",
            &admin,
            json!({"revision": 1, "groups": {"1": {"1": {"create-queries": "no"}}}}),
        )
        .await;
    r.assert(200);
    assert_eq!(r.json(), json!({"revision": 2}));
    // Scenario 93: stale revisions.
    t.put(
        "/api/permissions/graph",
        &admin,
        json!({"revision": 1, "groups": {}}),
    )
    .await
    .assert_text(409, STALE);
    t.put(
        "/api/permissions/graph?force=true",
        &admin,
        json!({"revision": 1, "groups": {}}),
    )
    .await
    .assert(200);
    // A graph read back is accepted as is (Administrators entries are ignored).
    let g = t.get("/api/permissions/graph", &admin).await.json();
    t.put("/api/permissions/graph", &admin, g).await.assert(200);
});

both!(pg_94_95_refused_graphs, |t| async move {
    let admin = t.setup().await;
    let r = t
        .put(
            "/api/permissions/graph",
            &admin,
            json!({"revision": 0, "groups": {}, "sandboxes": [{"group_id": 1}]}),
        )
        .await;
    r.assert_text(
        402,
        "Sandboxes and impersonation are not available in ferrobase.",
    );
    t.put(
        "/api/permissions/graph",
        &admin,
        json!({"revision": 0, "groups": {}, "sandboxes": [], "impersonations": []}),
    )
    .await
    .assert(200);
    for groups in [
        json!({"1": {"1": {"view-data": "blocked", "create-queries": "query-builder"}}}),
        // Granular create-queries is valid since data-model.md §4.1, but never native.
        json!({"1": {"1": {"create-queries": {"PUBLIC": "query-builder-and-native"}}}}),
        json!({"1": {"1": {"download": {"schemas": {"PUBLIC": "full"}}}}}),
        json!({"1": {"1": {"view-data": "sandboxed"}}}),
        json!({"1": {"1": {"bogus": "no"}}}),
        json!({"999": {"1": {"create-queries": "no"}}}),
        json!({"1": {"999": {"create-queries": "no"}}}),
    ] {
        let r = t
            .put(
                "/api/permissions/graph?force=true",
                &admin,
                json!({"revision": 0, "groups": groups}),
            )
            .await;
        assert_eq!(r.status, 400, "{groups}: {}", r.text);
        assert!(r.text.starts_with(INVALID), "{}", r.text);
    }
    // Nothing changed.
    let v = t.get("/api/permissions/graph", &admin).await.json();
    assert_eq!(v["groups"]["1"]["1"]["view-data"], "unrestricted");
    // Validation comes first.
    let r = t
        .put("/api/permissions/graph", &admin, json!({"groups": {}}))
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["revision"].is_string());
});

both!(pg_96_new_group_copies_all_users, |t| async move {
    let admin = t.setup().await;
    set_data(&t, &admin, json!({"1": {"1": {"create-queries": "query-builder", "download": {"schemas": "limited"}}}})).await;
    let g = t.group(&admin, "Later").await;
    let v = t.get("/api/permissions/graph", &admin).await.json();
    assert_eq!(
        v["groups"][g.to_string()]["1"],
        json!({"view-data": "unrestricted", "create-queries": "query-builder",
               "download": {"schemas": "limited"}, "data-model": {"schemas": "none"}, "details": "no"})
    );
    // A new database: All Users full access, other groups unrestricted without queries.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.sqlite");
    std::fs::copy(ferrobase::databases::sample::cache_path(), &file).unwrap();
    let r = t
        .post(
            "/api/database",
            &admin,
            json!({"name": "W", "engine": "sqlite", "details": {"db": file}}),
        )
        .await;
    r.assert(200);
    let w = r.json()["id"].as_i64().unwrap().to_string();
    let v = t.get("/api/permissions/graph", &admin).await.json();
    assert_eq!(
        v["groups"]["1"][&w]["create-queries"],
        "query-builder-and-native"
    );
    assert_eq!(v["groups"][g.to_string()][&w]["create-queries"], "no");
    assert_eq!(
        v["groups"][g.to_string()][&w]["download"],
        json!({"schemas": "none"})
    );
});

both!(pg_97_restricted_graphs, |t| async move {
    let admin = t.setup().await;
    let g = t.group(&admin, "G1").await;
    let v = t.get("/api/permissions/graph/db/1", &admin).await.json();
    assert_eq!(v["groups"].as_object().unwrap().len(), 3);
    assert!(v["groups"][g.to_string()]["1"].is_object());
    let v = t
        .get(&format!("/api/permissions/graph/group/{g}"), &admin)
        .await
        .json();
    assert_eq!(
        v["groups"].as_object().unwrap().keys().collect::<Vec<_>>(),
        vec![&g.to_string()]
    );
    t.get("/api/permissions/graph/db/999", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/permissions/graph/group/999", &admin)
        .await
        .assert_text(404, "Not found.");
    t.get("/api/permissions/graph/db/x", &admin)
        .await
        .assert_text(404, "Not found.");
});

both!(
    pg_data_graph_racing_puts_on_one_revision_let_exactly_one_win,
    |t| async move {
        let admin = t.setup().await;
        for round in 0..5 {
            let g = t.get("/api/permissions/graph", &admin).await.json();
            let rev = g["revision"].clone();
            let body = |level: &str| json!({"revision": rev, "groups": {"1": {"1": {"create-queries": level}}}});
            let (a, b) = tokio::join!(
                t.put("/api/permissions/graph", &admin, body("query-builder")),
                t.put("/api/permissions/graph", &admin, body("no"))
            );
            let mut statuses = [a.status, b.status];
            statuses.sort();
            assert_eq!(statuses, [200, 409], "round {round}");
        }
    }
);
