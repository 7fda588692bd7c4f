//! Exports (queries.md §6): scenarios 24, 25, 44–49.
use serde_json::json;

use crate::both;
use crate::queries_cards::{card_with, post_form};
use crate::queries_run::native_on;

both!(queries_44_45_card_exports, |t| async move {
    let admin = t.setup().await;
    let c = card_with(
        &t,
        &admin,
        native_on(1, "SELECT ID, CATEGORY FROM PRODUCTS ORDER BY ID LIMIT 3"),
        json!({}),
    )
    .await;
    let cats = t
        .post(
            "/api/dataset",
            &admin,
            native_on(1, "SELECT CATEGORY FROM PRODUCTS ORDER BY ID LIMIT 3"),
        )
        .await
        .json()["data"]["rows"]
        .clone();
    let cat = |i: usize| cats[i][0].as_str().unwrap().to_string();
    let r = post_form(
        &t,
        &admin,
        &format!("/api/card/{c}/query/csv"),
        &[("parameters", "null"), ("format_rows", "false")],
    )
    .await;
    r.assert(200);
    assert_eq!(r.content_type(), "text/csv; charset=utf-8");
    let disposition = r.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"query_result_"),
        "{disposition}"
    );
    assert!(disposition.ends_with("Z.csv\""), "{disposition}");
    assert_eq!(
        r.header("cache-control").unwrap(),
        "max-age=0, no-cache, must-revalidate, proxy-revalidate"
    );
    assert_eq!(
        r.text,
        format!("ID,CATEGORY\n1,{}\n2,{}\n3,{}\n", cat(0), cat(1), cat(2))
    );
    // Scenario 45.
    let r = post_form(
        &t,
        &admin,
        &format!("/api/card/{c}/query/json"),
        &[("parameters", "[]")],
    )
    .await;
    r.assert(200);
    assert!(r.content_type().starts_with("application/json"));
    let v = r.json();
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[0], json!({"ID": 1, "CATEGORY": cat(0)}));
    // A JSON body works too.
    let r = t
        .post(
            &format!("/api/card/{c}/query/csv"),
            &admin,
            json!({"parameters": []}),
        )
        .await;
    r.assert(200);
    assert!(r.text.starts_with("ID,CATEGORY\n"));
});

both!(queries_46_export_titles, |t| async move {
    let admin = t.setup().await;
    let c = card_with(
        &t,
        &admin,
        native_on(1, "SELECT ID, CATEGORY FROM PRODUCTS ORDER BY ID LIMIT 2"),
        json!({"visualization_settings": {"column_settings": {"[\"name\",\"CATEGORY\"]": {"column_title": "Kind"}}}}),
    )
    .await;
    let path = format!("/api/card/{c}/query/json");
    let v = post_form(&t, &admin, &path, &[("format_rows", "true")])
        .await
        .json();
    assert!(v[0].get("Kind").is_some(), "{v}");
    let v = post_form(&t, &admin, &path, &[("format_rows", "false")])
        .await
        .json();
    assert!(v[0].get("CATEGORY").is_some(), "{v}");
});

both!(queries_47_dataset_csv_export, |t| async move {
    let admin = t.setup().await;
    let query = native_on(1, "SELECT 'a,b' AS s, NULL AS n, 'say \"hi\"' AS q").to_string();
    let r = post_form(
        &t,
        &admin,
        "/api/dataset/csv",
        &[("query", &query), ("csv_include_bom", "true")],
    )
    .await;
    r.assert(200);
    assert_eq!(r.text, "\u{feff}s,n,q\n\"a,b\",,\"say \"\"hi\"\"\"\n");
    let r = post_form(&t, &admin, "/api/dataset/csv", &[]).await;
    r.assert(400);
    assert!(r.json()["errors"]["query"].is_string());
});

both!(queries_48_unsupported_export_formats, |t| async move {
    let admin = t.setup().await;
    let c = card_with(&t, &admin, native_on(1, "SELECT 1"), json!({})).await;
    let r = post_form(&t, &admin, &format!("/api/card/{c}/query/xlsx"), &[]).await;
    r.assert(400);
    assert_eq!(
        r.json(),
        json!({"errors": {"export-format": "Export format 'xlsx' is not supported by ferrobase."}})
    );
    let r = post_form(&t, &admin, &format!("/api/card/{c}/query/pdf"), &[]).await;
    r.assert(400);
    let v = r.json();
    assert_eq!(
        v["errors"]["export-format"],
        "value must be one of: csv, json, xlsx, api."
    );
    assert!(v["specific-errors"]["export-format"].is_array());
    let r = post_form(&t, &admin, "/api/dataset/api", &[]).await;
    r.assert(400);
});

both!(queries_49_export_failure_is_json, |t| async move {
    let admin = t.setup().await;
    let c = card_with(&t, &admin, native_on(1, "SELEC nothing"), json!({})).await;
    let r = post_form(&t, &admin, &format!("/api/card/{c}/query/csv"), &[]).await;
    r.assert(400);
    assert!(r.content_type().starts_with("application/json"));
    let v = r.json();
    assert_eq!(v["status"], "failed");
    assert_eq!(v["error_type"], "invalid-query");
});

both!(queries_24_25_download_caps, |t| async move {
    let admin = t.setup().await;
    let query = native_on(
        1,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 1100000) SELECT i FROM n",
    )
    .to_string();
    let r = post_form(&t, &admin, "/api/dataset/csv", &[("query", &query)]).await;
    r.assert(200);
    let lines = r.text.lines().count();
    assert_eq!(lines, 1 + 1_048_575);
    assert!(r.text.ends_with("1048575\n"));
    t.put(
        "/api/setting/download-row-limit",
        &admin,
        json!({"value": 3000}),
    )
    .await
    .assert(204);
    let query = native_on(1, "SELECT * FROM ORDERS").to_string();
    let r = post_form(&t, &admin, "/api/dataset/csv", &[("query", &query)]).await;
    assert_eq!(r.text.lines().count(), 3001);
});
