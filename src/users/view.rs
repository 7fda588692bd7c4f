//! The JSON shapes of a user (people-and-groups.md 4.1). `type` and hashes never appear.
use serde_json::{json, Map, Value};

use super::store::UserRow;
use crate::clock::Timestamp;

pub fn common_name(email: &str, first: Option<&str>, last: Option<&str>) -> String {
    if first.is_none() && last.is_none() {
        return email.to_string();
    }
    format!("{} {}", first.unwrap_or(""), last.unwrap_or(""))
        .trim()
        .to_string()
}

/// Metabase's order for people: `lower(first_name)`, then `lower(last_name)`, then id, with
/// missing names last. Case is folded with Unicode rules, identically on both backends.
pub fn name_order_key(first: Option<&str>, last: Option<&str>, id: i64) -> impl Ord {
    (
        first.is_none(),
        first.map(str::to_lowercase),
        last.is_none(),
        last.map(str::to_lowercase),
        id,
    )
}

/// `GET /api/user?query=`: a case-insensitive substring of the first name, last name or email.
/// `needle` is already lower-cased.
pub fn matches_query(u: &UserRow, needle: &str) -> bool {
    [
        u.first_name.as_deref(),
        u.last_name.as_deref(),
        Some(u.email.as_str()),
    ]
    .into_iter()
    .flatten()
    .any(|s| s.to_lowercase().contains(needle))
}

fn ts(v: Option<i64>) -> Value {
    v.map(|t| Value::String(Timestamp(t).to_rfc3339()))
        .unwrap_or(Value::Null)
}

/// The full view, as a map so callers can add their extra fields.
pub fn full(u: &UserRow) -> Map<String, Value> {
    let attrs = u
        .login_attributes
        .as_deref()
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .unwrap_or(Value::Null);
    let v = json!({
        "id": u.id,
        "email": u.email,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "common_name": common_name(&u.email, u.first_name.as_deref(), u.last_name.as_deref()),
        "date_joined": Timestamp(u.date_joined).to_rfc3339(),
        "last_login": ts(u.last_login),
        "is_superuser": u.is_superuser,
        "is_qbnewb": u.is_qbnewb,
        "is_active": u.is_active,
        "sso_source": Value::Null,
        "locale": u.locale,
        "login_attributes": attrs,
        "updated_at": Timestamp(u.updated_at).to_rfc3339(),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// `{id, email, first_name, last_name, common_name}`, for users embedded elsewhere.
pub fn short(u: &UserRow) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "first_name": u.first_name,
        "last_name": u.last_name,
        "common_name": common_name(&u.email, u.first_name.as_deref(), u.last_name.as_deref()),
    })
}

/// `last-edit-info` of a card or dashboard: its last editor and the item's `updated_at`.
pub fn last_edit_info(editor: &UserRow, updated_at: i64) -> Value {
    json!({
        "id": editor.id,
        "email": editor.email,
        "first_name": editor.first_name,
        "last_name": editor.last_name,
        "timestamp": Timestamp(updated_at).to_rfc3339(),
    })
}

/// Full view plus `group_ids` and `personal_collection_id` (list items).
pub fn list_item(u: &UserRow, group_ids: &[i64]) -> Value {
    let mut m = full(u);
    m.insert("group_ids".into(), json!(group_ids));
    m.insert(
        "personal_collection_id".into(),
        json!(u.personal_collection_id),
    );
    Value::Object(m)
}

/// Full view plus `user_group_memberships` (detail, create, update, reactivate).
pub fn with_memberships(u: &UserRow, group_ids: &[i64]) -> Value {
    let mut m = full(u);
    let ms: Vec<Value> = group_ids.iter().map(|g| json!({"id": g})).collect();
    m.insert("user_group_memberships".into(), Value::Array(ms));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names() {
        assert_eq!(
            common_name("a@b.c", Some("Ada"), Some("Lovelace")),
            "Ada Lovelace"
        );
        assert_eq!(common_name("a@b.c", Some("Ada"), None), "Ada");
        assert_eq!(common_name("a@b.c", None, Some("Lovelace")), "Lovelace");
        assert_eq!(common_name("a@b.c", None, None), "a@b.c");
        assert_eq!(
            common_name("k@api-key.invalid", Some("My Key"), Some("")),
            "My Key"
        );
    }
}
