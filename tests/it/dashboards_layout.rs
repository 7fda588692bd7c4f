//! content.md §3.5, scenarios 49–57, 85, 86: tabs and dashcards in `PUT /api/dashboard/:id`.
use serde_json::{json, Value};

use crate::api_keys::create_key;
use crate::both;
use crate::cards::card;
use crate::collections_graph::{create as collection, set};
use crate::dashboards::{dashboard, dc, ids, path, put_ok, FORBIDDEN};

const ARCHIVED: &str = r#"{"message":"The object has been archived.","error_code":"archived"}"#;

fn archived_body() -> Value {
    serde_json::from_str(ARCHIVED).expect("json")
}

both!(s49_new_dashcards_get_real_ids, |t| async move {
    let admin = t.setup().await;
    let c = card(&t, &admin, "C", None).await;
    let d = dashboard(&t, &admin, "D", None).await;
    let v = put_ok(
        &t,
        &admin,
        &d,
        json!({"dashcards": [
            {"id": -1, "card_id": c["id"], "row": 0, "col": 0, "size_x": 6, "size_y": 4},
            {"id": -2, "card_id": null, "row": 4, "col": 0, "size_x": 24, "size_y": 1,
             "visualization_settings": {"virtual_card": {"display": "text"}, "text": "hi"}}]}),
    )
    .await;
    let cards = v["dashcards"].as_array().expect("dashcards");
    assert_eq!(cards.len(), 2);
    let (a, b) = (&cards[0], &cards[1]);
    assert!(
        a["id"].as_i64().expect("id") > 0
            && b["id"].as_i64().expect("id") > a["id"].as_i64().expect("id")
    );
    assert_eq!(a["card_id"], c["id"]);
    assert_eq!(a["card"]["name"], "C");
    assert_eq!(a["card"]["dataset_query"], c["dataset_query"]);
    assert_eq!(a["dashboard_id"], d["id"]);
    assert_eq!(a["size_x"], 6);
    assert_eq!(a["parameter_mappings"], json!([]));
    assert_eq!(a["inline_parameters"], json!([]));
    assert_eq!(a["series"], json!([]));
    assert_eq!(a["action_id"], Value::Null);
    assert_eq!(a["dashboard_tab_id"], Value::Null);
    assert_eq!(b["card"], Value::Null);
    assert_eq!(b["card_id"], Value::Null);
    assert_eq!(b["visualization_settings"]["text"], "hi");
    assert_eq!(t.get(&path(&d), &admin).await.json(), v);
    // The card now counts the dashboard.
    let got = t
        .get(&format!("/api/card/{}", c["id"]), &admin)
        .await
        .json();
    assert_eq!(got["dashboard_count"], 1);
});

both!(s50_zero_and_negative_ids_all_create, |t| async move {
    let admin = t.setup().await;
    let c = card(&t, &admin, "C", None).await;
    let d = dashboard(&t, &admin, "D", None).await;
    let v = put_ok(
        &t,
        &admin,
        &d,
        json!({"dashcards": [dc(0, &c["id"], 0), dc(-1, &c["id"], 4), dc(-2, &c["id"], 8)]}),
    )
    .await;
    let got = ids(&v["dashcards"]);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|i| *i > 0));
    let rows: Vec<i64> = v["dashcards"]
        .as_array()
        .expect("array")
        .iter()
        .map(|x| x["row"].as_i64().expect("row"))
        .collect();
    assert_eq!(rows, vec![0, 4, 8]);
});

both!(s51_omitted_dashcards_are_deleted, |t| async move {
    let admin = t.setup().await;
    let c = card(&t, &admin, "C", None).await;
    let d = dashboard(&t, &admin, "D", None).await;
    let v = put_ok(
        &t,
        &admin,
        &d,
        json!({"dashcards": [dc(-1, &c["id"], 0), dc(-2, &c["id"], 4)]}),
    )
    .await;
    let d1 = v["dashcards"][0].clone();
    let mut moved = d1.clone();
    moved["row"] = json!(5);
    let v = put_ok(&t, &admin, &d, json!({ "dashcards": [moved] })).await;
    assert_eq!(ids(&v["dashcards"]), vec![d1["id"].as_i64().expect("id")]);
    assert_eq!(v["dashcards"][0]["row"], 5);
    assert_eq!(v["dashcards"][0]["created_at"], d1["created_at"]);
    // The same existing id twice is refused.
    let r = t
        .put(&path(&d), &admin, json!({"dashcards": [d1.clone(), d1]}))
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["dashcards"].is_string());
    let r = t
        .put(
            &path(&d),
            &admin,
            json!({"dashcards": [{"id": -1, "row": -1, "col": 0, "size_x": 1, "size_y": 1}]}),
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["dashcards"].is_string());
});

