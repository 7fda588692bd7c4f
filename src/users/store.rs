//! User rows, their personal collections, membership rows, and the counts the user rules need.
use async_trait::async_trait;

use crate::store::StoreResult;

pub const USER_COLUMNS: &str = "u.id, u.email, u.first_name, u.last_name, u.password_hash, u.type,
    u.is_active, u.is_superuser, u.is_qbnewb, u.is_installer, u.locale, u.login_attributes,
    u.date_joined, u.last_login, u.first_login, u.updated_at,
    (SELECT c.id FROM collection c WHERE c.personal_owner_id = u.id) AS personal_collection_id";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password_hash: Option<String>,
    #[sqlx(rename = "type")]
    pub user_type: String,
    pub is_active: bool,
    pub is_superuser: bool,
    pub is_qbnewb: bool,
    pub is_installer: bool,
    pub locale: Option<String>,
    pub login_attributes: Option<String>,
    pub date_joined: i64,
    pub last_login: Option<i64>,
    pub first_login: Option<i64>,
    pub updated_at: i64,
    pub personal_collection_id: Option<i64>,
}

impl UserRow {
    pub fn is_key_user(&self) -> bool {
        self.user_type == "api-key"
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub password_hash: Option<String>,
    pub key_user: bool,
    pub is_superuser: bool,
    pub is_installer: bool,
    pub locale: Option<String>,
    pub login_attributes: Option<String>,
    pub now: i64,
}

/// A row of `permissions_group_membership`. The statements that read and write it are the
/// groups' (`GroupTx`); the type lives here because membership sync ([`super::membership`])
/// belongs to users, and users never depend on groups.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MembershipRow {
    pub id: i64,
    pub user_id: i64,
    pub group_id: i64,
}

/// The editable profile fields, written as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct UserProfile {
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub locale: Option<String>,
    pub login_attributes: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserStatus {
    Active,
    Deactivated,
    All,
}

/// The part of the `GET /api/user` filter that SQL applies. The name query, the order and the
/// paging are applied by the service in Rust, so both backends agree on Unicode case-folding
/// and on the order (SQLite's `lower()` and `LIKE` fold ASCII only, and PostgreSQL's order
/// depends on the database collation).
#[derive(Debug, Clone)]
pub struct UserListFilter {
    pub status: UserStatus,
    pub group_id: Option<i64>,
}

/// `$1` status (0 active, 1 deactivated, 2 all), `$2` group or NULL.
pub const USER_LIST_WHERE: &str = "WHERE u.type = 'personal'
    AND ($1 = 2 OR ($1 = 0 AND u.is_active) OR ($1 = 1 AND NOT u.is_active))
    AND ($2 IS NULL OR EXISTS (SELECT 1 FROM permissions_group_membership m
                               WHERE m.user_id = u.id AND m.group_id = $2))";

impl UserStatus {
    pub fn code(self) -> i64 {
        match self {
            UserStatus::Active => 0,
            UserStatus::Deactivated => 1,
            UserStatus::All => 2,
        }
    }
}

/// One row per membership of the user (so one statement answers `GET /api/user/current`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CurrentUserJoinRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub member_group_id: Option<i64>,
    pub has_other_person: bool,
    pub has_question_and_dashboard: bool,
    pub has_model: bool,
}

#[derive(Debug, Clone)]
pub struct CurrentUserRow {
    pub user: UserRow,
    /// Ascending.
    pub group_ids: Vec<i64>,
    /// Another person (active or not) exists.
    pub has_other_person: bool,
    /// At least one card and one dashboard exist (archived included).
    pub has_question_and_dashboard: bool,
    /// At least one card of type `model` exists.
    pub has_model: bool,
}

impl CurrentUserRow {
    pub fn from_join(rows: Vec<CurrentUserJoinRow>) -> Option<CurrentUserRow> {
        let first = rows.first()?;
        let (has_other_person, has_question_and_dashboard, has_model) = (
            first.has_other_person,
            first.has_question_and_dashboard,
            first.has_model,
        );
        let mut group_ids: Vec<i64> = rows.iter().filter_map(|r| r.member_group_id).collect();
        group_ids.sort_unstable();
        group_ids.dedup();
        let user = rows.into_iter().next()?.user;
        Some(CurrentUserRow {
            user,
            group_ids,
            has_other_person,
            has_question_and_dashboard,
            has_model,
        })
    }
}

pub fn current_user_sql() -> String {
    format!(
        "SELECT {USER_COLUMNS}, m.group_id AS member_group_id,
            EXISTS (SELECT 1 FROM core_user o WHERE o.type = 'personal' AND o.id <> u.id)
                AS has_other_person,
            (EXISTS (SELECT 1 FROM report_card) AND EXISTS (SELECT 1 FROM report_dashboard))
                AS has_question_and_dashboard,
            EXISTS (SELECT 1 FROM report_card WHERE type = 'model') AS has_model
         FROM core_user u
         LEFT JOIN permissions_group_membership m ON m.user_id = u.id
         WHERE u.id = $1"
    )
}

