//! content.md §3.6, §4.2, §4.6, scenarios 46, 58, 67, 68, 92: archiving, restoring, moving and
//! deleting dashboards with their dashboard questions, and cards leaving dashboards.
use serde_json::{json, Value};

use crate::both;
use crate::cards::{card, native};
use crate::collections_graph::create as collection;
use crate::dashboards::{dashboard, dc, ids, path, put_ok};
use crate::support::{Auth, TestApp};

/// A dashboard question: `POST /api/card` with `dashboard_id`, which must succeed.
async fn question(t: &TestApp, by: &Auth, name: &str, dashboard_id: &Value) -> Value {
    let r = t
        .post(
            "/api/card",
            by,
            json!({"name": name, "dataset_query": native("select 1"), "display": "table",
                   "visualization_settings": {}, "dashboard_id": dashboard_id}),
        )
        .await;
    r.assert(200);
    r.json()
}

both!(
    s46_deleted_card_leaves_dashcards_and_series,
    |t| async move {
        let admin = t.setup().await;
        let c = card(&t, &admin, "C", None).await;
        let other = card(&t, &admin, "O", None).await;
        let d = dashboard(&t, &admin, "D", None).await;
        let mut with_series = dc(-2, &other["id"], 4);
        with_series["series"] = json!([c["id"], other["id"]]);
        let v = put_ok(
            &t,
            &admin,
            &d,
            json!({"dashcards": [dc(-1, &c["id"], 0), with_series]}),
        )
        .await;
        assert_eq!(
            ids(&v["dashcards"][1]["series"]),
            vec![
                c["id"].as_i64().expect("c"),
                other["id"].as_i64().expect("o")
            ]
        );
        let cp = format!("/api/card/{}", c["id"]);
        assert_eq!(t.get(&cp, &admin).await.json()["dashboard_count"], 1);
        let r = t.delete(&cp, &admin).await;
        r.assert(204);
        t.get(&cp, &admin).await.assert_text(404, "Not found.");
        let got = t.get(&path(&d), &admin).await.json();
        let cards = got["dashcards"].as_array().expect("dashcards");
        assert_eq!(cards.len(), 1);
        assert_eq!(cards[0]["card_id"], other["id"]);
        assert_eq!(
            ids(&cards[0]["series"]),
            vec![other["id"].as_i64().expect("o")]
        );
    }
);

both!(
    s58_delete_dashboard_takes_tabs_dashcards_questions,
    |t| async move {
        let admin = t.setup().await;
        let a = collection(&t, &admin, "A", None).await;
        let d = dashboard(&t, &admin, "D", Some(a)).await;
        let q = question(&t, &admin, "Q", &d["id"]).await;
        let keep = card(&t, &admin, "K", Some(a)).await;
        let v = put_ok(
            &t,
            &admin,
            &d,
            json!({"tabs": [{"id": -1, "name": "T"}],
               "dashcards": [{"id": -1, "card_id": q["id"], "dashboard_tab_id": -1, "row": 0,
                              "col": 0, "size_x": 4, "size_y": 4},
                             {"id": -2, "card_id": keep["id"], "dashboard_tab_id": -1, "row": 4,
                              "col": 0, "size_x": 4, "size_y": 4}]}),
        )
        .await;
        assert_eq!(v["dashcards"].as_array().map(Vec::len), Some(2));
        // The dashboard question may sit on another dashboard too.
        let e = dashboard(&t, &admin, "E", Some(a)).await;
        put_ok(
            &t,
            &admin,
            &e,
            json!({"dashcards": [dc(-1, &keep["id"], 0)]}),
        )
        .await;
        let r = t.delete(&path(&d), &admin).await;
        r.assert(204);
        assert_eq!(r.text, "");
        t.get(&path(&d), &admin)
            .await
            .assert_text(404, "Not found.");
        t.get(&format!("/api/card/{}", q["id"]), &admin)
            .await
            .assert_text(404, "Not found.");
        t.get(&format!("/api/card/{}", keep["id"]), &admin)
            .await
            .assert(200);
        assert_eq!(
            t.get(&path(&e), &admin).await.json()["dashcards"]
                .as_array()
                .map(Vec::len),
            Some(1)
        );
        t.delete(&path(&d), &admin)
            .await
            .assert_text(404, "Not found.");
    }
);