both!(s52_new_tabs_and_remapped_tab_ids, |t| async move {
    let admin = t.setup().await;
    let c = card(&t, &admin, "C", None).await;
    let d = dashboard(&t, &admin, "D", None).await;
    let v = put_ok(
        &t,
        &admin,
        &d,
        json!({"tabs": [{"id": -1, "name": "One"}, {"id": -2, "name": "Two"}],
               "dashcards": [{"id": -1, "card_id": c["id"], "dashboard_tab_id": -2,
                              "row": 0, "col": 0, "size_x": 4, "size_y": 4}]}),
    )
    .await;
    let tabs = v["tabs"].as_array().expect("tabs");
    assert_eq!(tabs.len(), 2);
    assert_eq!(
        (tabs[0]["name"].clone(), tabs[0]["position"].clone()),
        (json!("One"), json!(0))
    );
    assert_eq!(
        (tabs[1]["name"].clone(), tabs[1]["position"].clone()),
        (json!("Two"), json!(1))
    );
    assert!(tabs.iter().all(|t| t["id"].as_i64().is_some_and(|i| i > 0)));
    assert_eq!(tabs[0]["dashboard_id"], d["id"]);
    assert_eq!(v["dashcards"][0]["dashboard_tab_id"], tabs[1]["id"]);
    // Reordering and renaming keeps ids.
    let v2 = put_ok(
        &t,
        &admin,
        &d,
        json!({"tabs": [{"id": tabs[1]["id"], "name": "2"}, {"id": tabs[0]["id"], "name": "One"}]}),
    )
    .await;
    assert_eq!(
        ids(&v2["tabs"]),
        vec![
            tabs[1]["id"].as_i64().expect("id"),
            tabs[0]["id"].as_i64().expect("id")
        ]
    );
    assert_eq!(v2["tabs"][0]["name"], "2");
    assert_eq!(v2["tabs"][1]["position"], 1);
    let r = t
        .put(
            &path(&d),
            &admin,
            json!({"tabs": [{"id": -1, "name": "a"}, {"id": -1, "name": "b"}]}),
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["tabs"].is_string());
    // A tab reference that is neither temporary nor a surviving tab.
    let r = t
        .put(
            &path(&d),
            &admin,
            json!({"dashcards": [{"id": -1, "card_id": null, "dashboard_tab_id": 999,
                                  "row": 0, "col": 0, "size_x": 1, "size_y": 1}]}),
        )
        .await;
    r.assert(400);
    assert!(r.json()["errors"]["dashcards"].is_string());
});

both!(
    s53_tabbed_dashboard_needs_tab_on_every_card,
    |t| async move {
        let admin = t.setup().await;
        let c = card(&t, &admin, "C", None).await;
        let d = dashboard(&t, &admin, "D", None).await;
        let before = put_ok(&t, &admin, &d, json!({"tabs": [{"id": -1, "name": "T"}]})).await;
        t.put(
            &path(&d),
            &admin,
            json!({"dashcards": [dc(-1, &c["id"], 0)]}),
        )
        .await
        .assert_text(
            400,
            "This dashboard has tab, makes sure every card has a tab",
        );
        assert_eq!(t.get(&path(&d), &admin).await.json(), before);
        // Without tabs, a tab id is refused.
        let plain = dashboard(&t, &admin, "P", None).await;
        let mut card_on_tab = dc(-1, &c["id"], 0);
        card_on_tab["dashboard_tab_id"] = before["tabs"][0]["id"].clone();
        let r = t
            .put(&path(&plain), &admin, json!({ "dashcards": [card_on_tab] }))
            .await;
        r.assert(400);
        assert!(r.json()["errors"]["dashcards"].is_string());
    }
);