#[async_trait]
pub trait UserTx {
    async fn user_get(&mut self, id: i64) -> StoreResult<Option<UserRow>>;
    async fn user_get_by_email(&mut self, email_lower: &str) -> StoreResult<Option<UserRow>>;
    async fn user_insert(&mut self, u: &NewUser) -> StoreResult<i64>;
    async fn user_set_profile(&mut self, id: i64, p: &UserProfile, now: i64) -> StoreResult<()>;
    async fn user_set_active(&mut self, id: i64, active: bool, now: i64) -> StoreResult<()>;
    async fn user_set_superuser(&mut self, id: i64, value: bool) -> StoreResult<()>;
    async fn user_set_password(&mut self, id: i64, hash: &str) -> StoreResult<()>;
    async fn user_set_qbnewb(&mut self, id: i64, value: bool) -> StoreResult<()>;
    /// Sets `last_login`, and `first_login` when unset; returns true on the first login.
    async fn user_record_login(&mut self, id: i64, now: i64) -> StoreResult<bool>;
    /// Every person matched by the filter, in no particular order.
    async fn user_list(&mut self, f: &UserListFilter) -> StoreResult<Vec<UserRow>>;
    /// (user id, group id) of every person matched by the filter, for list responses.
    async fn user_list_group_ids(&mut self, f: &UserListFilter) -> StoreResult<Vec<(i64, i64)>>;
    async fn user_group_ids(&mut self, user_id: i64) -> StoreResult<Vec<i64>>;
    /// People, active or not.
    async fn people_count(&mut self) -> StoreResult<i64>;
    /// Active people (setup is done once there is one).
    async fn active_people_count(&mut self) -> StoreResult<i64>;
    /// Active people in Administrators.
    async fn active_admin_people_count(&mut self) -> StoreResult<i64>;
    async fn personal_collection_insert(
        &mut self,
        owner_id: i64,
        entity_id: &str,
        name: &str,
        now: i64,
    ) -> StoreResult<i64>;
    async fn personal_collection_rename(&mut self, owner_id: i64, name: &str) -> StoreResult<()>;
    async fn personal_collection_name(&mut self, owner_id: i64) -> StoreResult<Option<String>>;
}