both!(
    s67_dashboard_questions_archived_and_restored_with_it,
    |t| async move {
        let admin = t.setup().await;
        let a = collection(&t, &admin, "A", None).await;
        let trash = t.get("/api/collection/trash", &admin).await.json()["id"].clone();
        let d = dashboard(&t, &admin, "D", Some(a)).await;
        let q = question(&t, &admin, "Q", &d["id"]).await;
        assert_eq!(q["collection_id"], a);
        assert_eq!(q["dashboard_id"], d["id"]);
        let qp = format!("/api/card/{}", q["id"]);
        let v = put_ok(
            &t,
            &admin,
            &d,
            json!({"archived": true, "collection_id": 999999}),
        )
        .await;
        assert_eq!(v["archived"], true);
        assert_eq!(v["archived_directly"], true);
        assert_eq!(v["collection_id"], trash);
        assert_eq!(v["can_restore"], true);
        assert_eq!(v["can_delete"], true);
        let got = t.get(&path(&d), &admin).await;
        got.assert(200);
        assert_eq!(got.json(), v);
        let qv = t.get(&qp, &admin).await.json();
        assert_eq!(
            (qv["archived"].clone(), qv["archived_directly"].clone()),
            (json!(true), json!(false))
        );
        assert_eq!(qv["collection_id"], a);
        // Archiving again is a no-op.
        let again = put_ok(&t, &admin, &d, json!({"archived": true})).await;
        assert_eq!(again["updated_at"], v["updated_at"]);
        // Sending back what GET showed (collection_id = Trash id) with a new name.
        let mut back = v.clone();
        back["name"] = json!("D2");
        back.as_object_mut().map(|m| m.remove("dashcards"));
        back.as_object_mut().map(|m| m.remove("tabs"));
        let r = put_ok(&t, &admin, &d, back).await;
        assert_eq!(r["name"], "D2");
        assert_eq!(r["archived"], true);
        let v = put_ok(&t, &admin, &d, json!({"archived": false})).await;
        assert_eq!(
            (v["archived"].clone(), v["collection_id"].clone()),
            (json!(false), json!(a))
        );
        let qv = t.get(&qp, &admin).await.json();
        assert_eq!(
            (qv["archived"].clone(), qv["archived_directly"].clone()),
            (json!(false), json!(false))
        );
    }
);

