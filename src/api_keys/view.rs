//! The JSON shapes of API keys (api-keys.md 5.0) and the `details` of their audit events
//! (section 8). Nothing here ever sees a plain-text key except [`WithSecret`].
use serde_json::{json, Map, Value};

use super::format::{masked, PlainKey};
use super::store::ApiKeyRow;
use crate::auth::restrictions::Restrictions;
use crate::clock::Timestamp;
use crate::users::view::common_name;

fn ts(v: Option<i64>) -> Value {
    v.map(|t| Value::String(Timestamp(t).to_rfc3339()))
        .unwrap_or(Value::Null)
}

/// `{"id", "name"}` of a group.
pub fn group(id: i64, name: &str) -> Value {
    json!({"id": id, "name": name})
}

#[derive(Debug, serde::Serialize)]
pub struct GroupRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, serde::Serialize)]
pub struct UpdatedBy {
    pub id: i64,
    pub common_name: String,
}

/// The key object of api-keys.md 5.0, serialised directly (lists of 100,000 keys build no
/// intermediate JSON tree).
#[derive(Debug, serde::Serialize)]
pub struct KeyObject {
    pub id: i64,
    pub name: String,
    pub group: GroupRef,
    pub masked_key: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub updated_by: UpdatedBy,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub previous_key_valid_until: Option<Timestamp>,
    /// key-restrictions.md §3.1: `null`, or the stored members.
    pub restrictions: Option<Restrictions>,
}

