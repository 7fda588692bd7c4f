//! `GET /api/api-key` reads every key packed into one text value by the database
//! (`src/api_keys/list_store.rs`). These tests check, on both backends, that names survive the
//! packing whatever they hold, and that every listed object equals the object the same key
//! gets from `PUT /api/api-key/:id` (read through the single-key path).
use serde_json::{json, Value};

use crate::api_keys::{create_with, from_now, list_keys, G1};
use crate::both;

/// Names with the packing's separators and escape character in every position.
const NAMES: &[&str] = &[
    "plain",
    "comma, in the middle,",
    ",leading comma",
    "back\\slash",
    "\\n is not a line feed",
    "two\nlines",
    "\nx\n",
    "trailing backslash\\",
    "\\\\double",
    "quote \" and tab \t",
    "ünïcödé ☃ 𝄞",
    "mb_AAAA,1,2,3",
];

both!(api_key_list_names_survive_packing, |t| async move {
    let admin = t.setup().await;
    let g1 = t.group(&admin, G1).await;
    let mut ids = Vec::new();
    for (i, name) in NAMES.iter().enumerate() {
        let group_id = [1, 2, g1][i % 3];
        let mut body = json!({"name": name, "group_id": group_id});
        if i % 2 == 0 {
            body["expires_at"] = json!(from_now(3600 * (i as i64 + 1)));
        }
        ids.push(create_with(&t, &admin, body).await.id);
    }
    // A retired secret in its grace period, and a key used (in memory only, not yet flushed).
    let r = t
        .put(
            &format!("/api/api-key/{}/regenerate", ids[1]),
            &admin,
            json!({"grace_period_seconds": 600}),
        )
        .await;
    r.assert(200);
    let used = crate::api_keys::key_auth(&r.json()["unmasked_key"]);
    t.get("/api/user/current", &used).await.assert(200);

    let listed = list_keys(&t, &admin).await;
    let names: Vec<&str> = listed
        .iter()
        .map(|k| k["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, NAMES);
    let listed_ids: Vec<i64> = listed.iter().map(|k| k["id"].as_i64().unwrap()).collect();
    assert_eq!(listed_ids, ids);
    assert!(listed[1]["previous_key_valid_until"].is_string());
    assert!(listed[1]["last_used_at"].is_string());
    for (k, name) in listed.iter().zip(NAMES) {
        // An empty update answers with the key object as the single-key path builds it.
        let r = t
            .put(
                &format!("/api/api-key/{}", k["id"]),
                &admin,
                json!({"name": name}),
            )
            .await;
        r.assert(200);
        let mut single: Value = r.json();
        // The update moved `updated_at`; everything else must match.
        single["updated_at"] = k["updated_at"].clone();
        assert_eq!(k, &single);
    }
});

both!(api_key_list_empty_is_an_empty_array, |t| async move {
    let admin = t.setup().await;
    let r = t.get("/api/api-key", &admin).await;
    r.assert(200);
    assert_eq!(r.text, "[]");
    assert_eq!(r.content_type(), "application/json; charset=utf-8");
});
