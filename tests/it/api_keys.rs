//! api-keys.md §11, scenarios 1–15 (key format and verification), and the helpers the other
//! `api_keys_*` modules share. Scenarios 2 and 8 are unit tests (`src/api_keys/format.rs`,
//! `src/api_keys/auth.rs`).
use serde_json::{json, Value};

use crate::both;
use crate::support::{Auth, TestApp};

pub const G1: &str = "Cool Friends";
pub const G2: &str = "Less Cool Friends";
pub const FORBIDDEN: &str = "You don't have permissions to do that.";
pub const DUPLICATE: &str = "An API key with this name already exists.";

/// A key as created through the API.
#[derive(Debug, Clone)]
pub struct Key {
    pub id: i64,
    pub secret: String,
    pub body: Value,
}

impl Key {
    pub fn auth(&self) -> Auth {
        Auth::Key(self.secret.clone())
    }
}

pub fn key_auth(secret: &Value) -> Auth {
    Auth::Key(secret.as_str().expect("a key").to_string())
}

/// `POST /api/api-key` with `body`, which must succeed.
pub async fn create_with(t: &TestApp, by: &Auth, body: Value) -> Key {
    let r = t.post("/api/api-key", by, body).await;
    r.assert(200);
    let body = r.json();
    Key {
        id: body["id"].as_i64().expect("id"),
        secret: body["unmasked_key"]
            .as_str()
            .expect("unmasked_key")
            .to_string(),
        body,
    }
}

pub async fn create_key(t: &TestApp, by: &Auth, name: &str, group_id: i64) -> Key {
    create_with(t, by, json!({"name": name, "group_id": group_id})).await
}

pub async fn list_keys(t: &TestApp, admin: &Auth) -> Vec<Value> {
    let r = t.get("/api/api-key", admin).await;
    r.assert(200);
    r.json().as_array().cloned().expect("an array")
}

/// The key with `id` as the list shows it.
pub async fn listed(t: &TestApp, admin: &Auth, id: i64) -> Value {
    list_keys(t, admin)
        .await
        .into_iter()
        .find(|k| k["id"] == id)
        .unwrap_or_else(|| panic!("key {id} not listed"))
}

pub async fn count_keys(t: &TestApp, admin: &Auth) -> i64 {
    let r = t.get("/api/api-key/count", admin).await;
    r.assert(200);
    r.json().as_i64().expect("an integer")
}

/// `GET /api/user/current` with the key: its key user.
pub async fn key_user(t: &TestApp, key: &Auth) -> Value {
    let r = t.get("/api/user/current", key).await;
    r.assert(200);
    r.json()
}

/// Group ids of `user_id` per `GET /api/permissions/membership`, ascending.
pub async fn memberships_of(t: &TestApp, admin: &Auth, user_id: i64) -> Vec<i64> {
    let r = t.get("/api/permissions/membership", admin).await;
    r.assert(200);
    let mut ids: Vec<i64> = r.json()[user_id.to_string()]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["group_id"].as_i64()).collect())
        .unwrap_or_default();
    ids.sort_unstable();
    ids
}

/// Microseconds since the epoch of an RFC 3339 value.
pub fn micros(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    ferrobase::clock::Timestamp::parse_rfc3339(s)
        .unwrap_or_else(|| panic!("not RFC 3339: {s}"))
        .micros()
}

pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// `now + secs` as RFC 3339.
pub fn from_now(secs: i64) -> String {
    ferrobase::clock::Timestamp(now_micros())
        .plus_seconds(secs)
        .to_rfc3339()
}

/// Base62 CRC-32 checksum, written here from the spec (3.1), independently of the server.
pub fn spec_checksum(first43: &str) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut v = crc32fast::hash(first43.as_bytes());
    let mut out = [b'0'; 6];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(v % 62) as usize];
        v /= 62;
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

/// A well-formed key (valid checksum) that the server never issued.
pub fn never_issued_key() -> String {
    let random: String = uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .chain("ABCDEFGH".chars())
        .collect();
    let body = format!("mb_{random}");
    format!("{body}{}", spec_checksum(&body))
}