both!(restore_into_another_collection_or_refused, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    let b = collection(&t, &admin, "B", None).await;
    let d = dashboard(&t, &admin, "D", Some(a)).await;
    let q = question(&t, &admin, "Q", &d["id"]).await;
    // Archived together with A: not restorable on its own, only elsewhere.
    t.put(
        &format!("/api/collection/{a}"),
        &admin,
        json!({"archived": true}),
    )
    .await
    .assert(200);
    let v = t.get(&path(&d), &admin).await.json();
    assert_eq!(
        (v["archived"].clone(), v["archived_directly"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(v["collection_id"], a);
    t.put(&path(&d), &admin, json!({"archived": false}))
        .await
        .assert_text(400, "Invalid Request.");
    let v = put_ok(
        &t,
        &admin,
        &d,
        json!({"archived": false, "collection_id": b}),
    )
    .await;
    assert_eq!(
        (v["archived"].clone(), v["collection_id"].clone()),
        (json!(false), json!(b))
    );
    let qv = t
        .get(&format!("/api/card/{}", q["id"]), &admin)
        .await
        .json();
    assert_eq!(
        (qv["archived"].clone(), qv["collection_id"].clone()),
        (json!(false), json!(b))
    );
    // A dashboard trashed on its own keeps its questions in the Trash when its collection
    // comes back.
    put_ok(&t, &admin, &d, json!({"archived": true})).await;
    t.put(
        &format!("/api/collection/{b}"),
        &admin,
        json!({"archived": true}),
    )
    .await
    .assert(200);
    t.put(
        &format!("/api/collection/{b}"),
        &admin,
        json!({"archived": false}),
    )
    .await
    .assert(200);
    assert_eq!(t.get(&path(&d), &admin).await.json()["archived"], true);
    let qv = t
        .get(&format!("/api/card/{}", q["id"]), &admin)
        .await
        .json();
    assert_eq!(qv["archived"], true);
});

both!(s68_archived_card_hidden_from_dashboard, |t| async move {
    let admin = t.setup().await;
    let c = card(&t, &admin, "C", None).await;
    let d = dashboard(&t, &admin, "D", None).await;
    let v = put_ok(&t, &admin, &d, json!({"dashcards": [dc(-1, &c["id"], 0)]})).await;
    let cp = format!("/api/card/{}", c["id"]);
    t.put(&cp, &admin, json!({"archived": true}))
        .await
        .assert(200);
    assert_eq!(
        t.get(&path(&d), &admin).await.json()["dashcards"],
        json!([])
    );
    t.put(&cp, &admin, json!({"archived": false}))
        .await
        .assert(200);
    let got = t.get(&path(&d), &admin).await.json();
    assert_eq!(ids(&got["dashcards"]), ids(&v["dashcards"]));
});

both!(
    s92_dashboard_questions_follow_their_dashboard,
    |t| async move {
        let admin = t.setup().await;
        let a = collection(&t, &admin, "A", None).await;
        let b = collection(&t, &admin, "B", None).await;
        let d = dashboard(&t, &admin, "D", Some(a)).await;
        let q = question(&t, &admin, "Q", &d["id"]).await;
        assert_eq!(q["collection_id"], a);
        assert_eq!(q["dashboard_id"], d["id"]);
        let r = t
            .post(
                "/api/card",
                &admin,
                json!({"name": "Q2", "dataset_query": native("select 1"), "display": "table",
                   "visualization_settings": {}, "dashboard_id": d["id"], "collection_id": b}),
            )
            .await;
        r.assert(400);
        assert_eq!(
            r.json(),
            json!({"message": format!(
            "Mismatch detected between Dashboard's collection_id ({a}) and the Card's collection_id ({b}).")})
        );
        let v = put_ok(&t, &admin, &d, json!({"collection_id": b})).await;
        assert_eq!(v["collection_id"], b);
        assert_eq!(v["collection"]["id"], b);
        let qv = t
            .get(&format!("/api/card/{}", q["id"]), &admin)
            .await
            .json();
        assert_eq!(qv["collection_id"], b);
        // A card moved onto another dashboard follows that dashboard's collection.
        let e = dashboard(&t, &admin, "E", Some(a)).await;
        let r = t
            .put(
                &format!("/api/card/{}", q["id"]),
                &admin,
                json!({"dashboard_id": e["id"]}),
            )
            .await;
        r.assert(200);
        assert_eq!(
            (
                r.json()["dashboard_id"].clone(),
                r.json()["collection_id"].clone()
            ),
            (e["id"].clone(), json!(a))
        );
        // Into the root.
        let v = put_ok(&t, &admin, &e, json!({"collection_id": null})).await;
        assert_eq!(v["collection_id"], Value::Null);
        assert_eq!(v["collection"], Value::Null);
        let qv = t
            .get(&format!("/api/card/{}", q["id"]), &admin)
            .await
            .json();
        assert_eq!(qv["collection_id"], Value::Null);
    }
);

both!(pinned_positions_shift_for_dashboards, |t| async move {
    let admin = t.setup().await;
    let a = collection(&t, &admin, "A", None).await;
    let p1 = t
        .post(
            "/api/dashboard",
            &admin,
            json!({"name": "P1", "collection_id": a, "collection_position": 1}),
        )
        .await
        .json();
    let p2 = t
        .post(
            "/api/dashboard",
            &admin,
            json!({"name": "P2", "collection_id": a, "collection_position": 1}),
        )
        .await
        .json();
    assert_eq!(p2["collection_position"], 1);
    assert_eq!(
        t.get(&path(&p1), &admin).await.json()["collection_position"],
        2
    );
    let v = put_ok(&t, &admin, &p1, json!({"collection_position": 1})).await;
    assert_eq!(v["collection_position"], 1);
    assert_eq!(
        t.get(&path(&p2), &admin).await.json()["collection_position"],
        2
    );
});

both!(card_tab_must_belong_to_its_dashboard, |t| async move {
    let admin = t.setup().await;
    let d = dashboard(&t, &admin, "D", None).await;
    let v = put_ok(&t, &admin, &d, json!({"tabs": [{"id": -1, "name": "T"}]})).await;
    let tab = v["tabs"][0]["id"].clone();
    let body = |tab: &Value| {
        json!({"name": "Q", "dataset_query": native("select 1"), "display": "table",
               "visualization_settings": {}, "dashboard_id": d["id"], "dashboard_tab_id": tab})
    };
    let r = t.post("/api/card", &admin, body(&tab)).await;
    r.assert(200);
    assert_eq!(r.json()["dashboard_tab_id"], tab);
    let q = r.json();
    let r = t.post("/api/card", &admin, body(&json!(999999))).await;
    r.assert(400);
    assert!(r.json()["errors"]["dashboard_tab_id"].is_string());
    let r = t
        .put(
            &format!("/api/card/{}", q["id"]),
            &admin,
            json!({"dashboard_tab_id": 999999}),
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["dashboard_tab_id"].is_string());
    // Deleting the tab clears the card's reference.
    put_ok(&t, &admin, &d, json!({"tabs": []})).await;
    let got = t
        .get(&format!("/api/card/{}", q["id"]), &admin)
        .await
        .json();
    assert_eq!(got["dashboard_tab_id"], Value::Null);
});