/// The newer of the stored `last_used_at` and the newest use this instance recorded (4.7).
pub fn last_used(stored: Option<i64>, seen: Option<i64>) -> Option<i64> {
    match (stored, seen) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// A retired secret's deadline, or none once it has passed (5.0).
pub fn live_until(previous_key_valid_until: Option<i64>, now: Timestamp) -> Option<i64> {
    previous_key_valid_until.filter(|until| *until > now.micros())
}

/// The key object. `seen` is the newest use this instance recorded in memory (4.7); a retired
/// secret whose grace period has passed is shown as none (5.0).
pub fn key_view(row: &ApiKeyRow, seen: Option<i64>, now: Timestamp) -> KeyObject {
    let last_used = last_used(row.last_used_at, seen);
    let previous_until = live_until(row.previous_key_valid_until, now);
    KeyObject {
        id: row.id,
        name: row.name.clone(),
        group: GroupRef {
            id: row.group_id,
            name: row.group_name.clone(),
        },
        masked_key: masked(&row.key_prefix),
        created_at: Timestamp(row.created_at),
        updated_at: Timestamp(row.updated_at),
        updated_by: UpdatedBy {
            id: row.updated_by_id,
            common_name: common_name(
                &row.updated_by_email,
                row.updated_by_first_name.as_deref(),
                row.updated_by_last_name.as_deref(),
            ),
        },
        expires_at: row.expires_at.map(Timestamp),
        last_used_at: last_used.map(Timestamp),
        previous_key_valid_until: previous_until.map(Timestamp),
        restrictions: stored_restrictions(row),
    }
}

/// The key's stored restrictions, if any.
pub fn stored_restrictions(row: &ApiKeyRow) -> Option<Restrictions> {
    row.restrictions.as_deref().map(Restrictions::from_db)
}

/// The key object with its new plain-text secret: `unmasked_key` (create), and `prefix` too
/// (regenerate). No `Debug`, so the secret cannot reach a log line by accident.
#[derive(serde::Serialize)]
pub struct WithSecret {
    #[serde(flatten)]
    pub key: KeyObject,
    pub unmasked_key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

impl WithSecret {
    pub fn new(key: KeyObject, secret: &PlainKey, with_prefix: bool) -> WithSecret {
        WithSecret {
            key,
            unmasked_key: secret.expose().to_string(),
            prefix: with_prefix.then(|| secret.prefix().to_string()),
        }
    }
}

/// `details` of `api-key-create` and `api-key-delete`: exactly name, group, key_prefix and the
/// key user's id, plus `expires_at` when the key has one.
pub fn snapshot(row: &ApiKeyRow) -> Value {
    let mut d = json!({
        "name": row.name,
        "group": group(row.group_id, &row.group_name),
        "key_prefix": row.key_prefix,
        "user_id": row.user_id,
    });
    if let Some(e) = row.expires_at {
        d["expires_at"] = ts(Some(e));
    }
    if let Some(r) = stored_restrictions(row) {
        d["restrictions"] = json!(r);
    }
    d
}

/// `details` of `api-key-update`: each side lists only the fields that changed.
pub fn update_details(before: &ApiKeyRow, after: &ApiKeyRow) -> Value {
    let mut previous = Map::new();
    let mut new = Map::new();
    if before.name != after.name {
        previous.insert("name".into(), json!(before.name));
        new.insert("name".into(), json!(after.name));
    }
    if before.group_id != after.group_id {
        previous.insert("group".into(), group(before.group_id, &before.group_name));
        new.insert("group".into(), group(after.group_id, &after.group_name));
    }
    if before.expires_at != after.expires_at {
        previous.insert("expires_at".into(), ts(before.expires_at));
        new.insert("expires_at".into(), ts(after.expires_at));
    }
    if before.restrictions != after.restrictions {
        previous.insert("restrictions".into(), json!(stored_restrictions(before)));
        new.insert("restrictions".into(), json!(stored_restrictions(after)));
    }
    json!({"previous": previous, "new": new})
}

/// `details` of `api-key-regenerate`.
pub fn regenerate_details(old_prefix: &str, new_prefix: &str, grace_seconds: i64) -> Value {
    let mut d = json!({
        "previous": {"key_prefix": old_prefix},
        "new": {"key_prefix": new_prefix},
    });
    if grace_seconds > 0 {
        d["grace_period_seconds"] = json!(grace_seconds);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> ApiKeyRow {
        ApiKeyRow {
            id: 3,
            name: "nightly export".into(),
            user_id: 9,
            key_prefix: "mb_0123".into(),
            previous_key_prefix: Some("mb_zzzz".into()),
            previous_key_valid_until: Some(2_000_000),
            expires_at: None,
            last_used_at: Some(500),
            created_at: 100,
            updated_at: 100,
            updated_by_id: 1,
            updated_by_email: "ada@example.com".into(),
            updated_by_first_name: Some("Ada".into()),
            updated_by_last_name: Some("Lovelace".into()),
            group_id: 2,
            group_name: "Administrators".into(),
            restrictions: None,
        }
    }

    /// The key object as the API serialises it.
    fn key_object(row: &ApiKeyRow, seen: Option<i64>, now: Timestamp) -> Map<String, Value> {
        match serde_json::to_value(key_view(row, seen, now)) {
            Ok(Value::Object(m)) => m,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn key_object_has_exactly_the_spec_fields() {
        let o = key_object(&row(), Some(700), Timestamp(1_000_000));
        let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
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
                "updated_by"
            ]
        );
        assert_eq!(o["masked_key"], format!("mb_0123{}", "*".repeat(42)));
        assert_eq!(
            o["updated_by"],
            json!({"id": 1, "common_name": "Ada Lovelace"})
        );
        assert_eq!(o["group"], json!({"id": 2, "name": "Administrators"}));
        // The newer of the stored and the in-memory use wins.
        assert_eq!(o["last_used_at"], Timestamp(700).to_rfc3339());
        assert_eq!(
            key_object(&row(), Some(400), Timestamp(0))["last_used_at"],
            Timestamp(500).to_rfc3339()
        );
        assert_eq!(
            o["previous_key_valid_until"],
            Timestamp(2_000_000).to_rfc3339()
        );
        // A grace period that has passed is shown as none.
        assert_eq!(
            key_object(&row(), None, Timestamp(2_000_000))["previous_key_valid_until"],
            Value::Null
        );
    }

    #[test]
    fn details_shapes() {
        let r = row();
        let s = snapshot(&r);
        assert_eq!(
            s,
            json!({"name": "nightly export", "group": {"id": 2, "name": "Administrators"},
                   "key_prefix": "mb_0123", "user_id": 9})
        );
        let after = ApiKeyRow {
            name: "x".into(),
            ..row()
        };
        assert_eq!(
            update_details(&r, &after),
            json!({"previous": {"name": "nightly export"}, "new": {"name": "x"}})
        );
        assert_eq!(
            regenerate_details("mb_a", "mb_b", 0),
            json!({"previous": {"key_prefix": "mb_a"}, "new": {"key_prefix": "mb_b"}})
        );
        assert_eq!(
            regenerate_details("mb_a", "mb_b", 300)["grace_period_seconds"],
            300
        );
    }
}