pub fn sorted_keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
    k.sort();
    k
}

/// api-keys.md §5.0, with `restrictions` (key-restrictions.md §3.1).
pub const KEY_OBJECT: [&str; 11] = [
    "created_at",
    "expires_at",
    "group",
    "id",
    "last_used_at",
    "masked_key",
    "name",
    "previous_key_valid_until",
    "restrictions",
    "updated_at",
    "updated_by",
];

pub fn key_object_fields(extra: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = KEY_OBJECT
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect();
    v.sort();
    v
}

pub async fn audit_count(t: &TestApp, admin: &Auth, topic: &str) -> usize {
    t.audit(admin, "model=ApiKey")
        .await
        .iter()
        .filter(|e| e["topic"] == topic)
        .count()
}

fn assert_key_shape(k: &str) {
    assert_eq!(k.len(), 49, "{k}");
    assert!(k.starts_with("mb_"), "{k}");
    assert!(k[3..].bytes().all(|b| b.is_ascii_alphanumeric()), "{k}");
}

both!(
    s01_unmasked_key_is_49_base62_characters_with_a_crc32_checksum,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let k = create_key(&t, &admin, "My Key", g1).await;
        assert_key_shape(&k.secret);
        assert_eq!(k.secret[43..], spec_checksum(&k.secret[..43]));
    }
);

both!(
    s03_masked_key_is_the_prefix_and_42_asterisks,
    |t| async move {
        let admin = t.setup().await;
        let k = create_key(&t, &admin, "My Key", 1).await;
        let masked = k.body["masked_key"].as_str().unwrap();
        assert_eq!(masked, format!("{}{}", &k.secret[..7], "*".repeat(42)));
        assert_eq!(masked.chars().count(), 49);
    }
);

both!(
    s04_fifty_keys_and_their_prefixes_all_differ,
    |t| async move {
        let admin = t.setup().await;
        let mut keys = std::collections::HashSet::new();
        let mut prefixes = std::collections::HashSet::new();
        for i in 0..50 {
            let k = create_key(&t, &admin, &format!("key {i}"), 1).await;
            assert_key_shape(&k.secret);
            prefixes.insert(k.secret[..7].to_string());
            keys.insert(k.secret);
        }
        assert_eq!((keys.len(), prefixes.len()), (50, 50));
    }
);

both!(
    s05_a_request_with_a_key_runs_as_its_key_user,
    |t| async move {
        let admin = t.setup().await;
        let k = create_key(&t, &admin, "Robot", 1).await;
        let me = key_user(&t, &k.auth()).await;
        assert_eq!(me["first_name"], "Robot");
        assert_eq!(me["common_name"], "Robot");
        assert_eq!(me["last_name"], "");
        assert_eq!(me["is_superuser"], false);
        assert_eq!(me["personal_collection_id"], Value::Null);
        assert_eq!(me["group_ids"], json!([1]));
        let email = me["email"].as_str().unwrap();
        let uuid = email
            .strip_prefix("api-key-user-")
            .and_then(|s| s.strip_suffix("@api-key.invalid"))
            .unwrap_or_else(|| panic!("{email}"));
        assert_eq!(uuid.len(), 36, "{email}");
        assert!(
            uuid.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b) || b == b'-'),
            "{email}"
        );
        assert_eq!(uuid::Uuid::parse_str(uuid).unwrap().get_version_num(), 4);
    }
);

both!(s06_the_header_name_is_case_insensitive, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 1).await;
    for name in ["x-api-key", "X-API-KEY", "X-Api-Key", "X-API-Key"] {
        let auth = Auth::Headers(vec![(name.into(), k.secret.clone())]);
        t.get("/api/user/current", &auth).await.assert(200);
    }
});