both!(s54_omitted_tab_goes_with_its_dashcards, |t| async move {
    let admin = t.setup().await;
    let c = card(&t, &admin, "C", None).await;
    let d = dashboard(&t, &admin, "D", None).await;
    let v = put_ok(
        &t,
        &admin,
        &d,
        json!({"tabs": [{"id": -1, "name": "T1"}, {"id": -2, "name": "T2"}],
               "dashcards": [
                   {"id": -1, "card_id": c["id"], "dashboard_tab_id": -1, "row": 0, "col": 0, "size_x": 4, "size_y": 4},
                   {"id": -2, "card_id": c["id"], "dashboard_tab_id": -2, "row": 0, "col": 0, "size_x": 4, "size_y": 4}]}),
    )
    .await;
    let t2 = v["tabs"][1].clone();
    let y = v["dashcards"][1].clone();
    let v = put_ok(&t, &admin, &d, json!({ "tabs": [t2.clone()] })).await;
    assert_eq!(ids(&v["tabs"]), vec![t2["id"].as_i64().expect("id")]);
    assert_eq!(v["tabs"][0]["position"], 0);
    assert_eq!(v["dashcards"], json!([y]));
});

both!(
    s55_added_cards_must_be_live_readable_and_exist,
    |t| async move {
        let admin = t.setup().await;
        let g = t.group(&admin, "G").await;
        let a = collection(&t, &admin, "A", None).await;
        let b = collection(&t, &admin, "B", None).await;
        set(
            &t,
            &admin,
            json!({"1": {"root": "none", a.to_string(): "none", b.to_string(): "none"},
               g.to_string(): {a.to_string(): "write"}}),
        )
        .await;
        let k = create_key(&t, &admin, "K", g).await.auth();
        let ca = card(&t, &admin, "Ca", Some(a)).await;
        t.put(
            &format!("/api/card/{}", ca["id"]),
            &admin,
            json!({"archived": true}),
        )
        .await
        .assert(200);
        let cu = card(&t, &admin, "Cu", Some(b)).await;
        let ok = card(&t, &admin, "Ok", Some(a)).await;
        let d = dashboard(&t, &admin, "D", Some(a)).await;
        let r = t
            .put(&path(&d), &k, json!({"dashcards": [dc(-1, &ca["id"], 0)]}))
            .await;
        r.assert(404);
        assert_eq!(r.json(), archived_body());
        t.put(&path(&d), &k, json!({"dashcards": [dc(-1, &cu["id"], 0)]}))
            .await
            .assert_text(403, FORBIDDEN);
        t.put(
            &path(&d),
            &k,
            json!({"dashcards": [dc(-1, &json!(999999), 0)]}),
        )
        .await
        .assert_text(404, "Not found.");
        let mut series = dc(-1, &ok["id"], 0);
        series["series"] = json!([{"id": cu["id"]}]);
        t.put(&path(&d), &k, json!({ "dashcards": [series] }))
            .await
            .assert_text(403, FORBIDDEN);
        // A readable card works; an unreadable one the admin placed shows as {"id"} to the key.
        put_ok(&t, &k, &d, json!({"dashcards": [dc(-1, &ok["id"], 0)]})).await;
        let v = put_ok(
            &t,
            &admin,
            &d,
            json!({"dashcards": [dc(-1, &ok["id"], 0), dc(-2, &cu["id"], 4)]}),
        )
        .await;
        let got = t.get(&path(&d), &k).await.json();
        assert_eq!(got["dashcards"][1]["card"], json!({ "id": cu["id"] }));
        assert_eq!(got["dashcards"][0]["card"]["name"], "Ok");
        // Sending back what the key read keeps the unreadable card (its card_id is unchanged).
        let again = put_ok(&t, &k, &d, json!({ "dashcards": got["dashcards"] })).await;
        assert_eq!(ids(&again["dashcards"]), ids(&v["dashcards"]));
    }
);

