//! people-and-groups.md §4 (users) acceptance scenarios 28–37 (list, current, detail), and the
//! helpers the other people-and-groups test modules share. Creation (38–45), updates (46–51,
//! 54), `is_superuser` and the last-admin rule (52, 53, 55) and the user life cycle (56–63) are
//! in submodules.
use serde_json::{json, Value};

use crate::both;
use crate::support::{Auth, TestApp};

mod create;
mod lifecycle;
mod superuser;
mod update;

pub const FORBIDDEN: &str = "You don't have permissions to do that.";
pub const LAST_ADMIN: &str = "You cannot remove the last member of the 'Admin' group!";
pub const ALL_USERS_TEXT: &str = "You cannot add or remove users to/from the 'All Users' group.";
pub const EMAIL_MSG: &str = "value must be a valid email address.";

/// admin (id 1), and alice and bob: non-admin people with [`PASSWORD`], logged in.
pub struct World {
    pub admin: Auth,
    pub alice_id: i64,
    pub alice: Auth,
    pub bob_id: i64,
    pub bob: Auth,
}

pub async fn world(t: &TestApp) -> World {
    let admin = t.setup().await;
    let (alice_id, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let (bob_id, bob) = t.person(&admin, "Bob", "bob@example.com").await;
    World {
        admin,
        alice_id,
        alice,
        bob_id,
        bob,
    }
}

/// `POST /api/api-key`; returns the plain-text key.
pub async fn create_key(t: &TestApp, admin: &Auth, name: &str, group_id: i64) -> String {
    let r = t
        .post(
            "/api/api-key",
            admin,
            json!({"name": name, "group_id": group_id}),
        )
        .await;
    assert_eq!(
        r.status, 200,
        "POST /api/api-key (needed by this scenario): {}",
        r.text
    );
    r.json()["unmasked_key"]
        .as_str()
        .expect("unmasked_key")
        .to_string()
}

/// The key user's id, from `GET /api/user/current` called with the key.
pub async fn key_user_id(t: &TestApp, key: &str) -> i64 {
    let r = t.get("/api/user/current", &Auth::Key(key.into())).await;
    r.assert(200);
    r.json()["id"].as_i64().expect("id")
}

/// The sorted keys of a JSON object.
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    k.sort();
    k
}

pub fn sorted(names: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// Keys of the full user view (§4.1).
pub const FULL_VIEW: &[&str] = &[
    "id",
    "email",
    "first_name",
    "last_name",
    "common_name",
    "date_joined",
    "last_login",
    "is_superuser",
    "is_qbnewb",
    "is_active",
    "sso_source",
    "locale",
    "login_attributes",
    "updated_at",
];

/// The ids of `data` in a `GET /api/user` envelope.
pub fn ids(list: &Value) -> Vec<i64> {
    list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|u| u["id"].as_i64().expect("id"))
        .collect()
}

/// Group ids of `user_group_memberships`.
pub fn membership_ids(user: &Value) -> Vec<i64> {
    user["user_group_memberships"]
        .as_array()
        .expect("user_group_memberships")
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect()
}

pub async fn user(t: &TestApp, admin: &Auth, id: i64) -> Value {
    let r = t.get(&format!("/api/user/{id}"), admin).await;
    r.assert(200);
    r.json()
}

pub async fn people_total(t: &TestApp, admin: &Auth, query: &str) -> i64 {
    let r = t.get(&format!("/api/user?{query}"), admin).await;
    r.assert(200);
    r.json()["total"].as_i64().expect("total")
}

both!(s28_user_endpoints_need_credentials, |t| async move {
    t.setup().await;
    t.get("/api/user", &Auth::None)
        .await
        .assert_text(401, "Unauthenticated");
    t.get("/api/user/current", &Auth::None)
        .await
        .assert_text(401, "Unauthenticated");
});