both!(s07_malformed_keys_are_unauthenticated, |t| async move {
    let admin = t.setup().await;
    let k = create_key(&t, &admin, "Robot", 1).await.secret;
    let mut plus = k.clone();
    plus.replace_range(25..26, "+");
    for bad in [
        "mb_not_an_api_key".to_string(),
        k[..48].to_string(),
        format!("{k}x"),
        format!("MB_{}", &k[3..]),
        plus,
        format!("Bearer {k}"),
        "mb_0123456789ABCDEFGHIJabcdefghijklmnopqrst27HnjL".to_string(),
    ] {
        t.get("/api/user/current", &Auth::Key(bad))
            .await
            .assert_text(401, "Unauthenticated");
    }
    // The key itself still works.
    t.get("/api/user/current", &Auth::Key(k)).await.assert(200);
});

both!(
    s09_a_well_formed_key_never_issued_is_unauthenticated,
    |t| async move {
        t.setup().await;
        let k = never_issued_key();
        assert_key_shape(&k);
        t.get("/api/user/current", &Auth::Key(k))
            .await
            .assert_text(401, "Unauthenticated");
    }
);

both!(
    s10_keys_in_the_url_or_a_bearer_header_are_ignored,
    |t| async move {
        let admin = t.setup().await;
        let k = create_key(&t, &admin, "Robot", 2).await.secret;
        t.get(&format!("/api/user/current?api_key={k}"), &Auth::None)
            .await
            .assert_text(401, "Unauthenticated");
        let bearer = Auth::Headers(vec![("Authorization".into(), format!("Bearer {k}"))]);
        t.get("/api/user/current", &bearer)
            .await
            .assert_text(401, "Unauthenticated");
    }
);

both!(s11_a_valid_session_wins_over_a_valid_key, |t| async move {
    let admin = t.setup().await;
    let (alice_id, alice) = t.person(&admin, "Alice", "alice@example.com").await;
    let k = create_key(&t, &admin, "Robot", 2).await.secret;
    let Auth::Session(sid) = alice else {
        unreachable!()
    };
    let both = Auth::Headers(vec![
        ("X-Metabase-Session".into(), sid),
        ("X-Api-Key".into(), k),
    ]);
    let me = t.get("/api/user/current", &both).await.json();
    assert_eq!(me["id"], alice_id);
    assert_eq!(me["email"], "alice@example.com");
});

both!(
    s12_an_unknown_session_cookie_falls_through_to_the_key,
    |t| async move {
        let admin = t.setup().await;
        let k = create_key(&t, &admin, "Robot", 1).await;
        let expected = key_user(&t, &k.auth()).await["id"].clone();
        let auth = Auth::Headers(vec![
            (
                "Cookie".into(),
                format!("metabase.SESSION={}", uuid::Uuid::new_v4()),
            ),
            ("X-Api-Key".into(), k.secret.clone()),
        ]);
        let me = t.get("/api/user/current", &auth).await;
        me.assert(200);
        assert_eq!(me.json()["id"], expected);
        assert_eq!(me.json()["first_name"], "Robot");
    }
);

both!(
    s13_a_bad_key_on_a_public_endpoint_is_anonymous,
    |t| async move {
        t.setup().await;
        let anonymous = t.get("/api/session/properties", &Auth::None).await;
        anonymous.assert(200);
        let with_bad = t
            .get("/api/session/properties", &Auth::Key(never_issued_key()))
            .await;
        with_bad.assert(200);
        assert_eq!(with_bad.json(), anonymous.json());
    }
);

both!(s14_an_administrators_key_is_a_superuser, |t| async move {
    let admin = t.setup().await;
    let ka = create_key(&t, &admin, "Admin key", 2).await;
    t.get("/api/user", &ka.auth()).await.assert(200);
    let made = create_key(&t, &ka.auth(), "Made by a key", 1).await;
    let ka_user = key_user(&t, &ka.auth()).await;
    assert_eq!(made.body["updated_by"]["id"], ka_user["id"]);
    assert_eq!(made.body["updated_by"]["common_name"], "Admin key");
});

both!(
    s15_a_key_outside_administrators_cannot_manage_keys,
    |t| async move {
        let admin = t.setup().await;
        let g1 = t.group(&admin, G1).await;
        let k = create_key(&t, &admin, "Robot", g1).await;
        t.get("/api/api-key", &k.auth())
            .await
            .assert_text(403, FORBIDDEN);
    }
);
