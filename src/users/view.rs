//! The JSON shapes of a user (people-and-groups.md 4.1). `type` and hashes never appear.
use serde::Serialize;
use serde_json::Value;

use super::store::{CurrentUserRow, UserRow};
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

/// The full view of a user (people-and-groups.md 4.1).
#[derive(Debug, Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub common_name: String,
    pub date_joined: Timestamp,
    pub last_login: Option<Timestamp>,
    pub is_superuser: bool,
    pub is_qbnewb: bool,
    pub is_active: bool,
    pub sso_source: Option<String>,
    pub locale: Option<String>,
    /// Stored as JSON text; `null` when absent or unreadable.
    pub login_attributes: Value,
    pub updated_at: Timestamp,
}

impl From<&UserRow> for User {
    fn from(u: &UserRow) -> Self {
        let attrs = u
            .login_attributes
            .as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .unwrap_or(Value::Null);
        User {
            id: u.id,
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            common_name: common_name(&u.email, u.first_name.as_deref(), u.last_name.as_deref()),
            date_joined: Timestamp(u.date_joined),
            last_login: u.last_login.map(Timestamp),
            is_superuser: u.is_superuser,
            is_qbnewb: u.is_qbnewb,
            is_active: u.is_active,
            sso_source: None,
            locale: u.locale.clone(),
            login_attributes: attrs,
            updated_at: Timestamp(u.updated_at),
        }
    }
}

/// A `GET /api/user` entry: the full view plus `group_ids` and `personal_collection_id`.
#[derive(Debug, Serialize)]
pub struct ListedUser {
    #[serde(flatten)]
    pub user: User,
    pub group_ids: Vec<i64>,
    pub personal_collection_id: Option<i64>,
}

impl ListedUser {
    pub fn new(u: &UserRow, group_ids: &[i64]) -> ListedUser {
        ListedUser {
            user: User::from(u),
            group_ids: group_ids.to_vec(),
            personal_collection_id: u.personal_collection_id,
        }
    }
}

/// `{"id": <group id>}`.
#[derive(Debug, Serialize)]
pub struct GroupRef {
    pub id: i64,
}

/// The full view plus `user_group_memberships` (detail, create, update, reactivate).
#[derive(Debug, Serialize)]
pub struct UserDetail {
    #[serde(flatten)]
    pub user: User,
    pub user_group_memberships: Vec<GroupRef>,
}

impl UserDetail {
    pub fn new(u: &UserRow, group_ids: &[i64]) -> UserDetail {
        UserDetail {
            user: User::from(u),
            user_group_memberships: group_ids.iter().map(|&id| GroupRef { id }).collect(),
        }
    }
}

/// `GET /api/user/current`. A key-authenticated caller (or a key user) sees no login times
/// and is never the installer.
#[derive(Debug, Serialize)]
pub struct CurrentUser {
    #[serde(flatten)]
    pub user: User,
    pub group_ids: Vec<i64>,
    pub personal_collection_id: Option<i64>,
    pub is_installer: bool,
    pub has_invited_second_user: bool,
    pub has_question_and_dashboard: bool,
    pub has_model: bool,
    pub first_login: Option<Timestamp>,
    pub custom_homepage: Option<String>,
}

impl CurrentUser {
    pub fn new(row: CurrentUserRow, key_user: bool) -> CurrentUser {
        let u = &row.user;
        let mut user = User::from(u);
        if key_user {
            user.last_login = None;
        }
        CurrentUser {
            user,
            group_ids: row.group_ids,
            personal_collection_id: u.personal_collection_id,
            is_installer: u.is_installer && !key_user,
            has_invited_second_user: u.is_installer && row.has_other_person,
            has_question_and_dashboard: row.has_question_and_dashboard,
            has_model: row.has_model,
            first_login: u.first_login.map(Timestamp).filter(|_| !key_user),
            custom_homepage: None,
        }
    }
}

/// `{id, email, first_name, last_name, common_name}`, for users embedded elsewhere.
#[derive(Debug, Clone, Serialize)]
pub struct UserSummary {
    pub id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub common_name: String,
}

impl From<&UserRow> for UserSummary {
    fn from(u: &UserRow) -> Self {
        UserSummary {
            id: u.id,
            email: u.email.clone(),
            first_name: u.first_name.clone(),
            last_name: u.last_name.clone(),
            common_name: common_name(&u.email, u.first_name.as_deref(), u.last_name.as_deref()),
        }
    }
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