both!(s29_list_envelope_and_item_keys, |t| async move {
    let w = world(&t).await;
    let r = t.get("/api/user", &w.admin).await;
    r.assert(200);
    assert!(r.content_type().starts_with("application/json"));
    let v = r.json();
    assert_eq!(keys(&v), sorted(&["data", "total", "limit", "offset"]));
    assert_eq!(v["limit"], Value::Null);
    assert_eq!(v["offset"], Value::Null);
    assert_eq!(v["total"], 3);
    let mut want: Vec<&str> = FULL_VIEW.to_vec();
    want.extend(["group_ids", "personal_collection_id"]);
    for item in v["data"].as_array().unwrap() {
        assert_eq!(keys(item), sorted(&want), "{item}");
        assert!(item["personal_collection_id"].is_i64(), "{item}");
    }
    // Metabase's order: first names case-insensitively.
    assert_eq!(ids(&v), vec![1, w.alice_id, w.bob_id]);
    assert_eq!(v["data"][0]["group_ids"], json!([1, 2]));
    assert_eq!(v["data"][1]["group_ids"], json!([1]));
});

both!(
    s30_query_matches_names_and_email_case_insensitively,
    |t| async move {
        let w = world(&t).await;
        for q in ["lIcE", "ALICE@EXAMPLE", "ice@ex"] {
            let v = t
                .get(&format!("/api/user?query={q}"), &w.admin)
                .await
                .json();
            assert_eq!(ids(&v), vec![w.alice_id], "query={q}");
            assert_eq!(v["total"], 1);
        }
        // Last names match too; an empty query is no filter; LIKE wildcards are literal.
        let (carol, _) = t.person(&w.admin, "Carol", "carol@example.com").await;
        t.put(
            &format!("/api/user/{carol}"),
            &w.admin,
            json!({"last_name": "Xylo"}),
        )
        .await
        .assert(200);
        assert_eq!(
            ids(&t.get("/api/user?query=xYL", &w.admin).await.json()),
            vec![carol]
        );
        assert_eq!(people_total(&t, &w.admin, "query=").await, 4);
        assert_eq!(people_total(&t, &w.admin, "query=%25").await, 0);
        assert_eq!(people_total(&t, &w.admin, "query=_").await, 0);
        // Case-insensitive beyond ASCII, on both backends.
        let (emile, _) = t.person(&w.admin, "Émile", "emile@example.com").await;
        for q in ["%C3%A9mile", "%C3%89MILE", "MILE"] {
            assert_eq!(
                ids(&t
                    .get(&format!("/api/user?query={q}"), &w.admin)
                    .await
                    .json()),
                vec![emile],
                "{q}"
            );
        }
    }
);

both!(s31_non_admin_cannot_list_people, |t| async move {
    let w = world(&t).await;
    for q in [
        "",
        "?status=all",
        "?status=deactivated",
        "?query=bob",
        "?include_deactivated=true",
    ] {
        t.get(&format!("/api/user{q}"), &w.alice)
            .await
            .assert_text(403, FORBIDDEN);
    }
});

both!(s32_group_filter_lists_only_members, |t| async move {
    let w = world(&t).await;
    assert_eq!(
        ids(&t.get("/api/user?group_id=2", &w.admin).await.json()),
        vec![1]
    );
    t.put(
        &format!("/api/user/{}", w.bob_id),
        &w.admin,
        json!({"is_superuser": true}),
    )
    .await
    .assert(200);
    let v = t.get("/api/user?group_id=2", &w.admin).await.json();
    assert_eq!(ids(&v), vec![1, w.bob_id]);
    assert_eq!(v["total"], 2);
    // An unknown group gives an empty result.
    let v = t.get("/api/user?group_id=999999", &w.admin).await.json();
    assert_eq!((ids(&v), v["total"].clone()), (vec![], json!(0)));
    let r = t.get("/api/user?group_id=0", &w.admin).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"]["group_id"],
        "value must be an integer greater than zero."
    );
});