#[macro_export]
macro_rules! impl_user_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::users::store::UserTx for $t {
            async fn user_get(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::users::store::UserRow>> {
                use $crate::users::store::USER_COLUMNS;
                Ok(sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM core_user u WHERE u.id = $1"))
                    .bind(id)
                    .fetch_optional(self.conn())
                    .await?)
            }

            async fn user_get_by_email(
                &mut self,
                email_lower: &str,
            ) -> $crate::store::StoreResult<Option<$crate::users::store::UserRow>> {
                use $crate::users::store::USER_COLUMNS;
                Ok(sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM core_user u WHERE u.email = $1"))
                    .bind(email_lower)
                    .fetch_optional(self.conn())
                    .await?)
            }

            async fn user_insert(
                &mut self,
                u: &$crate::users::store::NewUser,
            ) -> $crate::store::StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO core_user (email, first_name, last_name, password_hash, type,
                        is_active, is_superuser, is_qbnewb, is_installer, locale, login_attributes,
                        date_joined, updated_at)
                     VALUES ($1, $2, $3, $4, $5, TRUE, $6, TRUE, $7, $8, $9, $10, $10)
                     RETURNING id",
                )
                .bind(&u.email)
                .bind(&u.first_name)
                .bind(&u.last_name)
                .bind(&u.password_hash)
                .bind(if u.key_user { "api-key" } else { "personal" })
                .bind(u.is_superuser)
                .bind(u.is_installer)
                .bind(&u.locale)
                .bind(&u.login_attributes)
                .bind(u.now)
                .fetch_one(self.conn())
                .await?;
                Ok(id)
            }

            async fn user_set_profile(
                &mut self,
                id: i64,
                p: &$crate::users::store::UserProfile,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE core_user SET email = $1, first_name = $2, last_name = $3, locale = $4,
                        login_attributes = $5, updated_at = $6 WHERE id = $7",
                )
                .bind(&p.email)
                .bind(&p.first_name)
                .bind(&p.last_name)
                .bind(&p.locale)
                .bind(&p.login_attributes)
                .bind(now)
                .bind(id)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn user_set_active(
                &mut self,
                id: i64,
                active: bool,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE core_user SET is_active = $1, updated_at = $2 WHERE id = $3")
                    .bind(active)
                    .bind(now)
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn user_set_superuser(
                &mut self,
                id: i64,
                value: bool,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE core_user SET is_superuser = $1 WHERE id = $2")
                    .bind(value)
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn user_set_password(
                &mut self,
                id: i64,
                hash: &str,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE core_user SET password_hash = $1 WHERE id = $2")
                    .bind(hash)
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn user_set_qbnewb(
                &mut self,
                id: i64,
                value: bool,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE core_user SET is_qbnewb = $1 WHERE id = $2")
                    .bind(value)
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn user_record_login(
                &mut self,
                id: i64,
                now: i64,
            ) -> $crate::store::StoreResult<bool> {
                let (first,): (Option<i64>,) =
                    sqlx::query_as("SELECT first_login FROM core_user WHERE id = $1")
                        .bind(id)
                        .fetch_one(self.conn())
                        .await?;
                sqlx::query(
                    "UPDATE core_user SET last_login = $1, first_login = coalesce(first_login, $1)
                     WHERE id = $2",
                )
                .bind(now)
                .bind(id)
                .execute(self.conn())
                .await?;
                Ok(first.is_none())
            }

            async fn user_list(
                &mut self,
                f: &$crate::users::store::UserListFilter,
            ) -> $crate::store::StoreResult<Vec<$crate::users::store::UserRow>> {
                use $crate::users::store::{USER_COLUMNS, USER_LIST_WHERE};
                Ok(sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM core_user u {USER_LIST_WHERE}"
                ))
                .bind(f.status.code())
                .bind(f.group_id)
                .fetch_all(self.conn())
                .await?)
            }

            async fn user_list_group_ids(
                &mut self,
                f: &$crate::users::store::UserListFilter,
            ) -> $crate::store::StoreResult<Vec<(i64, i64)>> {
                use $crate::users::store::USER_LIST_WHERE;
                Ok(sqlx::query_as(&format!(
                    "SELECT gm.user_id, gm.group_id FROM permissions_group_membership gm
                     WHERE gm.user_id IN (SELECT u.id FROM core_user u {USER_LIST_WHERE})
                     ORDER BY gm.user_id, gm.group_id"
                ))
                .bind(f.status.code())
                .bind(f.group_id)
                .fetch_all(self.conn())
                .await?)
            }

            async fn user_group_ids(&mut self, user_id: i64) -> $crate::store::StoreResult<Vec<i64>> {
                let rows: Vec<(i64,)> = sqlx::query_as(
                    "SELECT group_id FROM permissions_group_membership WHERE user_id = $1
                     ORDER BY group_id",
                )
                .bind(user_id)
                .fetch_all(self.conn())
                .await?;
                Ok(rows.into_iter().map(|r| r.0).collect())
            }

            async fn people_count(&mut self) -> $crate::store::StoreResult<i64> {
                let (n,): (i64,) =
                    sqlx::query_as("SELECT count(*) FROM core_user WHERE type = 'personal'")
                        .fetch_one(self.conn())
                        .await?;
                Ok(n)
            }

            async fn active_people_count(&mut self) -> $crate::store::StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT count(*) FROM core_user WHERE type = 'personal' AND is_active",
                )
                .fetch_one(self.conn())
                .await?;
                Ok(n)
            }

            async fn active_admin_people_count(&mut self) -> $crate::store::StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT count(*) FROM core_user u
                     JOIN permissions_group_membership m ON m.user_id = u.id AND m.group_id = 2
                     WHERE u.type = 'personal' AND u.is_active",
                )
                .fetch_one(self.conn())
                .await?;
                Ok(n)
            }

            async fn personal_collection_insert(
                &mut self,
                owner_id: i64,
                entity_id: &str,
                name: &str,
                now: i64,
            ) -> $crate::store::StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO collection (entity_id, name, location, personal_owner_id, created_at)
                     VALUES ($1, $2, '/', $3, $4) RETURNING id",
                )
                .bind(entity_id)
                .bind(name)
                .bind(owner_id)
                .bind(now)
                .fetch_one(self.conn())
                .await?;
                Ok(id)
            }

            async fn personal_collection_rename(
                &mut self,
                owner_id: i64,
                name: &str,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE collection SET name = $1 WHERE personal_owner_id = $2")
                    .bind(name)
                    .bind(owner_id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn personal_collection_name(
                &mut self,
                owner_id: i64,
            ) -> $crate::store::StoreResult<Option<String>> {
                let row: Option<(String,)> =
                    sqlx::query_as("SELECT name FROM collection WHERE personal_owner_id = $1")
                        .bind(owner_id)
                        .fetch_optional(self.conn())
                        .await?;
                Ok(row.map(|r| r.0))
            }
        }
    };
}