both!(s56_layout_of_archived_dashboard_refused, |t| async move {
    let admin = t.setup().await;
    let d = dashboard(&t, &admin, "D", None).await;
    put_ok(&t, &admin, &d, json!({"archived": true})).await;
    let r = t.put(&path(&d), &admin, json!({"dashcards": []})).await;
    r.assert(404);
    assert_eq!(r.text, ARCHIVED);
    let r = t.put(&path(&d), &admin, json!({"tabs": []})).await;
    r.assert(404);
    assert_eq!(r.json(), archived_body());
});

both!(
    s57_other_dashboards_dashcard_id_creates_new,
    |t| async move {
        let admin = t.setup().await;
        let c = card(&t, &admin, "C", None).await;
        let d1 = dashboard(&t, &admin, "D1", None).await;
        let d2 = dashboard(&t, &admin, "D2", None).await;
        let v1 = put_ok(&t, &admin, &d1, json!({"dashcards": [dc(-1, &c["id"], 0)]})).await;
        let seven = v1["dashcards"][0]["id"].as_i64().expect("id");
        let v2 = put_ok(
            &t,
            &admin,
            &d2,
            json!({"dashcards": [dc(seven, &c["id"], 3)]}),
        )
        .await;
        let new_id = v2["dashcards"][0]["id"].as_i64().expect("id");
        assert_ne!(new_id, seven);
        assert_eq!(v2["dashcards"][0]["dashboard_id"], d2["id"]);
        // D1 unchanged (its card now counts two dashboards).
        let mut now = t.get(&path(&d1), &admin).await.json();
        assert_eq!(now["dashcards"][0]["card"]["dashboard_count"], 2);
        now["dashcards"][0]["card"]["dashboard_count"] = json!(1);
        assert_eq!(now, v1);
    }
);

both!(s85_hidden_dashcards_survive_a_put_back, |t| async move {
    let admin = t.setup().await;
    let c1 = card(&t, &admin, "C1", None).await;
    let c2 = card(&t, &admin, "C2", None).await;
    let d = dashboard(&t, &admin, "D", None).await;
    let full = put_ok(
        &t,
        &admin,
        &d,
        json!({"dashcards": [dc(-1, &c1["id"], 0), dc(-2, &c2["id"], 4)]}),
    )
    .await;
    let d2 = full["dashcards"][1].clone();
    let c2p = format!("/api/card/{}", c2["id"]);
    t.put(&c2p, &admin, json!({"archived": true}))
        .await
        .assert(200);
    let got = t.get(&path(&d), &admin).await.json();
    assert_eq!(
        ids(&got["dashcards"]),
        vec![full["dashcards"][0]["id"].as_i64().expect("id")]
    );
    put_ok(&t, &admin, &d, json!({ "dashcards": got["dashcards"] })).await;
    t.put(&c2p, &admin, json!({"archived": false}))
        .await
        .assert(200);
    let back = t.get(&path(&d), &admin).await.json();
    assert_eq!(back["dashcards"].as_array().map(Vec::len), Some(2));
    let mut d2_now = back["dashcards"][1].clone();
    let mut d2_then = d2;
    // The embedded card object changed (it was archived and restored); the dashcard did not.
    d2_now["card"] = Value::Null;
    d2_then["card"] = Value::Null;
    assert_eq!(d2_now, d2_then);
});

both!(s86_unknown_positive_tab_id_is_temporary, |t| async move {
    let admin = t.setup().await;
    let c = card(&t, &admin, "C", None).await;
    let d = dashboard(&t, &admin, "D", None).await;
    let v = put_ok(
        &t,
        &admin,
        &d,
        json!({"tabs": [{"id": 55, "name": "T"}],
               "dashcards": [{"id": -1, "card_id": c["id"], "dashboard_tab_id": 55,
                              "row": 0, "col": 0, "size_x": 4, "size_y": 4}]}),
    )
    .await;
    let tab = v["tabs"][0]["id"].as_i64().expect("tab id");
    assert_eq!(v["tabs"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["tabs"][0]["name"], "T");
    assert_eq!(v["dashcards"][0]["dashboard_tab_id"], tab);
    assert!(!v.to_string().contains("\"dashboard_tab_id\":55") || tab == 55);
});