both!(s33_status_filters, |t| async move {
    let w = world(&t).await;
    t.delete(&format!("/api/user/{}", w.bob_id), &w.admin)
        .await
        .assert(200);
    let all = vec![1, w.alice_id, w.bob_id];
    let active = vec![1, w.alice_id];
    let cases: &[(&str, &Vec<i64>)] = &[
        ("", &active),
        ("status=active", &active),
        ("status=all", &all),
        ("status=deactivated", &vec![w.bob_id]),
        ("include_deactivated=true", &all),
        ("include_deactivated=TRUE", &all),
        ("include_deactivated=false", &active),
        ("include_deactivated=true&status=active", &active),
        (
            "include_deactivated=false&status=deactivated",
            &vec![w.bob_id],
        ),
    ];
    for (q, want) in cases {
        let v = t.get(&format!("/api/user?{q}"), &w.admin).await.json();
        assert_eq!(&ids(&v), *want, "?{q}");
        assert_eq!(v["total"], want.len(), "?{q}");
    }
    let r = t.get("/api/user?status=gone", &w.admin).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"status": "value must be one of: active, deactivated, all."})
    );
    let r = t.get("/api/user?include_deactivated=yes", &w.admin).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"]["include_deactivated"],
        "value must be a valid boolean string ('true' or 'false')."
    );
});

both!(s34_key_users_are_never_listed_or_counted, |t| async move {
    let w = world(&t).await;
    let key = create_key(&t, &w.admin, "robot", 1).await;
    let kid = key_user_id(&t, &key).await;
    for q in ["status=all", "", "status=active"] {
        let v = t.get(&format!("/api/user?{q}"), &w.admin).await.json();
        assert_eq!(v["total"], 3, "?{q}");
        assert!(!ids(&v).contains(&kid));
    }
    assert_eq!(people_total(&t, &w.admin, "group_id=1").await, 3);
});

both!(s35_paging, |t| async move {
    let w = world(&t).await;
    t.person(&w.admin, "Carol", "carol@example.com").await;
    t.person(&w.admin, "Dave", "dave@example.com").await;
    let page = |q: &'static str| {
        let t = t.clone();
        let admin = w.admin.clone();
        async move {
            let r = t.get(&format!("/api/user?{q}"), &admin).await;
            r.assert(200);
            r.json()
        }
    };
    let a = page("limit=1").await;
    let b = page("limit=1&offset=0").await;
    assert_eq!(a, b);
    assert_eq!(
        (a["limit"].clone(), a["offset"].clone(), a["total"].clone()),
        (json!(1), json!(0), json!(5))
    );
    assert_eq!(ids(&a), vec![1]);
    let a = page("offset=1").await;
    let b = page("limit=50&offset=1").await;
    assert_eq!(a, b);
    assert_eq!(
        (a["limit"].clone(), a["offset"].clone()),
        (json!(50), json!(1))
    );
    assert_eq!(ids(&a).len(), 4);
    let three = page("limit=3&offset=0").await;
    let two = page("limit=2&offset=1").await;
    assert_eq!(ids(&two), ids(&three)[1..3].to_vec());
    assert_eq!(two["total"], three["total"]);
    assert_eq!(two["total"], 5);
    let r = t.get("/api/user?limit=0", &w.admin).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"limit": "value must be an integer greater than zero."})
    );
    let r = t.get("/api/user?offset=-1", &w.admin).await;
    r.assert(400);
    assert_eq!(
        r.json()["errors"],
        json!({"offset": "value must be an integer greater than or equal to zero."})
    );
});

both!(s36_current_user_extra_fields, |t| async move {
    let w = world(&t).await;
    let r = t.get("/api/user/current", &w.admin).await;
    r.assert(200);
    let me = r.json();
    let mut want: Vec<&str> = FULL_VIEW.to_vec();
    want.extend([
        "group_ids",
        "personal_collection_id",
        "is_installer",
        "has_invited_second_user",
        "has_question_and_dashboard",
        "has_model",
        "first_login",
        "custom_homepage",
    ]);
    assert_eq!(keys(&me), sorted(&want));
    assert_eq!(me["common_name"], "Ada Lovelace");
    assert!(me["first_login"].is_string(), "{me}");
    assert_eq!(me["group_ids"], json!([1, 2]));
    assert!(me["personal_collection_id"].is_i64());
    assert_eq!(me["is_installer"], true);
    assert_eq!(me["has_invited_second_user"], true);
    assert_eq!(me["has_question_and_dashboard"], false);
    assert_eq!(me["has_model"], false);
    assert_eq!(me["custom_homepage"], Value::Null);
    // alice is not the installer.
    let a = t.get("/api/user/current", &w.alice).await.json();
    assert_eq!(
        (
            a["is_installer"].clone(),
            a["has_invited_second_user"].clone()
        ),
        (json!(false), json!(false))
    );
    assert_eq!(a["group_ids"], json!([1]));
});

both!(
    s36_has_invited_second_user_false_when_alone,
    |t| async move {
        let admin = t.setup().await;
        let me = t.get("/api/user/current", &admin).await.json();
        assert_eq!(me["has_invited_second_user"], false);
    }
);

both!(s37_get_user_self_or_admin_403_before_404, |t| async move {
    let w = world(&t).await;
    let r = t.get(&format!("/api/user/{}", w.alice_id), &w.alice).await;
    r.assert(200);
    let v = r.json();
    assert_eq!(v["user_group_memberships"], json!([{"id": 1}]));
    let mut want: Vec<&str> = FULL_VIEW.to_vec();
    want.push("user_group_memberships");
    assert_eq!(keys(&v), sorted(&want));
    t.get(&format!("/api/user/{}", w.bob_id), &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
    t.get("/api/user/999999", &w.alice)
        .await
        .assert_text(403, FORBIDDEN);
    t.get("/api/user/999999", &w.admin)
        .await
        .assert_text(404, "Not found.");
    // Admins see inactive people too.
    t.delete(&format!("/api/user/{}", w.bob_id), &w.admin)
        .await
        .assert(200);
    assert_eq!(user(&t, &w.admin, w.bob_id).await["is_active"], false);
});

both!(
    s29_list_order_names_case_insensitive_missing_last,
    |t| async move {
        let w = world(&t).await;
        let mk = |body: Value| {
            let t = t.clone();
            let admin = w.admin.clone();
            async move {
                let r = t.post("/api/user", &admin, body).await;
                r.assert(200);
                r.json()["id"].as_i64().unwrap()
            }
        };
        let no_names = mk(json!({"email": "aaa@example.com"})).await;
        let last_only = mk(json!({"email": "zzz@example.com", "last_name": "Able"})).await;
        let lower_b =
            mk(json!({"email": "b2@example.com", "first_name": "bob", "last_name": "B"})).await;
        let bob_a =
            mk(json!({"email": "b1@example.com", "first_name": "BOB", "last_name": "a"})).await;
        let bob_none = mk(json!({"email": "b3@example.com", "first_name": "Bob"})).await;
        let emile = mk(json!({"email": "e1@example.com", "first_name": "Émile"})).await;
        let ea = mk(json!({"email": "e2@example.com", "first_name": "éa"})).await;
        let zed = mk(json!({"email": "z@example.com", "first_name": "Zed"})).await;
        let v = t.get("/api/user", &w.admin).await.json();
        // Ada, Alice, then the Bobs by last name (missing last), Zed, the accented names compared in
        // lower case ("éa" < "émile"), then no first name: by last name, with no names at all at
        // the very end. Both backends give the same order.
        let want = vec![
            1, w.alice_id, bob_a, lower_b, w.bob_id, bob_none, zed, ea, emile, last_only, no_names,
        ];
        assert_eq!(ids(&v), want);
        let v = t.get("/api/user?limit=3&offset=6", &w.admin).await.json();
        assert_eq!(
            (ids(&v), v["total"].clone()),
            (want[6..9].to_vec(), json!(11))
        );
    }
);
